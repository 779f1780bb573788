"""Rules as pure functions: date in, verdict out."""

import datetime as dt

import pytest

from disclosure.model import annual_tables
from disclosure.model.calendar import WorkCalendar
from disclosure.model.config import uscc_check_char, uscc_is_valid
from disclosure.rules import annual, identity, normative, safety, timeliness

CAL = WorkCalendar.default()
D = dt.date.fromisoformat


@pytest.mark.parametrize("formed,published,status,late", [
    ("2024-02-08", "2024-03-13", "on_time", 0),
    ("2024-02-08", "2024-03-14", "late", 1),
    ("2024-02-08", "2024-03-19", "late", 4),
    ("2026-12-20", "2027-02-01", "provisional", 0),  # 2027 has no confirmed schedule
])
def test_timeliness_judge(formed, published, status, late):
    v = timeliness.judge(D(formed), D(published), D("2027-06-01"), CAL)
    assert (v.status, v.late_days) == (status, late)


def test_unpublished_record_is_pending_then_overdue():
    assert timeliness.judge(D("2026-10-12"), None, D("2026-11-09"), CAL).status == "pending"
    v = timeliness.judge(D("2026-10-12"), None, D("2026-11-20"), CAL)
    assert v.status == "overdue" and v.deadline.deadline == D("2026-11-09") and v.late_days == 9


@pytest.mark.parametrize("doc_no,ok", [
    ("青政规〔2024〕1号", True), ("国办发〔2017〕47号", True), ("青政规[2024]1号", False),
    ("青政规（2024）1号", False), ("青政规〔2024〕01号", False), ("青政规〔2024〕第1号", False),
    ("青政规〔24〕1号", False), ("青政规〔2024〕1", False),
])
def test_doc_no_format(doc_no, ok):
    assert (identity.doc_no_problem(doc_no) is None) is ok


def test_id_number_needs_a_valid_check_digit():
    assert safety.find_id_numbers("号码 110101199003070070 结束")
    assert not safety.find_id_numbers("号码 110101199003070079 结束")  # wrong check digit
    assert not safety.find_id_numbers("索引号 MB0000017/2024-00012")


@pytest.mark.parametrize("text,hit", [
    ("联系电话 13812345678", True), ("电话：139 1234 5678", True), ("0579-8612 3400", False),
    ("编号 2024138123456789", False),
])
def test_mobile_numbers(text, hit):
    assert bool(safety.MOBILE.search(text)) is hit


@pytest.mark.parametrize("text,hit", [
    ("秘密★1年", True), ("机密 ★", True), ("密级：绝密", True), ("\n绝密\n", True),
    ("不得泄露商业机密和个人隐私", False), ("保密工作", False),
])
def test_classified_marks(text, hit):
    assert bool(safety.CLASSIFIED.search(text)) is hit


def test_credit_code_check_character():
    assert uscc_is_valid("11339901MB0000017L")
    assert not uscc_is_valid("11339901MB0000017M")
    assert uscc_check_char("91350100M000100Y4") == "3"  # a published example (GB 32100 annex)


def test_annual_deadlines_by_level():
    rules = {"government": "03-31", "department": "01-31", "township": "01-31"}
    assert annual.deadline_for(2025, "government", rules) == D("2026-03-31")
    assert annual.deadline_for(2025, "department", rules) == D("2026-01-31")


class _Doc:
    def __init__(self, **kw):
        self.repealed = None
        self.expires = None
        self.amended_by = []
        self.published = D("2024-01-01")
        self.__dict__.update(kw)


def test_normative_status_precedence():
    from disclosure.model.records import Repeal

    amender = _Doc(published=D("2025-06-01"))
    doc = _Doc(expires=D("2029-01-01"), amended_by=["X"])
    assert normative.status(doc, {"X": amender}, D("2025-05-01")) == "有效"
    assert normative.status(doc, {"X": amender}, D("2025-06-01")) == "已修改"
    doc.repealed = Repeal(D("2026-01-01"), "Y")
    assert normative.status(doc, {"X": amender}, D("2026-01-01")) == "废止"
    assert normative.status(_Doc(expires=D("2026-04-30")), {}, D("2026-05-01")) == "失效"


def _balanced():
    z = [0] * 7
    t3 = {"new": [2, 1, 0, 0, 0, 0, 3], "carried_over": z, "granted": [1, 1, 0, 0, 0, 0, 2], "partly": z,
          "total": [2, 1, 0, 0, 0, 0, 3], "carried_forward": z}
    for g, (_, leaves) in annual_tables.T3_GROUPS.items():
        t3[g] = {k: list(z) for k, _ in leaves}
    t3["unable"]["not_held"] = [1, 0, 0, 0, 0, 0, 1]
    return {"table3": t3, "table4": {"review": [1, 0, 0, 1, 2], "litigation_direct": [0] * 5,
                                     "litigation_after_review": [0] * 5}}


