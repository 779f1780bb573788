"""The site search index: our analysis (`analysis.py`) fed to Pagefind as custom records, in shards.

Inputs are `IndexDoc`s, computed from the site plan's records and each record page's rendered,
sanitised body (captured while MkDocs renders it: `BodyCapture`). Nothing is read back from the
built HTML. What is indexed is what the page shows: title, the metadata block's values, the body and
the attachments' titles; for a withdrawn record only its title, 索引号, dates and the reason.

**Records.** Each record becomes one Pagefind custom record (`IndexDoc.record()`): `content` is the
token stream, so Pagefind's own word splitting (whitespace) sees exactly our tokens; the language is
`und`, which has no stemmer and no segmenter on either side. By default the shards are written by
`pagefind_bundle.write_shard` from those records, in Pagefind 1.5's file layout, without running
Pagefind's indexer (one Pagefind process per shard held ~3x the memory: benchmarks/search.py index); Pagefind
still provides the browser's scripts and wasm (`library_bundle`), and DISCLOSURE_SEARCH_INDEXER=pagefind
indexes with Pagefind itself (tests/test_pagefind_bundle.py holds both to the same files).
The values a result shows (title, date, 文号, the readable body for the
excerpt) travel as *filters*, not metadata: Pagefind 1.5 adds every metadata value to the word
index (a title would become one long searchable word, and every query for 青岚 would download the
chunk holding all titles that start with it), while a filter's values are only downloaded when a
search filters on it. Real filters (类型, 发布机构, 主题分类, 年份, 有效性) sit beside them.

**Excerpts.** A result shows an excerpt of the body around the match, computed in the browser
from text that travels with the result. A short body travels whole in its fragment; a long one is
cut at line ends into blocks (`body_blocks`): the fragment carries the first block and the token
span of each block, and the others are files of their own (pagefind/text/<digest>.json), so a
result fetches at most one more small file, the block holding its first match in the body.

**Ranking.** The title fills the first TITLE_SPAN positions of each record, so the position of
a match (which Pagefind returns with every result) tells a title match without another lookup.

**Order.** Records are added newest first, so Pagefind's page numbers follow the publication date;
exact searches return pages in page-number order, and shards are merged newest first: the browser
gets results newest first without downloading any sort data.

**Shards.** Memory grows with the pages indexed at once (in Pagefind's indexer ~3x as fast as in
our writer), so the index is split into
shards of contiguous publication dates (whole years, grouped oldest → newest while they fit in
`shard_cap` records; a year larger than that is split by months). Contiguous dates keep the
newest-first order across shards; grouping from the oldest means that new records (this year)
only ever change the newest shard. Each shard's records hash to an input digest; with a
`cache_dir`, a shard whose digest is unchanged is copied from the cache instead of re-indexed, so
an edit re-indexes one shard. Shards are written by forked worker processes (or, with
DISCLOSURE_SEARCH_INDEXER=pagefind, by separate Pagefind processes), as many at once as `jobs`
and the memory budget allow.

**One bundle, small files.** Each shard is written prepared, or, from Pagefind's indexer, prepared (`pagefind_bundle.prepare_shard`:
short fragment ids, fragments without the token stream, constant word counts) and that prepared
shard is what the cache keeps. The shards are then merged into one bundle at site/pagefind/
(`pagefind_bundle.merge_bundles`: a streaming merge of their words, re-cut into chunks of
CHUNK_LOCS locations instead of Pagefind's ~20,000; it joins each shard's page lists as encoded
bytes, from the shard's merge file, so merging costs little more than writing the chunks), so a query word downloads one small chunk
and the page one small page list, with no `mergeIndex` in the browser (benchmarks/search.py
download prints the bytes).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import multiprocessing
import zlib
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

from disclosure.site import analysis, pagefind_bundle

LANGUAGE = "und"  # no stemmer, no segmenter: Pagefind keeps our tokens as they are
INCLUDE_CHARACTERS = ".%"  # 6.1 and % stay in words (analysis.py emits them only inside numbers)
SHARD_CAP = 5000  # records per shard: ~1.1 GB in one Pagefind process (benchmarks/search.py)
MB_PER_RECORD = 0.22  # measured peak of one Pagefind service per record (~650 MB at 3,000; benchmarks/search.py)
MB_PER_RECORD_WRITER = 0.1  # the same for one pagefind_bundle.write_shard worker (benchmarks/search.py)
BUNDLE_DIR = "pagefind"
FORMAT = "7"  # bump when the record layout below changes (invalidates cached shards)
TITLE_SPAN = 96  # positions reserved for the title at the start of every record (see content_tokens)
INLINE_BODY = 1500  # characters: a body up to this long travels whole in its fragment
BLOCK_CHARS = 1000  # a longer body is cut at line ends into blocks of about this size (body_blocks)
TEXT_DIR = "text"  # blocks after the first, one JSON string per file under pagefind/text/


def body_blocks(body: str) -> list[str]:
    """The body as the excerpt's blocks: one block when it is short (INLINE_BODY), else whole lines
    gathered up to about BLOCK_CHARS (a longer line is a block of its own: a block never ends inside
    a line, so the tokens of the blocks, run after run, are the tokens of the whole body)."""
    if len(body) <= INLINE_BODY:
        return [body] if body else []
    blocks, lines, size = [], [], 0
    for line in body.split("\n"):
        if lines and size + len(line) > BLOCK_CHARS:
            blocks.append("\n".join(lines))
            lines, size = [], 0
        lines.append(line)
        size += len(line) + 1
    if lines:
        blocks.append("\n".join(lines))
    return blocks


def block_name(text: str) -> str:
    """A block file's name: its content's digest (the file never changes under one name)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class SearchIndexError(RuntimeError):
    pass


