"""The README documents every record key and every finding code (they are the staff's reference)."""

from conftest import ROOT
from disclosure.model.findings import CODES
from disclosure.model.schema import FIELDS

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_key_documented():
    assert [k for k in FIELDS if f"| `{k}` | {FIELDS[k].label} |" not in README] == []


def test_every_code_documented():
    assert [c for c, v in CODES.items() if f"| {c} | {v.level} |" not in README] == []


def test_two_commands_on_first_screen():
    head = "\n".join(README.splitlines()[:20])
    assert "bash scripts/build-portal.sh" in head and "bash scripts/test.sh" in head
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
