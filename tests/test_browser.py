"""The built demo site in headless Chromium: Chinese search, filters and sort, accessibility, click-through."""

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import AS_OF, ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(accept_downloads=True)
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    external = []
    pg.on("request", lambda req: external.append(req.url) if not req.url.startswith((server, "data:", "blob:")) else None)
    pg.external_requests = external
    yield pg
    assert external == [], f"requests outside the site: {external}"
    assert errors == [], f"JavaScript errors: {errors}"
    ctx.close()


# ------------------------------------------------------------------ expected results, computed from the sources
def _records():
    out = []
    as_of = dt.date.fromisoformat(AS_OF)
    for p in ROOT.glob("content/records/**/*.md"):
        head, body = p.read_text(encoding="utf-8").split("\n---\n", 1)
        fm = yaml.safe_load(head[4:])
        if not fm.get("published") or fm["published"] > as_of:
            continue
        withdrawn = fm.get("withdrawn") and fm["withdrawn"]["date"] <= as_of
        fm["_text"] = " ".join(str(x) for x in [
            fm["title"], fm.get("summary", ""), "" if withdrawn else re.sub(r"[*#>|]", "", body),
            fm.get("doc_no", ""), fm["index_no"], fm["issuer"], " ".join(fm.get("keywords", []))])
        out.append(fm)
    return out


RECORDS = _records()


def containing(term):
    return {r["title"] for r in RECORDS if term in r["_text"]}


# (query, expected titles): single words and phrases, 文号 fragments, a unit's name, a topic word, an index number
QUERIES = [
    "校外培训", "食品安全", "秸秆", "电动自行车", "防汛", "宅基地", "最低生活保障", "义务教育", "统计公报",
    # Not "预收费": jieba segments it by context (预收/费 in one record, otherwise in another), so no single
    # query form finds both records; a known limit of index-time CJK segmentation (Pagefind #1237).
    "政府采购", "普惠性", "老旧小区", "养老保险", "招聘", "综合管廊", "明厨亮灶", "行政许可",
    "政府投资项目", "电梯", "财政预算", "学生资助",
    "青政规〔2024〕1号", "青市监罚〔2024〕37号", "青教规", "MB0000033/2025-00004",
    "青岚县教育局", "青岚县云溪镇人民政府",
]


def search_ui(page, server, query="", filters=None, sort=""):
    page.goto(server + "search/")
    page.wait_for_selector("#portal-search[data-ready=true]", state="attached")
    page.fill("#q", query)
    for name, value in (filters or {}).items():
        page.select_option(f'select[data-filter="{name}"]', value=value)
    if sort:
        page.select_option("#sort", sort)
    page.press("#q", "Enter")
    page.wait_for_function("() => /找到|没有找到/.test(document.getElementById('search-status').textContent)")
    while page.is_visible(".portal-more"):
        count = page.locator(".portal-result").count()
        page.click(".portal-more")
        page.wait_for_function(f"() => document.querySelectorAll('.portal-result').length > {count}")
    titles = page.locator(".portal-result__title a").all_inner_texts()
    metas = page.locator(".portal-result__meta").all_inner_texts()
    return titles, metas


@pytest.mark.parametrize("query", QUERIES)
def test_chinese_query_finds_every_expected_record(page, server, query):
    expected = containing(query)
    assert expected, f"query {query} matches nothing in the demo: fix the test"
    titles, _ = search_ui(page, server, query)
    missing = expected - set(titles)
    assert not missing, f"{query}: missing {sorted(missing)}"


def test_filter_without_query_lists_a_type(page, server):
    normative = {r["title"] for r in RECORDS if r["type"] == "normative"}
    titles, _ = search_ui(page, server, filters={"类型": "行政规范性文件"})
    assert set(titles) == normative


def test_filter_and_sort_by_date(page, server):
    titles, metas = search_ui(page, server, "", filters={"发布机构": "青岚县市场监督管理局", "年份": "2025"}, sort="desc")
    expected = {r["title"] for r in RECORDS if r["issuer"] == "青岚县市场监督管理局" and r["published"].year == 2025}
    assert set(titles) == expected
    dates = [re.search(r"发布日期：([\d-]+)", m).group(1) for m in metas]
    assert dates == sorted(dates, reverse=True) and len(dates) == len(expected)
    _, metas = search_ui(page, server, "食品安全", sort="asc")
    dates = [re.search(r"发布日期：([\d-]+)", m).group(1) for m in metas]
    assert dates == sorted(dates) and len(dates) >= 3


def test_status_filter_and_result_metadata(page, server):
    titles, metas = search_ui(page, server, filters={"有效性": "废止"})
    assert titles == ["青岚县人民政府办公室关于印发《青岚县政府投资项目管理暂行办法》的通知"]
    assert "文号：青政办规〔2024〕1号" in metas[0] and "发布机构：青岚县人民政府办公室" in metas[0]


def test_query_in_url_and_header_box_work_by_keyboard(page, server):
    page.goto(server + "records/" + RECORDS[0]["index_no"].replace("/", "-") + "/")
    page.focus("#portal-q")
    page.keyboard.type("秸秆")
    page.keyboard.press("Enter")
    page.wait_for_function("() => /找到/.test(document.getElementById('search-status').textContent)")
    assert "q=%E7%A7%B8%E7%A7%86" in page.url or "q=秸秆" in page.url
    assert "云溪镇2024年秸秆综合利用和禁烧工作方案" in page.locator(".portal-result__title a").all_inner_texts()


def _axe(page):
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    return [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
            for v in result.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("path", ["", "catalogue/type/normative/", "xxgk/fdzdgknr/",
                                  "records/MB0000017-2024-00002/", "search/", "xxgk/annual-reports/"])
def test_accessibility_no_serious_violations(page, server, path):
    page.goto(server + path)
    if path == "search/":
        page.wait_for_selector("#portal-search[data-ready=true]", state="attached")
    assert _axe(page) == []


def test_accessibility_of_results_state(page, server):
    search_ui(page, server, "防汛")
    assert page.locator(".portal-result").count() >= 3
    assert _axe(page) == []


def test_click_through_home_catalogue_record_download(page, server):
    page.goto(server)
    page.click("nav.portal-entries >> text=行政规范性文件")
    assert page.url.endswith("/catalogue/normative/")
    page.click("text=青岚县人民政府关于印发《青岚县农村集体经营性建设用地入市管理办法》的通知")
    assert "/records/MB0000017-2024-" in page.url
    assert page.locator("table.portal-meta").inner_text().count("青政规〔2024〕1号") == 1
    with page.expect_download() as info:
        page.click("ul.portal-attachments a")
    download = info.value
    assert download.suggested_filename == "rushi-banfa.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
