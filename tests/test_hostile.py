"""Hostile records, built: what still builds (warnings, sanitised markup) leaves nothing active in any
output file; what is refused is refused with its code at its line and no traceback.

Two builds in all: one copy of the demo with every building hostile record added at once, and one
with a batch of refused records (plus the cases git cannot store: a FIFO, an oversized file).
Outputs are read with real parsers: html5lib (the browsers' HTML algorithm), ElementTree, json.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import html5lib
import pytest

from conftest import AS_OF, build, copy_site_source, run_cli

HEAD = """---
type: {type}
title: {title}
index_no: MB0000033/2026-{seq:05d}
issuer: 青岚县教育局
topic: 综合政务\\政务公开
{column}written: 2026-03-02
{published}reviewed: {{by: 测试员, date: 2026-03-02}}
{extra}---

正文第一段。

"""


def record(root: Path, name: str, seq: int, body: str = "", title: str = "青岚县教育局关于测试事项的通知",
           rtype: str = "disclosure", extra: str = "", published: str | None = "2026-03-05") -> Path:
    text = HEAD.format(type=rtype, title=title, seq=seq, extra=extra,
                       column="column: 通知公告\n" if rtype == "disclosure" else "",
                       published=f"published: {published}\n" if published else "")
    path = root / "content" / "records" / "hostile" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + body + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- the building corpus
W307_CASES = {  # name → (body, number of W307 findings, text on the line they are reported at)
    "w307_font.md": ('<font color="red">红色</font>', 1, "<font"),
    "w307_td_style.md": ('<table><tr><td style="width:50pt">单元格</td></tr></table>', 1, "<table>"),
    "w307_fake_status_banner.md": ('<div class="portal-banner portal-banner--repealed">本文件已废止</div>', 1, "<div"),
    "w307_target_blank.md": ('<a href="https://example.org/" target="_blank">外部链接</a>', 1, "<a "),
    "w307_details.md": ("<details><summary>更多</summary>内容</details>", 2, "<details>"),
    "w307_attr_list_class.md": ("本段。\n{: .portal-banner }", 1, "{:"),
    "w307_attr_list_plain_style.md": ('本段。\n{: style="color:red" }', 1, "{:"),
}


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing `needle`: the ground truth for a finding's line."""
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1) if needle in line)
OK_BODIES = {
    "ok_code_fence.md": "```html\n<script>alert('fence')</script>\n<img src=x onerror=alert(1)>\n```",
    "ok_entity_text.md": "&lt;script&gt;alert(1)&lt;/script&gt; 是一段文字。",
    "ok_table_align.md": "| 项目 | 金额 |\n| :--- | ---: |\n| 补助 | 100 |",
    "ok_admonition.md": '!!! note "提示"\n    请于月底前办理。',
    "ok_own_image.md": "![示意图](https://www.qinglan.gov.cn/assets/favicon.svg)",
    "ok_angle_brackets.md": "< 甲" * 40000,
    "ok_plain_link.md": "详见[国务院网站](https://www.gov.cn/)。",
}
PAYLOAD = re.compile(r"alert\(|evil\.example", re.I)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    config = copy_site_source(root)
    seq = 100
    for name, (body, _n, _needle) in W307_CASES.items():
        seq += 1
        record(root, name, seq, body)
    for name, body in OK_BODIES.items():
        seq += 1
        record(root, name, seq, body)
    files = root / "content" / "records" / "hostile" / "files"
    for sub in ("a", "b"):
        (files / sub).mkdir(parents=True)
        (files / sub / "plan.pdf").write_bytes(f"%PDF-1.4 plan {sub}\n".encode())
    (files / "第1#期?.pdf").write_bytes(b"%PDF-1.4 hash\n")
    record(root, "att_duplicate_names.md", 120,
           extra="attachments: [{file: files/a/plan.pdf, title: 甲方案}, {file: files/b/plan.pdf, title: 乙方案}]\n")
    record(root, "att_url_unsafe_name.md", 121, extra="attachments: [{file: 'files/第1#期?.pdf', title: 第1期}]\n")
    uploads = root / "content" / "uploads"
    uploads.mkdir()
    (uploads / "draft-secret.pdf").write_bytes(b"%PDF-1.4 draft\n")
    (uploads / "live-notice.pdf").write_bytes(b"%PDF-1.4 live\n")
    record(root, "draft_with_upload.md", 122, published=None, extra="attachments: [/uploads/draft-secret.pdf]\n")
    record(root, "live_with_upload.md", 123, extra="attachments: [/uploads/live-notice.pdf]\n")
    record(root, "withdrawn_penalty.md", 124, title="青岚县教育局行政处罚决定书",
           extra="summary: 对张某某（某培训学校负责人）作出罚款决定\nkeywords: [张某某, 培训学校]\n"
                 "withdrawn: {date: 2026-03-10, reason: 处罚决定已被依法撤销}\n")
    normative = "doc_no: 青教规〔2026〕{n}号\nreg_no: QLJG-2026-00{n}\neffective: 2026-04-01\n"
    record(root, "normative_draft_repealer.md", 125, rtype="normative", title="青岚县教育局关于废止部分文件的决定",
           published=None, extra=normative.format(n=8))
    record(root, "normative_repealed_by_draft.md", 126, rtype="normative", title="青岚县教育局测试管理办法",
           extra=normative.format(n=9) + "repealed: {date: 2026-06-01, by: MB0000033/2026-00125}\n")
    validate = run_cli("--config", str(config), "validate", "--as-of", AS_OF, "--format", "json")
    site = root / "site"
    proc = build(site, config=config)
    return root, site, proc, validate