# ------------------------------------------------------------------------------------ documents
@dataclass
class IndexDoc:
    url: str  # site-root-relative: records/<slug>/
    title: str
    published: str  # ISO date
    type_label: str
    unit: str
    index_no: str
    doc_no: str = ""
    topic: str = ""  # top-level 主题分类
    status: str = ""  # 有效 / 失效 / 废止 / 已修改 / 已撤回, or ""
    fields: list = field(default_factory=list)  # metadata block values, in page order
    body: str = ""  # readable body text (the excerpt source); blocks separated by newlines
    attachments: list = field(default_factory=list)  # attachment titles
    withdrawn: bool = False

    @property
    def year(self) -> str:
        return self.published[:4]

    def as_dict(self) -> dict:
        """The fields (shallow: they are strings and lists of strings), as dataclasses.asdict gives
        them, without its deep copy (9 s for 100,000 documents)."""
        return {name: getattr(self, name) for name in _DOC_FIELDS}

    def content_tokens(self) -> list[str]:
        """The title first, padded to TITLE_SPAN positions (a match at a smaller position is a title
        match: the browser ranks by it without another lookup), then the metadata values, body and
        attachments, then the token on every record."""
        return self._layout()[0]

    def body_spans(self) -> list[tuple[int, int]]:
        """[start, end) token positions of each block of body_blocks(self.body) in content_tokens:
        the browser maps a match position to the block that holds it, and fetches only that block."""
        return self._layout()[1]

    def _layout(self):
        sep = analysis.RUN_SEPARATOR
        toks = analysis.index_tokens(self.title)[: TITLE_SPAN - 1]
        toks += [sep] * (TITLE_SPAN - len(toks))

        def add(text):
            t = analysis.index_tokens(text)
            if t:
                toks.extend(t)
                toks.append(sep)

        for p in self.fields:
            add(p)
        spans = []
        for block in body_blocks(self.body):  # the whole body's tokens: runs never cross a line end
            start = len(toks)
            add(block)
            spans.append((start, len(toks)))
        for p in self.attachments:
            add(p)
        toks.append(analysis.ALL_TOKEN)
        return toks, spans

    def record(self) -> dict:
        """The Pagefind custom record (see the module docstring for why values travel as filters).

        The excerpt's text: the body's first block as 正文; for a body of several blocks, 正文块
        lists every block's token span and file name (the first one's name empty: it is 正文), so
        a result downloads its first block and, for a match further down, the one block holding
        it, instead of the whole body (a 10,000-character 办法 is ~13 KB per result)."""
        toks, spans = self._layout()
        blocks = body_blocks(self.body)
        filters = {"类型": [self.type_label], "发布机构": [self.unit], "年份": [self.year],
                   "标题": [self.title], "发布日期": [self.published], "索引号": [self.index_no],
                   "正文": [blocks[0] if blocks else ""]}
        if len(blocks) > 1:
            table = [[a, b, block_name(t) if i else ""] for i, ((a, b), t) in enumerate(zip(spans, blocks))]
            filters["正文块"] = [json.dumps(table, separators=(",", ":"))]
        if self.topic:
            filters["主题分类"] = [self.topic]
        if self.status:
            filters["有效性"] = [self.status]
        if self.doc_no:
            filters["文号"] = [self.doc_no]
        return {"url": self.url, "content": " ".join(toks), "language": LANGUAGE,
                "meta": {}, "filters": filters}

    def text_blocks(self) -> dict[str, str]:
        """{file name: text} of the blocks after the first (written under pagefind/text/)."""
        return {block_name(t): t for t in body_blocks(self.body)[1:]}


