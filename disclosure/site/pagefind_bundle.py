"""Post-processing of a Pagefind bundle (one shard) so a visitor's first search downloads less.

Pagefind 1.5.2 writes index chunks of ~20,000 word locations (hard-coded), a page list with long
hashes and word counts, and fragments that repeat the whole token stream (`content`). Our search
page (portal-search.js) never uses `content` (the excerpt comes from the 正文 filter value) nor
word counts (BM25 ranks only unquoted searches, and ours are exact phrases), so `prepare_shard`:

- re-chunks the word index to CHUNK_LOCS locations per chunk (a query word downloads a small chunk
  instead of ~25 KB), with Pagefind's own chunk-boundary rule (see `_range`);
- renames fragments to short ids derived from the shard's input digest and drops their `content`;
- writes a page list with those ids and a constant word count.

A word's page list holds its page numbers as differences from the previous entry's (the first
from 0), so the merge rebases the first entry of each shard's list on the pages before it.

All files are gzip(b"pagefind_dcd" + CBOR or JSON), as Pagefind writes them, named after their
content (nginx caches pf_* files as immutable). The layout is Pagefind's internal one, so only the
versions in SUPPORTED_VERSIONS are accepted.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import cbor2

SUPPORTED_VERSIONS = {"1.5.2"}
SIGNATURE = b"pagefind_dcd"
CHUNK_LOCS = 1000  # word locations per index chunk (Pagefind: 20,000). benchmarks/search.py download at 10,000
# records: 2,000 → 1,000 left the first query as it was (206 KB) and cut a pasted title from 399 to 362 KB;
# 500 and 250 gained nothing more (the common bigrams fill chunks of their own)
WORD_COUNT = 1  # constant: word counts only feed BM25, which exact-phrase searches do not use
LANGUAGE = "und"
MERGE_FORMAT = "3"  # bump when merge_bundles writes differently (invalidates cached merged bundles)
CHUNK_LEVEL = 6  # gzip level of index chunks: level 9 took 5x the time for 3 % fewer bytes


class SearchIndexError(RuntimeError):
    pass


def _read(path: Path) -> bytes:
    data = gzip.decompress(path.read_bytes())
    if not data.startswith(SIGNATURE):
        raise SearchIndexError(f"搜索索引文件格式不符：{path.name}")
    return data[len(SIGNATURE):]


def _pack(payload: bytes, level: int = 9) -> bytes:
    return gzip.compress(SIGNATURE + payload, compresslevel=level, mtime=0)


def _name(blob: bytes, n: int = 11) -> str:
    return f"{LANGUAGE}_" + hashlib.sha256(blob).hexdigest()[:n]


def _base36(i: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        i, r = divmod(i, 36)
        out = digits[r] + out
        if not i:
            return out


def _prefix(a: str, b: str) -> tuple[str, str]:
    """Pagefind's boundary between a chunk ending in word a and the next starting with b: each
    word cut after its common prefix with the other plus one character."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[: n + 1], b[: n + 1]


def _range(prev_last: str | None, first: str, last: str, next_first: str | None) -> tuple[str, str]:
    """The (from, to) Pagefind lists for a chunk holding words first..last, between the chunk that
    ends in prev_last and the one that starts with next_first (None: no such chunk)."""
    lo, hi = first, last
    if prev_last is not None:
        lo = _prefix(prev_last, first)[1]
    if next_first is not None:
        hi = _prefix(last, next_first)[0]
        if hi < lo:  # Pagefind keeps a chunk's range non-empty: then the whole last word
            hi = last
    return lo, hi


def _bounds(chunks: list[list]) -> list[tuple[str, str]]:
    """`_range` of each chunk of a chunk list (words as Pagefind stores them: [word, pages, ...])."""
    return [_range(chunks[i - 1][-1][0] if i else None, ch[0][0], ch[-1][0],
                   chunks[i + 1][0][0] if i + 1 < len(chunks) else None) for i, ch in enumerate(chunks)]


