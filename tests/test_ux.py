"""Every visitor, every device (issue 10): the built demo in Chromium at 375, 768 and 1366 px and at 200 % zoom.

Over every page kind: no sideways scrolling, the nav in the drawer, breadcrumbs (expected trail computed
from mkdocs.yml and the records' front matter), ≥ 16 px text, ≥ 24 px targets, a visible focus ring on
every focusable element, axe-core without serious or critical violations; the 大字 toggle across pages;
the printed record's source line. Screenshots of each page kind at 375 and 1366 px go to tests/artifacts/.
"""

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import AS_OF, ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
ARTIFACTS = ROOT / "tests" / "artifacts"
CONFIG = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
COLUMNS = {c["name"]: c["id"] for c in CONFIG["extra"]["portal"]["columns"]}
COLUMNS.update({c["id"]: c["id"] for c in CONFIG["extra"]["portal"]["columns"]})
COLUMN_NAME = {c["id"]: c["name"] for c in CONFIG["extra"]["portal"]["columns"]}
SITE = CONFIG["site_name"]
VIEWPORTS = {  # name: (width, height, device scale factor)
    "phone-375": (375, 812, 2), "tablet-768": (768, 1024, 1), "desktop-1366": (1366, 900, 1), "zoom-200": (683, 450, 2)}


def _records():
    as_of = dt.date.fromisoformat(AS_OF)
    out = []
    for p in sorted(ROOT.glob("content/records/**/*.md")):
        fm = yaml.safe_load(p.read_text(encoding="utf-8").split("\n---\n", 1)[0][4:])
        if fm.get("published") and fm["published"] <= as_of:
            fm["slug"] = re.sub(r"[^0-9A-Za-z._-]+", "-", fm["index_no"])
            out.append(fm)
    return out


RECORDS = _records()


def rec(title_part):
    hits = [r for r in RECORDS if r["title"] == title_part] or [r for r in RECORDS if title_part in r["title"]]
    assert len(hits) == 1, (title_part, [h["title"] for h in hits])
    return hits[0]


def record_trail(r):
    """当前位置 of a record page, from its front matter: the column it is filed under (normative documents
    default to the 第二十条第（一）项 column), else the annual reports or its type's list."""
    column = r.get("column") or ("gfxwj" if r["type"] == "normative" else None)
    if column:
        return ["首页", "政府信息公开", "法定主动公开内容", COLUMN_NAME[COLUMNS[column]]]
    if r["type"] == "annual-report":
        return ["首页", "政府信息公开", "政府信息公开年报"]
    return ["首页", "信息目录", "按信息类型", {"interpretation": "政策解读", "disclosure": "主动公开信息"}[r["type"]]]


def _pages():
    """(name, path, expected breadcrumb trail) for every page kind."""
    out = [
        ("home", "", ["首页"]),
        ("xxgk", "xxgk/", ["首页", "政府信息公开"]),
        ("guide", "xxgk/guide/", ["首页", "政府信息公开", "政府信息公开指南"]),
        ("apply", "xxgk/apply/", ["首页", "政府信息公开", "依申请公开"]),
        ("column-index", "xxgk/fdzdgknr/", ["首页", "政府信息公开", "法定主动公开内容"]),
        ("column-tjxx", "xxgk/fdzdgknr/tjxx/", ["首页", "政府信息公开", "法定主动公开内容", "统计信息"]),
        ("annual-index", "xxgk/annual-reports/", ["首页", "政府信息公开", "政府信息公开年报"]),
        ("catalogue", "catalogue/", ["首页", "信息目录"]),
        ("cat-type", "catalogue/type/", ["首页", "信息目录", "按信息类型"]),
        ("cat-type-disclosure", "catalogue/type/disclosure/", ["首页", "信息目录", "按信息类型", "主动公开信息"]),
        ("cat-type-disclosure-p2", "catalogue/type/disclosure/page-2/",
         ["首页", "信息目录", "按信息类型", "主动公开信息", "主动公开信息（第 2 页）"]),
        ("cat-topic", "catalogue/topic/", ["首页", "信息目录", "按主题分类"]),
        ("cat-unit", "catalogue/unit/", ["首页", "信息目录", "按发布机构"]),
        ("cat-unit-jyj", "catalogue/unit/jyj/", ["首页", "信息目录", "按发布机构", "青岚县教育局"]),
        ("cat-year", "catalogue/year/2025/", ["首页", "信息目录", "按年份", "2025 年发布的信息"]),
        ("cat-normative", "catalogue/normative/", ["首页", "信息目录", "规范性文件"]),
        ("cat-normative-invalid", "catalogue/normative/invalid/", ["首页", "信息目录", "规范性文件", "废止和失效的规范性文件"]),
        ("search", "search/", ["首页", "站内搜索"]),
        ("feeds", "feeds/", ["首页", "信息订阅"]),
        ("sitemap", "sitemap/", ["首页", "网站地图"]),
        ("compliance", "compliance/", ["首页", "政府信息公开", "公开时效"]),
        ("404", "404.html", ["首页", "页面不存在"]),
    ]
    for name, title in [("norm-valid", "农村集体经营性建设用地入市管理办法》的通知"),
                        ("norm-amended", "青岚县教育局关于规范校外培训机构管理的实施意见"),
                        ("norm-repealed", "政府投资项目管理暂行办法"), ("norm-expired", "城镇老旧小区改造实施办法（试行）"),
                        ("withdrawn", "青市监罚〔2025〕12号"), ("attachments", "2024年县级财政预算公开"),
                        ("interpretation", "入市管理办法》政策解读"), ("annual-report", "青岚县教育局2024年政府信息公开工作年度报告")]:
        r = rec(title)
        out.append((name, f"records/{r['slug']}/", record_trail(r)))
    return out


