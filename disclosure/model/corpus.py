"""Read every record once, run the rules, and hold the validated set with its indexes.

records → (parse + record rules, in parallel for large sets) → corpus rules → Corpus
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import multiprocessing
import os
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from disclosure.model import cache, layout
from disclosure.model.config import PortalConfig, load_config
from disclosure.model.findings import ERROR, Finding, sort_key
from disclosure.model.records import Record, parse_record
from disclosure.rules import RuleContext, annual, identity, lifecycle, normative, safety, timeliness

RECORD_RULES = (identity.check, safety.check, lifecycle.check, timeliness.check, normative.check, annual.check)
# run on what could be read of a record with errors: they do not depend on unit, type or index number,
# so a wrong unit does not hide an ID number or a 文号 error until the next run
PARTIAL_RULES = (identity.check_doc_no, safety.check, lifecycle.check, normative.check)
CORPUS_RULES = (identity.check_corpus, normative.check_corpus, annual.check_corpus, layout.check_corpus)
PARALLEL_FROM = 3000  # below this, starting worker processes costs more than it saves
# the keys whose line numbers corpus rules (and the report) cite; the rest stay in the worker
CORPUS_RULE_LINES = frozenset({"index_no", "doc_no", "year", "interprets", "related", "amends", "amended_by",
                               "repealed", "expires", "effective", "published"})
_CITED = tuple(sorted(CORPUS_RULE_LINES))

SHANGHAI = ZoneInfo("Asia/Shanghai")
log = logging.getLogger("disclosure.cache")


def today_shanghai() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def build_date() -> dt.date:
    """'Today' for scheduling, status and lateness: DISCLOSURE_AS_OF=YYYY-MM-DD, else today in Asia/Shanghai."""
    value = os.environ.get("DISCLOSURE_AS_OF")
    return dt.date.fromisoformat(value) if value else today_shanghai()


@dataclass
class Corpus:
    cfg: PortalConfig
    as_of: dt.date
    records: list[Record]
    findings: list[Finding] = field(default_factory=list)

    @cached_property
    def by_index(self) -> dict[str, Record]:
        return {r.index_no: r for r in self.records}

    @cached_property
    def live(self) -> list[Record]:
        """What the site shows: published on or before the build date, newest first."""
        out = [r for r in self.records if r.is_live(self.as_of)]
        out.sort(key=lambda r: (r.published, r.index_no), reverse=True)
        return out

    @property
    def errors(self) -> list[Finding]:
        """The blocking findings: the site is not built while there are any."""
        return [f for f in self.findings if f.level == ERROR]

    def status(self, record: Record) -> str:
        """有效性 for normative documents; empty for other types."""
        if record.type != "normative":
            return ""
        return normative.status(record, self.by_index, self.as_of)

    def withdrawn(self, record: Record) -> bool:
        return record.withdrawn is not None and record.withdrawn.date <= self.as_of

    def group_live(self, key) -> dict:
        groups = defaultdict(list)
        for r in self.live:
            k = key(r)
            if k:
                groups[k].append(r)
        return groups

    @cached_property
    def _referrers(self) -> dict:
        """(attr, index_no) → live records whose `attr` names that index_no; built once, O(n)."""
        out = defaultdict(list)
        for r in self.live:
            for attr in ("interprets", "related", "amends"):
                v = getattr(r, attr)
                for idx in (v if isinstance(v, list) else [v] if v else []):
                    out[(attr, idx)].append(r)
            if r.repealed and r.repealed.by:
                out[("repealed_by", r.repealed.by)].append(r)
        return out

    def inverse(self, attr: str, record: Record) -> list[Record]:
        """Live records whose `attr` (interprets / related / amends / repealed_by) names `record`."""
        return self._referrers.get((attr, record.index_no), [])


def discover(cfg: PortalConfig) -> list[str]:
    """The path of every `*.md` file under the records folder, sorted as Paths sort. Strings: a warm
    run makes no Path for a record it takes from the cache (~0.4 s at 100,000)."""
    return [f"{folder}/{name}" for folder, name in layout.tree(cfg.docs_dir / cfg.records_dir) if name.endswith(".md")]


def _check_file(path: str, src: Path, cfg: PortalConfig, ctx: RuleContext, canon: dict, raw=None, sig=None):
    """Parse and check one file → (cache row, record, findings). Each record rule runs against an
    AsOfWatch, so the cache knows which findings depend on the build date."""
    if raw is None:
        raw, sig = cache.read_file(path)
    rel = cache.rel_path(src, cfg.root)
    result = parse_record(src, cfg, raw)
    record, findings = result.record, list(result.findings)
    per_rule, deps = [], []
    parsed, bound = list(result.findings), None
    if record is None and result.partial is not None:
        # what can still be checked on a record with errors (safety, 文号, date order), so every
        # independent problem shows in one run; such a result is never cached (it may read the date)
        for rule in PARTIAL_RULES:
            parsed.extend(rule(result.partial, ctx))
        findings, bound = list(parsed), False
    if record is not None:
        watch = cache.AsOfWatch(ctx)
        for i, rule in enumerate(RECORD_RULES):
            watch.read = False
            fs = list(rule(record, watch))
            if watch.read:
                deps.append(i)
            per_rule.append(cache.pack_findings(fs, rel))
            findings.extend(fs)
    entry = (cache.pack_record(record, canon) if record is not None else None,
             cache.pack_findings(parsed, rel), tuple(per_rule), tuple(deps),
             ctx.as_of if deps else None, bound if bound is False else cache.bound(record, result.findings, path))
    body = record.body if record is not None else ""
    return (path, sig, cache.digest(raw), entry, body), record, findings


def _needs_rerun(entry, as_of) -> bool:
    return bool(entry[3]) and entry[4] != as_of


def _from_entry(entry, rel: str, src: str, ctx: RuleContext, body: str | None):
    """(record, findings, rerun) from a cache entry; rules that read the build date run again for
    another date (on the record with its body, as a cold run sees it)."""
    state, parsed, per_rule, deps, deps_as_of, _ = entry
    findings = cache.unpack_findings(parsed, rel)
    if state is None:
        return None, findings, False
    record = cache.unpack_record(state, rel, src, body)
    rerun = bool(deps) and deps_as_of != ctx.as_of
    for i, packed in enumerate(per_rule):
        if rerun and i in deps:
            findings.extend(RECORD_RULES[i](record, ctx))
        elif packed:
            findings.extend(cache.unpack_findings(packed, rel))
    return record, findings, rerun


def _trim(record: Record) -> None:
    """Checked: the caller (validate, report) needs neither the text nor most line numbers."""
    record.body = ""
    lines = record.lines
    record.lines = {k: lines[k] for k in _CITED if k in lines}


_worker_state = {}


def _worker_init(config_path: str, as_of: dt.date, docs_dir: str):
    """Only for start methods without fork: forked workers inherit the parent's settings as they are."""
    cfg = load_config(config_path)
    cfg.docs_dir = Path(docs_dir)
    _worker_state.update(cfg=cfg, ctx=RuleContext(cfg, as_of))


