"""The built demo portal: pages, metadata, catalogues, banners, permanence, scheduling, no third parties."""

import datetime as dt
import hashlib
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from conftest import AS_OF, ROOT, build, copy_site_source

RECORDS = ROOT / "content" / "records"


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("\n---\n", 1)[0][4:])


@pytest.fixture(scope="module")
def records():
    """The demo records read independently of the package (plain PyYAML)."""
    out = []
    for p in sorted(RECORDS.rglob("*.md")):
        fm = front_matter(p)
        fm["_path"] = p
        out.append(fm)
    return out


def live(records):
    as_of = dt.date.fromisoformat(AS_OF)
    return [r for r in records if r.get("published") and r["published"] <= as_of]


def find(records, title_part):
    exact = [r for r in records if r["title"] == title_part]
    hits = exact or [r for r in records if title_part in r["title"]]
    assert len(hits) == 1, (title_part, [h["title"] for h in hits])
    return hits[0]


def page(site: Path, record: dict) -> str:
    slug = re.sub(r"[^0-9A-Za-z._-]+", "-", record["index_no"])
    return (site / "records" / slug / "index.html").read_text(encoding="utf-8")


def meta_cells(html: str) -> dict:
    block = re.search(r'<table class="portal-meta".*?</table>', html, re.S).group(0)
    return dict(re.findall(r'<th scope="row">(.*?)</th><td[^>]*>(.*?)</td>', block))


def test_every_page_is_zh_cn(demo_site):
    pages = list(demo_site.rglob("*.html"))
    assert len(pages) > 100
    for p in pages:
        head = p.read_text(encoding="utf-8")[:200]
        assert '<html lang="zh-CN"' in head, p


def test_record_metadata_block(demo_site, records):
    r = find(records, "农村集体经营性建设用地入市管理办法》的通知")
    cells = meta_cells(page(demo_site, r))
    assert cells["索引号"] == r["index_no"]
    assert cells["发文字号"] == "青政规〔2024〕1号"
    assert cells["成文日期"] == "2024-03-12"
    assert cells["发布日期"] == str(r["published"])
    assert cells["发布机构"] == "青岚县人民政府"
    assert cells["主题分类"] == "国土资源、能源\\土地"
    assert cells["有效性"] == "有效"
    assert cells["有效期至"] == "2029-04-14"  # effective 2024-04-15 + 5 years - 1 day


def test_attachment_listed_with_type_and_size_and_copied(demo_site, records):
    r = find(records, "2024年县级财政预算公开")
    html = page(demo_site, r)
    m = re.search(r'<a href="(budget-2024\.pdf)" download[^>]*>青岚县2024年县级预算表</a> <span class="portal-file">（PDF，([\d.]+ [KM]?B)）', html)
    assert m, html[:3000]
    slug_dir = demo_site / "records" / r["index_no"].replace("/", "-")
    size = (slug_dir / "budget-2024.pdf").stat().st_size
    assert size == (r["_path"].parent / "budget-2024.pdf").stat().st_size
    assert m.group(2) in (f"{size} B", f"{size / 1024:.1f} KB")


def test_status_banners(demo_site, records):
    amended = page(demo_site, find(records, "青岚县教育局关于规范校外培训机构管理的实施意见"))
    assert "portal-banner--amended" in amended and "已修改" in amended
    assert "关于修改《关于规范校外培训机构管理的实施意见》的决定" in amended
    repealed = page(demo_site, find(records, "政府投资项目管理暂行办法"))
    assert "portal-banner--repealed" in repealed and "2025-09-01 废止" in repealed
    assert "青岚县政府投资项目管理办法》的通知</a>" in repealed
    expired = page(demo_site, find(records, "城镇老旧小区改造实施办法（试行）"))
    assert "portal-banner--expired" in expired and "有效期至 2026-04-30" in expired
    assert meta_cells(expired)["有效性"] == "失效"
    valid = page(demo_site, find(records, "青岚县电动自行车停放充电安全管理规定"))
    assert "portal-banner" not in valid


def test_withdrawn_record_shows_notice_not_text(demo_site, records):
    r = find(records, "青市监罚〔2025〕12号")
    html = page(demo_site, r)
    assert "portal-banner--withdrawn" in html
    assert "本信息已于 2025-08-14 撤回" in html
    assert "判决撤销" in html  # the reason
    assert "不合格的建筑用钢筋" not in html  # the withdrawn text is gone


