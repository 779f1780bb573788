"""The shard post-processing and merge (disclosure/site/pagefind_bundle.py), checked on the decoded
files against what Pagefind itself wrote for the same records."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import cbor2
import pytest

from disclosure.site import pagefind_bundle as pb
from disclosure.site.search import IndexDoc, _index_shard

SIG = b"pagefind_dcd"


def absolute_pages(pages: list) -> list:
    """Pagefind 1.5 stores a word's page numbers as differences from the previous entry's (the first
    from 0): the list with absolute page numbers."""
    out, page = [], 0
    for p in pages:
        page += p[0]
        out.append([page, *p[1:]])
    return out


def rechunk(words: list, chunk_locs: int) -> list[list]:
    """Pagefind's cut rule, written out plainly: a chunk ends after the word that takes it past
    chunk_locs locations (a word's diacritic variants counted with it)."""
    chunks, cur, size = [], [], 0
    for w in words:
        cur.append(w)
        size += sum(len(p[1]) for p in w[1]) + sum(len(p[1]) for _v, pages in w[2] for p in pages)
        if size > chunk_locs:
            chunks.append(cur)
            cur, size = [], 0
    if cur:
        chunks.append(cur)
    return chunks


def _load(path: Path):
    data = gzip.decompress(path.read_bytes())
    assert data.startswith(SIG)
    return data[len(SIG):]


def _meta(bundle: Path):
    entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
    return entry, cbor2.loads(_load(bundle / f"pagefind.{entry['languages']['und']['hash']}.pf_meta"))


def _decode(bundle: Path):
    """{word: {url: sorted locs}}, {filter: {value: {urls}}}, {url: fragment}, chunk list, page count."""
    entry, meta = _meta(bundle)
    frags = {}
    urls = []
    for pid, _ in meta[1]:
        frag = json.loads(_load(bundle / "fragment" / f"{pid}.pf_fragment"))
        urls.append(frag["url"])
        frags[frag["url"]] = frag
    words = {}
    for lo, hi, h in meta[2]:
        for w in cbor2.loads(_load(bundle / "index" / f"{h}.pf_index"))[0]:
            # a word's own pages, then its diacritic variants' (Pagefind 1.5 files 'é' under 'e')
            for word, stored in [(w[0], w[1]), *[(v, vp) for v, vp in w[2]]]:
                assert word not in words
                if not stored:
                    assert word == w[0] and w[2]  # only a base word may have no pages of its own
                    continue
                pages = [p[0] for p in stored]
                assert min(pages) >= 0 and sum(pages) < len(urls)  # differences (Pagefind 1.5), in range
                words[word] = {urls[p[0]]: sorted(p[1]) for p in absolute_pages(stored)}
    filters = {}
    for name, h in meta[3]:
        fname, values = cbor2.loads(_load(bundle / "filter" / f"{h}.pf_filter"))
        filters[fname] = {v: {urls[n] for n in nos} for v, nos in values}
    return words, filters, frags, meta[2], urls, entry


def _docs(prefix: str, year: str, n: int):
    out = []
    for i in range(n):
        out.append(IndexDoc(url=f"records/{prefix}{i}/", title=f"{year}年食品安全监督抽检第{i}号通报",
                            published=f"{year}-{1 + i % 12:02d}-{1 + i % 28:02d}", type_label="主动公开信息",
                            unit=["县市场监管局", "县教育局"][i % 2], index_no=f"T/{year}-{i:05d}",
                            topic="食品安全" if i % 3 else "", status="有效" if i % 4 == 0 else "",
                            body=f"正文{i} 抽检结果合格率{90 + i % 10}% 批次{i * 7}", fields=[f"T/{year}-{i:05d}"]))
    return sorted(out, key=lambda d: (d.published, d.index_no), reverse=True)


def _check_chunks(chunks):
    """Pagefind's boundary rule: the ranges are in order, and where one chunk ends and the next
    begins the two bounds differ (each cut one character after their common prefix)."""
    assert chunks
    for (lo, hi, _), (nlo, _, _) in zip(chunks, chunks[1:]):
        assert lo <= hi and hi < nlo


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("pb")
    out = []
    for sid, docs in (("2025", _docs("a", "2025", 60)), ("2024", _docs("b", "2024", 45))):
        raw = root / f"raw-{sid}"
        _index_shard([d.record() for d in docs], raw)
        prepared = root / f"prep-{sid}"
        shutil.copytree(raw, prepared)
        pb.prepare_shard(prepared, f"{sid}abcdef", chunk_locs=300)
        out.append((raw, prepared, docs))
    return out


def test_prepared_shard_keeps_every_word_and_filter(shards):
    for raw, prepared, docs in shards:
        w0, f0, fr0, c0, u0, _ = _decode(raw)
        w1, f1, fr1, c1, u1, entry = _decode(prepared)
        assert u1 == u0 == [d.url for d in docs]  # page numbers unchanged: newest first
        assert w1 == w0
        assert f1 == f0
        assert len(c1) > len(c0)  # smaller chunks
        assert entry["languages"]["und"]["page_count"] == len(docs)
        for url, frag in fr1.items():
            assert frag["content"] == ""
            assert frag["filters"] == fr0[url]["filters"]
        _, meta = _meta(prepared)
        assert {wc for _, wc in meta[1]} == {pb.WORD_COUNT}
        assert len(list((prepared / "fragment").iterdir())) == len(docs)
        assert len(list((prepared / "index").iterdir())) == len(c1)


def test_chunks_follow_pagefinds_boundary_rule(shards):
    raw, prepared, _ = shards[0]
    _, meta = _meta(prepared)
    chunks = meta[2]
    _check_chunks(chunks)
    for lo, hi, h in chunks:
        ws = [w[0] for w in cbor2.loads(_load(prepared / "index" / f"{h}.pf_index"))[0]]
        assert ws == sorted(ws)
        assert ws[0].startswith(lo) and ws[-1].startswith(hi)
    # the first and last bounds are whole words, as Pagefind writes them
    _, raw_meta = _meta(raw)
    assert chunks[0][0] == raw_meta[2][0][0] and chunks[-1][1] == raw_meta[2][-1][1]


@pytest.mark.parametrize("chunk_locs", [50, 400, 100000])
def test_merge_is_the_union_of_the_shards(shards, tmp_path, chunk_locs):
    out = tmp_path / "merged"
    info = pb.merge_bundles([p for _, p, _ in shards], out, chunk_locs=chunk_locs)
    words, filters, frags, chunks, urls, entry = _decode(out)
    assert urls == [d.url for _, _, docs in shards for d in docs]  # newest shard first
    assert info["pages"] == entry["languages"]["und"]["page_count"] == len(urls)
    want_words: dict = {}
    want_filters: dict = {}
    for raw, _, _ in shards:
        w0, f0, fr0, _, _, _ = _decode(raw)
        for word, pages in w0.items():
            assert not set(pages) & set(want_words.get(word, {}))
            want_words.setdefault(word, {}).update(pages)
        for name in pb.REAL_FILTERS:
            for value, us in f0.get(name, {}).items():
                want_filters.setdefault(name, {}).setdefault(value, set()).update(us)
        for url, frag in fr0.items():
            assert {k: v for k, v in frags[url].items() if k != "content"} == {k: v for k, v in frag.items() if k != "content"}
    assert words == want_words
    # from the inputs: each year is in the titles of exactly that shard's records
    for _, _, docs in shards:
        year = docs[0].published[:4]
        assert set(words[year]) == {d.url for _, _, ds in shards for d in ds if year in d.title + d.body}
    assert filters == want_filters
    assert set(filters) == {"类型", "发布机构", "年份", "主题分类", "有效性"}
    _check_chunks(chunks)
    names = sorted(words)
    seen = []
    for lo, hi, h in chunks:
        ws = [w[0] for w in cbor2.loads(_load(out / "index" / f"{h}.pf_index"))[0]]
        assert ws[0].startswith(lo) and ws[-1].startswith(hi)
        seen += ws
    assert seen == names
    if chunk_locs == 100000:
        assert len(chunks) == 1
    assert (out / "pagefind.js").is_file() and (out / "pagefind-worker.js").is_file()
    assert list(out.glob("wasm.*.pagefind"))
    # deterministic: the same inputs give the same file names
    again = tmp_path / "again"
    pb.merge_bundles([p for _, p, _ in shards], again, chunk_locs=chunk_locs)
    assert sorted(p.name for p in again.rglob("*")) == sorted(p.name for p in out.rglob("*"))


def test_unsupported_version_is_refused(shards, tmp_path):
    raw, _, _ = shards[1]
    bad = tmp_path / "bad"
    shutil.copytree(raw, bad)
    entry = json.loads((bad / "pagefind-entry.json").read_text(encoding="utf-8"))
    entry["version"] = "9.9.9"
    (bad / "pagefind-entry.json").write_text(json.dumps(entry), encoding="utf-8")
    with pytest.raises(pb.SearchIndexError, match="不支持的 Pagefind 版本"):
        pb.prepare_shard(bad, "x" * 24)


def test_boundary_rule_is_pagefinds(tmp_path):
    """`_bounds` on Pagefind's own chunks gives Pagefind's own bounds, and the streaming writer cuts
    and bounds chunks as `rechunk` + `_bounds` do."""
    docs = _docs("c", "2023", 400)
    raw = tmp_path / "raw"
    _index_shard([d.record() for d in docs], raw)
    _, meta = _meta(raw)
    chunks = [cbor2.loads(_load(raw / "index" / f"{h}.pf_index"))[0] for _, _, h in meta[2]]
    assert len(chunks) > 1
    assert pb._bounds(chunks) == [(lo, hi) for lo, hi, _ in meta[2]]
    words = [w for ch in chunks for w in ch]
    out = tmp_path / "idx"
    out.mkdir()
    written = pb._write_chunks(((w[0], pb._locations(w), cbor2.dumps(w)) for w in words), out, 700)
    assert [(lo, hi) for lo, hi, _ in written] == pb._bounds(rechunk(words, 700))
    # each chunk file holds exactly its words, as cbor2 encodes them
    for (_, _, h), want in zip(written, rechunk(words, 700)):
        assert cbor2.loads(_load(out / f"{h}.pf_index")) == [want]


def test_cbor_heads_are_cbor2s():
    for n in (0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32):
        assert pb._head(0, n) == cbor2.dumps(n)
        if n <= 70000:  # an array: its head, then its items
            assert pb._head(4, n) + b"\x00" * n == cbor2.dumps([0] * n)


def test_merge_on_bytes_equals_merge_of_decoded_entries(shards, tmp_path):
    """The merge concatenates the shards' encoded page lists (their merge files); without merge
    files it decodes the index chunks instead: both give the same files, byte for byte."""
    plain = []
    for _, prepared, _ in shards:
        assert (prepared / pb.MERGE_FILE).is_file()
        copy = tmp_path / f"plain-{prepared.name}"
        shutil.copytree(prepared, copy)
        (copy / pb.MERGE_FILE).unlink()
        plain.append(copy)
    a, b = tmp_path / "bytes", tmp_path / "decoded"
    pb.merge_bundles([p for _, p, _ in shards], a, chunk_locs=120)
    pb.merge_bundles(plain, b, chunk_locs=120)
    files = sorted(f.relative_to(a) for f in a.rglob("*") if f.is_file())
    assert files == sorted(f.relative_to(b) for f in b.rglob("*") if f.is_file())
    assert not (a / pb.MERGE_FILE).exists()  # the merge file is the build's, not the visitor's
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


# --------------------------------------------------------------- our shard writer against Pagefind's
TRICKY_BODIES = [
    "12.5 x 2025.12 10.20.12 ab12cd.34 12.12 v1.2 6.1% 100.200.300.400 1.5",  # dotted numbers: Pagefind's parts
    "第一段 Hello World。\n第二段 預算 6.1%，應急預案 ＡＢＣ１２３ Ⅳ ½ ² ﬁle café Ω",  # folding, other letters
    "正文很长。" * 900,  # a body of several excerpt blocks
    "",
]


def _raw_words(bundle: Path) -> list:
    """Every word entry as stored (page differences, weight markers and location differences)."""
    _, meta = _meta(bundle)
    return [w for _, _, h in meta[2] for w in cbor2.loads(_load(bundle / "index" / f"{h}.pf_index"))[0]]


def _demo_docs(demo_corpus) -> list:
    import markdown

    from disclosure.site.planner import plan_site
    from disclosure.site.search import docs_from_plan, html_to_text

    md = markdown.Markdown(extensions=["tables"])
    bodies = {f"records/{r.slug}.md": html_to_text(md.reset().convert(r.body)) for r in demo_corpus.live}
    docs = docs_from_plan(plan_site(demo_corpus), bodies)
    assert len(docs) > 20
    return docs


def test_written_shard_equals_pagefinds(tmp_path, demo_corpus):
    """write_shard (no Pagefind run) gives, for the demo's records and for bodies with every kind of
    token our analysis emits, the very word entries, fragments and real filters that Pagefind's own
    index gives once prepared; and the merged bundle of written shards equals the merged bundle of
    Pagefind's."""
    docs = _docs("t", "2022", 8)
    for d, body in zip(docs, TRICKY_BODIES):
        d.body = body
    groups = [("demo", _demo_docs(demo_corpus)), ("tricky", docs)]
    theirs, ours = [], []
    for name, group in groups:
        recs = [d.record() for d in group]
        raw = tmp_path / f"raw-{name}"
        _index_shard(recs, raw)
        prepared = tmp_path / f"prep-{name}"
        shutil.copytree(raw, prepared)
        pb.prepare_shard(prepared, f"{name}123456789", chunk_locs=300)
        written = tmp_path / f"ours-{name}"
        pb.write_shard(recs, written, f"{name}123456789", raw, chunk_locs=300)
        assert _raw_words(written) == _raw_words(prepared)
        w0, f0, fr0, c0, u0, e0 = _decode(prepared)
        w1, f1, fr1, c1, u1, e1 = _decode(written)
        assert u1 == u0 == [d.url for d in group]
        assert c1 == c0  # same words, so the same chunks and bounds
        assert fr1 == fr0
        assert f1 == {k: v for k, v in f0.items() if k in pb.REAL_FILTERS}
        assert {k: v for k, v in e1.items() if k != "languages"} == {k: v for k, v in e0.items() if k != "languages"}
        theirs.append(prepared)
        ours.append(written)
    # the tricky tokens are there, as Pagefind stores them (ground truth: the body text above)
    words = _decode(ours[1])[0]
    assert {"12.5", "12", "2025", "ab12cd", "34", "10.20.12", "20", "6.1", "%", "hello", "预算", "应急", "abc123"} <= set(words)
    assert "·" not in words and {"caf", "é", "ω"} <= set(words)  # é: a diacritic variant of e
    merged_theirs, merged_ours = tmp_path / "m-theirs", tmp_path / "m-ours"
    pb.merge_bundles(theirs, merged_theirs, chunk_locs=300)
    pb.merge_bundles(ours, merged_ours, chunk_locs=300, library=tmp_path / "raw-demo")
    assert _raw_words(merged_ours) == _raw_words(merged_theirs)
    assert _decode(merged_ours)[1:5] == _decode(merged_theirs)[1:5]
    for f in ("pagefind.js", "pagefind-worker.js"):
        assert (merged_ours / f).read_bytes() == (merged_theirs / f).read_bytes()


def test_token_words_follow_pagefinds_rules():
    inc = "_.%"
    assert pb.token_words("预算", inc) == (("预算", 24),)
    assert pb.token_words("·", inc) == ()
    assert pb.token_words("%", inc) == (("%", 24),)
    assert pb.token_words("12.5", inc) == (("12.5", 24), ("12", 24))  # "5" is one character: dropped
    assert pb.token_words("10.20.30", inc) == (("10.20.30", 24), ("10", 8), ("20", 8), ("30", 8))
    assert pb.token_words("ab12cd.34", inc) == (("ab12cd.34", 24), ("ab", 6), ("12", 6), ("cd", 6), ("34", 6))
    assert pb._locs([(3, 24), (7, 24)]) == [-25, 3, 4]
    assert pb._locs([(1, 12), (3, 24), (5, 24), (6, 8)]) == [-9, 6, -13, 1, -25, 3, 2]


def test_page_names_are_distinct_of_one_width_and_a_shared_prefix_is_refused(shards, tmp_path):
    """Fragment names: the shard digest's first six characters and a number of one width, distinct
    (ground truth: every page number from 0 to count - 1). Two shards whose digests begin alike
    would overwrite each other's fragments, so their merge is refused with a plain message."""
    for count in (1, 15, 16, 17, 256, 257, 4096, 4097):
        ids = pb._page_ids("abcdef0123", count)
        assert len(set(ids)) == count and len({len(i) for i in ids}) == 1
        assert all(i.startswith("abcdef") for i in ids)
        assert sorted(int(i[6:][::-1], 16) for i in ids) == list(range(count))
    (_, prepared, docs), _ = shards
    names = [pid for pid, _ in _meta(prepared)[1][1]]
    assert len(set(names)) == len(docs)
    for pid in names:
        assert (prepared / "fragment" / f"{pid}.pf_fragment").is_file()
    twin = tmp_path / "twin"
    shutil.copytree(prepared, twin)
    with pytest.raises(pb.SearchIndexError, match="页面编号相同"):
        pb.merge_bundles([prepared, twin], tmp_path / "merged", chunk_locs=300)