def test_hostile_corpus_builds_with_warnings(hostile_site):
    root, site, proc, validate = hostile_site
    assert validate.returncode == 0, validate.stdout[-3000:]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    findings = json.loads(validate.stdout)["findings"]
    for name, (_body, n, needle) in W307_CASES.items():
        got = [f for f in findings if f["file"].endswith(f"/hostile/{name}") and f["code"] == "W307"]
        assert len(got) == n, (name, got)
        assert got[0]["line"] == line_of(root / "content" / "records" / "hostile" / name, needle), got
        assert "会被删除" in got[0]["message"] and "Markdown" in got[0]["hint"]
    for name in OK_BODIES:
        assert [f for f in findings if f["file"].endswith(f"/hostile/{name}") and f["level"] != "info"] == []


def _site_path(page: Path, site: Path, url: str) -> str:
    """Where a relative URL in a page points, as a path under the site root."""
    url = url.split("#")[0].split("?")[0]
    if url.startswith("/"):
        return posixpath.normpath(url.lstrip("/")) if url.strip("/") else "."
    base = page.relative_to(site).parent.as_posix()
    return posixpath.normpath(posixpath.join(base, url))


_SITE_INLINE_SCRIPTS = ("var target=document.getElementById(location.hash", "__md_scope=new URL(")
_URL_ATTRS = {"href", "src", "action", "formaction", "data", "poster", "srcset", "background", "xlink:href", "cite", "ping"}
_BAD_SCHEME = re.compile(r"^\s*(javascript|data|vbscript)\s*:", re.I)