def test_related_links_both_ways(demo_site, records):
    doc = find(records, "农村集体经营性建设用地入市管理办法》的通知")
    interp = find(records, "入市管理办法》政策解读")
    doc_slug, interp_slug = (r["index_no"].replace("/", "-") for r in (doc, interp))
    assert f'政策解读：<a href="../{interp_slug}/">' in page(demo_site, doc)
    assert f'解读的文件：<a href="../{doc_slug}/">' in page(demo_site, interp)
    amender = page(demo_site, find(records, "关于修改《关于规范校外培训机构管理的实施意见》的决定"))
    assert "本文件修改了：" in amender


def test_government_meta_tags(demo_site, records):
    r = find(records, "青岚县电动自行车停放充电安全管理规定")
    html = page(demo_site, r)
    for name, value in [("SiteName", "青岚县人民政府 政府信息公开"), ("SiteDomain", "www.qinglan.gov.cn"),
                        ("SiteIDCode", "3399000001"), ("ColumnName", "行政规范性文件"), ("ArticleTitle", r["title"]),
                        ("PubDate", str(r["published"])), ("ContentSource", "青岚县人民政府")]:
        assert f'<meta name="{name}" content="{value}">' in html, name
    home = (demo_site / "index.html").read_text(encoding="utf-8")
    assert '<meta name="SiteIDCode" content="3399000001">' in home


def rows_of(html: str) -> list:
    return re.findall(r'<td class="portal-list__title"><a href="[^"]+">(.*?)</a>.*?<time datetime="([\d-]+)">', html, re.S)