def test_annual_tables_balanced_and_broken():
    t = _balanced()
    assert annual_tables.check(t) == []
    t["table3"]["unable"]["not_held"][0] = 2
    cells = [p.cell for p in annual_tables.check(t)]
    assert "表三「（七）总计」行「自然人」列" in cells
    t = _balanced()
    t["table4"]["review"][4] = 3
    assert [p.cell for p in annual_tables.check(t)] == ["表四「行政复议」的「总计」"]


# ---------------------------------------------------------------- fixes to copy (issue 12)
@pytest.mark.parametrize("written,fixed", [
    ("2026/11/5", "2026-11-05"), ("2026.11.5", "2026-11-05"), ("2026年11月5日", "2026-11-05"),
    ("2026 年 11 月 5 日", "2026-11-05"), ("20261105", "2026-11-05"), ("２０２６-11-5", "2026-11-05"),
    ("2026/2/30", None), ("下周一", None),
])
def test_date_corrected(written, fixed):
    from disclosure.model.hints import date_corrected

    assert date_corrected(written) == fixed


@pytest.mark.parametrize("doc_no,fixed", [
    ("青教[2026]003号", "青教〔2026〕3号"), ("青教（2026）3号", "青教〔2026〕3号"), ("青教〔2026〕第3号", "青教〔2026〕3号"),
    ("青教【2026】3", "青教〔2026〕3号"), ("青教﹝２０２６﹞３号", "青教〔2026〕3号"), ("青教 [2026] 3 号", "青教〔2026〕3号"),
    ("青教[26]3号", "青教〔2026〕3号"), ("[青教]2026 3", None), ("青教〔2026〕3号", None),
])
def test_doc_no_corrected(doc_no, fixed):
    assert identity.doc_no_corrected(doc_no, 2026) == fixed


def test_nearest_first_puts_containing_values_first():
    from disclosure.model.hints import nearest_first

    assert nearest_first("教育", ["财政局", "青岚县教育局", "教育体育局", "人民政府"])[:2] == ["教育体育局", "青岚县教育局"]


# ---------------------------------------------------------------- screening and markup (issue 11)
def test_mask_personal_masks_every_number_in_any_text():
    from disclosure.model.screening import mask_personal

    text = "延迟说明：当事人110101199003070070，电话１３８１２３４５６７８，索引号 MB0000017/2024-00012"
    out = mask_personal(text)
    assert "110101199003070070" not in out and "１３８１２３４５６７８" not in out
    assert "110*************70" in out and "MB0000017/2024-00012" in out


def test_fullwidth_digits_do_not_pass_the_index_template():
    from disclosure.model.config import load_config
    from conftest import ROOT

    cfg = load_config(ROOT / "mkdocs.yml")
    pattern = cfg.index_no_pattern(cfg.unit("jyj"))
    assert pattern.match("MB0000033/2026-00001")
    assert not pattern.match("MB0000033/２０２６-00001") and not pattern.match("MB0000033/2026-\u0660\u0660\u0660\u0660\u0661")


def test_markup_scan_reads_tags_as_a_browser_does():
    from disclosure.model.sanitize import iter_start_tags

    tags = list(iter_start_tags('<details/open/ontoggle=alert(1)>x <a href=javascript&#58;x title="a>b">'))
    assert [(t, [a for a, _v, _p in attrs]) for t, attrs, _pos in tags] == [("details", ["open", "ontoggle"]), ("a", ["href", "title"])]
    assert tags[1][1][1][1] == "a>b"  # '>' inside a quoted value does not end the tag


def test_markup_scan_on_pathological_input_reports_each_tag_once():
    from disclosure.model.sanitize import scan_markup

    assert scan_markup("< 甲" * 40000) == []
    found = scan_markup('<img src=x onerror=y>' * 5000)
    assert len(found) == 5000 and {p.code for p in found} == {"E304"}
    assert len(scan_markup('<a t="' * 5000)) == 4999  # an unclosed quote swallows the rest, as in a browser


def test_sanitize_html_keeps_document_markup_and_drops_the_rest():
    from disclosure.model.sanitize import sanitize_html

    kept = ('<h2 id="a">标题</h2><table><tr><th scope="col" style="text-align: center;">项</th><td colspan="2">1</td>'
            '</tr></table><p><a href="https://www.gov.cn/" title="t">链接</a> <img src="/x.png" alt="图"></p>')
    out = sanitize_html(kept, {"www.qinglan.gov.cn"})
    for piece in ('id="a"', 'scope="col"', 'colspan="2"', 'href="https://www.gov.cn/"', 'src="/x.png"', "text-align:center"):
        assert piece in out
    dropped = sanitize_html('<img src="https://evil.example/p.gif"><a href="javascript:alert(1)">x</a>'
                            '<div class="portal-banner admonition">y</div><script>alert(1)</script>', {"www.qinglan.gov.cn"})
    assert "evil" not in dropped and "javascript" not in dropped and "portal-banner" not in dropped and "script" not in dropped
    assert 'class="admonition"' in dropped