_DOC_FIELDS = tuple(f.name for f in fields(IndexDoc))


def write_text_blocks(docs: list["IndexDoc"], bundle: Path) -> None:
    """The blocks of each long body as bundle/text/<name>.json (a JSON string)."""
    out = Path(bundle) / TEXT_DIR
    for d in docs:
        for name, text in d.text_blocks().items():
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{name}.json").write_text(json.dumps(text, ensure_ascii=False), encoding="utf-8")


class _TextExtractor(HTMLParser):
    BLOCKS = {"p", "div", "li", "tr", "br", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
              "blockquote", "pre", "section", "dd", "dt", "hr", "td", "th"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template") or any(k == "hidden" for k, _ in attrs):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """Visible text of a body fragment, one line per block; runs of whitespace collapsed."""
    p = _TextExtractor()
    p.feed(html)
    p.close()
    lines = (" ".join(line.split()) for line in "".join(p.out).split("\n"))
    return "\n".join(line for line in lines if line)


class BodyCapture:
    """Collects each record page's body text (`body_text` of its rendered content), in whichever process renders the page.

    Record pages are rendered in forked workers (mkdocs_glue.render_offloaded), so the text is
    appended to one spool file per process and read back by `collect()` after rendering."""

    def __init__(self, spool_dir: Path | None = None, prefix: str = "records/"):
        self.dir = Path(spool_dir or tempfile.mkdtemp(prefix="disclosure-search-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self._fh = None
        self._pid = None

    def add(self, src_uri: str, content_html: str) -> None:
        if not src_uri.startswith(self.prefix):
            return
        if self._pid != os.getpid():
            self._fh = open(self.dir / f"{os.getpid()}.jsonl", "ab", buffering=0)
            self._pid = os.getpid()
        line = json.dumps([src_uri, body_text(content_html)], ensure_ascii=False) + "\n"
        self._fh.write(line.encode("utf-8"))

    def collect(self) -> dict:
        out = {}
        for f in sorted(self.dir.glob("*.jsonl")):
            for line in f.read_text(encoding="utf-8").splitlines():
                if line:
                    src, text = json.loads(line)
                    out[src] = text
        return out

    def close(self) -> None:
        if self._fh:
            self._fh.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def meta_values(v) -> list[str]:
    """The values of the record page's metadata block, in its order, from the page's own data
    (views.RecordView, rendered by partials/portal/meta.html): what the visitor reads is what is indexed."""
    vals = [v.index_no, v.topic, v.unit, v.column.title if v.column else "", v.written, v.published, v.doc_no]
    if v.type == "normative":
        vals += [v.status, v.reg_no, v.effective, v.expires]
    elif v.type == "annual-report":
        vals += [f"{v.year} 年" if v.year else "", v.type_label]
    else:
        vals.append(v.type_label)
    if v.keywords or v.genre:
        vals += ["　".join(v.keywords), v.genre]
    vals.append(v.title)
    if v.summary:
        vals.append(v.summary)
    return [x for x in vals if x]


def body_text(page_html: str) -> str:
    """The body text of a record page (whole page or its content fragment): the `.portal-body` block
    as the visitor reads it, without the annual-report tables placed in it (tables are data)."""
    import lxml.html

    try:
        root = lxml.html.fromstring(page_html)
    except (ValueError, lxml.etree.ParserError):
        return ""
    body = root.xpath("descendant-or-self::div[contains(concat(' ', normalize-space(@class), ' '), ' portal-body ')]")
    if not body:
        return ""
    for wrap in body[0].xpath(".//div[contains(@class,'portal-table-wrap')]"):
        wrap.drop_tree()  # keeps the text that follows the table
    inner = (body[0].text or "") + "".join(lxml.html.tostring(c, encoding="unicode") for c in body[0])
    return html_to_text(inner)


def body_from_page(path: Path) -> str:
    """What BodyCapture would have captured for a page this build did not render (the page cache
    reused the written file): the same extraction, from the file."""
    try:
        return body_text(path.read_bytes().decode("utf-8"))
    except OSError:
        return ""


BODIES_FILE = "bodies.pkl"  # in the search cache: page key → body text of record pages already rendered


def load_bodies(cache_dir: Path | None) -> dict:
    """{page key: body text} kept by the last build (save_bodies), or {}. A record page the page
    cache reuses has the same key, so its body is known without reading the page back (which costs
    an HTML parse per page: ~1 ms each, 10 s at 10,000 records)."""
    import pickle

    if cache_dir is None:
        return {}
    try:
        with open(Path(cache_dir) / BODIES_FILE, "rb") as fh:
            head, bodies = pickle.load(fh)
    except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
        return {}
    return bodies if head == (FORMAT, "bodies") and isinstance(bodies, dict) else {}


def save_bodies(cache_dir: Path | None, bodies: dict) -> None:
    """Replace the kept bodies with this build's ({page key: body text}), atomically."""
    import pickle

    from disclosure.site.render import write_bytes

    if cache_dir is not None:
        data = pickle.dumps(((FORMAT, "bodies"), bodies), protocol=pickle.HIGHEST_PROTOCOL)
        write_bytes(Path(cache_dir) / BODIES_FILE, data, replace=True)


def _body(bodies: dict, r, site_dir: Path | None) -> str:
    src = f"records/{r.slug}.md"
    if src in bodies:
        return bodies[src]
    return body_from_page(site_dir / "records" / r.slug / "index.html") if site_dir is not None else ""


def docs_from_plan(plan, bodies: dict, site_dir: Path | None = None) -> list[IndexDoc]:
    """One IndexDoc per live record. `bodies`: record page src_uri → body text (BodyCapture); a page
    the build did not render (reused from the page cache) is read back from `site_dir`."""
    from disclosure.site.planner import Planner, record_url, top_topic

    c = plan.corpus
    planner = Planner(c)
    views = {p.src_uri: p for p in plan.pages if p.src_uri.startswith("records/")}
    docs = []
    for r in c.live:
        status = planner.status(r)
        unit = c.cfg.unit(r.issuer).name
        common = dict(url=record_url(r), title=r.title, published=r.published.isoformat(), type_label=r.type_label,
                      unit=unit, index_no=r.index_no, doc_no=r.doc_no or "", topic=top_topic(r.topic), status=status)
        if c.withdrawn(r):
            w = r.withdrawn
            fields = [r.index_no, str(r.written), str(r.published), str(w.date), w.reason]
            docs.append(IndexDoc(**{**common, "doc_no": "", "topic": ""}, fields=fields, withdrawn=True))
            continue
        view = views[f"records/{r.slug}.md"].data["record"]
        docs.append(IndexDoc(**common, fields=meta_values(view),
                             body=_body(bodies, r, site_dir),
                             attachments=[a.title for a in r.attachments]))
    return docs


# ------------------------------------------------------------------------------------- shards
def assign_shards(docs: list[IndexDoc], cap: int = SHARD_CAP) -> list[tuple[str, list[IndexDoc]]]:
    """[(shard id, docs newest first)], shards newest first. See the module docstring."""
    by_year: dict = {}
    for d in docs:
        by_year.setdefault(d.year, []).append(d)
    groups: list[tuple[str, list]] = []
    current: list = []
    years: list = []

    def close():
        nonlocal current, years
        if current:
            sid = years[0] if len(years) == 1 else f"{years[0]}-{years[-1]}"
            groups.append((sid, current))
        current, years = [], []

    for year in sorted(by_year):
        recs = by_year[year]
        if len(recs) > cap:
            close()
            by_month: dict = {}
            for d in recs:
                by_month.setdefault(d.published[5:7], []).append(d)
            months: list = []
            part: list = []
            for m in sorted(by_month):
                if part and len(part) + len(by_month[m]) > cap:
                    groups.append((f"{year}-m{months[0]}" + (f"-{months[-1]}" if len(months) > 1 else ""), part))
                    months, part = [], []
                months.append(m)
                part = part + by_month[m]
            if part:
                groups.append((f"{year}-m{months[0]}" + (f"-{months[-1]}" if len(months) > 1 else ""), part))
            continue
        if current and len(current) + len(recs) > cap:
            close()
        current = current + recs
        years.append(year)
    close()
    out = []
    for sid, recs in reversed(groups):
        recs = sorted(recs, key=lambda d: (d.published, d.index_no), reverse=True)
        out.append((sid, recs))
    return out


def _pagefind_version() -> str:
    try:
        from importlib.metadata import version

        return version("pagefind_bin_extended")
    except Exception:  # pragma: no cover
        return "unknown"


@lru_cache(maxsize=1)
def _analysis_salt() -> str:
    """What else decides a shard's files: the record layout, the analysis code and table, Pagefind,
    the merge file's format (a shard cached before it changed is written again, not decoded on
    every merge)."""
    h = hashlib.sha256(f"{FORMAT}|{TITLE_SPAN}|{pagefind_bundle.CHUNK_LOCS}|{pagefind_bundle.MERGE_FORMAT}|{_pagefind_version()}|{LANGUAGE}|{INCLUDE_CHARACTERS}".encode())
    h.update(Path(analysis.__file__).read_bytes())
    h.update(analysis.T2S_FILE.read_bytes())
    return h.hexdigest()


def shard_digest(docs: list[IndexDoc]) -> str:
    """Keyed on the inputs (not the tokens), so an unchanged shard is recognised without analysing it."""
    h = hashlib.sha256(_analysis_salt().encode())
    for d in docs:
        h.update(json.dumps(d.as_dict(), ensure_ascii=False, sort_keys=True).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()[:24]


# -------------------------------------------------------------------------------------- build
def pagefind_executable() -> Path:
    try:
        from pagefind_bin_extended import get_executable
    except ImportError as e:  # pragma: no cover - dependency missing
        raise SearchIndexError("未安装 pagefind[extended]：pip install 'pagefind[extended]'") from e
    return get_executable()


class _Service:
    """Pagefind's service mode (`pagefind --service`), spoken directly: base64 JSON messages ended
    by a comma, answered in order (the service handles one message at a time).

    The `pagefind` package's own client polls for answers every 0.1 s, i.e. ten records a second;
    here requests are written by a thread while answers are read, so a shard of thousands of
    records is fed at the speed of the indexer."""

    def __init__(self):
        self.proc = subprocess.Popen([str(pagefind_executable()), "--service"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next_id = 0
        self._pending = b""

    def _encode(self, payload: dict) -> bytes:
        self.next_id += 1
        msg = {"message_id": self.next_id, "payload": payload}
        return base64.b64encode(json.dumps(msg, ensure_ascii=False).encode("utf-8")) + b","

    def responses(self, n: int):
        """Yield n answers, in order."""
        buf = self._pending
        out = self.proc.stdout
        while n:
            while b"," not in buf:
                chunk = out.read1(1 << 20)
                if not chunk:
                    raise SearchIndexError("搜索索引生成失败：pagefind 服务意外退出")
                buf += chunk
            head, _, buf = buf.partition(b",")
            resp = json.loads(base64.b64decode(head))
            payload = resp.get("payload", {})
            if payload.get("type") == "Error":
                raise SearchIndexError(f"搜索索引生成失败：{payload.get('message')}")
            n -= 1
            yield payload
        self._pending = buf

    def call(self, payload: dict) -> dict:
        self.proc.stdin.write(self._encode(payload))
        self.proc.stdin.flush()
        return next(self.responses(1))

    def add_all(self, index_id: int, records: list[dict]) -> None:
        messages = [self._encode({"type": "AddRecord", "index_id": index_id, "sort": None, **rec}) for rec in records]
        error: list = []

        def write():
            try:
                for m in messages:
                    self.proc.stdin.write(m)
                self.proc.stdin.flush()
            except Exception as e:  # pragma: no cover - reported by the reader too
                error.append(e)

        t = threading.Thread(target=write, daemon=True)
        t.start()
        for _ in self.responses(len(messages)):
            pass
        t.join()
        if error:
            raise SearchIndexError(f"搜索索引生成失败：{error[0]}")

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.proc.kill()
            self.proc.wait()


_OUT_MARK = "__pagefind_bundle__"


def _index_shard(records: list[dict], out_dir: Path) -> None:
    """Index one shard and write its bundle to out_dir.

    The files are fetched with GetFiles and written here: Pagefind's own WriteFiles answers before
    its (tokio) file writes are flushed, and the service exits as soon as its input closes, so the
    last files it writes (pagefind-entry.json) can come out empty."""
    svc = _Service()
    try:
        config = {"force_language": LANGUAGE, "include_characters": INCLUDE_CHARACTERS, "write_playground": False,
                  "output_path": _OUT_MARK}
        index_id = svc.call({"type": "NewIndex", "config": config})["index_id"]
        svc.add_all(index_id, records)  # in order: page numbers follow it (newest first)
        files = svc.call({"type": "GetFiles", "index_id": index_id})["files"]
    finally:
        svc.close()
    for f in files:
        rel = f["path"].replace("\\", "/").split(_OUT_MARK + "/", 1)[-1]
        dest = out_dir / rel
        if not dest.resolve().is_relative_to(out_dir.resolve()):
            raise SearchIndexError(f"搜索索引生成失败：pagefind 返回了意外的文件路径 {f['path']}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(base64.b64decode(f["content"]))


def _pagefind_shard(sid: str, recs: list[IndexDoc], digest: str, tmp: Path) -> None:
    """One shard indexed by Pagefind itself, then prepared (DISCLOSURE_SEARCH_INDEXER=pagefind)."""
    _index_shard([d.record() for d in recs], tmp / digest)
    if not (tmp / digest / "pagefind-entry.json").is_file():
        raise SearchIndexError(f"搜索索引分片 {sid} 生成失败：没有写出 pagefind-entry.json")
    try:
        pagefind_bundle.prepare_shard(tmp / digest, digest)
    except pagefind_bundle.SearchIndexError as e:
        raise SearchIndexError(f"搜索索引分片 {sid} 生成失败：{e}") from e
    write_text_blocks(recs, tmp / digest)  # kept with the shard, linked into the bundle by the merge


def _write_shard(sid: str, recs: list[IndexDoc], digest: str, tmp: Path, library: Path) -> None:
    """One shard written by pagefind_bundle.write_shard (the default indexer): the same files."""
    try:
        pagefind_bundle.write_shard([d.record() for d in recs], tmp / digest, digest, library)
    except pagefind_bundle.SearchIndexError as e:
        raise SearchIndexError(f"搜索索引分片 {sid} 生成失败：{e}") from e
    write_text_blocks(recs, tmp / digest)


def library_bundle(cache: Path | None, tmp: Path) -> Path:
    """A bundle Pagefind wrote for one record: its scripts, wasm and entry (version, include
    characters) go into the site's bundle. Kept in the cache per Pagefind version and settings."""
    key = hashlib.sha256(f"{_pagefind_version()}|{LANGUAGE}|{INCLUDE_CHARACTERS}".encode()).hexdigest()[:16]
    where = (cache or tmp) / f"library-{key}"
    if (where / "pagefind-entry.json").is_file():
        return where
    where.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".library-", dir=str(where.parent)))
    _index_shard([{"url": "/", "content": "pagefind", "language": LANGUAGE, "meta": {}, "filters": {}}], work)
    if not (work / "pagefind-entry.json").is_file():
        raise SearchIndexError("搜索索引生成失败：pagefind 没有写出 pagefind-entry.json")
    try:
        os.replace(work, where)
    except OSError:  # another build put it there first
        shutil.rmtree(work, ignore_errors=True)
    return where


def _link_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, dirs_exist_ok=True, copy_function=pagefind_bundle.link_or_copy)


def _replace(path: Path, text: str) -> None:
    """Write beside and rename over (the old file may be a hard link into the live site)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _files(folder: Path) -> dict:
    """Every file below `folder`: relative path -> inode (one scandir per folder)."""
    out, todo = {}, [""]
    while todo:
        rel = todo.pop()
        try:
            entries = list(os.scandir(folder / rel if rel else folder))
        except FileNotFoundError:
            continue
        for e in entries:
            name = f"{rel}/{e.name}" if rel else e.name
            if e.is_dir(follow_symlinks=False):
                todo.append(name)
            else:
                out[name] = e.inode()
    return out


def _sync_tree(src: Path, dst: Path) -> int:
    """Make `dst` hold exactly `src`'s files, as hard links: a file already linked there is kept, a
    different one is replaced by a link made beside it (never written through: in a recycled site
    folder it may be the live site's), the others are deleted. Bundle files are named after their
    content, so after an edit most are kept: at 100,000 records this replaces deleting the folder
    and linking 100,000 fragments again. Returns the number of files linked."""
    want, have = _files(src), _files(dst)
    linked = 0
    for rel, ino in want.items():
        if have.get(rel) == ino:
            continue
        target = dst / rel
        try:
            os.link(src / rel, target)
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(src / rel, target)
        except FileExistsError:
            tmp = target.with_name(f".{target.name}.{os.getpid()}.link")
            os.link(src / rel, tmp)
            os.replace(tmp, target)
        linked += 1
    for rel in have.keys() - want.keys():
        os.unlink(dst / rel)
    return linked


def _merge(prepared: list[Path], digests: list[str], root: Path, cache: Path | None, library: Path | None = None) -> dict:
    """Merge the prepared shards into root (pagefind_bundle.merge_bundles). With a cache, the merged
    bundle is kept there too, keyed on the shards' digests, so a build whose shards are all unchanged
    (nothing edited, or a setting that the index does not hold) links it instead of merging again.
    Otherwise the last merged bundle packed alike (the folder name's first part: merge format, gzip
    level and zlib, which decide a chunk's bytes) is updated in place (merge_bundles), and the
    site's folder is then synchronised with it (`_sync_tree`: only what changed is linked)."""
    packing = f"{pagefind_bundle.MERGE_FORMAT}.{pagefind_bundle.CHUNK_LEVEL}.{zlib.ZLIB_RUNTIME_VERSION}"
    key = hashlib.sha256("|".join([str(pagefind_bundle.CHUNK_LOCS), *digests]).encode()).hexdigest()[:24]
    if not cache:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        try:
            return pagefind_bundle.merge_bundles(prepared, root, library=library)
        except pagefind_bundle.SearchIndexError as e:
            raise SearchIndexError(f"搜索索引合并失败：{e}") from e
    kept = cache / f"merged-{packing}-{key}"
    if (kept / "merged.json").is_file():
        _sync_tree(kept / "bundle", root)
        return json.loads((kept / "merged.json").read_text(encoding="utf-8"))
    previous = next((d for d in cache.glob(f"merged-{packing}-*") if (d / "merged.json").is_file()), None)
    tmp = cache / f".tmp-merged-{key}"
    shutil.rmtree(tmp, ignore_errors=True)
    if previous is not None:  # updated in place (merge_bundles keeps what is unchanged)
        (previous / "merged.json").unlink()
        os.rename(previous, tmp)
    try:
        merged = pagefind_bundle.merge_bundles(prepared, tmp / "bundle", library=library)
    except pagefind_bundle.SearchIndexError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SearchIndexError(f"搜索索引合并失败：{e}") from e
    (tmp / "merged.json").write_text(json.dumps(merged), encoding="utf-8")
    _sync_tree(tmp / "bundle", root)
    for old in cache.glob("merged-*"):
        shutil.rmtree(old, ignore_errors=True)
    os.replace(tmp, kept)
    return merged


def build_index(docs: list[IndexDoc], site_dir: Path, cache_dir: Path | None = None, jobs: int = 2,
                shard_cap: int | None = None, memory_budget_mb: int | None = None, indexer: str | None = None) -> dict:
    """Index the shards, merge them into one bundle at site_dir/pagefind/ and write the shard list to
    site_dir/pagefind/shards.json. Returns {"shards": [...], "built": n, "reused": n}."""
    site_dir = Path(site_dir)
    root = site_dir / BUNDLE_DIR  # synchronised with the merged bundle (`_merge`), not emptied first
    root.mkdir(parents=True, exist_ok=True)
    if shard_cap is None:
        shard_cap = int(os.environ.get("DISCLOSURE_SEARCH_SHARD_CAP") or SHARD_CAP)
    shards = assign_shards(docs, shard_cap)
    if not shards:
        shutil.rmtree(root)
        root.mkdir()
        _replace(root / "shards.json", json.dumps({"shards": []}))
        return {"shards": [], "built": 0, "reused": 0}
    plan = [(sid, recs, shard_digest(recs)) for sid, recs in shards]
    if memory_budget_mb is None:
        memory_budget_mb = int(os.environ.get("DISCLOSURE_SEARCH_MEMORY_MB") or 3000)
    indexer = indexer or os.environ.get("DISCLOSURE_SEARCH_INDEXER") or "python"
    if indexer not in ("python", "pagefind"):
        raise SearchIndexError(f"DISCLOSURE_SEARCH_INDEXER 只能是 python 或 pagefind，不能是 {indexer}")
    per_record = MB_PER_RECORD if indexer == "pagefind" else MB_PER_RECORD_WRITER
    largest = max(len(r) for _, r, _ in plan) * per_record + 100
    parallel = max(1, min(jobs, int(memory_budget_mb // largest)))
    cache = Path(cache_dir) if cache_dir else None
    tmp = Path(tempfile.mkdtemp(prefix="pagefind-", dir=str(site_dir.parent)))
    built = reused = 0
    try:
        todo = []
        for sid, records, digest in plan:
            cached = cache / f"shard-{digest}" if cache else None
            if cached and (cached / "pagefind-entry.json").is_file():
                reused += 1
                continue
            todo.append((sid, records, digest))

        if todo:
            # largest first, so the last one to finish is small
            todo.sort(key=lambda t: -len(t[1]))
            if indexer == "pagefind":
                with ThreadPoolExecutor(max_workers=parallel) as pool:
                    for f in [pool.submit(_pagefind_shard, sid, recs, digest, tmp) for sid, recs, digest in todo]:
                        f.result()
            else:
                library = library_bundle(cache, tmp)
                if parallel > 1 and len(todo) > 1:
                    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
                    with ProcessPoolExecutor(max_workers=parallel, mp_context=ctx) as pool:
                        for f in [pool.submit(_write_shard, sid, recs, digest, tmp, library) for sid, recs, digest in todo]:
                            f.result()
                else:
                    for sid, recs, digest in todo:
                        _write_shard(sid, recs, digest, tmp, library)
            built = len(todo)
        prepared = []
        for sid, records, digest in plan:
            src = tmp / digest
            if not src.is_dir():
                src = cache / f"shard-{digest}"
            elif cache:
                cache.mkdir(parents=True, exist_ok=True)
                dest = cache / f"shard-{digest}"
                if not dest.exists():
                    _link_tree(src, cache / f".tmp-{digest}")
                    os.replace(cache / f".tmp-{digest}", dest)
            prepared.append(src)
        merged = _merge(prepared, [d for _, _, d in plan], root, cache, None if indexer == "pagefind" else library_bundle(cache, tmp))
        if cache:
            keep = {f"shard-{d}" for _, _, d in plan}
            for old in cache.glob("shard-*"):
                if old.name not in keep:
                    shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    info = {"shards": [sid for sid, _, _ in plan], "records": [len(r) for _, r, _ in plan], "digests": [d for _, _, d in plan],
            "chunks": merged["chunks"], "chunk_locs": pagefind_bundle.CHUNK_LOCS}
    _replace(root / "shards.json", json.dumps(info, ensure_ascii=False))
    return {**info, "built": built, "reused": reused, "parallel": parallel}


# ------------------------------------------------------------------ background run (beside rendering)
def write_docs(docs: list[IndexDoc], path: Path) -> None:
    """The indexer's input file (one JSON object per IndexDoc), written whole or not at all."""
    tmp = Path(f"{path}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d.as_dict(), ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def start_index_from(path: Path, site_dir: Path, cache_dir: Path | None = None, jobs: int = 2) -> subprocess.Popen:
    """Index the IndexDocs in `path` (write_docs) in a child process; `finish_index` waits."""
    cmd = [sys.executable, "-m", "disclosure.site.search", str(path), str(site_dir), "--jobs", str(jobs)]
    if cache_dir:
        cmd += ["--cache-dir", str(cache_dir)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def start_index(docs: list[IndexDoc], site_dir: Path, cache_dir: Path | None = None, jobs: int = 2) -> subprocess.Popen:
    """Index in a child process (the caller renders list pages meanwhile); `finish_index` waits."""
    fd, path = tempfile.mkstemp(prefix="disclosure-index-", suffix=".jsonl")
    os.close(fd)
    write_docs(docs, Path(path))
    proc = start_index_from(Path(path), site_dir, cache_dir, jobs)
    proc.input_path = path
    return proc


def finish_index(proc: subprocess.Popen, site_dir: Path) -> str:
    output, _ = proc.communicate()
    try:
        os.unlink(proc.input_path)
    except (AttributeError, OSError):
        pass
    if proc.returncode != 0:
        raise SearchIndexError(f"搜索索引生成失败（退出码 {proc.returncode}）：\n{output}")
    if not (Path(site_dir) / BUNDLE_DIR / "shards.json").is_file():
        raise SearchIndexError(f"搜索索引生成失败：{site_dir}/{BUNDLE_DIR}/shards.json 不存在\n{output}")
    return output


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Build the sharded search index from IndexDoc JSON lines.")
    ap.add_argument("docs", type=Path)
    ap.add_argument("site_dir", type=Path)
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    docs = [IndexDoc(**json.loads(line)) for line in args.docs.read_text(encoding="utf-8").splitlines() if line]
    try:
        info = build_index(docs, args.site_dir, args.cache_dir, jobs=args.jobs)
    except SearchIndexError as e:
        print(e, file=sys.stderr)
        return 1
    print(f"搜索索引：{len(docs)} 条记录，{len(info['shards'])} 个分片（新建 {info['built']}，沿用 {info['reused']}）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
