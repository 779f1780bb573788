"""Validation cache: each record's parsed and checked form, kept in the project folder, keyed on its bytes.

Parsing and checking 100,000 records costs ~15 s of CPU; reading them back from here costs ~1 s.

Where: `.cache/records/<key>/` beside mkdocs.yml (`DISCLOSURE_CACHE_DIR` moves the `.cache` folder).
Git-ignored and safe to delete at any time. `DISCLOSURE_CACHE=0` turns it off (nothing read or
written); `disclosure validate|build --clean` (or `DISCLOSURE_CACHE=clean`) ignores what it holds and
writes it anew.

What a hit means
- An entry is found by the digest (BLAKE2b) of the record file's bytes: where the file is does not
  matter, so a moved or renamed record still hits (its path is put back into the record and its
  findings when it is read).
- Entries are valid only under one *key*: the source of `disclosure/model/**` and `disclosure/rules/**`
  and the package data, the Python and PyYAML (libyaml) versions, and the settings parsing and the
  rules read (all of `extra.portal`, the taxonomy, the site fields). Any change gives a new key, so
  a new, empty folder; old key folders beyond the newest three are removed.

What is not taken from the cache
- Findings of a record rule that read the build date (`ctx.as_of`): each rule runs against an
  `AsOfWatch` that notes whether it read `as_of`. Those findings are stored with the date they were
  computed for and reused only on that same date; on any other date the rule runs again on the
  cached record (with its full body and line numbers, exactly as a cold run sees it). A rule that
  did not read the date on this record cannot depend on it (rules are pure functions).
- Corpus rules (they look across records): always run.
- Anything that depends on other files: a record with attachments is bound to its own absolute path
  and to the size of each attachment (checked on every hit); a result that reports a missing
  attachment (E109) is not stored. Code added to parsing that reads other files must be declared
  here in the same way (see `bound`).

The whole validation
- `validate` of the whole corpus also keeps its result (`verdict.pkl`: the date, the findings, the
  number of records), keyed on the digest of the path and stat signature of every file below the
  content folder (`listing_digest`). When that digest, the key and the date are unchanged, the
  result is read back whole (~0.7 s at 100,000 records, most of it 100,000 stats) instead of
  unpacking every record and running the corpus rules (~2.6 s). One file too fresh to trust its
  stat, or a missing attachment (E109), and nothing is kept. Builds do not use it: they need the records.

Layout and robustness
- 64 shard files per key, a record's shard chosen by a hash of its absolute path. A shard file is a
  fixed header (format, key, lengths), a pickle of its paths (one string), a table of (stat
  signature, digest) per path (one bytes object) and the entries, then a pickle of the bodies,
  read only by a run that needs them (a build, or date-dependent rules to run again).
  The stat signature (size, mtime_ns, ctime_ns, inode) lets a warm run skip reading a file whose
  metadata is unchanged, as git's index does; a file modified less than 2 s before it was read gets
  no signature (it is read and hashed again next time), closing the window in which an edit could
  keep the same size and mtime. ctime cannot be set by tools, so a restored or re-checked-out
  folder simply reads and hashes every file again (still a hit by digest).
- A shard that does not load (truncated, garbage, another format or key) is ignored and rewritten.
  Shards are written to a temporary file and renamed into place: concurrent builds never read half
  a shard (the last writer wins, and each shard it writes is whole and correct for its files).
- pickle, because it is the fastest loader for these objects (see benchmarks/PROFILE.md); a per-file
  cache would cost 100,000 opens. The cache is trusted like the rest of the project folder: whoever
  can write `.cache/` can also write `hooks/portal.py`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib.metadata
import json
import logging
import operator
import os
import pickle
import shutil
import struct
import sys
import time
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from disclosure.model.findings import Finding
from disclosure.model.records import Record

FORMAT = 1
SHARDS = 64
KEEP_KEYS = 3
VERDICT = "verdict.pkl"  # the last whole validation's findings (Store.read_verdict)
RACY_NS = 2_000_000_000  # a file modified this recently gets no stat signature
_PACKAGE = Path(__file__).resolve().parent.parent
log = logging.getLogger("disclosure.cache")


# --- modes -----------------------------------------------------------------------------------------

_clean = False  # set by `--clean` for the rest of this process


def mode() -> str:
    """'on' (read and write), 'clean' (write only: --clean or DISCLOSURE_CACHE=clean) or 'off'."""
    value = os.environ.get("DISCLOSURE_CACHE", "1").strip().lower()
    if value in ("0", "off", "no", "false"):
        return "off"
    return "clean" if value == "clean" or _clean else "on"


def request_clean() -> None:
    """`--clean`: this process ignores what the cache holds, and writes it anew."""
    global _clean
    _clean = True


# --- the build date watch --------------------------------------------------------------------------

_AS_OF_FREE = frozenset({"cfg", "calendar"})  # RuleContext attributes that do not carry the build date


class AsOfWatch:
    """Stands in for a RuleContext while one rule checks one record; `read` says whether the rule
    touched anything but the settings (the build date, or any attribute added to RuleContext later:
    unknown attributes count as date-dependent, the safe side)."""

    __slots__ = ("_ctx", "read")

    def __init__(self, ctx):
        self._ctx = ctx
        self.read = False  # reset by the caller before each rule

    def __getattr__(self, name):
        if name not in _AS_OF_FREE:
            self.read = True
        return getattr(self._ctx, name)


# --- keys ------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def code_digest() -> str:
    """The parser's and the rules' own source, the package data, and the libraries that shape a parse
    or a deadline."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{FORMAT}|{sys.version}|{yaml.__version__}|{getattr(yaml, '__with_libyaml__', False)}".encode())
    for lib in ("chinesecalendar", "lunar_python"):  # the working-day calendar the deadlines are counted on
        try:
            h.update(f"|{lib} {importlib.metadata.version(lib)}".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"|{lib} -".encode())
    for sub in ("model", "rules", "data"):
        base = _PACKAGE / sub
        for path in sorted(base.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                h.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
                h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def config_digest(cfg) -> str:
    """Every setting parsing and the record rules can read (conservatively: all of extra.portal)."""
    try:
        docs = Path(cfg.docs_dir).resolve().relative_to(Path(cfg.root).resolve()).as_posix()
    except ValueError:
        docs = str(cfg.docs_dir)
    data = {
        "portal": cfg.raw, "taxonomy": cfg.taxonomy, "docs_dir": docs, "records_dir": cfg.records_dir,
        "site": [cfg.site_name, cfg.site_url, cfg.office, cfg.site_domain, cfg.site_id_code, cfg.index_template],
        "units": repr(cfg.units), "columns": repr(cfg.columns), "rules": repr(cfg.rules),
    }
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def cache_key(cfg) -> str:
    return hashlib.blake2b(f"{code_digest()}|{config_digest(cfg)}".encode(), digest_size=12).hexdigest()


def shard_of(path: str) -> int:
    return zlib.crc32(path.encode("utf-8", "surrogateescape")) % SHARDS


def digest(raw: bytes) -> bytes:
    return hashlib.blake2b(raw, digest_size=16).digest()


_SIG = struct.Struct("<4q")
NO_SIG = bytes(_SIG.size)  # stored for "no signature: read the file next time"
ROW = _SIG.size + 16  # bytes of stat signature + digest per row in a shard's table


def stat_sig(st, now_ns: int | None = None) -> bytes | None:
    """(size, mtime_ns, ctime_ns, inode) packed, or None for a file modified too recently to trust its stat."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    if now_ns - st.st_mtime_ns < RACY_NS or now_ns - st.st_ctime_ns < RACY_NS:
        return None
    return _SIG.pack(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def read_file(path: str):
    """(bytes, stat signature) with one open: the signature is taken before the read."""
    fd = os.open(path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        chunks, size = [], max(st.st_size, 0) + 1
        while True:
            chunk = os.read(fd, size)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks), stat_sig(st)
    finally:
        os.close(fd)


# --- entries ---------------------------------------------------------------------------------------
# entry = (record state | None, parse findings, per-rule findings, date-dependent rule indices,
#          the as_of those were computed for, bound)
# A finding is stored as the tuple of its fields with `path` None when it is the record's own path.

_R_FIELDS = tuple(f.name for f in dataclasses.fields(Record))
_R_PATH, _R_SRC = _R_FIELDS.index("path"), _R_FIELDS.index("src_path")
_r_values = operator.attrgetter(*_R_FIELDS)
_F_FIELDS = tuple(f.name for f in dataclasses.fields(Finding))
_F_PATH = _F_FIELDS.index("path")
_f_values = operator.attrgetter(*_F_FIELDS)
_DATE = dt.date


def pack_findings(findings, rel: str) -> tuple:
    out = []
    for f in findings:
        t = _f_values(f)
        if t[_F_PATH] == rel:
            t = t[:_F_PATH] + (None,) + t[_F_PATH + 1:]
        out.append(t)
    return tuple(out)


def unpack_findings(packed, rel: str) -> list:
    out = []
    for t in packed:
        if t[_F_PATH] is None:
            t = t[:_F_PATH] + (rel,) + t[_F_PATH + 1:]
        out.append(Finding(*t))
    return out


def pack_record(record: Record, canon: dict) -> tuple:
    """The record's fields, path-free. Equal strings and dates (issuer, topic, keys of `lines`, dates …)
    share one object within a shard, so each is pickled and read back once: loading is ~2× faster."""
    state = list(_r_values(record))
    state[_R_PATH] = ""
    state[_R_SRC] = None
    state[_R_BODY] = ""  # stored apart: most warm runs never read it
    setdefault = canon.setdefault
    for i, v in enumerate(state):
        t = type(v)
        if t is str or t is _DATE:
            state[i] = setdefault(v, v)
        elif t is list:
            state[i] = [setdefault(x, x) if type(x) is str else x for x in v]
        elif t is dict and i == _R_LINES:
            state[i] = {setdefault(k, k): n for k, n in v.items()}
    return tuple(state)


_R_BODY, _R_LINES = _R_FIELDS.index("body"), _R_FIELDS.index("lines")


def unpack_record(state: tuple, rel: str, src: str, body: str | None) -> Record:
    values = list(state)
    values[_R_PATH] = rel
    values[_R_SRC] = src
    values[_R_BODY] = body or ""
    return Record(*values)


def bound(record: Record | None, parse_findings, src: str):
    """What besides the bytes this result depends on: None, False (never store it) or
    (the record's own absolute path, ((attachment path, size), …))."""
    if any(f.code == "E109" for f in parse_findings):
        return False
    if record is not None and record.attachments:
        return (src, tuple((str(a.path), a.size) for a in record.attachments))
    return None


def bound_ok(b, src: str) -> bool:
    if b is None:
        return True
    path, files = b
    if path != src:
        return False
    for name, size in files:
        try:
            st = os.stat(name)
        except OSError:
            return False
        if st.st_size != size or not os.path.isfile(name):
            return False
    return True


def rel_path(src, root: Path, s: str | None = None, r: str | None = None) -> str:
    """The record path (a Path or a string) as parse_record writes it into messages (same rule as
    records.parse_record). `s`, `r`: str(src) and str(root) when the caller has them."""
    s = str(src) if s is None else s
    r = str(root) if r is None else r
    if s.startswith(r) and s[len(r):len(r) + 1] == "/" and "/." not in s and "//" not in s:
        return s[len(r) + 1:]  # what relative_to gives for a normalised path under the root, 10× faster
    src = Path(src)
    try:
        return src.relative_to(root).as_posix()
    except ValueError:
        try:
            return src.resolve().relative_to(root).as_posix()
        except ValueError:
            return str(src)


# --- the store -------------------------------------------------------------------------------------

@dataclass
class Stats:
    mode: str = "off"
    files: int = 0
    hits: int = 0  # taken from the cache
    stat_hits: int = 0  # of which: not even read (stat signature unchanged)
    misses: int = 0  # parsed and checked
    reruns: int = 0  # cached records whose date-dependent rules ran again (another as_of)
    shards_loaded: int = 0
    shards_bad: int = 0  # present but unreadable: ignored, rewritten
    shards_written: int = 0
    seconds_load: float = 0.0
    seconds_write: float = 0.0
    verdict: bool = False  # the whole validation's result was taken from the cache (corpus.validate_corpus)

    def line(self) -> str:
        if self.verdict:
            return f"校验缓存：{self.files} 条记录及内容文件夹中的文件均未改动，校验结果整体取自缓存"
        return (f"校验缓存：{self.hits} 条取自缓存（{self.stat_hits} 条未重读），{self.misses} 条重新解析校验，"
                f"{self.reruns} 条按判断日期重算时效；写入 {self.shards_written} 个分片"
                + (f"；{self.shards_bad} 个损坏的分片已忽略" if self.shards_bad else ""))


last_run = Stats()  # the figures of the last load in this process (tests, benchmarks, the build log)


_HEAD = struct.Struct("<8s24sQQ")  # magic, key, length of the meta pickle, length of the bodies pickle
_MAGIC = b"DSCACHE" + bytes([FORMAT])


class Store:
    """The shard files of one key. A shard file: a fixed header, then a pickle of (paths, table,
    entries) and a pickle of the bodies, so a run that needs no body (validate, same date) skips them."""

    def __init__(self, cfg, read: bool):
        base = os.environ.get("DISCLOSURE_CACHE_DIR")
        self.base = (Path(base) if base else Path(cfg.root) / ".cache") / "records"
        self.key = cache_key(cfg)
        self.dir = self.base / self.key
        self.read = read

    def load(self, stats: Stats, need_bodies) -> dict:
        """shard number → Shard (unreadable shards → None). `need_bodies(entries)` says whether to read
        a shard's bodies now (they can still be read later, while the file is unchanged)."""
        out: dict = {}
        if not self.read or not self.dir.is_dir():
            return out
        for n in range(SHARDS):
            path = self.dir / f"{n:02d}.pkl"
            try:
                with open(path, "rb") as fh:
                    st = os.fstat(fh.fileno())
                    magic, key, meta_len, bodies_len = _HEAD.unpack(fh.read(_HEAD.size))
                    if magic != _MAGIC or key != self.key.encode() or st.st_size != _HEAD.size + meta_len + bodies_len:
                        raise ValueError("another format or key, or a cut file")
                    shard = Shard(*pickle.loads(fh.read(meta_len)))
                    shard.source = (str(path), (st.st_ino, st.st_size, st.st_mtime_ns), _HEAD.size + meta_len, bodies_len)
                    if need_bodies(shard.entries):
                        shard.set_bodies(pickle.loads(fh.read(bodies_len)))
                out[n] = shard
                stats.shards_loaded += 1
            except FileNotFoundError:
                continue
            except Exception:  # truncated, garbage, foreign: ignore it, it will be rewritten
                out[n] = None
                stats.shards_bad += 1
        return out

    def write(self, n: int, meta: bytes, bodies: bytes) -> None:
        """Shard n from its two pickles: temporary file + rename, never a half shard."""
        self.dir.mkdir(parents=True, exist_ok=True)
        final = self.dir / f"{n:02d}.pkl"
        tmp = self.dir / f".{n:02d}.{os.getpid()}.{time.monotonic_ns()}.tmp"
        try:
            with open(tmp, "wb") as fh:
                fh.write(_HEAD.pack(_MAGIC, self.key.encode(), len(meta), len(bodies)))
                fh.write(meta)
                fh.write(bodies)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                tmp.unlink()

    def read_verdict(self, as_of: dt.date, listing: bytes):
        """(findings, records checked) of the last whole validation, if it was for this date and this
        listing (see `listing_digest`)."""
        if not self.read:
            return None
        try:
            with open(self.dir / VERDICT, "rb") as fh:
                magic, key, length, _ = _HEAD.unpack(fh.read(_HEAD.size))
                if magic != _MAGIC or key != self.key.encode():
                    return None
                day, digest_, packed, checked = pickle.loads(fh.read(length))
        except Exception:  # absent, cut, garbage, foreign: validate as usual (and write it anew)
            return None
        if day != as_of.isoformat() or digest_ != listing:
            return None
        return [Finding(*t) for t in packed], checked

    def write_verdict(self, as_of: dt.date, listing: bytes, findings, checked: int) -> None:
        """Keep a whole validation's result (temporary file + rename, like a shard)."""
        body = pickle.dumps((as_of.isoformat(), listing, [_f_values(f) for f in findings], checked),
                            protocol=pickle.HIGHEST_PROTOCOL)
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".{VERDICT}.{os.getpid()}.{time.monotonic_ns()}.tmp"
        try:
            with open(tmp, "wb") as fh:
                fh.write(_HEAD.pack(_MAGIC, self.key.encode(), len(body), 0))
                fh.write(body)
            os.replace(tmp, self.dir / VERDICT)
        finally:
            if tmp.exists():
                tmp.unlink()

    def prune(self) -> None:
        """Keep the newest KEEP_KEYS key folders (another config or code version may come back)."""
        try:
            dirs = sorted((d for d in self.base.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime, reverse=True)
        except OSError:
            return
        for d in dirs[KEEP_KEYS:]:
            if d != self.dir:
                shutil.rmtree(d, ignore_errors=True)


class Bodies:
    """The bodies of a list of rows, read only when asked for (`get` → list, or None if unavailable)."""

    __slots__ = ("_bodies", "_blob")

    def __init__(self, blob: bytes | None = None):
        self._bodies, self._blob = None, blob

    def set_bodies(self, bodies: list) -> None:
        self._bodies = bodies

    def _read(self):
        return None if self._blob is None else pickle.loads(self._blob)

    def get(self) -> list | None:
        if self._bodies is None:
            try:
                self._bodies = self._read()
            except Exception:
                self._bodies = None
        return self._bodies


class Shard(Bodies):
    """One shard as stored: its paths joined by NUL, a table of (stat signature, digest) per row, the
    entries, and (lazily) the bodies. A table and one string load far faster than small objects per row."""

    __slots__ = ("paths", "table", "entries", "_index", "source")

    def __init__(self, paths: str, table: bytes, entries: list):
        super().__init__()
        if len(table) != ROW * len(entries) or (paths.count("\0") + 1 if paths else 0) != len(entries):
            raise ValueError("inconsistent shard")
        self.paths, self.table, self.entries, self._index, self.source = paths, table, entries, None, None

    def _read(self):
        """The bodies, from the same file as the entries (None if it was replaced since)."""
        if self.source is None:
            return super()._read()
        path, ident, offset, length = self.source
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if (st.st_ino, st.st_size, st.st_mtime_ns) != ident:
                return None
            fh.seek(offset)
            bodies = pickle.loads(fh.read(length))
        return bodies if len(bodies) == len(self.entries) else None

    @property
    def index(self) -> dict:
        if self._index is None:
            self._index = {p: j for j, p in enumerate(self.paths.split("\0"))} if self.entries else {}
        return self._index

    def sig(self, j: int) -> bytes | None:
        sig = self.table[j * ROW : j * ROW + _SIG.size]
        return None if sig == NO_SIG else sig

    def digest(self, j: int) -> bytes:
        return self.table[j * ROW + _SIG.size : (j + 1) * ROW]

    def rows(self) -> list:
        """[(path, sig, digest, entry, (self, j))]: the body is fetched through (source, index)."""
        if not self.entries:
            return []
        return [(p, self.sig(j), self.digest(j), self.entries[j], (self, j)) for j, p in enumerate(self.paths.split("\0"))]


def body_of(ref) -> str | None:
    """A row's body: the string itself, or (Bodies, index) read on demand; None if it is gone."""
    if ref is None or type(ref) is str:
        return ref
    bodies = ref[0].get()
    return None if bodies is None else bodies[ref[1]]


def encode_rows(rows) -> tuple[bytes, bytes]:
    """[(path, sig, digest, entry, body)] → (meta pickle, bodies pickle), as a shard file holds them."""
    paths = "\0".join(r[0] for r in rows)
    table = b"".join((r[1] or NO_SIG) + r[2] for r in rows)
    meta = pickle.dumps((paths, table, [r[3] for r in rows]), protocol=pickle.HIGHEST_PROTOCOL)
    bodies = pickle.dumps([r[4] for r in rows], protocol=pickle.HIGHEST_PROTOCOL)
    return meta, bodies


def decode_rows(meta: bytes, bodies: bytes) -> list:
    shard = Shard(*pickle.loads(meta))
    shard._blob = bodies
    return shard.rows()


def listing_digest(docs_dir, tree) -> tuple[bytes | None, dict]:
    """(digest, signatures): the digest of the path and stat signature of every file below the
    content folder (records, pages, attachments), in `tree`'s order, None when any file is too fresh
    to trust its stat (see stat_sig) or is gone; and each file's signature (None: too fresh), which
    a validation that cannot use the digest takes instead of stat-ing the records again. Besides
    these files a whole validation depends only on the key and the date."""
    h = hashlib.blake2b(digest_size=16)
    now = time.time_ns()
    sigs: dict = {}
    trusted = True
    for folder, name in tree(docs_dir):
        path = f"{folder}/{name}"
        try:
            sig = stat_sig(os.stat(path), now)
        except OSError:
            trusted = False
            continue
        sigs[path] = sig
        if sig is None:
            trusted = False
        elif trusted:
            h.update(path.encode("utf-8", "surrogateescape") + b"\0" + sig)
    return (h.digest() if trusted else None), sigs


def open_store(cfg, stats: Stats) -> Store | None:
    stats.mode = mode()
    if stats.mode == "off":
        return None
    try:
        return Store(cfg, read=stats.mode == "on")
    except OSError as e:  # unreadable package sources: run without a cache
        log.warning(f"校验缓存不可用（{e}），本次不使用缓存")
        return None