def _active_content(doc, page: Path, site: Path) -> list[str]:
    """Everything in a parsed HTML document that could run, navigate or embed."""
    bad = []
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.split("}")[-1].lower()
        for name, value in el.attrib.items():
            name = (name[1] if isinstance(name, tuple) else name).split("}")[-1].lower()
            if name.startswith("on"):
                bad.append(f"<{tag} {name}=…>")
            if name in _URL_ATTRS and _BAD_SCHEME.match(re.sub(r"[\x00-\x20]", "", value)):
                bad.append(f"<{tag} {name}={value[:40]}>")
        if tag == "script":
            src = el.get("src")
            if src:
                path = _site_path(page, site, src)
                if not (path.startswith("assets/") or path.startswith("pagefind/")):
                    bad.append(f"<script src={src}>")
            elif el.get("type") == "application/json" and el.get("id") == "__config":
                pass
            elif not (el.text or "").startswith(_SITE_INLINE_SCRIPTS):
                bad.append(f"<script>{(el.text or '')[:40]}")
            if PAYLOAD.search(el.text or "") or PAYLOAD.search(src or ""):
                bad.append("payload in <script>")
        elif tag == "meta" and (el.get("http-equiv") or "").lower() == "refresh":
            bad.append("<meta http-equiv=refresh>")
        elif tag in ("base", "iframe", "frame", "frameset", "object", "embed", "applet", "portal"):
            bad.append(f"<{tag}>")
        elif tag == "form":
            action = _site_path(page, site, el.get("action") or "./")
            if el.get("class") not in ("portal-header-search", "portal-search") or action not in ("search",):
                bad.append(f"<form action={el.get('action')}>")
        elif tag == "link" and re.match(r"^(https?:)?//", el.get("href") or "") \
                and not re.match(r"^(https?:)?//www\.qinglan\.gov\.cn/", el.get("href")):
            bad.append(f"<link href={el.get('href')}>")  # only the site's own host (canonical, feeds)
    return bad


