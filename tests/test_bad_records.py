"""Every broken record gives its specific code at the right line, in plain words, with no traceback."""

import hashlib
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