def test_catalogue_counts_pagination_and_order(demo_site, records):
    disclosures = [r for r in live(records) if r["type"] == "disclosure"]
    n = len(disclosures)
    base = demo_site / "catalogue" / "type" / "disclosure"
    first = (base / "index.html").read_text(encoding="utf-8")
    assert f'data-count="{n}"' in first
    pages = -(-n // 20)
    assert pages >= 2
    all_rows = []
    for i in range(1, pages + 1):
        html = (base / ("index.html" if i == 1 else f"page-{i}/index.html")).read_text(encoding="utf-8")
        rows = rows_of(html)
        assert len(rows) == (20 if i < pages else n - 20 * (pages - 1))
        assert f"第 {i}/{pages} 页" in html
        all_rows += rows
    assert not (base / f"page-{pages + 1}").exists()
    dates = [d for _, d in all_rows]
    assert dates == sorted(dates, reverse=True)
    assert len({t for t, _ in all_rows}) == n


def test_pager_shows_ends_neighbours_and_gaps():
    """A long list's pager: first, last, two either side of this page, "…" for a gap."""
    from disclosure.site.planner import Planner

    def labels(i, n):
        return [(x.label, x.url) for x in Planner.pager_items(None, "catalogue/all/", i, n)]

    got = labels(10, 30)
    assert [x for x, _ in got] == ["上一页", "1", "…", "8", "9", "10", "11", "12", "…", "30", "下一页"]
    assert dict(got)["上一页"] == "catalogue/all/page-9/" and dict(got)["下一页"] == "catalogue/all/page-11/"
    assert dict(got)["1"] == "catalogue/all/" and dict(got)["10"] is None
    assert [x for x, _ in labels(1, 30)] == ["1", "2", "3", "…", "30", "下一页"]
    assert [x for x, _ in labels(4, 7)] == ["上一页", "1", "2", "3", "4", "5", "6", "7", "下一页"]
    assert [x for x, _ in labels(30, 30)] == ["上一页", "1", "…", "28", "29", "30"]


def test_unit_subportal_and_year_and_topic_views(demo_site, records):
    jyj = [r for r in live(records) if r["issuer"] == "青岚县教育局"]
    html = (demo_site / "catalogue/unit/jyj/index.html").read_text(encoding="utf-8")
    assert f'data-count="{len(jyj)}"' in html
    assert "青岚县教育局2024年政府信息公开工作年度报告" in html  # its annual reports
    y2025 = [r for r in live(records) if r["published"].year == 2025]
    assert f'data-count="{len(y2025)}"' in (demo_site / "catalogue/year/2025/index.html").read_text(encoding="utf-8")
    edu = [r for r in live(records) if r.get("topic", "").startswith("科技、教育")]
    topic_index = (demo_site / "catalogue/topic/index.html").read_text(encoding="utf-8")
    href = re.search(r'<a href="([^"]+)">科技、教育</a>', topic_index).group(1)
    topic_page = (demo_site / "catalogue/topic" / href / "index.html").read_text(encoding="utf-8")
    assert f'data-count="{len(edu)}"' in topic_page


def test_normative_lists_split_current_and_invalid(demo_site):
    current = (demo_site / "catalogue/normative/index.html").read_text(encoding="utf-8")
    invalid = (demo_site / "catalogue/normative/invalid/index.html").read_text(encoding="utf-8")
    assert "城镇老旧小区改造实施办法（试行）" in invalid and "政府投资项目管理暂行办法" in invalid
    assert "城镇老旧小区改造实施办法（试行）" not in current
    assert "关于规范校外培训机构管理的实施意见" in current  # 已修改 stays current
    assert "portal-status--repealed" in invalid and "portal-status--expired" in invalid


def test_column_structure_pages_exist(demo_site):
    for path, text in [("xxgk/index.html", "政府信息公开指南"), ("xxgk/guide/index.html", "工作机构"),
                       ("xxgk/system/index.html", "保密审查"), ("xxgk/fdzdgknr/index.html", "第二十条第（一）项"),
                       ("xxgk/annual-reports/index.html", "2025 年度"), ("xxgk/apply/index.html", "申请表"),
                       ("xxgk/fdzdgknr/czyjs/index.html", "财政预算公开"), ("index.html", "最新行政规范性文件"),
                       ("search/index.html", "站内搜索"), ("feeds/index.html", "RSS")]:
        assert text in (demo_site / path).read_text(encoding="utf-8"), path


def test_annual_report_tables_in_national_layout(demo_site, records):
    html = page(demo_site, find(records, "青岚县教育局2024年政府信息公开工作年度报告"))
    assert "三、收到和处理政府信息公开申请情况" in html
    assert "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）" in html
    assert html.count("<th scope=\"row\">行政规范性文件</th>") == 1


def test_scheduled_and_draft_records_are_absent(demo_site, records):
    future = [r for r in records if r.get("published") and r["published"] > dt.date.fromisoformat(AS_OF)]
    drafts = [r for r in records if not r.get("published")]
    assert future and drafts
    everything = "".join(p.read_text(encoding="utf-8") for p in demo_site.rglob("*.html"))
    sitemap = (demo_site / "sitemap.xml").read_text(encoding="utf-8")
    catalogue_json = (demo_site / "catalogue.json").read_text(encoding="utf-8")
    for r in future + drafts:
        slug = r["index_no"].replace("/", "-")
        assert not (demo_site / "records" / slug).exists()
        assert r["title"] not in everything
        assert slug not in sitemap and r["index_no"] not in catalogue_json


def test_scheduled_record_appears_on_its_date(tmp_path, records):
    r = next(r for r in records if r.get("published") and r["published"] > dt.date.fromisoformat(AS_OF))
    site = tmp_path / "site"
    assert build(site, as_of=str(r["published"]), search=False).returncode == 0
    assert (site / "records" / r["index_no"].replace("/", "-") / "index.html").exists()


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        # what the browser loads or submits to; a plain <a href> to another site is a link, not a request
        for k, v in attrs:
            if k in ("href", "src", "action", "srcset", "poster", "data") and v and not (tag == "a" and k == "href"):
                self.urls.append(v)


def test_no_third_party_references(demo_site):
    own = {"www.qinglan.gov.cn"}
    offenders = []
    for p in demo_site.rglob("*"):
        if p.suffix == ".html":
            parser = _Refs()
            parser.feed(p.read_text(encoding="utf-8"))
            offenders += [(p, u) for u in parser.urls if urlparse(u).scheme in ("http", "https") and urlparse(u).hostname not in own]
        elif p.suffix in (".css", ".js", ".mjs"):
            text = re.sub(r"/\*.*?\*/", "", p.read_text(encoding="utf-8", errors="replace"), flags=re.S)
            text = re.sub(r"(?:<|\\3c ?)!--.*?--(?:>|\\3e ?)", "", text, flags=re.S)
            for u in re.findall(r"https?://[^\s\"'`)<>\\]+", text):
                # XML namespace ids, and example.com (reserved, RFC 2606) as Pagefind's URL-parsing base
                if not u.startswith(("http://www.w3.org/", "https://example.com")) and urlparse(u).hostname not in own:
                    offenders.append((p, u))
    assert offenders == []


def test_record_url_survives_moving_the_file(tmp_path, records):
    cfg = copy_site_source(tmp_path / "src")
    r = find(records, "电动自行车停放充电安全管理规定》解读")
    rel_path = r["_path"].relative_to(ROOT)
    slug = r["index_no"].replace("/", "-")
    assert build(tmp_path / "a", config=cfg, search=False, cwd=tmp_path).returncode == 0
    before = (tmp_path / "a" / "records" / slug / "index.html").read_bytes()
    src = tmp_path / "src" / rel_path
    dest = tmp_path / "src" / "content" / "records" / "moved" / "elsewhere" / "renamed.md"
    dest.parent.mkdir(parents=True)
    shutil.move(src, dest)
    assert build(tmp_path / "b", config=cfg, search=False, cwd=tmp_path).returncode == 0
    after = (tmp_path / "b" / "records" / slug / "index.html").read_bytes()
    assert after == before


def _digest(site: Path) -> dict:
    return {p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*")) if p.is_file()}


def test_two_builds_are_byte_identical(demo_site, tmp_path):
    """Pages, feeds, sitemap and catalogue are byte-identical. Pagefind's filter and meta indexes are not
    stable between runs upstream (Pagefind #638: only fragments are), so pagefind/ is compared by fragments."""
    again = tmp_path / "site"
    assert build(again).returncode == 0
    a, b = _digest(demo_site), _digest(again)
    outside = lambda d: {k: v for k, v in d.items() if not k.startswith("pagefind/")}
    assert outside(a) == outside(b)
    fragments = lambda d: {k: v for k, v in d.items() if k.startswith("pagefind/fragment/")}
    assert fragments(a) == fragments(b) and len(fragments(a)) >= 60


# ------------------------------------------------------------------ output escaping (issue 11)
HOSTILE_TITLE = 'x"><script>alert(1)</script></title><script>alert(2)</script>'
HOSTILE_SUMMARY = '&lt;script&gt;alert(3)&lt;/script&gt; x"><meta http-equiv="refresh" content="0;url=/elsewhere/">'
HOSTILE_KEYWORDS = ['x"><script>alert(4)</script>', "</title><script>alert(5)</script>", "&lt;script&gt;"]


HOSTILE_FENCE = "<img src=x onerror=alert(6)>"  # in a code fence: text a document may quote


def _hostile_site(tmp_path, monkeypatch, search: bool = False):
    """The demo plus one record carrying hostile title, summary and keywords, built in this process with
    validation errors ignored: the output must be safe even for values the checks let through."""
    import disclosure.model.corpus as corpus_mod
    from disclosure.site.build import build_site

    cfg = copy_site_source(tmp_path / "src")
    rec = tmp_path / "src/content/records/2026/jyj/hostile.md"
    rec.write_text(
        "---\ntype: disclosure\n" + yaml.safe_dump({"title": HOSTILE_TITLE, "summary": HOSTILE_SUMMARY,
                                                     "keywords": HOSTILE_KEYWORDS}, allow_unicode=True)
        + "index_no: MB0000033/2026-00099\nissuer: 青岚县教育局\ntopic: 科技、教育\\教育\ncolumn: 通知公告\n"
          "written: 2026-11-02\npublished: 2026-11-03\nreviewed: {by: 测试, date: 2026-11-02}\n---\n\n本通知用于检验页面对记录文字的转义。\n"
          f"\n```html\n{HOSTILE_FENCE}\n```\n",
        encoding="utf-8")
    withdrawn = tmp_path / "src/content/records/2026/jyj/hostile-withdrawn.md"
    withdrawn.write_text(rec.read_text(encoding="utf-8").replace("2026-00099", "2026-00098")
                         .replace("reviewed:", "withdrawn: {date: 2026-11-10, reason: 撤回测试}\nreviewed:"), encoding="utf-8")
    monkeypatch.setattr(corpus_mod.Corpus, "errors", property(lambda self: []))
    monkeypatch.setenv("DISCLOSURE_AS_OF", AS_OF)
    monkeypatch.setenv("DISCLOSURE_SEARCH", "1" if search else "0")
    monkeypatch.setenv("DISCLOSURE_JOBS", "1")
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "site"
    assert build_site(cfg, site) == 0
    return site


def _tree(path: Path):
    import html5lib

    return html5lib.parse(path.read_text(encoding="utf-8"), namespaceHTMLElements=False)


def _injection(tree) -> list:
    """Script elements not ours (ours have a src under assets/ or are Material's JSON config/inline helpers
    without record text), any on* attribute, javascript: URLs, refresh/base/form/frames."""
    bad = []
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        text = (el.text or "")
        if el.tag == "script" and "alert(" in text:
            bad.append(("script", text[:60]))
        if el.tag in ("base", "iframe", "frame", "object", "embed"):
            bad.append((el.tag, el.attrib))
        if el.tag == "meta" and el.get("http-equiv"):
            bad.append(("meta refresh", el.attrib))
        for k, v in el.attrib.items():
            if k.lower().startswith("on") or "javascript:" in v.lower() or "alert(" in k:
                bad.append((el.tag, k, v[:60]))
        if el.tag == "script" and el.get("src") and "alert" in el.get("src"):
            bad.append(("script src", el.get("src")))
    return bad


def test_hostile_values_are_escaped_everywhere(tmp_path, monkeypatch):
    site = _hostile_site(tmp_path, monkeypatch)
    page_path = site / "records/MB0000033-2026-00099/index.html"
    offenders = {}
    for p in site.rglob("*.html"):
        found = _injection(_tree(p))
        if found:
            offenders[p.relative_to(site).as_posix()] = found
    assert offenders == {}
    tree = _tree(page_path)
    # the values arrive as the same text they were written as: escaped once, never unescaped
    assert tree.find(".//title").text == f"{HOSTILE_TITLE} - 青岚县人民政府 政府信息公开"
    metas = {m.get("name"): m.get("content") for m in tree.iter("meta") if m.get("name")}
    assert metas["ArticleTitle"] == HOSTILE_TITLE
    assert metas["Description"] == HOSTILE_SUMMARY
    assert metas["Keywords"] == "，".join(HOSTILE_KEYWORDS)
    assert "".join(tree.find(".//h1").itertext()) == HOSTILE_TITLE
    header = next(e for e in tree.iter("div") if e.get("data-md-component") == "header-topic")
    assert "".join(header.itertext()).strip() == HOSTILE_TITLE
    # lists, home, feeds links and JSON carry it as text too
    lst = _tree(site / "xxgk/fdzdgknr/tzgg/index.html")
    assert HOSTILE_TITLE in ["".join(a.itertext()) for a in lst.iter("a")]
    import feedparser
    import json

    feed = feedparser.parse((site / "feeds/all.xml").read_bytes())
    assert HOSTILE_TITLE in [e.title for e in feed.entries]
    data = json.loads((site / "catalogue.json").read_text(encoding="utf-8"))
    assert HOSTILE_TITLE in [r["title"] for r in data["records"]]


def test_hostile_values_stay_text_in_search_results(tmp_path, monkeypatch, browser):
    """The search page builds its results from index data in the browser: the hostile title and the
    quoted markup of the body come out as the same text, in Chromium, and nothing runs."""
    from conftest import serve_static

    site = _hostile_site(tmp_path, monkeypatch, search=True)
    httpd, base = serve_static(site)
    ctx = browser.new_context()
    page = ctx.new_page()
    dialogs, errors = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(base + "search/?q=onerror")
        page.wait_for_function("() => /找到|没有/.test(document.getElementById('search-status').textContent)")
        results = page.locator(".portal-result")
        assert results.count() == 1, page.inner_text("#search-status")
        assert results.locator(".portal-result__title a").inner_text() == HOSTILE_TITLE
        excerpt = results.locator(".portal-result__excerpt")
        assert HOSTILE_FENCE in excerpt.inner_text()
        assert excerpt.locator("mark").all_inner_texts() == ["onerror"]
        # nothing but our own elements inside the results, no handler attributes, nothing ran
        tags = page.evaluate("() => Array.from(document.querySelectorAll('#search-results *'), e => e.tagName)")
        assert set(tags) <= {"LI", "H2", "A", "P", "SPAN", "MARK"}, tags
        handlers = page.evaluate("() => Array.from(document.querySelectorAll('#search-results *'))"
                                 ".flatMap(e => e.getAttributeNames().filter(n => n.startsWith('on')))")
        assert handlers == []
        page.wait_for_timeout(300)  # an injected <img onerror> would have fired by now
        assert dialogs == [] and errors == []
    finally:
        ctx.close()
        httpd.shutdown()


def test_search_excerpt_from_deep_in_a_long_body(tmp_path, monkeypatch, browser):
    """A 32,000-character body: its result downloads a small fragment and the one block that holds
    the match (pagefind/text/), and the excerpt shows the match, which lies past the 20,000th character."""
    import gzip
    from conftest import serve_static
    from disclosure.site.build import build_site

    cfg = copy_site_source(tmp_path / "src")
    filler = "为加强公共服务设施管理，规范办理程序，提高服务效率，结合本县实际制定本办法。"
    paras = [f"第{i + 1}段。" + filler * 21 for i in range(40)]
    paras[34] = "第35段。本办法适用于蓝鲸湾码头的日常管理。" + filler * 20
    rec = tmp_path / "src/content/records/2026/jyj/long.md"
    rec.write_text("---\ntype: disclosure\ntitle: 青岚县教育局公共服务设施管理办法\nindex_no: MB0000033/2026-00097\n"
                   "issuer: 青岚县教育局\ntopic: 科技、教育\\教育\ncolumn: 通知公告\nwritten: 2026-11-02\n"
                   "published: 2026-11-03\nreviewed: {by: 测试, date: 2026-11-02}\n---\n\n" + "\n\n".join(paras) + "\n",
                   encoding="utf-8")
    assert sum(map(len, paras[:34])) > 20000
    monkeypatch.setenv("DISCLOSURE_AS_OF", AS_OF)
    monkeypatch.setenv("DISCLOSURE_SEARCH", "1")
    monkeypatch.setenv("DISCLOSURE_JOBS", "1")
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "site"
    assert build_site(cfg, site) == 0
    httpd, base = serve_static(site)
    ctx = browser.new_context()
    page = ctx.new_page()
    got = []
    page.on("response", lambda r: got.append((r.url, len(r.body()))) if r.ok and "/pagefind/" in r.url else None)
    try:
        page.goto(base + "search/?q=" + "蓝鲸湾码头")
        page.wait_for_function("() => /找到|没有/.test(document.getElementById('search-status').textContent)")
        results = page.locator(".portal-result")
        assert results.count() == 1, page.inner_text("#search-status")
        excerpt = results.locator(".portal-result__excerpt")
        assert excerpt.locator("mark").all_inner_texts() == ["蓝鲸湾码头"]
        assert excerpt.inner_text().startswith("……")
        assert "本办法适用于蓝鲸湾码头的日常管理" in excerpt.inner_text()
        page.wait_for_timeout(300)
        texts = [(u, n) for u, n in got if "/pagefind/text/" in u]
        fragments = [(u, n) for u, n in got if u.endswith(".pf_fragment")]
        assert len(texts) == 1 and len(fragments) == 1, got
        # the block downloaded is the paragraph's block, not the body; the fragment holds one block
        assert texts[0][1] < 8000 and fragments[0][1] < 3000, got
        frag = gzip.decompress((site / "pagefind/fragment" / fragments[0][0].rsplit("/", 1)[1]).read_bytes())
        assert "蓝鲸湾码头".encode() not in frag
        # a match in the first block needs no block file
        got.clear()
        page.goto(base + "search/?q=" + "第1段")
        page.wait_for_function("() => /找到|没有/.test(document.getElementById('search-status').textContent)")
        first = page.locator(".portal-result").filter(has_text="公共服务设施管理办法")
        assert first.locator(".portal-result__excerpt mark").all_inner_texts()[:1] == ["第1段"]
        page.wait_for_timeout(300)
        assert not [u for u, _ in got if "/pagefind/text/" in u], got
    finally:
        ctx.close()
        httpd.shutdown()


def test_withdrawn_record_shows_only_title_index_dates_reason(tmp_path, monkeypatch):
    site = _hostile_site(tmp_path, monkeypatch)
    html = (site / "records/MB0000033-2026-00098/index.html").read_text(encoding="utf-8")
    tree = _tree(site / "records/MB0000033-2026-00098/index.html")
    metas = {m.get("name"): m.get("content") for m in tree.iter("meta") if m.get("name")}
    assert "Description" not in metas and "Keywords" not in metas
    assert metas["ArticleTitle"] == HOSTILE_TITLE
    assert "alert(3)" not in html and "alert(4)" not in html and "正文。" not in html  # summary, keywords, body
    assert "撤回理由：撤回测试" in html
    cells = {th.text: "".join(td.itertext()) for tr in tree.iter("tr")
             for th, td in [tuple(c for c in tr if c.tag in ("th", "td"))[:2]] if th.tag == "th"}
    assert cells["索引号"] == "MB0000033/2026-00098" and "内容概述" not in cells and "主题词" not in cells


def test_a_site_overrides_one_partial(tmp_path):
    """A site's own theme.custom_dir comes first, our theme next, Material last: one file changes one block."""
    cfg = copy_site_source(tmp_path / "src")
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(re.sub(r"custom_dir: .*", "custom_dir: overrides", text), encoding="utf-8")
    part = tmp_path / "src/overrides/partials/portal/meta.html"
    part.parent.mkdir(parents=True)
    part.write_text('<dl class="office-meta"><dt>文号</dt><dd>{{ record.doc_no or "无" }}</dd>'
                    '<dt>来源</dt><dd>{{ record.unit }}</dd></dl>\n', encoding="utf-8")
    assert build(tmp_path / "site", config=cfg, search=False, cwd=tmp_path / "src").returncode == 0
    r = "records/MB0000017-2024-00002/index.html"
    html = (tmp_path / "site" / r).read_text(encoding="utf-8")
    assert '<dl class="office-meta"><dt>文号</dt><dd>青政规〔2024〕1号</dd><dt>来源</dt><dd>青岚县人民政府</dd></dl>' in html
    assert 'class="portal-meta"' not in html
    assert 'class="portal-crumbs"' in html and "portal.css" in html  # the rest still comes from our theme
    assert (tmp_path / "site/assets/stylesheets/portal.css").is_file()


def test_annual_report_tables_sit_in_their_sections(demo_site, records):
    import html5lib

    r = find(records, "青岚县教育局2024年政府信息公开工作年度报告")
    tree = html5lib.parse(page(demo_site, r), namespaceHTMLElements=False)
    body = next(d for d in tree.iter("div") if d.get("class") == "portal-body")
    order = [("h2", "".join(el.itertext())) if el.tag == "h2" else ("table", el.find("table").get("class"))
             for el in body if el.tag == "h2" or (el.tag == "div" and el.find("table") is not None)]
    heads = [i for i, (kind, _) in enumerate(order) if kind == "h2"]
    section = {text[:2]: i for i, (kind, text) in enumerate(order) if kind == "h2"}
    def tables_after(key):
        i = section[key]
        nxt = min([h for h in heads if h > i], default=len(order))
        return [t for _, t in order[i + 1:nxt]]
    assert tables_after("二、") == ["portal-annual"] * 3
    assert tables_after("三、") == ["portal-annual portal-annual--t3"]
    assert tables_after("四、") == ["portal-annual portal-annual--t4"]
    assert tables_after("五、") == [] and "见统计表" not in "".join(body.itertext())


def test_lists_show_index_name_doc_no_date_and_summary(demo_site, records):
    import html5lib

    tree = html5lib.parse((demo_site / "catalogue/normative/index.html").read_text(encoding="utf-8"), namespaceHTMLElements=False)
    table = next(t for t in tree.iter("table") if t.get("class") == "portal-list")
    assert [th.text for th in table.find("thead").iter("th")] == ["索引号", "名称", "文号", "发布日期", "状态"]
    first = table.find("tbody").find("tr")
    r = find(records, "".join(first.find("td[2]/a").itertext()))
    assert first.find("td[1]").text == r["index_no"]
    summary = first.find("td[2]/details")
    assert summary.find("summary").text == "内容概述" and summary.find("p").text == r["summary"]
    # a list whose records have no 文号 leaves that column out
    col = html5lib.parse((demo_site / "xxgk/fdzdgknr/tjxx/index.html").read_text(encoding="utf-8"), namespaceHTMLElements=False)
    heads = [th.text for t in col.iter("table") if t.get("class") == "portal-list" for th in t.iter("th")]
    assert heads == ["索引号", "名称", "发布日期"]


def test_footer_sitemap_contact_and_apply_forms_come_from_settings(demo_site):
    cfg = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["extra"]["portal"]
    foot, contact = cfg["footer"], cfg["contact"]
    for path in ("index.html", "records/MB0000017-2024-00002/index.html", "catalogue/normative/page-2/index.html"
                 if (demo_site / "catalogue/normative/page-2").exists() else "catalogue/normative/index.html"):
        html = (demo_site / path).read_text(encoding="utf-8")
        footer = html[html.index('<footer class="md-footer portal-footer">'):]
        for text in (f"主办：{foot['sponsor']}", f"承办：{foot['organizer']}", f"网站标识码：{cfg['site_id_code']}",
                     foot["icp"]["number"], foot["police"]["number"], foot["error_report"]["title"], "网站地图",
                     contact["email"], contact["phone"]):
            assert text in footer, (path, text)
        assert 'alt="党政机关网站标识（演示）"' in footer
    assert (demo_site / foot["badge"]["image"]).is_file()
    sitemap = (demo_site / "sitemap/index.html").read_text(encoding="utf-8")
    for label in ("政府信息公开指南", "法定主动公开内容", "统计信息", "按发布机构", "青岚县教育局", "废止和失效的规范性文件", "信息订阅"):
        assert f">{label}</a>" in sitemap, label
    for path in ("xxgk/guide/index.html", "xxgk/apply/index.html"):
        html = (demo_site / path).read_text(encoding="utf-8")
        assert f'href="mailto:{contact["email"]}"' in html and contact["address"] in html and contact["hours"] in html
        assert "[[portal:" not in html
    apply = (demo_site / "xxgk/apply/index.html").read_text(encoding="utf-8")
    for f in cfg["apply_forms"]:
        assert f['title'] in apply
        assert (demo_site / f["file"]).stat().st_size > 1000
    assert (demo_site / "xxgk/downloads/apply-form.pdf").read_bytes().startswith(b"%PDF")
    import zipfile

    with zipfile.ZipFile(demo_site / "xxgk/downloads/apply-form.docx") as z:
        assert "政府信息公开申请表" in z.read("word/document.xml").decode("utf-8")


def test_page_content_renders_without_mkdocs_from_picklable_data():
    """Each page's content is a pure function of (page data, settings, templates): the data pickles, and
    views.render_content needs no MkDocs (a renderer outside MkDocs compiles one environment per worker)."""
    import subprocess
    import sys

    code = r'''
import datetime as dt, pickle, sys, yaml
from disclosure.model.corpus import load
from disclosure.site.planner import plan_site
from disclosure.site.views import make_env, render_content, template_dirs
cfg = yaml.safe_load(open("mkdocs.yml", encoding="utf-8").read().replace("!!python", "#"))
plan = plan_site(load("mkdocs.yml", dt.date.fromisoformat(sys.argv[1])), nav=cfg["nav"])
pages = pickle.loads(pickle.dumps(plan.pages))
env = make_env(template_dirs(), {**cfg["extra"]["portal"], "site_name": cfg["site_name"]})
rec = next(p for p in pages if p.src_uri == "records/MB0000017-2024-00002.md")
html = render_content(rec, env, "<p>正文</p>")
assert html.count("<h1>") == 1 and "<p>正文</p>" in html and "portal-meta" in html and "portal-crumbs" in html
assert render_content(rec, env, "<p>正文</p>") == html
assert all(render_content(p, env) for p in pages)
assert not any(m == "mkdocs" or m.startswith("mkdocs.") for m in sys.modules), "MkDocs imported"
print(len(pages))
'''
    proc = subprocess.run([sys.executable, "-c", code, AS_OF], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) > 100
