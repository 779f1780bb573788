"""Post-processing of a Pagefind bundle (one shard) so a visitor's first search downloads less.

Pagefind 1.5.2 writes index chunks of ~20,000 word locations (hard-coded), a page list with long
hashes and word counts, and fragments that repeat the whole token stream (`content`). Our search
page (portal-search.js) never uses `content` (the excerpt comes from the 正文 filter value) nor
word counts (BM25 ranks only unquoted searches, and ours are exact phrases), so `prepare_shard`:

- re-chunks the word index to CHUNK_LOCS locations per chunk (a query word downloads a small chunk
  instead of ~25 KB), with Pagefind's own chunk-boundary rule (see `_range`);
- renames fragments to short ids derived from the shard's input digest and drops their `content`;
- writes a page list with those ids and a constant word count.

`write_shard` writes such a prepared shard directly from our records, without Pagefind's indexer
(the word entries, fragments and real filters equal to what prepare_shard makes of Pagefind's index:
tests/test_pagefind_bundle.py).

A word's page list holds its page numbers as differences from the previous entry's (the first
from 0), so the merge rebases the first entry of each shard's list on the pages before it and
copies the rest as they are. It does so on bytes: each shard keeps, beside its Pagefind files, a
merge file (MERGE_FILE) with every word's page list already CBOR-encoded and split after the first
entry's page number (`_piece`); the merge writes the new first page number and concatenates
(`_head`: CBOR's definite-length heads, as cbor2 writes them), so it decodes and encodes nothing
but the rare diacritic variants. (cbor2 6 encodes a list through an `isinstance(…, Mapping)` ABC
check, ~70 % of the time of re-encoding a merged index: 12.5 s of a 10,000-record merge.)

All files are gzip(b"pagefind_dcd" + CBOR or JSON), as Pagefind writes them, named after their
content (nginx caches pf_* files as immutable). The layout is Pagefind's internal one, so only the
versions in SUPPORTED_VERSIONS are accepted.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import marshal
import os
import re
import unicodedata
import zlib
from functools import lru_cache
from pathlib import Path

import cbor2

SUPPORTED_VERSIONS = {"1.5.2"}
SIGNATURE = b"pagefind_dcd"
CHUNK_LOCS = 1000  # word locations per index chunk (Pagefind: 20,000). benchmarks/search.py download at 10,000
# records: 2,000 → 1,000 left the first query as it was (206 KB) and cut a pasted title from 399 to 362 KB;
# 500 and 250 gained nothing more (the common bigrams fill chunks of their own)
WORD_COUNT = 1  # constant: word counts only feed BM25, which exact-phrase searches do not use
LANGUAGE = "und"
MERGE_FORMAT = "4"  # bump when write_shard or merge_bundles writes differently (invalidates cached shards and merged bundles)
CHUNK_LEVEL = 6  # gzip level of index chunks: level 9 took 5x the time for 3 % fewer bytes
REAL_FILTERS = ("类型", "发布机构", "年份", "主题分类", "有效性")  # the others are display values, read from fragments
LIBRARY_FILES = ("pagefind.js", "pagefind-worker.js", "wasm.*.pagefind")
MERGE_FILE = "merge.bin"  # in each shard: its word entries as _pieces (see the module docstring); not served
MERGE_BLOCK = 4000  # words per marshal block of the merge file


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


def _page_ids(digest: str, count: int) -> list[str]:
    """The fragment names of a shard's pages: its digest's first six characters, then the page's
    number in hexadecimal, all of one width and written backwards. The names are the largest
    part of pf_meta, which every first query downloads; written this way, consecutive names differ
    in their first character after the prefix, which gzip packs best: 28.3 KB instead of 36.2 KB
    for 10,000 pages (base 36 written forwards; benchmarks/search.py). Reversing digits of one width
    keeps the names distinct."""
    width = len(f"{max(count - 1, 0):x}")
    return [f"{digest[:6]}{f'{i:0{width}x}'[::-1]}" for i in range(count)]


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


def _locations(w: list) -> int:
    """Word locations in one word entry, its diacritic variants' included."""
    n = sum(len(p[1]) for p in w[1])
    if len(w) > 2 and w[2]:
        n += sum(len(p[1]) for _v, pages in w[2] for p in pages)
    return n


