"""The disclosure command: deadline, new, validate exit codes."""

import json
import shutil

import pytest

from conftest import ROOT, copy_site_source, run_cli


def test_deadline_json_is_one_object():
    proc = run_cli("deadline", "2024-02-08", "--json", check=True)
    out = json.loads(proc.stdout)
    assert out["formed"] == "2024-02-08" and out["deadline"] == "2024-03-13" and out["provisional"] is False
    assert {"date": "2024-02-12", "reason": "春节", "confirmed": True} in out["skipped"]


def test_deadline_changed_restarts_clock():
    out = json.loads(run_cli("deadline", "2024-01-02", "--changed", "2024-02-08", "--json", check=True).stdout)
    assert out["formed"] == "2024-02-08" and out["deadline"] == "2024-03-13"


def test_deadline_text_explains_skipped_days():
    proc = run_cli("deadline", "2025-09-26", check=True)
    assert "第 20 个工作日为 2025-10-30" in proc.stdout
    assert "2025-10-11 星期六 上班：调休上班" in proc.stdout
    assert "2025-10-06 星期一 不计：中秋" in proc.stdout


def test_deadline_into_2027_skips_new_year_by_law():
    out = json.loads(run_cli("deadline", "2026-12-10", "--json", check=True).stdout)
    assert out["deadline"] == "2027-01-08" and out["provisional"] is True
    jan1 = next(s for s in out["skipped"] if s["date"] == "2027-01-01")
    assert jan1["confirmed"] is False and jan1["reason"].startswith("元旦")


def test_2027_provisional_until_configured(tmp_path):
    out = json.loads(run_cli("deadline", "2027-01-05", "--json", check=True).stdout)
    assert out["provisional"] is True
    cfg = copy_site_source(tmp_path)
    text = cfg.read_text(encoding="utf-8").replace(
        "      years: {}", "      years:\n        2027: {holidays: {2027-01-01: 元旦}, workdays: {}}")
    cfg.write_text(text, encoding="utf-8")
    out = json.loads(run_cli("--config", str(cfg), "deadline", "2027-01-05", "--json", check=True).stdout)
    assert out["provisional"] is False


def test_usage_errors_exit_2():
    assert run_cli("deadline", "2024-13-01").returncode == 2
    assert run_cli("frobnicate").returncode == 2
    proc = run_cli("--config", "/nonexistent/mkdocs.yml", "validate")
    assert proc.returncode == 2 and "mkdocs.yml" in proc.stderr


def test_demo_validates_clean_with_warnings():
    proc = run_cli("validate", "--as-of", "2026-11-20", "--format", "json")
    assert proc.returncode == 0, proc.stdout[-2000:]
    report = json.loads(proc.stdout)
    assert report["counts"]["error"] == 0
    assert report["records"] >= 60
    codes = {f["code"] for f in report["findings"]}
    assert {"W401", "W402", "W501", "W502", "W603"} <= codes


def test_new_scaffolds_a_valid_record_with_next_index(tmp_path):
    cfg = copy_site_source(tmp_path)
    proc = run_cli("--config", str(cfg), "new", "--type", "normative", "--issuer", "jyj",
                   "--title", "青岚县测试管理办法", "--date", "2026-11-20", cwd=tmp_path, check=True)
    path = tmp_path / proc.stdout.strip()
    text = path.read_text(encoding="utf-8")
    # the demo's 教育局 used MB0000033/2026-00001 … 00006 in 2026
    assert "index_no: MB0000033/2026-00007" in text
    proc = run_cli("--config", str(cfg), "validate", str(path), "--as-of", "2026-11-20", "--format", "json")
    report = json.loads(proc.stdout)
    assert [f for f in report["findings"] if f["level"] == "error"] == []
    again = run_cli("--config", str(cfg), "new", "--type", "disclosure", "--issuer", "青岚县教育局",
                    "--date", "2026-11-21", cwd=tmp_path, check=True)
    assert "MB0000033/2026-00008" in (tmp_path / again.stdout.strip()).read_text(encoding="utf-8")


def test_new_rejects_unknown_unit(tmp_path):
    cfg = copy_site_source(tmp_path)
    proc = run_cli("--config", str(cfg), "new", "--type", "disclosure", "--issuer", "nobody")
    assert proc.returncode == 2 and "nobody" in proc.stderr and "jyj（青岚县教育局）" in proc.stderr


def test_pre_commit_hook_runs_validate_on_changed_records(tmp_path):
    import shlex
    import subprocess
    import yaml as _yaml

    hook = _yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))["repos"][0]["hooks"][0]
    assert hook["pass_filenames"] and "content/records" in hook["files"]
    entry = shlex.split(hook["entry"])
    assert entry[1:3] == ["validate", "--quiet"]
    good = sorted((ROOT / "content/records").rglob("*.md"))[0]
    bad = ROOT / "tests/bad/content/records/e107_february_30.md"
    ok = run_cli(*entry[1:], str(good))
    assert ok.returncode == 0, ok.stdout
    fail = run_cli("--config", str(ROOT / "tests/bad/mkdocs.yml"), *entry[1:], str(bad))
    assert fail.returncode == 1 and "E107" in fail.stdout


