"""Read every record once, run the rules, and hold the validated set with its indexes.

records → (parse + record rules, in parallel for large sets) → corpus rules → Corpus
"""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from disclosure.model import layout
from disclosure.model.config import PortalConfig, load_config
from disclosure.model.findings import ERROR, Finding, sort_key
from disclosure.model.records import Record, parse_record
from disclosure.rules import RuleContext, annual, identity, lifecycle, normative, safety, timeliness

RECORD_RULES = (identity.check, safety.check, lifecycle.check, timeliness.check, normative.check, annual.check)
# run on what could be read of a record with errors: they do not depend on unit, type or index number,
# so a wrong unit does not hide an ID number or a 文号 error until the next run
PARTIAL_RULES = (identity.check_doc_no, safety.check, lifecycle.check, normative.check)
CORPUS_RULES = (identity.check_corpus, normative.check_corpus, annual.check_corpus, layout.check_corpus)
PARALLEL_FROM = 3000
# the keys whose line numbers corpus rules (and the report) cite; the rest stay in the worker
CORPUS_RULE_LINES = frozenset({"index_no", "doc_no", "year", "interprets", "related", "amends", "amended_by",
                               "repealed", "expires", "effective", "published"})  # below this, starting worker processes costs more than it saves

SHANGHAI = ZoneInfo("Asia/Shanghai")


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


def discover(cfg: PortalConfig) -> list[Path]:
    base = cfg.docs_dir / cfg.records_dir
    return sorted(base.rglob("*.md")) if base.is_dir() else []


def _check_one(path: Path, cfg: PortalConfig, ctx: RuleContext, keep_body: bool = True):
    result = parse_record(path, cfg)
    findings = list(result.findings)
    if result.record is None and result.partial is not None:
        for rule in PARTIAL_RULES:
            findings.extend(rule(result.partial, ctx))
    if result.record is not None:
        for rule in RECORD_RULES:
            findings.extend(rule(result.record, ctx))
        if not keep_body:  # checked: the caller (validate, report) needs neither the text nor most line numbers
            result.record.body = ""
            result.record.lines = {k: v for k, v in result.record.lines.items() if k in CORPUS_RULE_LINES}
    return result.record, findings


_worker_state = {}


def _worker_init(config_path: str, as_of: dt.date, docs_dir: str, keep_body: bool):
    cfg = load_config(config_path)
    cfg.docs_dir = Path(docs_dir)
    _worker_state.update(cfg=cfg, ctx=RuleContext(cfg, as_of), keep_body=keep_body)


def _worker_batch(paths):
    gc.disable()
    cfg, ctx, keep = _worker_state["cfg"], _worker_state["ctx"], _worker_state["keep_body"]
    return [_check_one(Path(p), cfg, ctx, keep) for p in paths]


def load_corpus(cfg: PortalConfig, as_of: dt.date | None = None, paths: list[Path] | None = None,
                jobs: int | None = None, config_path: str | Path | None = None, keep_bodies: bool = True) -> Corpus:
    """Parse and check every record under the records folder (plus `paths`, if given).

    `keep_bodies=False` drops each body once checked: validation of 100,000 records then ships far
    less data back from the worker processes."""
    gc_was_enabled = gc.isenabled()
    gc.disable()  # ~100 small objects a record, none cyclic garbage: collection passes are pure cost here
    try:
        return _load_corpus(cfg, as_of or build_date(), paths, jobs, config_path, keep_bodies)
    finally:
        if gc_was_enabled:
            gc.enable()


def _load_corpus(cfg, as_of, paths, jobs, config_path, keep_bodies) -> Corpus:
    ctx = RuleContext(cfg, as_of)
    files = discover(cfg)
    if paths:
        known = {p.resolve() for p in files}
        files += [p for p in paths if p.resolve() not in known]
    jobs = jobs or os.cpu_count() or 1
    results = []
    if len(files) >= PARALLEL_FROM and jobs > 1 and config_path:
        size = max(200, len(files) // (jobs * 8))
        batches = [[str(p) for p in files[i : i + size]] for i in range(0, len(files), size)]
        init = (str(config_path), as_of, str(cfg.docs_dir), keep_bodies)
        with ProcessPoolExecutor(jobs, initializer=_worker_init, initargs=init) as pool:
            for batch in pool.map(_worker_batch, batches):
                results.extend(batch)
    else:
        results = [_check_one(p, cfg, ctx, keep_bodies) for p in files]
    records, findings = [], []
    for record, fs in results:
        findings.extend(fs)
        if record is not None:
            records.append(record)
    for rule in CORPUS_RULES:
        findings.extend(rule(records, ctx))
    findings.sort(key=sort_key)
    return Corpus(cfg, as_of, records, findings)


def load(config_path: str | Path = "mkdocs.yml", as_of: dt.date | None = None, **kw) -> Corpus:
    cfg = load_config(config_path)
    return load_corpus(cfg, as_of, config_path=config_path, **kw)