def _head(major: int, n: int) -> bytes:
    """A CBOR head (major type, argument) in the shortest form, as cbor2 writes it: with it an array
    of encoded items is its head plus the items' bytes, whatever wrote them."""
    if n < 24:
        return bytes((major << 5 | n,))
    if n < 0x100:
        return bytes((major << 5 | 24, n))
    if n < 0x10000:
        return bytes((major << 5 | 25,)) + n.to_bytes(2, "big")
    if n < 0x100000000:
        return bytes((major << 5 | 26,)) + n.to_bytes(4, "big")
    return bytes((major << 5 | 27,)) + n.to_bytes(8, "big")


def _piece(w: list) -> tuple:
    """A word entry [word, pages, (variants)] as the merge file holds it: (word, locations, entries,
    first page, last page, the first entry's bytes after its page number, the other entries' bytes,
    the variants as stored or None when the entry has no variants element). Page numbers absolute
    (-1: the word has no pages of its own, only variants)."""
    pages = w[1]
    if pages:
        tail = cbor2.dumps(pages[0][1:])[1:]  # [locs, extra] without its one-byte head
        rest = cbor2.dumps(pages[1:])[len(_head(4, len(pages) - 1)):]
        first, last = pages[0][0], sum(p[0] for p in pages)
    else:
        tail = rest = b""
        first = last = -1
    return (w[0], _locations(w), len(pages), first, last, tail, rest, w[2] if len(w) > 2 else None)


def _encode(word: str, count: int, entries: bytes, variants) -> bytes:
    """The CBOR of a word entry from its parts (entries: its `count` page entries, encoded)."""
    out = (b"\x83" if variants is not None else b"\x82") + cbor2.dumps(word) + _head(4, count) + entries
    return out + cbor2.dumps(variants) if variants is not None else out


def _blob(piece: tuple) -> bytes:
    word, _locs, count, first, _last, tail, rest, variants = piece
    entries = b"\x83" + _head(0, first) + tail + rest if count else b""
    return _encode(word, count, entries, variants)


def _write_merge_file(pieces, path: Path):
    """Write the pieces to the merge file in blocks while passing them on."""
    with open(path, "wb") as fh:
        block = []
        for p in pieces:
            block.append(p)
            if len(block) == MERGE_BLOCK:
                fh.write(_block(block))
                block = []
            yield p
        if block:
            fh.write(_block(block))


def _block(block: list) -> bytes:
    data = zlib.compress(marshal.dumps(block), 1)
    return len(data).to_bytes(4, "big") + data


def _read_merge_file(path: Path):
    with open(path, "rb") as fh:
        while True:
            size = fh.read(4)
            if not size:
                return
            yield from marshal.loads(zlib.decompress(fh.read(int.from_bytes(size, "big"))))


def _write_chunks(items, index_dir: Path, chunk_locs: int, reuse: Path | None = None) -> list:
    """Write (word, locations, CBOR of the word entry) items, in word order, as index chunks, holding
    one chunk at a time: a chunk ends after the word that takes it past chunk_locs locations
    (Pagefind's rule, so one common word may make a chunk larger), its range as `_range`. A chunk is
    the CBOR of [[entry, ...]], written as heads and the entries' bytes. Returns the chunk list.

    A chunk is named after its CBOR, so a chunk file of that name in `reuse` (the index folder of
    the last merged bundle, packed alike) holds these very bytes: it is linked instead of compressed
    again. After an edit most chunks are unchanged: a common word (more than chunk_locs locations)
    ends its chunk whatever came before, so a changed count moves the boundaries only up to the
    next such word. gzip was 17 of the 24 s of merging the 100,000-record shards."""
    out: list = []
    pending: list = []
    prev_last = None
    size = 0
    have = set(os.listdir(index_dir))

    def flush(next_first):
        nonlocal pending, size, prev_last
        lo, hi = _range(prev_last, pending[0][0], pending[-1][0], next_first)
        blob = b"\x81" + _head(4, len(pending)) + b"".join(b for _w, _n, b in pending)
        name = _name(blob, 12)
        file = f"{name}.pf_index"
        if file in have:
            pass  # an in-place merge: that file holds these very bytes
        elif reuse is None or not _link_if_there(reuse / file, index_dir / file):
            (index_dir / file).write_bytes(_pack(blob, CHUNK_LEVEL))
        out.append([lo, hi, name])
        prev_last = pending[-1][0]
        pending, size = [], 0

    full = False  # the pending chunk has passed chunk_locs: written when the next word is known
    for item in items:
        if full:
            flush(item[0])
        pending.append(item)
        size += item[1]
        full = size > chunk_locs
    if pending:
        flush(None)
    return out