def test_no_output_file_carries_active_content(hostile_site):
    root, site, proc, _ = hostile_site
    assert proc.returncode == 0
    problems, counts = {}, {"html": 0, "xml": 0, "json": 0}
    for path in sorted(site.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(site).as_posix()
        if path.suffix == ".html":
            counts["html"] += 1
            doc = html5lib.parse(path.read_bytes(), namespaceHTMLElements=False)
            bad = _active_content(doc, path, site)
        elif path.suffix == ".xml":
            counts["xml"] += 1
            tree = ET.parse(path)
            bad = []
            for el in tree.iter():  # feed descriptions and contents are HTML for a reader: parse them too
                text = el.text or ""
                if "<" in text:
                    bad += _active_content(html5lib.parseFragment(text, namespaceHTMLElements=False), path, site)
                if PAYLOAD.search(text):
                    bad.append(f"payload in <{el.tag}>")
        elif path.suffix == ".json":
            counts["json"] += 1
            data = json.loads(path.read_text(encoding="utf-8"))
            text = json.dumps(data, ensure_ascii=False)
            bad = [m.group(0) for m in re.finditer(r"<\s*(script|iframe|img|svg|meta|base|form)\b|javascript:|\bon[a-z]+\s*=", text, re.I)]
        else:
            continue
        if bad:
            problems[rel] = sorted(set(bad))
    assert problems == {}
    assert counts["html"] > 100 and counts["xml"] > 5 and counts["json"] >= 1


def test_sanitised_bodies_keep_what_a_document_needs(hostile_site):
    _root, site, _proc, _ = hostile_site
    pages = {p.parent.name: p for p in (site / "records").glob("MB0000033-2026-*/index.html")}

    def body(seq):
        doc = html5lib.parse(pages[f"MB0000033-2026-{seq:05d}"].read_bytes(), namespaceHTMLElements=False)
        return doc, "".join(doc.itertext())

    order = {name: 101 + i for i, name in enumerate([*W307_CASES, *OK_BODIES])}
    doc, text = body(order["ok_code_fence.md"])
    assert "<script>alert('fence')</script>" in text  # shown as code, not run
    doc, text = body(order["ok_entity_text.md"])
    assert "<script>alert(1)</script> 是一段文字" in text
    doc, _ = body(order["ok_table_align.md"])
    assert any("text-align" in (td.get("style") or "") for td in doc.iter("td"))
    doc, _ = body(order["ok_admonition.md"])
    assert any("admonition" in (d.get("class") or "") for d in doc.iter("div"))
    doc, _ = body(order["ok_own_image.md"])
    assert any((i.get("src") or "").startswith("https://www.qinglan.gov.cn/") for i in doc.iter("img"))
    doc, text = body(order["w307_fake_status_banner.md"])
    assert "本文件已废止" in text
    fake = [d for d in doc.iter("div") if "portal-banner--repealed" in (d.get("class") or "") and "本文件已废止" in "".join(d.itertext())]
    assert fake == []
    doc, text = body(order["w307_font.md"])
    assert "红色" in text and not list(doc.iter("font"))


def test_drafts_attachment_outside_records_is_not_published(hostile_site):
    _root, site, _proc, _ = hostile_site
    names = {p.name for p in site.rglob("*") if p.is_file()}
    assert "draft-secret.pdf" not in names
    assert not (site / "uploads" / "live-notice.pdf").exists()
    assert (site / "records" / "MB0000033-2026-00123" / "live-notice.pdf").read_bytes() == b"%PDF-1.4 live\n"


def test_withdrawn_record_in_catalogue_keeps_only_title_number_dates_reason(hostile_site):
    _root, site, _proc, _ = hostile_site
    cat = json.loads((site / "catalogue.json").read_text(encoding="utf-8"))
    item = next(r for r in cat["records"] if r["index_no"] == "MB0000033/2026-00124")
    assert item["withdrawn"] is True and item["withdrawn_reason"] == "处罚决定已被依法撤销"
    assert item["withdrawn_date"] == "2026-03-10" and item["title"] == "青岚县教育局行政处罚决定书"
    assert "张某某" not in json.dumps(item, ensure_ascii=False)
    assert not {"summary", "keywords", "doc_no", "topic"} & set(item)


def test_attachments_with_one_name_or_url_characters_get_unique_safe_names(hostile_site):
    _root, site, _proc, _ = hostile_site
    dup = site / "records" / "MB0000033-2026-00120"
    assert (dup / "plan.pdf").read_bytes().endswith(b"a\n") and (dup / "plan-2.pdf").read_bytes().endswith(b"b\n")
    doc = html5lib.parse((dup / "index.html").read_bytes(), namespaceHTMLElements=False)
    hrefs = {a.get("href") for a in doc.iter("a")}
    assert {"plan.pdf", "plan-2.pdf"} <= hrefs
    unsafe = site / "records" / "MB0000033-2026-00121"
    assert (unsafe / "第1_期_.pdf").exists()


def test_attachment_published_names_in_the_model(tmp_path):
    """The model's side of unique names (what the planner should publish and link)."""
    from disclosure.model.config import load_config
    from disclosure.model.records import parse_record

    config = copy_site_source(tmp_path)
    files = tmp_path / "content" / "records" / "hostile" / "files"
    for sub in ("a", "b", "c"):
        (files / sub).mkdir(parents=True)
        (files / sub / "Plan.pdf").write_bytes(b"%PDF-1.4\n")
    (files / "plan-2.pdf").write_bytes(b"%PDF-1.4\n")
    (files / "第1#期?.pdf").write_bytes(b"%PDF-1.4\n")
    path = record(tmp_path, "names.md", 130, extra="attachments: [files/a/Plan.pdf, files/b/Plan.pdf, files/plan-2.pdf, "
                                                   "files/c/Plan.pdf, 'files/第1#期?.pdf']\n")
    result = parse_record(path, load_config(config))
    assert [f.code for f in result.findings] == []
    assert [a.name for a in result.record.attachments] == ["Plan.pdf", "Plan-3.pdf", "plan-2.pdf", "Plan-4.pdf", "第1_期_.pdf"]


def test_repeal_by_a_draft_does_not_print_the_drafts_index_no(hostile_site):
    _root, site, _proc, _ = hostile_site
    page = (site / "records" / "MB0000033-2026-00126" / "index.html").read_text(encoding="utf-8")
    assert "废止" in page
    assert "MB0000033/2026-00125" not in page


# ---------------------------------------------------------------- refused: exit code, code and line, no traceback
def test_refused_hostile_records_stop_the_build_with_code_and_line(tmp_path):
    config = copy_site_source(tmp_path)
    records = tmp_path / "content" / "records" / "hostile"
    record(tmp_path, "r_script.md", 140, "<script>alert(1)</script>")
    record(tmp_path, "r_attr_list.md", 141, '本段。\n{: onclick="alert(1)" }')
    record(tmp_path, "r_title.md", 142, title="'关于\" onmouseover=\"alert(1)的通知'")
    record(tmp_path, "r_date.md", 143, extra="changed: 9999-12-31\n")
    fifo = records / "pipe.pdf"
    os.mkfifo(fifo)
    record(tmp_path, "r_fifo.md", 144, extra="attachments: [pipe.pdf]\n")
    huge = record(tmp_path, "r_huge.md", 145, "甲" * (1024 * 1024))  # 3 MB of UTF-8
    (tmp_path / "content" / "xxgk" / "r_stray.md").write_text(
        "---\ntype: disclosure\ntitle: 放错位置的记录\n---\n\n正文。\n", encoding="utf-8")
    site = tmp_path / "site"
    proc = build(site, config=config, search=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "记录校验未通过" in proc.stderr
    want = [("r_script.md", "<script>", "E304"), ("r_attr_list.md", "{:", "E304"), ("r_title.md", "title:", "E304"),
            ("r_date.md", "changed:", "E107"), ("r_fifo.md", "attachments:", "E308"), ("r_huge.md", None, "E115")]
    for name, needle, code in want:
        line = line_of(records / name, needle) if needle else 1
        assert re.search(rf"hostile/{re.escape(name)}:{line}: {code} error", proc.stderr), (name, line, code, proc.stderr[-3000:])
    assert re.search(r"content/xxgk/r_stray\.md:1: E113 error", proc.stderr)
    assert not (site / "index.html").exists()
    assert huge.stat().st_size > 2 * 1024 * 1024


# ---------------------------------------------------------------- the render-time boundary on its own
def _hostile_bodies():
    from conftest import ROOT

    for path in sorted((ROOT / "tests" / "bad" / "content" / "records").glob("*.md")):
        if path.name.startswith(("h304", "h306", "e304", "e306")):
            text = path.read_text(encoding="utf-8")
            yield pytest.param(text.split("\n---\n", 1)[1], id=path.name)


@pytest.mark.parametrize("body", list(_hostile_bodies()))
def test_sanitiser_leaves_nothing_active_even_without_validation(body, tmp_path):
    """Every hostile body of tests/bad, converted as MkDocs would (the site's extensions) and passed
    through `sanitize_html` only: nothing active and no third-party resource remains."""
    import markdown

    from disclosure.model.sanitize import sanitize_html

    html = markdown.markdown(body, extensions=["tables", "attr_list", "admonition", "toc"])
    page = tmp_path / "records" / "x" / "index.html"
    page.parent.mkdir(parents=True)
    clean = sanitize_html(html, {"www.qinglan.gov.cn"})
    doc = html5lib.parse(f"<body>{clean}</body>", namespaceHTMLElements=False)
    assert _active_content(doc, page, tmp_path) == []
    assert [i.get("src") for i in doc.iter("img") if re.match(r"^\s*(https?:)?//", i.get("src") or "")
            and "qinglan.gov.cn" not in i.get("src")] == []
    assert [t.tag for t in doc.iter() if isinstance(t.tag, str) and t.tag in ("style", "link", "video", "svg", "math")] == []
    assert not any(PAYLOAD.search(v) for el in doc.iter() for v in el.attrib.values())


def test_unsanitised_hostile_bodies_would_be_active():
    """The check above can fail: without the sanitiser, most of those bodies carry active content."""
    import markdown

    active = 0
    bodies = [p.values[0] for p in _hostile_bodies()]
    for body in bodies:
        html = markdown.markdown(body, extensions=["tables", "attr_list", "admonition", "toc"])
        doc = html5lib.parse(f"<body>{html}</body>", namespaceHTMLElements=False)
        active += bool(_active_content(doc, Path("/s/records/x/index.html"), Path("/s")))
    assert active >= len(bodies) // 2