def _write_chunks(words, index_dir: Path, chunk_locs: int) -> list:
    """Write (word, pages, *rest) entries, in word order, as index chunks, holding one chunk at a
    time: a chunk ends after the word that takes it past chunk_locs locations (Pagefind's rule, so
    one common word may make a chunk larger), its range as `_range`. Returns the chunk list."""
    out: list = []
    pending: list = []
    prev_last = None
    size = 0

    def flush(next_first):
        nonlocal pending, size, prev_last
        lo, hi = _range(prev_last, pending[0][0], pending[-1][0], next_first)
        blob = cbor2.dumps([pending])
        name = _name(blob, 12)
        (index_dir / f"{name}.pf_index").write_bytes(_pack(blob, CHUNK_LEVEL))
        out.append([lo, hi, name])
        prev_last = pending[-1][0]
        pending, size = [], 0

    full = False  # the pending chunk has passed chunk_locs: written when the next word is known
    for w in words:
        if full:
            flush(w[0])
        pending.append(w)
        size += sum(len(p[1]) for p in w[1])
        full = size > chunk_locs
    if pending:
        flush(None)
    return out


def _open(bundle: Path) -> tuple[dict, Path, list]:
    """A bundle's entry, meta file and decoded meta, refused unless Pagefind wrote it in a supported version."""
    entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
    if entry.get("version") not in SUPPORTED_VERSIONS:
        raise SearchIndexError(f"不支持的 Pagefind 版本 {entry.get('version')}（支持：{'、'.join(sorted(SUPPORTED_VERSIONS))}）")
    meta_file = bundle / f"pagefind.{entry['languages'][LANGUAGE]['hash']}.pf_meta"
    meta = cbor2.loads(_read(meta_file))
    if meta[0] not in SUPPORTED_VERSIONS:
        raise SearchIndexError(f"不支持的 Pagefind 索引版本 {meta[0]}")
    return entry, meta_file, meta


def prepare_shard(bundle: Path, digest: str, chunk_locs: int = CHUNK_LOCS) -> None:
    """Rewrite the Pagefind bundle in `bundle` in place (see the module docstring)."""
    bundle = Path(bundle)
    entry, meta_file, meta = _open(bundle)
    pages, index_chunks = meta[1], meta[2]

    # fragments: short ids, no token stream
    frag_dir = bundle / "fragment"
    new_pages = []
    for i, (old, _count) in enumerate(pages):
        pid = f"{digest[:6]}{_base36(i)}"
        src = frag_dir / f"{old}.pf_fragment"
        frag = json.loads(_read(src))
        frag["content"] = ""  # pagefind.js expects a string; the excerpt comes from the 正文 filter
        (frag_dir / f"{pid}.pf_fragment").write_bytes(_pack(json.dumps(frag, ensure_ascii=False).encode("utf-8")))
        src.unlink()
        new_pages.append([pid, WORD_COUNT])

    # word index: all chunks (already in word order), re-cut while streaming
    index_dir = bundle / "index"
    old_files = [index_dir / f"{h}.pf_index" for _lo, _hi, h in index_chunks]

    def words():
        for f in old_files:
            yield from cbor2.loads(_read(f))[0]
            f.unlink()

    new_chunks = _write_chunks(words(), index_dir, chunk_locs)
    new_meta = [meta[0], new_pages, new_chunks, *meta[3:]]
    blob = cbor2.dumps(new_meta)
    meta_hash = _name(blob)
    meta_file.unlink()
    (bundle / f"pagefind.{meta_hash}.pf_meta").write_bytes(_pack(blob))
    entry["languages"][LANGUAGE]["hash"] = meta_hash
    (bundle / "pagefind-entry.json").write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


# ------------------------------------------------------------------------------------- merging
REAL_FILTERS = ("类型", "发布机构", "年份", "主题分类", "有效性")  # the others are display values, read from fragments
LIBRARY_FILES = ("pagefind.js", "pagefind-worker.js", "wasm.*.pagefind")


class _Shard:
    def __init__(self, bundle: Path):
        self.dir = Path(bundle)
        self.entry, _, self.meta = _open(self.dir)
        if any(self.meta[4:]):
            raise SearchIndexError("搜索索引含有排序数据，无法合并")

    def words(self):
        """(word, pages as stored, their last page number) in word order; one chunk in memory at a time."""
        for _lo, _hi, h in self.meta[2]:
            for w in cbor2.loads(_read(self.dir / "index" / f"{h}.pf_index"))[0]:
                yield w[0], w[1], sum(p[0] for p in w[1]), w[2:]

    def filter(self, name: str) -> list:
        for n, h in self.meta[3]:
            if n == name:
                return cbor2.loads(_read(self.dir / "filter" / f"{h}.pf_filter"))[1]
        return []