def _shard_chunks(words, bundle: Path, chunk_locs: int) -> list:
    """A shard's index chunks and its merge file, from its word entries (lists, in word order)."""
    pieces = _write_merge_file((_piece(w) for w in words), bundle / MERGE_FILE)
    return _write_chunks(((p[0], p[1], _blob(p)) for p in pieces), bundle / "index", chunk_locs)


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
    for pid, (old, _count) in zip(_page_ids(digest, len(pages)), pages):
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

    new_chunks = _shard_chunks(words(), bundle, chunk_locs)
    new_meta = [meta[0], new_pages, new_chunks, *meta[3:]]
    blob = cbor2.dumps(new_meta)
    meta_hash = _name(blob)
    meta_file.unlink()
    (bundle / f"pagefind.{meta_hash}.pf_meta").write_bytes(_pack(blob))
    entry["languages"][LANGUAGE]["hash"] = meta_hash
    (bundle / "pagefind-entry.json").write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


# ------------------------------------------------------------------------- writing a shard ourselves
DEFAULT_WEIGHT = 24  # Pagefind's weight of plain content; a page's locations start with the marker -(24 + 1)
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")
_ASCII_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")


@lru_cache(maxsize=1 << 18)
def token_words(token: str, include: str) -> tuple:
    """The (word, weight) pairs Pagefind 1.5.2 stores at the position of one whitespace-separated
    token of a custom record's content (fossick `parse_digest`, language without stemmer), for the
    tokens our analysis emits (letters and digits, `.` between digits, `%`, RUN_SEPARATOR):

    - the token, keeping letters, digits and `include` characters, lowercased, unless that is empty;
    - for a token with other characters, its parts: ASCII punctuation and letter/digit boundaries
      split it (convert_case's lower case), parts of one character are dropped, and each part
      is stored with the weight 24 // (number of parts), at least 1.

    Emoji extras and upper-case boundaries do not occur in our tokens (analysis.py folds them away);
    tests/test_pagefind_bundle.py compares the result with Pagefind's own index, word for word."""
    norm = token if token.isalnum() else "".join(c for c in token if c.isalnum() or c in include)
    norm = norm.lower()
    if not norm:
        return ()
    out = [(norm, DEFAULT_WEIGHT)]
    if not token.isalnum():
        spaced = _LETTER_DIGIT.sub(" ", _ASCII_PUNCT.sub(" ", token)).lower()
        if " " in spaced or not norm.startswith(spaced):
            parts = [w for w in spaced.split() if len(w.encode("utf-8")) > 1]
            weight = max(1, DEFAULT_WEIGHT // len(parts)) if parts else DEFAULT_WEIGHT
            out += [(w, weight) for w in parts]
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def strip_diacritics(word: str) -> str:
    """Pagefind 1.5's key for a word with diacritics: decomposed (NFD), combining marks dropped."""
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.category(c).startswith("M"))


def _locs(positions: list) -> list:
    """A page's locations as Pagefind stores them: grouped by weight (ascending, each group in
    position order) behind a marker -(weight + 1), each position as the difference from the one
    before it in its group (the first from 0)."""
    if all(w == DEFAULT_WEIGHT for _, w in positions):
        out = [-DEFAULT_WEIGHT - 1]
        prev = 0
        for p, _ in positions:
            out.append(p - prev)
            prev = p
        return out
    out, current, prev = [], None, 0
    for p, w in sorted(positions, key=lambda t: t[1]):  # stable: positions stay in order within a weight
        if w != current:
            out.append(-w - 1)
            current, prev = w, 0
        out.append(p - prev)
        prev = p
    return out


