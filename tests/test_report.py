"""The compliance report: figures checked against an independent computation from the fixtures."""

import csv
import datetime as dt
import io
import json
from pathlib import Path

import holidays
import pytest
import yaml

from conftest import AS_OF, ROOT, build, copy_site_source, run_cli

AS_OF_DATE = dt.date.fromisoformat(AS_OF)
CN = holidays.China(years=range(2023, 2028))


def deadline(formed: dt.date, n: int = 20) -> dt.date:
    """Independent of the package: the `holidays` package's working days, day 0 = formation."""
    day, count = formed, 0
    while count < n:
        day += dt.timedelta(days=1)
        count += CN.is_working_day(day)
    return day


def working_days_between(a: dt.date, b: dt.date) -> int:
    return sum(CN.is_working_day(a + dt.timedelta(days=i)) for i in range(1, (b - a).days + 1))


@pytest.fixture(scope="module")
def fixtures():
    out = []
    for p in ROOT.glob("content/records/**/*.md"):
        out.append(yaml.safe_load(p.read_text(encoding="utf-8").split("\n---\n", 1)[0][4:]))
    return out


@pytest.fixture(scope="module")
def report():
    proc = run_cli("report", "--as-of", AS_OF, "--format", "json", check=True)
    return json.loads(proc.stdout)


def test_late_records_named_with_working_days(report, fixtures):
    expected = {}
    for r in fixtures:
        if r["type"] == "annual-report" or not r.get("published") or r["published"] > AS_OF_DATE:
            continue
        formed = max(r["written"], r.get("changed") or r["written"])
        dl = deadline(formed)
        if r["published"] > dl:
            expected[r["index_no"]] = working_days_between(dl, r["published"])
    got = {x["index_no"]: x["working_days_late"] for x in report["late"]}
    assert got == expected and len(got) >= 4
    reasons = {x["index_no"]: x["late_reason"] for x in report["late"]}
    assert sum(1 for v in reasons.values() if v) >= 2


def test_per_unit_figures(report, fixtures):
    for u in report["units"]:
        mine = [r for r in fixtures if r["issuer"] == u["unit"] and r["type"] != "annual-report"
                and r.get("published") and r["published"] <= AS_OF_DATE]
        late = [r for r in mine if r["published"] > deadline(max(r["written"], r.get("changed") or r["written"]))]
        assert u["published"] == len(mine)
        assert (u["on_time"], u["late"]) == (len(mine) - len(late), len(late))
        assert u["late_with_reason"] == sum(1 for r in late if r.get("late_reason"))
        if mine:
            assert u["on_time_rate"] == round((len(mine) - len(late)) / len(mine), 4)


def test_overdue_drafts(report, fixtures):
    drafts = [r for r in fixtures if not r.get("published") or r["published"] > AS_OF_DATE]
    overdue = {r["index_no"] for r in drafts if deadline(r["written"]) < AS_OF_DATE}
    got = {d["index_no"] for d in report["drafts"] if d["status"] == "overdue"}
    assert got == overdue and len(got) >= 1


def test_annual_report_section(report):
    status = {(a["unit"], a["year"]): a["status"] for a in report["annual_reports"]}
    assert status[("青岚县财政局", 2025)] == "missing"
    assert status[("青岚县云溪镇人民政府", 2025)] == "late"
    assert status[("青岚县教育局", 2024)] == "on_time"
    late = next(a for a in report["annual_reports"] if a["status"] == "late")
    assert late["days_late"] == (dt.date.fromisoformat(late["published"]) - dt.date.fromisoformat(late["deadline"])).days


def test_normative_and_columns_sections(report):
    issues = {(n["doc_no"], n["issue"]) for n in report["normative"]}
    assert ("青市监规〔2024〕1号", "expiring") in issues
    assert ("青政规〔2024〕2号", "expired_unhandled") in issues
    cols = {c["column"]: c for c in report["columns"]}
    assert cols["机关职能"]["status"] == "stale"  # last record 2024-01
    assert cols["统计信息"]["status"] == "ok"
    assert all(c["status"] in ("ok", "empty", "stale") for c in cols.values())


def test_ranking_formula_and_ties():
    from disclosure.supervision.report import RankItem, Report, UnitTimeliness, rank_units
    from disclosure.model.config import Unit

    units = [Unit(x, x, "", "department", "") for x in ("a", "b", "c", "d")]
    rep = Report("o", AS_OF, {})
    rep.units = [UnitTimeliness(u.id, u.name, judged=4, on_time=k, on_time_rate=k / 4) for u, k in zip(units, (3, 4, 4, 2))]

    class Cfg:
        @staticmethod
        def column(_):
            return None

    ranking = rank_units(units, rep, [], AS_OF_DATE, {}, Cfg)
    assert [(r.unit_id, r.rank) for r in ranking] == [("b", 1), ("c", 1), ("a", 3), ("d", 4)]
    assert ranking[0].score == 100 * (0.6 * 1 + 0.25 * 1 + 0.15 * 0)