PAGES = _pages()


@pytest.fixture(scope="module")
def contexts(browser):
    """One browser context (and page) per viewport, reused by every page kind."""
    made = {}

    def get(name):
        if name not in made:
            w, h, dsf = VIEWPORTS[name]
            ctx = browser.new_context(viewport={"width": w, "height": h}, device_scale_factor=dsf,
                                      is_mobile=False, has_touch=name == "phone-375")
            pg = ctx.new_page()
            pg.errors = []
            pg.on("pageerror", lambda e, pg=pg: pg.errors.append(str(e)))
            made[name] = (ctx, pg)
        return made[name][1]

    yield get
    for ctx, _ in made.values():
        ctx.close()


# Text smaller than 16 px, excluding what is not visible (hidden, clipped to 1 px for screen readers).
SMALL_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || el.closest('script,style,noscript,template,svg')) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden' || cs.display === 'none' || parseFloat(cs.opacity) === 0) continue;
    if (el.closest('[hidden],[aria-hidden="true"]') && el.offsetParent === null) continue;
    let hidden = false;
    for (let a = el; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.display === 'none' || s.visibility === 'hidden') { hidden = true; break; }
      if (s.clip === 'rect(0px, 0px, 0px, 0px)' || (s.position === 'absolute' && a.getBoundingClientRect().width <= 1)) { hidden = true; break; }
    }
    if (hidden) continue;
    const size = parseFloat(cs.fontSize);
    if (size < 15.9) out.push([el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : ''), size, node.textContent.trim().slice(0, 20)]);
  }
  return out.slice(0, 15);
}"""

# Interactive targets under 24×24 CSS px (WCAG 2.5.8), except links inline in a sentence (its exception).
SMALL_TARGETS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], label[for]')) {
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || cs.visibility === 'hidden') continue;
    let hidden = false;
    for (let a = el; a; a = a.parentElement) { const s = getComputedStyle(a); if (s.display === 'none' || s.visibility === 'hidden') { hidden = true; break; } }
    if (hidden) continue;
    if (el.matches('label[for]') && !el.textContent.trim()) continue;
    if (el.closest('.md-sidebar') && r.right < 0) continue;  // the closed drawer, off screen
    if (el.matches('.portal-skip') || el.closest('.sr-only')) continue;
    if (cs.display === 'inline') {
      const block = el.parentElement;
      const rest = block ? block.textContent.replace(el.textContent, '').trim() : '';
      if (rest.length > 0) continue;  // inline in a sentence or a list of words: spacing exception
    }
    if (r.height < 23.5 || r.width < 23.5) out.push([el.tagName.toLowerCase() + '.' + (el.className || '').toString().split(' ')[0], Math.round(r.width), Math.round(r.height), (el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 16)]);
  }
  return out.slice(0, 15);
}"""