def write_shard(records: list[dict], out: Path, digest: str, library: Path, chunk_locs: int = CHUNK_LOCS) -> None:
    """Write the prepared shard (what `prepare_shard` makes of Pagefind's bundle) for `records`
    (search.IndexDoc.record(): url, content as space-separated tokens, filters), in their order,
    without running Pagefind: our analysis has already cut the words, and the rest of indexing is
    positions and page lists. `library` is a bundle Pagefind wrote (search.library_bundle): its
    entry gives the version and the include characters. Only the real filters get filter files;
    the display values travel in each fragment, as Pagefind writes them."""
    out = Path(out)
    entry = json.loads((Path(library) / "pagefind-entry.json").read_text(encoding="utf-8"))
    if entry.get("version") not in SUPPORTED_VERSIONS:
        raise SearchIndexError(f"不支持的 Pagefind 版本 {entry.get('version')}（支持：{'、'.join(sorted(SUPPORTED_VERSIONS))}）")
    include = "".join(entry.get("include_characters") or [])
    for sub in ("index", "filter", "fragment"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    postings: dict = {}  # word -> [page, positions, page, positions, ...]
    filters: dict = {name: {} for name in REAL_FILTERS}
    pages = []
    ids = _page_ids(digest, len(records))
    for page, rec in enumerate(records):
        tokens = rec["content"].split()
        seen: dict = {}
        for i, tok in enumerate(tokens):
            for w, weight in token_words(tok, include):
                got = seen.get(w)
                if got is None:
                    seen[w] = [(i, weight)]
                else:
                    got.append((i, weight))
        for w, positions in seen.items():
            lst = postings.get(w)
            if lst is None:
                postings[w] = [page, _locs(positions)]
            else:
                lst += (page, _locs(positions))
        rec_filters = rec.get("filters") or {}
        for name in REAL_FILTERS:
            for value in rec_filters.get(name, ()):
                filters[name].setdefault(value, []).append(page)
        pid = ids[page]
        frag = {"url": rec["url"], "content": "", "word_count": len(tokens),
                "filters": {k: rec_filters[k] for k in sorted(rec_filters)}, "meta": rec.get("meta") or {}, "anchors": []}
        (out / "fragment" / f"{pid}.pf_fragment").write_bytes(_pack(json.dumps(frag, ensure_ascii=False).encode("utf-8")))
        pages.append([pid, WORD_COUNT])

    def pages_of(w):
        flat = postings.pop(w, None) or ()
        entries, prev = [], 0
        for k in range(0, len(flat), 2):
            entries.append([flat[k] - prev, flat[k + 1], []])
            prev = flat[k]
        return entries

    variants: dict = {}  # base word -> its variants with diacritics (Pagefind 1.5 files 'é' under 'e')
    for w in postings:
        base = strip_diacritics(w)
        if base != w:
            variants.setdefault(base, []).append(w)

    def words():
        for w in sorted(set(postings).difference(*variants.values()) | set(variants)):
            yield [w, pages_of(w), [[v, pages_of(v)] for v in sorted(variants.get(w, ()))]]

    chunks = _shard_chunks(words(), out, chunk_locs)
    filter_meta = []
    for name, values in filters.items():
        if not values:
            continue
        blob = cbor2.dumps([name, [[v, values[v]] for v in sorted(values)]])
        h = _name(blob)
        (out / "filter" / f"{h}.pf_filter").write_bytes(_pack(blob))
        filter_meta.append([name, h])
    blob = cbor2.dumps([entry["version"], pages, chunks, filter_meta, [], []])
    meta_hash = _name(blob)
    (out / f"pagefind.{meta_hash}.pf_meta").write_bytes(_pack(blob))
    lang = {**entry["languages"][LANGUAGE], "hash": meta_hash, "page_count": len(pages)}
    (out / "pagefind-entry.json").write_text(json.dumps({**entry, "languages": {LANGUAGE: lang}}, ensure_ascii=False,
                                                        separators=(",", ":")), encoding="utf-8")


# ------------------------------------------------------------------------------------- merging


class _Shard:
    def __init__(self, bundle: Path):
        self.dir = Path(bundle)
        self.entry, _, self.meta = _open(self.dir)
        if any(self.meta[4:]):
            raise SearchIndexError("搜索索引含有排序数据，无法合并")

    def words(self):
        """The word entries as stored, in word order; one chunk in memory at a time."""
        for _lo, _hi, h in self.meta[2]:
            yield from cbor2.loads(_read(self.dir / "index" / f"{h}.pf_index"))[0]

    def pieces(self):
        """The word entries as `_piece`s, in word order: from the merge file, else (a shard written
        before it existed) from the index chunks."""
        if (self.dir / MERGE_FILE).is_file():
            return _read_merge_file(self.dir / MERGE_FILE)
        return (_piece(w) for w in self.words())

    def filter(self, name: str) -> list:
        for n, h in self.meta[3]:
            if n == name:
                return cbor2.loads(_read(self.dir / "filter" / f"{h}.pf_filter"))[1]
        return []


def _join_pages(parts: list) -> list:
    """[(page offset, page list as stored)] of consecutive shards as one page list. Page numbers are
    stored as differences from the previous entry's (the first from 0), so each part's first entry
    is rebased on the last page number before it; the rest stay as they are."""
    out: list = []
    last = 0
    for off, pages in parts:
        if not pages:
            continue
        first = off + pages[0][0]
        out.append([first - last, *pages[0][1:]])
        out.extend(pages[1:])
        last = off + sum(p[0] for p in pages)
    return out


def _join_pieces(group: list) -> tuple:
    """[(page offset, piece)] of one word from consecutive shards as one (word, locations, CBOR of
    the merged entry): each shard's first entry gets its page number rebased on the last page
    before it, its other entries are copied as bytes. The diacritic variants' pages (Pagefind 1.5
    files 'é' under 'e': [word, pages, [[variant, pages], ...]]) are joined as lists (`_join_pages`)."""
    word = group[0][1][0]
    parts, count, last, locs = [], 0, 0, 0
    variants: dict = {}
    for off, (_w, n, k, first, end, tail, rest, vs) in group:
        locs += n
        if k:
            parts.append(b"\x83" + _head(0, off + first - last) + tail + rest)
            count += k
            last = off + end
        for v, pages in vs or ():
            variants.setdefault(v, []).append((off, pages))
    joined = [[v, _join_pages(variants[v])] for v in sorted(variants)]
    return word, locs, _encode(word, count, b"".join(parts), joined)


def _link_if_there(src: Path, dst: Path) -> bool:
    try:
        link_or_copy(src, dst)
        return True
    except OSError:  # not there (or unreadable): the caller writes it
        return False


def link_or_copy(src, dst) -> None:
    """A hard link (cached shards and bundles: no copying of thousands of files), else a copy."""
    import os
    import shutil

    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def merge_bundles(shards: list[Path], out: Path, chunk_locs: int = CHUNK_LOCS, library: Path | None = None,
                  reuse: Path | None = None) -> dict:
    """Merge prepared shards (prepare_shard; newest first) into one Pagefind bundle in `out`.
    `reuse`: the last merged bundle (same MERGE_FORMAT and CHUNK_LEVEL), whose unchanged index
    chunks are linked (`_write_chunks`). `out` may itself hold the last merged bundle (packed
    alike): it is then updated in place. Its files are named after their bytes (fragments after
    their shard's digest), so a file already there is kept, a new one added, one no longer
    listed deleted, and the two files of fixed names replaced by rename: at 100,000 records,
    linking the 100,000 fragments anew took 4.4 s of an edit's merge.

    Page numbers follow the shards' order (the newest shard's pages first), so an exact search
    still returns pages newest first. Words are merged in a streaming k-way merge and re-cut to
    chunk_locs; only the real filters (REAL_FILTERS) are kept; fragments are hard-linked. Pagefind's
    scripts and wasm come from `library` (a bundle Pagefind wrote), else from the first shard."""
    import heapq

    out = Path(out)
    for sub in ("index", "filter", "fragment"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    before = _bundle_files(out)  # an in-place merge: the last merged bundle, updated (files are content-named)
    opened = [_Shard(s) for s in shards]
    offsets, pages = [], []
    names = [pid for s in opened for pid, _ in s.meta[1]]
    if len(set(names)) != len(names):  # two shards whose digests begin alike (about 1 in 10^5 builds of 24 shards)
        raise SearchIndexError("搜索索引的两个分片页面编号相同（其内容摘要前六位巧合相同），无法合并。"
                               "修改其中任一分片（同一年份）的任意一条记录后重新构建即可；请同时告知维护人员。")
    for s in opened:
        offsets.append(len(pages))
        pages.extend([pid, WORD_COUNT] for pid, _ in s.meta[1])
        for pid, _ in s.meta[1]:
            if f"fragment/{pid}.pf_fragment" not in before:  # named after its shard's digest: same name, same bytes
                link_or_copy(s.dir / "fragment" / f"{pid}.pf_fragment", out / "fragment" / f"{pid}.pf_fragment")
        if (s.dir / "text").is_dir():  # the excerpt blocks of long bodies (search.write_text_blocks)
            (out / "text").mkdir(exist_ok=True)
            for f in (s.dir / "text").iterdir():
                if not (out / "text" / f.name).exists():  # content-named: one text, one file
                    link_or_copy(f, out / "text" / f.name)

    # words: k-way merge (ties: newest shard first), re-cut while streaming; the entries of one
    # word (its pages and each diacritic variant's) joined by `_join_pieces`.
    def stream(i: int):
        for piece in opened[i].pieces():
            yield piece[0], i, piece

    streams = [stream(i) for i in range(len(opened))]

    def merged():
        group: list = []
        for word, i, piece in heapq.merge(*streams, key=lambda t: (t[0], t[1])):
            if group and group[0][1][0] != word:
                yield _join_pieces(group)
                group = []
            group.append((offsets[i], piece))
        if group:
            yield _join_pieces(group)

    chunks_meta = _write_chunks(merged(), out / "index", chunk_locs, Path(reuse) / "index" if reuse else None)

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
        if f"filter/{h}.pf_filter" not in before:
            (out / "filter" / f"{h}.pf_filter").write_bytes(_pack(blob))
        filter_meta.append([name, h])

    first = opened[0]
    library_files = []
    for pattern in LIBRARY_FILES:
        for f in Path(library or first.dir).glob(pattern):
            _replace_link(f, out / f.name)
            library_files.append(f.name)
    meta = [first.meta[0], pages, chunks_meta, filter_meta, *first.meta[4:]]
    blob = cbor2.dumps(meta)
    meta_hash = _name(blob)
    if f"pagefind.{meta_hash}.pf_meta" not in before:
        (out / f"pagefind.{meta_hash}.pf_meta").write_bytes(_pack(blob))
    entry = dict(first.entry)
    entry["languages"] = {LANGUAGE: {**first.entry["languages"][LANGUAGE], "hash": meta_hash, "page_count": len(pages)}}
    tmp = out / f".pagefind-entry.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, out / "pagefind-entry.json")
    if before:  # what the updated bundle no longer lists
        keep = {f"fragment/{pid}.pf_fragment" for pid, _ in pages} | {f"index/{h}.pf_index" for _, _, h in chunks_meta}
        keep |= {f"filter/{h}.pf_filter" for _, h in filter_meta} | {f"pagefind.{meta_hash}.pf_meta", "pagefind-entry.json"}
        keep |= set(library_files) | {f"text/{f.name}" for s in opened if (s.dir / "text").is_dir() for f in (s.dir / "text").iterdir()}
        for rel in before - keep:
            os.unlink(out / rel)
    return {"pages": len(pages), "chunks": len(chunks_meta)}


def _bundle_files(out: Path) -> set:
    """The files of a bundle folder, as paths relative to it (its sub-folders are one level deep)."""
    found = set()
    for e in os.scandir(out):
        if e.is_dir(follow_symlinks=False):
            found.update(f"{e.name}/{name}" for name in os.listdir(e.path))
        else:
            found.add(e.name)
    return found


def _replace_link(src: Path, dst: Path) -> None:
    """dst becomes a hard link to src (a copy where links fail), replaced, never written through."""
    try:
        if os.path.samefile(src, dst):
            return  # (renaming a link over another link of the same file would leave both names)
    except FileNotFoundError:
        pass
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    link_or_copy(src, tmp)
    os.replace(tmp, dst)