def test_demo_ranking_printed_with_formula(report):
    ranks = [r["rank"] for r in report["ranking"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    assert "得分 = 100" in report["score_formula"]
    text = run_cli("report", "--as-of", AS_OF, check=True).stdout
    assert "六、单位排名" in text and "计分方法：得分 = 100" in text


def test_csv_for_spreadsheets(tmp_path):
    out = tmp_path / "r.csv"
    run_cli("report", "--as-of", AS_OF, "--format", "csv", "-o", str(out), check=True)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["名次", "单位", "得分"] and len(rows) == 7


def test_unit_and_year_filters():
    one = json.loads(run_cli("report", "--as-of", AS_OF, "--unit", "scj", "--year", "2025", "--format", "json", check=True).stdout)
    assert [u["unit_id"] for u in one["units"]] == ["scj"]
    assert {x["published"][:4] for x in one["late"]} == {"2025"}
    assert run_cli("report", "--unit", "nobody").returncode == 2


def test_html_report_draws_charts_in_chromium(tmp_path):
    from test_browser import CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    out = tmp_path / "report.html"
    run_cli("report", "--as-of", AS_OF, "--format", "html", "-o", str(out), check=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"])
        page = b.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(out.as_uri())
        bars = page.locator("svg.chart rect.bar")
        assert bars.count() == 6
        widths = [float(bars.nth(i).get_attribute("width")) for i in range(6)]
        assert max(widths) == 380 and min(widths) > 0
        assert page.locator("svg.chart polyline.series").count() == 6
        box = page.locator("svg.chart").first.bounding_box()
        assert box["width"] > 300 and box["height"] > 100
        page.screenshot(path=str(tmp_path / "report.png"))
        b.close()
    assert requests == [out.as_uri()]


def test_annual_stats_row_and_check():
    proc = run_cli("annual-stats", "--year", "2025", "--unit", "jyj", "--format", "json", "--as-of", AS_OF, check=True)
    stats = json.loads(proc.stdout)
    assert stats["table2_normative"]["issued"] == 1 and stats["table2_normative"]["in_force"] == 2
    assert stats["report"]["problems"] == [] and stats["report"]["table2_mismatch"] == {}
    md = run_cli("annual-stats", "--year", "2025", "--unit", "jyj", "--format", "md", "--as-of", AS_OF, check=True).stdout
    assert "| 行政规范性文件 | 1 | 0 | 2 |" in md


def test_broken_annual_report_rejected_with_cell_named():
    proc = run_cli("--config", str(ROOT / "tests/bad/mkdocs.yml"), "annual-stats", "--year", "2025", "--unit", "jyj",
                   "--as-of", AS_OF)
    assert proc.returncode == 1
    assert "表三「自然人」列" in proc.stdout and "一+二 = 3+0 = 3" in proc.stdout


def test_compliance_page_in_site_and_report_beside_build(demo_site):
    page = (demo_site / "compliance" / "index.html").read_text(encoding="utf-8")
    assert "六、单位排名" in page and "<svg" in page
    assert "应催办" not in page  # draft titles are not public
    staff = demo_site.parent / f"{demo_site.name}-compliance-report.html"
    assert staff.exists() and "政府信息公开时效报告" in staff.read_text(encoding="utf-8")
    assert "青岚县2026年第三季度政府采购执行情况" in staff.read_text(encoding="utf-8")


def test_compliance_page_off_by_config(tmp_path):
    cfg = copy_site_source(tmp_path / "src")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("compliance_page: true", "compliance_page: false"), encoding="utf-8")
    site = tmp_path / "site"
    assert build(site, config=cfg, search=False, cwd=tmp_path).returncode == 0
    assert not (site / "compliance").exists()
    assert (tmp_path / "site-compliance-report.html").exists()


def test_report_template_keeps_record_values_as_text():
    """The report's tables show record titles and unit names: the template (partials/portal/compliance.html,
    through the staff report page) prints them as text, whatever they hold."""
    import html5lib

    from disclosure.supervision.render import REPORT_TEMPLATE
    from disclosure.site.views import make_env, template_dirs

    hostile = '</td></table><script>alert(1)</script><img src=x onerror=alert(2)>'
    report = {"office": hostile, "period": "截至 2026-11-20", "as_of": "2026-11-20", "formula": "得分 = 100",
              "sections": [{"anchor": "late", "level": 3, "title": "逾期公开的信息", "headers": ["标题"], "rows": [[hostile]]}],
              "bars": {"height": 58, "units": [{"label": hostile, "y": 10, "width": "0.0", "text_x": "196.0", "pct": "—"}]},
              "monthly": None}
    page = make_env(template_dirs()).get_template(REPORT_TEMPLATE).render(report=report)
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    assert not [e for e in tree.iter() if e.tag in ("script", "img")]
    assert [td.text for td in tree.iter("td")] == [hostile]
    assert tree.find(".//h1").text == f"{hostile} 政府信息公开时效报告"