def _worker_shard(paths: list[str]) -> tuple[bytes, bytes]:
    """One shard's files → its pickled cache rows (what the parent both reads and stores)."""
    gc.disable()
    cfg, ctx = _worker_state["cfg"], _worker_state["ctx"]
    canon: dict = {}
    return cache.encode_rows([_check_file(p, Path(p), cfg, ctx, canon)[0] for p in paths])


def _check_all(files: list[str], cfg: PortalConfig, ctx: RuleContext, jobs: int,
               config_path, keep_bodies: bool, sigs: dict | None = None) -> list:
    """[(record | None, findings)] in the order of `files`: from the cache where the bytes (and all
    else a result depends on) are unchanged, else parsed and checked, in worker processes for many.

    A row is (path, stat signature, digest, entry, body); the body may be a reference into a shard
    (read only when a build, a rerun or a shard rewrite needs it). `sigs`: stat signatures already
    taken by the caller (path → signature or None), used instead of a second stat."""
    stats = cache.Stats(files=len(files))
    store = cache.open_store(cfg, stats)
    t0 = time.perf_counter()
    as_of = ctx.as_of
    known = store.load(stats, lambda entries: keep_bodies or any(_needs_rerun(e, as_of) for e in entries)) \
        if store else {}
    paths = files
    shard = [cache.shard_of(p) for p in paths]
    rows: list = [None] * len(files)
    out: list = [None] * len(files)
    dirty: set[int] = set()
    misses: list[int] = []
    raws: dict[int, tuple] = {}
    by_digest = None
    for i, p in enumerate(paths):
        old = known.get(shard[i])
        j = old.index.get(p) if old else None
        if j is not None:
            stored = old.sig(j)
            if stored is not None:
                if sigs is not None and p in sigs:
                    sig = sigs[p]
                else:
                    try:
                        sig = cache.stat_sig(os.stat(p))
                    except OSError:
                        sig = None
                if sig == stored and cache.bound_ok(old.entries[j][5], p):
                    rows[i] = (p, sig, old.digest(j), old.entries[j], (old, j))
                    stats.stat_hits += 1
                    continue
        if not known:
            misses.append(i)
            continue
        try:
            raw, sig = cache.read_file(p)
        except OSError:
            misses.append(i)  # parse_record reports or raises as it always has
            continue
        d = cache.digest(raw)
        if by_digest is None:
            by_digest = {sh.digest(k): (sh, k) for sh in known.values() if sh for k in range(len(sh.entries))}
        found = by_digest.get(d)
        if found is not None and cache.bound_ok(found[0].entries[found[1]][5], p):
            rows[i] = (p, sig, d, found[0].entries[found[1]], found)
            if j is None or (old.sig(j), old.digest(j)) != (sig, d):  # moved, touched, or now trusted
                dirty.add(shard[i])
            continue
        raws[i] = (raw, sig)
        misses.append(i)
    root = str(cfg.root)
    for i in range(len(files)):
        row = rows[i]
        if row is None:
            continue
        body = None
        if keep_bodies or _needs_rerun(row[3], as_of):
            body = cache.body_of(row[4])
            if body is None:  # its shard was replaced meanwhile: check the file again
                rows[i] = None
                misses.append(i)
                continue
        record, findings, rerun = _from_entry(row[3], cache.rel_path(paths[i], cfg.root, paths[i], root),
                                              paths[i], ctx, body)
        stats.reruns += rerun
        out[i] = (record, findings)
    misses.sort()
    stats.hits = len(files) - len(misses)
    stats.misses = len(misses)
    stats.seconds_load = time.perf_counter() - t0

    fresh: dict[int, tuple] = {}  # shard → (meta, bodies, how many rows), straight from a worker
    written: set[int] = set()  # shards already written from a worker's rows
    use_pool = len(misses) >= PARALLEL_FROM and jobs > 1
    fork = "fork" in multiprocessing.get_all_start_methods()
    if use_pool and (fork or config_path):
        groups: dict[int, list[int]] = defaultdict(list)
        for i in misses:
            groups[shard[i]].append(i)
        order = sorted(groups, key=lambda n: -len(groups[n]))  # biggest first: the pool ends together
        if fork:
            _worker_state.update(cfg=cfg, ctx=ctx)
            pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"))
        else:
            pool = ProcessPoolExecutor(jobs, initializer=_worker_init,
                                       initargs=(str(config_path), ctx.as_of, str(cfg.docs_dir)))
        in_shard = defaultdict(int)
        for n in shard:
            in_shard[n] += 1
        with pool:
            for n, (meta, bodies) in zip(order, pool.map(_worker_shard, [[paths[i] for i in groups[n]] for n in order])):
                fresh_rows = cache.decode_rows(meta, bodies)
                for i, row in zip(groups[n], fresh_rows):
                    rows[i] = row
                    body = cache.body_of(row[4]) if keep_bodies else None
                    record, findings, _ = _from_entry(row[3], cache.rel_path(paths[i], cfg.root, paths[i], root),
                                                      paths[i], ctx, body)
                    out[i] = (record, findings)
                whole = in_shard[n] == len(groups[n]) and all(r[3][5] is not False for r in fresh_rows)
                if store is not None and whole:
                    _write_one(store, n, meta, bodies, stats)  # now, so its bodies need not stay in memory
                    for i in groups[n]:
                        rows[i] = rows[i][:4] + (None,)
                    written.add(n)
                else:
                    fresh[n] = (meta, bodies, len(groups[n]))
                    dirty.add(n)
    else:
        canon: dict = {}
        for i in misses:
            raw, sig = raws.pop(i, (None, None))
            rows[i], record, findings = _check_file(paths[i], Path(paths[i]), cfg, ctx, canon, raw, sig)
            out[i] = (record, findings)
            dirty.add(shard[i])

    if store is not None:
        t1 = time.perf_counter()
        _write_shards(store, known, rows, shard, dirty, fresh, stats, written)
        stats.seconds_write = time.perf_counter() - t1
    if not keep_bodies:
        for record, _ in out:
            if record is not None:
                _trim(record)
    cache.last_run = stats
    if store is not None:
        log.info(stats.line())
    return out