FOCUS_STYLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const cs = getComputedStyle(el);
  const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2;
  const shadow = cs.boxShadow && cs.boxShadow !== 'none';
  return {tag: el.tagName.toLowerCase(), text: (el.textContent || el.id || '').trim().slice(0, 16), visible: outline || shadow,
          outline: cs.outlineStyle + ' ' + cs.outlineWidth, shadow: cs.boxShadow};
}"""


def _crumbs(pg):
    nav = pg.locator("nav.portal-crumbs")
    if nav.count() != 1:
        return None
    return [t.strip() for t in nav.locator("li").all_inner_texts()]


def _axe(pg):
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(pg)
    return [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
            for v in result.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name,path,trail", PAGES, ids=[p[0] for p in PAGES])
def test_page_kind_at_width(contexts, server, viewport, name, path, trail):
    pg = contexts(viewport)
    pg.errors.clear()
    pg.goto(server + path)
    if name == "search":
        pg.wait_for_selector("#portal-search[data-ready=true]", state="attached")
    problems = []
    width = pg.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        problems.append(f"page scrolls sideways: {width[0]} px content in a {width[1]} px window")
    # the drawer (Material's primary sidebar) holds the site nav on every page
    drawer = pg.locator(".md-sidebar--primary .md-nav--primary > .md-nav__list > .md-nav__item")
    tops = [" ".join(t.split()) for t in drawer.all_text_contents()]
    if not all(any(t.startswith(want) for t in tops) for want in ("首页", "政府信息公开", "信息目录", "站内搜索")):
        problems.append(f"drawer nav missing top items: {tops[:6]}")
    got = _crumbs(pg)
    if got != trail:
        problems.append(f"breadcrumbs {got} != {trail}")
    if name != "404":  # the tab of the section the page belongs under is lit, nav page or not
        tab = [" ".join(t.split()) for t in pg.locator(".md-tabs__item--active").all_text_contents()]
        tabs = [next(iter(item)) for item in CONFIG["nav"]]  # the top-level nav titles
        want = trail[1] if len(trail) > 1 and trail[1] in tabs else "首页"
        if tab != [want]:
            problems.append(f"active tab {tab} != {[want]}")
    small = pg.evaluate(SMALL_TEXT)
    if small:
        problems.append(f"text under 16 px: {small}")
    targets = pg.evaluate(SMALL_TARGETS)
    if targets:
        problems.append(f"targets under 24 px: {targets}")
    violations = _axe(pg)
    if violations:
        problems.append(f"axe: {violations}")
    if viewport in ("phone-375", "desktop-1366"):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{viewport}-{name}.png"), full_page=True)
    if pg.errors:
        problems.append(f"JavaScript errors: {pg.errors}")
    assert problems == []


def test_drawer_opens_with_the_nav_on_a_record_page(contexts, server):
    pg = contexts("phone-375")
    pg.goto(server + f"records/{rec('城镇老旧小区改造实施办法（试行）')['slug']}/")
    pg.click("label.md-header__button[for=__drawer]")
    pg.wait_for_timeout(400)
    link = pg.locator(".md-sidebar--primary a.md-nav__link", has_text="信息目录").first
    assert link.is_visible()
    box = link.bounding_box()
    assert box and 0 <= box["x"] < 375 and box["height"] >= 24


@pytest.mark.parametrize("name,path", [(n, p) for n, p, _ in PAGES
                                       if n in ("home", "column-tjxx", "norm-valid", "cat-type-disclosure-p2", "apply", "annual-report")])
def test_focus_is_visible_on_each_focusable_element(contexts, server, name, path):
    pg = contexts("desktop-1366")
    pg.goto(server + path)
    pg.evaluate("() => document.activeElement && document.activeElement.blur()")
    seen, invisible = [], []
    for _ in range(120):
        pg.keyboard.press("Tab")
        state = pg.evaluate(FOCUS_STYLE)
        if state is None:
            break
        key = (state["tag"], state["text"])
        if seen and key == seen[0]:
            break  # wrapped around
        seen.append(key)
        if not state["visible"]:
            invisible.append(state)
    assert len(seen) >= 5
    assert invisible == []
    assert seen[0][1] == "跳到正文"  # the skip link comes first on every page


def test_header_search_box_has_a_focus_ring(contexts, server):
    pg = contexts("desktop-1366")
    pg.goto(server + "catalogue/")
    pg.focus("#portal-q")
    style = pg.evaluate("() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; }")
    assert style[0] != "none" and float(style[1].rstrip("px")) >= 3


def test_bigtext_toggle_persists_across_pages(browser, server):
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    pg = ctx.new_page()
    try:
        pg.goto(server)
        before = pg.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.md-typeset p')).fontSize)")
        button = pg.locator("[data-portal-bigtext]")
        assert button.get_attribute("aria-pressed") == "false"
        button.click()
        assert button.get_attribute("aria-pressed") == "true"
        pg.goto(server + f"records/{rec('青岚县电动自行车停放充电安全管理规定')['slug']}/")
        assert "portal-big" in pg.evaluate("() => document.documentElement.className")
        after = pg.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.portal-body p')).fontSize)")
        assert after >= before * 1.2
        assert pg.locator("[data-portal-bigtext]").get_attribute("aria-pressed") == "true"
        width = pg.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1]
        pg.locator("[data-portal-bigtext]").click()
        pg.goto(server + "catalogue/")
        assert "portal-big" not in pg.evaluate("() => document.documentElement.className")
    finally:
        ctx.close()


def test_printed_record_shows_site_url_and_date(browser, server):
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    pg = ctx.new_page()
    try:
        r = rec("农村集体经营性建设用地入市管理办法》的通知")
        pg.goto(server + f"records/{r['slug']}/")
        pg.emulate_media(media="print")
        head = pg.locator(".portal-print-head")
        assert head.is_visible()
        text = head.inner_text()
        assert SITE in text
        assert f"{CONFIG['site_url']}records/{r['slug']}/" in text
        today = dt.date.today()
        assert re.search(r"打印日期：\d{4}-\d{2}-\d{2}", text)
        printed = dt.date.fromisoformat(re.search(r"打印日期：(\d{4}-\d{2}-\d{2})", text).group(1))
        assert abs((printed - today).days) <= 1
        assert not pg.locator(".md-header").is_visible() and not pg.locator(".portal-tools").is_visible()
        body = pg.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.portal-body p')).fontSize)")
        table = pg.evaluate("() => parseFloat(getComputedStyle(document.querySelector('table.portal-meta td')).fontSize)")
        assert body >= table
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.pdf(path=str(ARTIFACTS / "print-norm-valid.pdf"))
    finally:
        ctx.close()


def test_phone_metadata_block_is_label_over_value_and_lists_are_cards(contexts, server):
    pg = contexts("phone-375")
    pg.goto(server + f"records/{rec('青岚县电动自行车停放充电安全管理规定')['slug']}/")
    th = pg.locator("table.portal-meta th", has_text="发布日期").bounding_box()
    td = pg.locator("table.portal-meta th", has_text="发布日期").locator("xpath=following-sibling::td[1]").bounding_box()
    assert td["y"] >= th["y"] + th["height"] - 1 and abs(td["x"] - th["x"]) < 2  # value under its label
    assert td["height"] < 40  # the date on one line
    pg.goto(server + "catalogue/normative/")
    row = pg.locator("table.portal-list tbody tr").first
    title = row.locator("td.portal-list__title").bounding_box()
    date = row.locator("td.portal-list__date").bounding_box()
    doc = row.locator("td.portal-list__doc").bounding_box()
    assert date["y"] > title["y"] and doc["y"] > title["y"]  # title first, then 文号 · 日期
    assert date["height"] < 40 and doc["height"] < 40  # never wrapped


def test_annual_table3_scrolls_inside_itself_and_keeps_its_labels(contexts, server):
    pg = contexts("phone-375")
    pg.goto(server + f"records/{rec('青岚县教育局2024年政府信息公开工作年度报告')['slug']}/")
    wrap = pg.locator(".portal-table-wrap--sticky")
    assert wrap.count() == 1
    sizes = wrap.evaluate("w => [w.scrollWidth, w.clientWidth]")
    assert sizes[0] > sizes[1]  # wider than the screen: it scrolls inside its frame
    label = wrap.locator("tbody th[scope=row]", has_text="（一）予以公开")
    wrap.evaluate("w => { w.scrollLeft = w.scrollWidth; }")
    pg.wait_for_timeout(100)
    assert wrap.evaluate("w => w.scrollLeft") > 100
    lb, wb = label.bounding_box(), wrap.bounding_box()
    assert wb["x"] - 1 <= lb["x"] <= wb["x"] + 2  # scrolled to the end, the row label still stands at the left edge
    total = wrap.locator("thead th", has_text="总计")
    tb = total.bounding_box()
    assert tb["x"] >= wb["x"] - 1 and tb["x"] + tb["width"] <= wb["x"] + wb["width"] + 1  # 总计 reachable, in view