def link_or_copy(src, dst) -> None:
    """A hard link (cached shards and bundles: no copying of thousands of files), else a copy."""
    import os
    import shutil

    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def merge_bundles(shards: list[Path], out: Path, chunk_locs: int = CHUNK_LOCS) -> dict:
    """Merge prepared shards (prepare_shard; newest first) into one Pagefind bundle in `out`.

    Page numbers follow the shards' order (the newest shard's pages first), so an exact search
    still returns pages newest first. Words are merged in a streaming k-way merge and re-cut to
    chunk_locs; only the real filters (REAL_FILTERS) are kept; fragments are hard-linked."""
    import heapq

    out = Path(out)
    for sub in ("index", "filter", "fragment"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    opened = [_Shard(s) for s in shards]
    offsets, pages = [], []
    for s in opened:
        offsets.append(len(pages))
        pages.extend([pid, WORD_COUNT] for pid, _ in s.meta[1])
        for pid, _ in s.meta[1]:
            link_or_copy(s.dir / "fragment" / f"{pid}.pf_fragment", out / "fragment" / f"{pid}.pf_fragment")
        if (s.dir / "text").is_dir():  # the excerpt blocks of long bodies (search.write_text_blocks)
            (out / "text").mkdir(exist_ok=True)
            for f in (s.dir / "text").iterdir():
                if not (out / "text" / f.name).exists():  # content-named: one text, one file
                    link_or_copy(f, out / "text" / f.name)

    # words: k-way merge (ties: newest shard first), re-cut while streaming. Page numbers are stored
    # as differences (module docstring), so a shard's list joins the previous one by rebasing its
    # first entry on the last page number so far; the rest stay as they are.
    def stream(i: int):
        for w, p, last, rest in opened[i].words():
            if any(rest):  # metadata word positions: our records have no metadata
                raise SearchIndexError(f"搜索索引含有元数据词条，无法合并：{w}")
            yield w, i, p, last, rest

    streams = [stream(i) for i in range(len(opened))]
    def merged():
        current, last = None, 0
        for word, i, p, end, rest in heapq.merge(*streams, key=lambda t: (t[0], t[1])):
            if current is not None and current[0] == word:
                current[1].append([p[0][0] + offsets[i] - last, *p[0][1:]])
                current[1].extend(p[1:])
                last = offsets[i] + end
                continue
            if current is not None:
                yield current
            current = [word, [[p[0][0] + offsets[i], *p[0][1:]], *p[1:]], *rest]
            last = offsets[i] + end
        if current is not None:
            yield current

    chunks_meta = _write_chunks(merged(), out / "index", chunk_locs)

    # real filters: values merged, page numbers shifted
    filter_meta = []
    for name in REAL_FILTERS:
        values: dict = {}
        for s, off in zip(opened, offsets):
            for value, nos in s.filter(name):
                values.setdefault(value, []).extend(n + off for n in nos)
        if not values:
            continue
        blob = cbor2.dumps([name, [[v, nos] for v, nos in values.items()]])
        h = _name(blob)
        (out / "filter" / f"{h}.pf_filter").write_bytes(_pack(blob))
        filter_meta.append([name, h])

    first = opened[0]
    for pattern in LIBRARY_FILES:
        for f in first.dir.glob(pattern):
            link_or_copy(f, out / f.name)
    meta = [first.meta[0], pages, chunks_meta, filter_meta, *first.meta[4:]]
    blob = cbor2.dumps(meta)
    meta_hash = _name(blob)
    (out / f"pagefind.{meta_hash}.pf_meta").write_bytes(_pack(blob))
    entry = dict(first.entry)
    entry["languages"] = {LANGUAGE: {**first.entry["languages"][LANGUAGE], "hash": meta_hash, "page_count": len(pages)}}
    (out / "pagefind-entry.json").write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return {"pages": len(pages), "chunks": len(chunks_meta)}