def _write_one(store, n: int, meta: bytes, bodies: bytes, stats) -> bool:
    try:
        store.write(n, meta, bodies)
        stats.shards_written += 1
        return True
    except OSError as e:
        log.warning(f"校验缓存无法写入（{e}），下次将重新校验")
        return False


def _write_shards(store, known, rows, shard, dirty, fresh, stats, written) -> None:
    """Rewrite each shard whose rows changed (or that lost a file, or did not load)."""
    current: dict[int, list] = defaultdict(list)
    for i, row in enumerate(rows):
        current[shard[i]].append(row)
    for n, old in known.items():
        if old is None or set(old.index) != {r[0] for r in current.get(n, ())}:
            dirty.add(n)
    for n in sorted(dirty - written):
        rows_n = current.get(n, [])
        keep = [r for r in rows_n if r[3][5] is not False]
        meta, bodies, count = fresh.get(n, (None, None, -1))
        if meta is None or not (len(keep) == len(rows_n) == count):  # not exactly the worker's rows
            keep = [r[:4] + (cache.body_of(r[4]),) for r in keep]
            if any(r[4] is None for r in keep):
                continue  # a shard we read from was replaced meanwhile: leave this one to the next run
            meta, bodies = cache.encode_rows(keep)
        if not _write_one(store, n, meta, bodies, stats):
            return
    if stats.shards_written:
        store.prune()


