"""Every broken record gives its specific code at the right line, in plain words, with no traceback."""

import hashlib
import re
import json
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, build, run_cli

BAD = ROOT / "tests" / "bad"
EXPECTED = yaml.safe_load((BAD / "expected.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report():
    proc = run_cli("--config", str(BAD / "mkdocs.yml"), "validate", "--format", "json", "--as-of", "2026-11-20")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def _file(name: str) -> str:
    """expected.yml keys: a plain name is under content/records/; a key with a folder is a path under tests/bad/."""
    return name if "/" in name else f"content/records/{name}"


def test_corpus_is_large_enough():
    broken = [name for name, exp in EXPECTED.items() if exp]
    assert len(broken) >= 100


def test_every_fixture_is_listed():
    on_disk = {p.relative_to(BAD).as_posix() for p in (BAD / "content").rglob("*")
               if p.suffix.lower() in (".md", ".markdown") or p.suffix == ".MD" or p.suffix == ".Md"}
    listed = {_file(name) for name in EXPECTED}
    assert on_disk == listed


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bad_record_reports_its_code_and_line(report, name):
    got = sorted([f["code"], f["line"]] for f in report["findings"]
                 if f["file"] == _file(name) and f["level"] == "error")
    assert got == sorted(EXPECTED[name])


def test_every_error_has_message_and_hint(report):
    for f in report["findings"]:
        assert f["message"] and f["hint"], f
        assert f["file"].startswith("content/"), f


def test_text_output_names_file_line_code_and_fix():
    proc = run_cli("--config", str(BAD / "mkdocs.yml"), "validate", "--as-of", "2026-11-20",
                   str(BAD / "content/records/e107_february_30.md"))
    assert proc.returncode == 1
    line = next(l for l in proc.stdout.splitlines() if "E107" in l and ".md:" in l)
    assert line.startswith("content/records/e107_february_30.md:8: E107 error [written]")
    assert "2026-02-30" in line and "修改方法" in line
    assert "错误 1 条" in proc.stdout


def test_unknown_key_suggests_nearest(report):
    f = next(f for f in report["findings"] if f["file"].endswith("e104_unknown_key.md"))
    assert "published" in f["hint"]


def test_gbk_file_gets_a_plain_message(report):
    f = next(f for f in report["findings"] if f["file"].endswith("e101_gbk.md"))
    assert "GBK" in f["message"] and "UTF-8" in f["hint"]


def test_personal_data_never_echoed_in_full(report):
    text = json.dumps(report, ensure_ascii=False)
    assert "110101199003070070" not in text.replace("110101199003070070.pdf", "")
    assert "13812345678" not in text


def _tree_digest(path: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        h.update(str(p.relative_to(path)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def test_validation_writes_nothing_and_build_aborts(tmp_path):
    before = _tree_digest(BAD)
    site = tmp_path / "site"
    proc = build(site, config=BAD / "mkdocs.yml", search=False)
    assert proc.returncode == 1
    assert "记录校验未通过" in proc.stderr and "E302" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (site / "index.html").exists()
    assert _tree_digest(BAD) == before


def test_bom_and_crlf_accepted(tmp_path):
    from disclosure.model.config import load_config
    from disclosure.model.records import parse_record

    cfg = load_config(BAD / "mkdocs.yml")
    src = (BAD / "content/records/e202_duplicate_index_a.md").read_text(encoding="utf-8")
    path = cfg.docs_dir / "records" / "tmp_bom_crlf.md"
    raw = b"\xef\xbb\xbf" + src.replace("\n", "\r\n").encode("utf-8")
    result = parse_record(path, cfg, raw=raw)
    assert result.findings == [] and result.record is not None
    assert result.record.title == "青岚县人民政府关于测试事项的通知"
    assert result.record.line("published") == 9
    assert "\r" not in result.record.body


# ---------------------------------------------------------------- messages that carry the fix (issue 12)
def _one(report, name, code):
    hits = [f for f in report["findings"] if f["file"] == _file(name) and f["code"] == code]
    assert len(hits) == 1, (name, code, hits)
    return hits[0]


def _line_with(name, needle):
    text = (BAD / _file(name)).read_text(encoding="utf-8")
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


def test_fullwidth_colon_named_at_its_own_line(report):
    f = _one(report, "m103_fullwidth_colon.md", "E103")
    assert f["line"] == _line_with("m103_fullwidth_colon.md", "title：")
    assert "中文冒号「：」" in f["message"]
    assert "title: 青岚县人民政府关于冬季安全检查的通知" in f["hint"]


def test_missing_space_after_colon(report):
    f = _one(report, "m103_no_space_after_colon.md", "E103")
    assert f["line"] == 3 and "缺少空格" in f["message"] and "title: 青岚县" in f["hint"]


@pytest.mark.parametrize("name,char,fix", [
    ("m103_doc_no_starts_with_bracket.md", "[", 'doc_no: "[青政规]〔2026〕9号"'),
    ("m103_title_starts_with_bracket.md", "[", 'title: "[通知]青岚县人民政府关于测试事项的通知"'),
    ("m103_summary_starts_with_at.md", "@", 'summary: "@各乡镇 请于月底前报送"'),
    ("m103_summary_starts_with_star.md", "*", 'summary: "*重要* 冬季安全检查"'),
])
def test_value_starting_with_a_yaml_indicator_is_explained(report, name, char, fix):
    f = _one(report, name, "E103")
    key = fix.split(":")[0]
    assert f["line"] == _line_with(name, f"{key}: {char}")
    assert f"以「{char}」开头" in f["message"] and "did not find" not in f["message"]
    assert fix in f["hint"]


def test_hash_in_a_value_warns_and_shows_how_to_quote(report):
    f = _one(report, "m117_hash_in_summary.md", "W117")
    assert f["line"] == _line_with("m117_hash_in_summary.md", "#重要") and f["level"] == "warning"
    assert "「冬季安全检查」" in f["message"] and "#重要" in f["message"]
    assert 'summary: "冬季安全检查 #重要"' in f["hint"]
    g = _one(report, "m117_hash_starts_genre.md", "W117")
    assert "空的" in g["message"] and 'genre: "#通知"' in g["hint"]


@pytest.mark.parametrize("name,fixed", [
    ("e107_slashes.md", "2026-03-05"), ("m107_date_chinese.md", "2026-03-02"),
    ("m107_date_dots.md", "2026-03-05"), ("m107_date_unpadded.md", "2026-03-02"),
])
def test_date_errors_give_the_corrected_date(report, name, fixed):
    f = _one(report, name, "E107")
    assert f["hint"] == f"改为 {fixed}"


@pytest.mark.parametrize("name,fixed", [
    ("e204_square_brackets.md", "青政规〔2026〕8号"), ("m204_zero_padded_brackets.md", "青政规〔2026〕9号"),
    ("m204_di_hao_fix.md", "青政规〔2026〕9号"), ("m108_unit_and_doc_no.md", "青政规〔2026〕10号"),
])
def test_doc_no_errors_give_the_corrected_doc_no(report, name, fixed):
    f = _one(report, name, "E204")
    assert f"改为「{fixed}」" in f["hint"]


def test_unknown_column_topic_issuer_list_allowed_values_nearest_first(report):
    col = _one(report, "e108_unknown_column.md", "E108")
    assert "「行政规范性文件」" in col["hint"] and "「通知公告」" in col["hint"]
    topic = _one(report, "m108_topic_first_level.md", "E108")
    listed = re.findall(r"「([^」]+)」", topic["hint"].split("最接近的在前）：", 1)[1])
    assert listed[:9] and all(t.startswith("综合政务\\") for t in listed[:9])  # the nine 综合政务 topics first
    assert "要写到二级" in topic["message"]
    unit = _one(report, "m108_unit_and_doc_no.md", "E108")
    assert unit["hint"].startswith("改为「青岚县人民政府」") and "「青岚县教育局」" in unit["hint"]


def test_a_wrong_unit_does_not_hide_other_problems(report):
    assert _one(report, "m108_unit_and_doc_no.md", "E204")["line"] == _line_with("m108_unit_and_doc_no.md", "doc_no:")
    assert _one(report, "m108_unit_and_mobile.md", "E303")["line"] == _line_with("m108_unit_and_mobile.md", "13812345678")


def test_scaffold_placeholders_are_errors_once_published(report):
    got = {f["field"]: f for f in report["findings"] if f["file"] == _file("m116_old_scaffold_normative.md") and f["code"] == "E116"}
    assert set(got) == {"doc_no", "reg_no", "reviewed.by", "summary", "body"}
    assert "审查人姓名" in got["reviewed.by"]["message"] and "保密审查人" in got["reviewed.by"]["message"]
    assert "「正文。」" in got["body"]["message"] and got["body"]["line"] == 16
    assert [f for f in report["findings"] if f["file"] == _file("ok_draft_keeps_placeholders.md") and f["level"] == "error"] == []


def test_ordinary_pages_are_not_records_and_stray_records_are(report):
    assert [f for f in report["findings"] if f["file"] == "content/xxgk/ok_guide_page.md"] == []
    f = _one(report, "content/xxgk/h113_record_in_xxgk.md", "E113")
    assert "content/records/" in f["hint"]
    g = _one(report, "h114_upper_case.MD", "E114")
    assert "h114_upper_case.md" in g["hint"]