def test_new_unknown_unit_lists_ids_with_names_nearest_first(tmp_path):
    cfg = copy_site_source(tmp_path)
    proc = run_cli("--config", str(cfg), "new", "--type", "disclosure", "--issuer", "教育局")
    assert proc.returncode == 2
    assert "是否是 jyj（青岚县教育局）？" in proc.stderr
    listing = proc.stderr.split("最接近的在前）：", 1)[1]
    assert listing.startswith("jyj（青岚县教育局）") and "xzf（青岚县人民政府）" in listing


def test_scaffold_placeholders_fail_once_published(tmp_path):
    """The staff transcript §11: `new`, add only `published`, validate → the placeholders are errors."""
    cfg = copy_site_source(tmp_path)
    proc = run_cli("--config", str(cfg), "new", "--type", "normative", "--issuer", "jyj", "--title", "青岚县校园安全管理办法",
                   "--date", "2026-11-20", cwd=tmp_path, check=True)
    path = tmp_path / proc.stdout.strip()
    text = path.read_text(encoding="utf-8")
    assert "青政规" not in text and "审查人姓名" not in text and "\n正文。\n" not in text
    path.write_text(text.replace("# published: 发布日期（YYYY-MM-DD）；不填则为草稿，不会发布", "published: 2026-11-20"), encoding="utf-8")
    out = json.loads(run_cli("--config", str(cfg), "validate", str(path), "--as-of", "2026-11-20", "--format", "json").stdout)
    fields = {f["field"] for f in out["findings"] if f["code"] == "E116"}
    assert fields == {"doc_no", "reg_no", "reviewed.by", "summary", "body"}
    assert all(f["file"].endswith(path.name) and f["line"] > 1 for f in out["findings"] if f["code"] == "E116")


def test_validate_any_folder_checks_only_its_records(tmp_path):
    cfg = copy_site_source(tmp_path)
    whole = json.loads(run_cli("--config", str(cfg), "validate", str(tmp_path / "content"), "--as-of", "2026-11-20",
                               "--format", "json").stdout)
    assert [f for f in whole["findings"] if f["code"] == "E102"] == [] and whole["counts"]["error"] == 0
    assert whole["records"] >= 60
    pages = run_cli("--config", str(cfg), "validate", str(tmp_path / "content" / "xxgk"), "--as-of", "2026-11-20")
    assert pages.returncode == 0 and "共检查 0 条有效记录" in pages.stdout
    one_unit = json.loads(run_cli("--config", str(cfg), "validate", str(tmp_path / "content/records/2026/jyj"),
                                  "--as-of", "2026-11-20", "--format", "json").stdout)
    assert one_unit["records"] == len(list((tmp_path / "content/records/2026/jyj").glob("*.md")))
    assert all(f["file"].startswith("content/records/2026/jyj/") for f in one_unit["findings"])
    stray = tmp_path / "content" / "xxgk" / "notice.md"
    stray.write_text("---\ntype: disclosure\ntitle: 放错位置\n---\n\n正文\n", encoding="utf-8")
    proc = run_cli("--config", str(cfg), "validate", str(tmp_path / "content" / "xxgk"), "--as-of", "2026-11-20")
    assert proc.returncode == 1 and "content/xxgk/notice.md:1: E113 error" in proc.stdout
    assert "content/records/" in proc.stdout


@pytest.mark.parametrize("bad, fix", [
    ("site_name： 青岚县人民政府", "改为英文冒号加一个空格：site_name: 青岚县人民政府"),
    ("site_name:青岚县人民政府", "在冒号后加一个空格：site_name: 青岚县人民政府"),
    ("site_name: [青岚县人民政府", '整段加英文双引号：site_name: "[青岚县人民政府"'),
])
def test_a_slip_in_mkdocs_yml_is_named_at_its_own_line_with_the_fix(tmp_path, bad, fix):
    """validate and build both name the slip in Chinese at its own line (YAML reports the next one)."""
    cfg = copy_site_source(tmp_path)
    lines = cfg.read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("site_name:"))
    lines[at] = bad
    cfg.write_text("\n".join(lines), encoding="utf-8")
    for command in ("validate", "build"):
        proc = run_cli("--config", str(cfg), command)
        assert proc.returncode != 0, proc.stdout
        assert f"mkdocs.yml:{at + 1}: mkdocs.yml 第 {at + 1} 行" in proc.stderr, (command, proc.stderr)
        assert fix in proc.stderr, (command, proc.stderr)
        assert "could not find" not in proc.stderr and "Traceback" not in proc.stderr