def load_corpus(cfg: PortalConfig, as_of: dt.date | None = None, paths: list[Path] | None = None,
                jobs: int | None = None, config_path: str | Path | None = None, keep_bodies: bool = True,
                sigs: dict | None = None) -> Corpus:
    """Parse and check every record under the records folder (plus `paths`, if given).

    `keep_bodies=False` drops each body once checked: validation of 100,000 records then ships far
    less data back from the worker processes."""
    gc_was_enabled = gc.isenabled()
    gc.disable()  # ~100 small objects a record, none cyclic garbage: collection passes are pure cost here
    try:
        return _load_corpus(cfg, as_of or build_date(), paths, jobs, config_path, keep_bodies, sigs)
    finally:
        # Move what the load made (~20 objects a record) straight to the oldest generation: left in the
        # youngest, the first collections after re-enabling would traverse it all 2–3 times (~1 s at 100,000).
        gc.freeze()
        gc.unfreeze()
        if gc_was_enabled:
            gc.enable()


def _load_corpus(cfg, as_of, paths, jobs, config_path, keep_bodies, sigs=None) -> Corpus:
    ctx = RuleContext(cfg, as_of)
    files = discover(cfg)
    if paths:
        known = {Path(p).resolve() for p in files}
        files += [str(p) for p in paths if Path(p).resolve() not in known]
    jobs = jobs or os.cpu_count() or 1
    results = _check_all(files, cfg, ctx, jobs, config_path, keep_bodies, sigs)
    records, findings = [], []
    for record, fs in results:
        findings.extend(fs)
        if record is not None:
            records.append(record)
    for rule in CORPUS_RULES:
        findings.extend(rule(records, ctx))
    findings.sort(key=sort_key)
    return Corpus(cfg, as_of, records, findings)


def validate_corpus(cfg: PortalConfig, as_of: dt.date | None = None, jobs: int | None = None,
                    config_path: str | Path | None = None) -> tuple[list[Finding], int]:
    """(findings, number of records checked) of the whole corpus, as `load_corpus(keep_bodies=False)`
    gives them, taken whole from the cache when nothing they depend on changed: the cache key (code,
    settings), the date, and the path and stat signature of every file below the content folder (the
    records, the pages the layout rule reads, and the attachments, which must lie there: E308). A
    warm `validate` of 100,000 records then stats the files and reads one small file, instead of
    unpacking 100,000 records and running the corpus rules again. A run that finds a missing
    attachment (E109) is not kept, as a record's cache entry is not (see cache.bound)."""
    as_of = as_of or build_date()
    stats = cache.Stats()
    store = cache.open_store(cfg, stats)
    listing, sigs = cache.listing_digest(cfg.docs_dir, layout.tree) if store is not None else (None, None)
    if listing is not None:
        got = store.read_verdict(as_of, listing)
        if got is not None:
            stats.files = stats.hits = stats.stat_hits = got[1]
            stats.verdict = True
            cache.last_run = stats
            log.info(stats.line())
            return got
    c = load_corpus(cfg, as_of, jobs=jobs, config_path=config_path, keep_bodies=False, sigs=sigs)
    if listing is not None and not any(f.code == "E109" for f in c.findings):
        try:
            store.write_verdict(as_of, listing, c.findings, len(c.records))
        except OSError as e:
            log.warning(f"校验缓存无法写入（{e}），下次将重新校验")
    return c.findings, len(c.records)


def load(config_path: str | Path = "mkdocs.yml", as_of: dt.date | None = None, **kw) -> Corpus:
    cfg = load_config(config_path)
    return load_corpus(cfg, as_of, config_path=config_path, **kw)
