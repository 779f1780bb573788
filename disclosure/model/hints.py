"""Fixes to copy: the corrected value for the mistakes staff make most (issue 12).

Pure functions, no I/O: a date written 2026/11/5, a 文号 with [] or 第, the nearest allowed values,
and what YAML does with a full-width colon, a value starting with `[` or `*`, or ` #` in a value.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re

_FW = {0xFF10 + i: 0x30 + i for i in range(10)}

# ------------------------------------------------------------------------------------------ dates
_DATE_LIKE = re.compile(r"\s*([0-9]{4})\s*(?:[-/.年]|\s)\s*([0-9]{1,2})\s*(?:[-/.月]|\s)\s*([0-9]{1,2})\s*日?\s*", re.ASCII)
_COMPACT = re.compile(r"\s*([0-9]{4})([0-9]{2})([0-9]{2})\s*", re.ASCII)


def date_corrected(value) -> str | None:
    """'2026/11/5', '2026.11.5', '2026年11月5日', '20261105', '２０２６-11-5' → '2026-11-05';
    None when it is not a date that exists."""
    text = str(value).translate(_FW)
    m = _DATE_LIKE.fullmatch(text) or _COMPACT.fullmatch(text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------ 文号
DOC_NO = re.compile(r"^(?P<agency>[^\s〔〕\[\]()（）【】]+)〔(?P<year>[0-9]{4})〕(?P<seq>[1-9][0-9]*)号$")
_BRACKETS = re.compile(r"[\[(（【［﹝〖{｛<《]\s*([0-9０-９]{2,4})\s*[\])）】］﹞〗}｝>》]")


def doc_no_problem(doc_no: str) -> str | None:
    """None when `doc_no` follows 机关代字〔YYYY〕N号; otherwise what to change, in plain words."""
    if DOC_NO.match(doc_no):
        return None
    if re.search(r"[０-９]", doc_no):
        return "数字应使用半角（0-9），不用全角数字"
    if re.search(r"[\[\]()（）【】［］﹝﹞〖〗{}｛｝<>《》]", doc_no):
        return "年份应使用六角括号〔〕，不用 []、()、（）、【】或﹝﹞"
    if re.search(r"\s", doc_no):
        return "文号中不留空格"
    if "第" in doc_no:
        return "序号前不加“第”"
    if re.search(r"〔[0-9]{4}〕0[0-9]*号", doc_no):
        return "序号不编虚位（不补 0），如 1号 而不是 01号"
    if not re.search(r"〔[0-9]{4}〕", doc_no):
        return "应写出完整四位年份并用〔〕括起，如 青政发〔2024〕3号"
    if not doc_no.endswith("号"):
        return "末尾应有“号”"
    return "格式应为 机关代字〔年份〕序号号，如 青政发〔2024〕3号"


def doc_no_corrected(doc_no: str, year_hint: int | None = None) -> str | None:
    """The 文号 with the usual slips fixed (brackets, full-width digits, 第, zero padding, spaces,
    a missing 号), or None when no well-formed 文号 comes out. A two-digit year is completed
    only when it matches `year_hint` (the record's year)."""
    s = re.sub(r"\s+", "", doc_no.translate(_FW))

    def year(m):
        y = m.group(1).translate(_FW)
        if len(y) == 2 and year_hint and str(year_hint).endswith(y):
            y = str(year_hint)
        return f"〔{y}〕"

    s = _BRACKETS.sub(year, s)
    m = re.fullmatch(r"(?P<agency>[^〔〕]+)〔(?P<year>[0-9]{4})〕第?0*(?P<seq>[1-9][0-9]*)号?", s)
    if not m:
        return None
    fixed = f"{m.group('agency')}〔{m.group('year')}〕{m.group('seq')}号"
    return fixed if DOC_NO.match(fixed) and fixed != doc_no else None


# ------------------------------------------------------------------------------------------ choices
def nearest_first(value: str, options, limit: int = 12) -> list[str]:
    """The allowed values ordered by likeness to `value` (containing it, or contained in it, first)."""
    value = str(value)

    def score(option):
        bonus = 1.0 if value and (value in option or option in value) else 0.0
        return -(bonus + difflib.SequenceMatcher(None, value, option).ratio()), option

    ranked = sorted({str(o) for o in options}, key=score)
    return ranked[:limit]


def choices_text(value: str, options, limit: int = 12) -> str:
    ranked = nearest_first(value, options, limit)
    total = len(set(options))
    more = f" 等（共 {total} 个）" if total > len(ranked) else ""
    return "".join(f"「{o}」" for o in ranked) + more


# ------------------------------------------------------------------------------------------ YAML slips
_KEY = r"[A-Za-z_][A-Za-z0-9_.]*"
FULLWIDTH_COLON = re.compile(rf"^(?P<indent>[ \t]*(?:-[ \t]+)?)(?P<key>{_KEY})[ \t]*：[ \t]*(?P<value>.*)$")
NO_SPACE = re.compile(rf"^(?P<indent>[ \t]*(?:-[ \t]+)?)(?P<key>{_KEY}):(?P<value>[^\s:/].*)$")
SPECIAL_START = re.compile(rf"^(?P<indent>[ \t]*(?:-[ \t]+)?)(?P<key>{_KEY}):[ \t]+(?P<value>(?P<char>[*&!%@`]).*)$")
FLOW_START = re.compile(rf"^(?P<indent>[ \t]*(?:-[ \t]+)?)(?P<key>{_KEY}):[ \t]+(?P<value>(?P<char>[\[{{]).*)$")
_CHAR_MEANING = {"*": "引用（别名）", "&": "锚点", "!": "类型标记", "%": "指令", "@": "保留符号", "`": "保留符号",
                 "[": "列表", "{": "多个子项"}


def quoted(value: str) -> str:
    """A YAML double-quoted scalar of `value` (what staff can paste)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def line_slip(src: str) -> tuple[str, str] | None:
    """(what is wrong, the corrected line) for one line of a YAML file that did not parse — a
    full-width colon after a key, no space after the colon, a value starting with `!`, `%`, `@`, a
    backquote, `[`/`{` that does not close, or `*`/`&` before text — or None. For any YAML file
    (mkdocs.yml); records check the same slips against their known field names (records.py)."""
    m = FULLWIDTH_COLON.match(src)
    if m:
        return (f"{m.group('key')} 后面用了中文冒号「：」",
                f"改为英文冒号加一个空格：{m.group('indent')}{m.group('key')}: {m.group('value').strip()}")
    m = NO_SPACE.match(src)
    if m:
        return (f"{m.group('key')} 的冒号后面缺少空格", f"在冒号后加一个空格：{m.group('key')}: {m.group('value').strip()}")
    m = SPECIAL_START.match(src)
    if m and (m.group("char") in "!%@`" or not re.match(r"[*&][A-Za-z0-9_-]", m.group("value"))):
        return special_start_message(m.group("key"), m.group("char"), m.group("value"))
    m = FLOW_START.match(src)
    if m:
        value = m.group("value").rstrip()
        closes = {"[": "]", "{": "}"}[m.group("char")]
        if not value.endswith(closes):
            return special_start_message(m.group("key"), m.group("char"), value)
    return None


def special_start_message(key: str, char: str, value: str) -> tuple[str, str]:
    return (f"{key} 的值以「{char}」开头，YAML 会把它当作{_CHAR_MEANING[char]}，而不是文字",
            f"整段加英文双引号：{key}: {quoted(value.rstrip())}")
