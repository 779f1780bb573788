"""Parse one record file (Markdown + YAML front matter) into a typed `Record`, or say precisely why not.

Structure problems are reported with the file, the line of the offending key and a fix; nothing
here raises on bad input. libyaml (CSafeLoader) parses each front matter once: the node tree gives
the line of every key, and each value is constructed on its own so one bad date does not hide the rest.
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import os
import re
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from disclosure.model import hints, placeholders
from disclosure.model.config import PortalConfig
from disclosure.model.findings import Finding
from disclosure.model.schema import FIELDS, RECORD_TYPES

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when PyYAML has it
_RESOLVED: dict = {}  # (scalar text, implicit flags) → tag; see _Loader.resolve
_RESOLVED_MAX = 50_000


class _Loader(_BaseLoader):
    """The safe loader, with its tag resolution remembered for short plain scalars.

    libyaml parses in C but asks the Python resolver for the tag of every scalar (~30 a record: the
    field names and the values), each a dictionary lookup and a few regular expressions. The answer
    depends only on the text and the implicit flags (the resolvers are fixed class data), and field
    names, dates and short values repeat across records, so it is looked up once per text."""

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and len(value) <= 32:
            key = (value, implicit)
            tag = _RESOLVED.get(key)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(_RESOLVED) < _RESOLVED_MAX:
                    _RESOLVED[key] = tag
            return tag
        return super().resolve(kind, value, implicit)


_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
DATE_HINT = "写成 YYYY-MM-DD，例如 2024-03-18，且必须是日历上存在的日期"

# Bounds on input, so that any file is judged in bounded time and memory (issue 11).
MAX_FILE_BYTES = 2 * 1024 * 1024  # a record's Markdown: 2 MB is about a million Chinese characters
MAX_FRONT_MATTER_BYTES = 256 * 1024
MAX_YAML_DEPTH = 12  # an annual report's tables need 4
MAX_YAML_NODES = 10_000  # values after expanding aliases; an annual report has about 300
EARLIEST_DATE = dt.date(1949, 10, 1)
LATEST_DATE = dt.date(2099, 12, 31)  # fixed, not "as_of + N": a parsed record must not depend on the day

# Attachment types offices publish. Anything else is refused: a browser runs html/svg/js served
# from the site itself, and unknown types have no place on a disclosure page.
ATTACHMENT_TYPES = frozenset({"pdf", "ofd", "doc", "docx", "wps", "xls", "xlsx", "et", "ppt", "pptx", "dps",
                              "jpg", "jpeg", "png", "zip", "rar", "7z", "txt", "csv"})
_BROWSER_RUNS = frozenset({"html", "htm", "xhtml", "shtml", "svg", "svgz", "js", "mjs", "cjs", "xml", "xsl",
                           "xslt", "swf", "hta", "mht", "mhtml", "php", "jsp", "asp", "aspx", "wasm", "css"})
_URL_UNSAFE_NAME = re.compile(r"[#?%\\]")  # break the link (fragment, query, escapes, path separator)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(slots=True)
class Attachment:
    file: str  # as written in the front matter
    title: str
    path: Path | None  # resolved on disk
    size: int = 0
    name: str = ""  # published file name under records/<slug>/: unique in the record, safe in a URL
    line: int = 0  # the line of this attachment in the front matter

    @property
    def suffix(self) -> str:
        return Path(self.file).suffix.lower().lstrip(".")


@dataclass(slots=True)
class Withdrawal:
    date: dt.date
    reason: str
    decided: dt.date | None = None


@dataclass(slots=True)
class Repeal:
    date: dt.date
    by: str


@dataclass(slots=True)
class Record:
    path: str  # for messages: relative to the site root, e.g. content/records/2024/x.md
    src_path: str  # the file as found (absolute under the site root); a string, made a Path only where used
    type: str
    title: str
    index_no: str
    issuer: str  # unit id
    written: dt.date
    body: str = ""
    body_line: int = 1
    lines: dict = field(default_factory=dict)
    doc_no: str = ""
    topic: str = ""
    column: str = ""
    changed: dt.date | None = None
    published: dt.date | None = None
    summary: str = ""
    keywords: list = field(default_factory=list)
    genre: str = ""
    attachments: list = field(default_factory=list)
    reviewed_by: str = ""
    reviewed_on: dt.date | None = None
    late_reason: str = ""
    withdrawn: Withdrawal | None = None
    personal_data_allowed: str = ""
    related: list = field(default_factory=list)
    interprets: str = ""
    reg_no: str = ""
    effective: dt.date | None = None
    expires: dt.date | None = None
    expires_explicit: bool = False
    trial: bool = False
    repealed: Repeal | None = None
    amends: list = field(default_factory=list)
    amended_by: list = field(default_factory=list)
    year: int | None = None
    tables: dict = field(default_factory=dict)

    @property
    def formed(self) -> dt.date:
        return max(self.written, self.changed) if self.changed else self.written

    @property
    def slug(self) -> str:
        return slug_for(self.index_no)

    @property
    def type_label(self) -> str:
        return RECORD_TYPES[self.type]

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)

    def is_live(self, as_of: dt.date) -> bool:
        """Published on or before the build date (drafts and scheduled records are not)."""
        return self.published is not None and self.published <= as_of


_SLUG_BAD = re.compile(r"[^0-9A-Za-z._-]+")


@lru_cache(maxsize=1 << 18)  # asked ~10 times per record by a plan (1 M calls, 3 s at 100,000 records)
def slug_for(index_no: str) -> str:
    """URL segment from the 索引号: `MB0000001/2024-00012` → `MB0000001-2024-00012`."""
    return _SLUG_BAD.sub("-", index_no).strip("-")


@dataclass(slots=True)
class ParseResult:
    record: Record | None
    findings: list
    # with errors: what could be read of the record (missing values left empty), so that the checks
    # that do not depend on the broken fields (safety, 文号, date order) still speak in the same run
    partial: Record | None = None


class _Problems:
    def __init__(self, path: str):
        self.path = path
        self.items: list[Finding] = []

    def add(self, code, line, message, hint="", field=""):
        self.items.append(Finding(code, self.path, line, message, hint, field))


def decode(raw: bytes, problems: _Problems) -> str | None:
    """UTF-8 (with or without BOM), CRLF or LF. A GBK file gets a plain-words message."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        try:
            raw.decode("gb18030")
            what = "文件是 GBK/GB2312 编码（常见于 Windows 记事本、WPS 的默认保存）"
        except UnicodeDecodeError:
            what = "文件不是 UTF-8 编码的文本"
        problems.add("E101", line, f"{what}，无法读取", "用编辑器“另存为”并选择 UTF-8 编码后重新提交")
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


_FM_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)


def split_front_matter(text: str, problems: _Problems):
    """Returns (yaml_text, body, body_first_line) or None."""
    if not text.startswith("---"):
        problems.add("E102", 1, "文件开头没有用 --- 包围的头信息", "在第一行写 ---，接着写字段（如 title: 标题），再写一行 --- 结束")
        return None
    first_nl = text.find("\n")
    if first_nl < 0 or text[:first_nl].strip() != "---":
        problems.add("E102", 1, "第一行应只有 ---", "把第一行改成单独的 ---")
        return None
    m = _FM_END.search(text, first_nl + 1)
    if not m:
        problems.add("E102", 1, "头信息没有结束标记 ---", "在字段之后、正文之前加一行 ---")
        return None
    yaml_text = text[first_nl + 1 : m.start()]
    body_start = m.end() + 1
    body_line = text.count("\n", 0, min(body_start, len(text))) + 1
    return yaml_text, text[body_start:], body_line


def _nearest(word: str, options) -> str:
    hits = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    return hits[0] if hits else ""


class _Coerce:
    """Turns constructed YAML values into the schema's kinds, reporting type problems."""

    def __init__(self, problems: _Problems, lines: dict | None = None, src_lines: list | None = None):
        self.p = problems
        self.lines = lines or {}
        self.src_lines = src_lines or []  # the file's lines, index = line number - 1

    def date(self, value, line, key, label) -> dt.date | None:
        day = None
        if isinstance(value, dt.datetime):
            day = value.date()
        elif isinstance(value, dt.date):
            day = value
        elif isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
            try:
                day = dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        if day is None:
            fixed = hints.date_corrected(value)
            self.p.add("E107", line, f"{label}「{_echo(value)}」不是有效日期" + ("（日期要写成 年-月-日）" if fixed else ""),
                       f"改为 {fixed}" if fixed else DATE_HINT, key)
            return None
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            self.p.add("E107", line, f"{label} {day} 超出合理范围（{EARLIEST_DATE} 至 {LATEST_DATE}）",
                       "核对年份是否写错", key)
            return None
        return day

    def text(self, value, line, key, label) -> str | None:
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raw = self.raw_value(line, key)
        if raw and raw[0] in "[{":
            msg, hint = hints.special_start_message(key, raw[0], raw)
            self.p.add("E106", line, f"{label}应为一段文字：{msg}", hint, key)
        else:
            self.p.add("E106", line, f"{label}应为一段文字，现在是{_kind_name(value)}", f"写成 {key}: 文字内容", key)
        return None

    def raw_value(self, line: int, key: str) -> str:
        """The value as written on `line` after `key:` (for messages that quote it back)."""
        src = self.src_lines[line - 1] if 0 < line <= len(self.src_lines) else ""
        short = key.rsplit(".", 1)[-1]
        m = re.match(rf"\s*(?:-\s+)?{re.escape(short)}\s*:\s*(.*)$", src)
        return m.group(1).strip() if m else ""

    def int(self, value, line, key, label) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _ASCII_INT.fullmatch(value.strip()):
            return int(value)
        self.p.add("E106", line, f"{label}应为整数，现在是「{_echo(value)}」", f"写成 {key}: 2024 这样的数字", key)
        return None

    def bool(self, value, line, key, label) -> bool | None:
        if isinstance(value, bool):
            return value
        self.p.add("E106", line, f"{label}应为 true 或 false，现在是「{_echo(value)}」", f"写成 {key}: true 或 {key}: false", key)
        return None

    def str_list(self, value, line, key, label) -> list | None:
        if isinstance(value, str):
            return [w for w in re.split(r"[,，、;；\s]+", value) if w]
        if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
            return [str(v).strip() for v in value if str(v).strip()]
        self.p.add("E106", line, f"{label}应为文字列表", f"写成 {key}: [词1, 词2]", key)
        return None

    def mapping(self, value, line, key, label, parts: dict) -> dict | None:
        """parts: sub-key → (kind, required)."""
        example = "、".join(parts)
        if not isinstance(value, dict):
            self.p.add("E106", line, f"{label}应包含 {example} 等子项，现在是{_kind_name(value)}",
                       f"换行后缩进两个空格，逐项写 {example}", key)
            return None
        out, ok = {}, True
        for sub in value:
            if sub not in parts:
                near = _nearest(str(sub), parts)
                self.p.add("E104", line, f"{label}下的子项「{sub}」无法识别",
                           f"改为 {near}" if near else f"可用子项：{example}", f"{key}.{sub}")
                ok = False
        for sub, (kind, required) in parts.items():
            if sub not in value or value[sub] in (None, ""):
                if required:
                    self.p.add("E105", line, f"{label}缺少子项 {sub}", f"在 {key} 下加一行 {sub}: …", f"{key}.{sub}")
                    ok = False
                continue
            conv = getattr(self, kind)(value[sub], self.lines.get(f"{key}.{sub}", line), f"{key}.{sub}", f"{label}的 {sub}")
            if conv is None:
                ok = False
            out[sub] = conv
        return out if ok else None


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_ASCII_INT = re.compile(r"[0-9]{1,6}", re.ASCII)


def _echo(value, limit: int = 60) -> str:
    """A value as it may appear in a message: scalars only, one line, bounded length."""
    if isinstance(value, (list, dict)):
        return _kind_name(value)
    text = str(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kind_name(value) -> str:
    if isinstance(value, list):
        return "列表"
    if isinstance(value, dict):
        return "多个子项"
    if value is None:
        return "空值"
    return f"「{_echo(value)}」"


# an anchor on a collection (only those can multiply through aliases), or signs of deep nesting
_NEEDS_EVENT_SCAN = re.compile(r"&[^\s\[\]{},]+[ \t]*(?:[\[{]|$)|^[ ]{16,}|(?:- ){4}", re.M)


def _yaml_hazard(yaml_text: str, line_offset: int):
    """(line, message, hint) when the front matter would expand to more than MAX_YAML_NODES values
    through aliases (`&a` … `*a`: an alias bomb grows to gigabytes) or nests deeper than
    MAX_YAML_DEPTH (recursion); None otherwise. Aliases as such are allowed (YAML tools write
    `&id001` for a date used twice). One linear pass over the parser's events, and only when a cheap
    test says it could matter."""
    if (yaml_text.count("[") + yaml_text.count("{") <= MAX_YAML_DEPTH and "                " not in yaml_text
            and "- - - - " not in yaml_text and ("&" not in yaml_text or not _NEEDS_EVENT_SCAN.search(yaml_text))):
        return None
    plain = "把这个字段改成普通写法：每个值直接写出，不用 & 和 *，不要层层嵌套"
    sizes: dict[str, int] = {}  # anchor → number of values it stands for
    stack: list[list] = []  # open collections: [anchor, size]
    total = 0
    try:
        for ev in yaml.parse(yaml_text, Loader=_Loader):
            if isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                stack.append([ev.anchor, 1])
                if len(stack) > MAX_YAML_DEPTH + 1:  # +1: the front matter's own mapping
                    return ev.start_mark.line + line_offset, f"头信息嵌套超过 {MAX_YAML_DEPTH} 层", plain
                continue
            if isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, size = stack.pop()
                if anchor:
                    sizes[anchor] = size
                if stack:
                    stack[-1][1] += size
                continue
            if isinstance(ev, yaml.ScalarEvent):
                size = 1
                if ev.anchor:
                    sizes[ev.anchor] = 1
            elif isinstance(ev, yaml.AliasEvent):
                size = sizes.get(ev.anchor, 1)
            else:
                continue
            total += size
            if stack:
                stack[-1][1] += size
            if total > MAX_YAML_NODES:
                return (ev.start_mark.line + line_offset,
                        f"头信息通过 YAML 别名（*）展开后超过 {MAX_YAML_NODES} 个值", plain)
    except yaml.YAMLError:
        return None  # the composer reports the syntax error, at its line
    return None


_SUB_KEYS = {"by", "date", "reason", "decided", "file", "title"}


def _line_slips(yaml_text: str, problems: _Problems, line_offset: int) -> bool:
    """The slips that make YAML misread a line, each named at its own line with the corrected line:
    a full-width colon after a key (`title：…`), no space after the colon (`title:…`), a value
    starting with `!`, `%`, `@`, a backquote, or `*`/`&` before text. Called when the YAML did not
    parse (each of these breaks it). True when any was found."""
    found = False
    for i, src in enumerate(yaml_text.split("\n")):
        line = i + line_offset
        m = hints.FULLWIDTH_COLON.match(src)
        if m and (m.group("key") in FIELDS or m.group("key") in _SUB_KEYS):
            fixed = f"{m.group('indent')}{m.group('key')}: {m.group('value').strip()}"
            problems.add("E103", line, f"第 {line} 行字段名 {m.group('key')} 后面用了中文冒号「：」",
                         f"改为英文冒号加一个空格：{fixed.strip()}", m.group("key"))
            found = True
            continue
        m = hints.NO_SPACE.match(src)
        if m and (m.group("key") in FIELDS or m.group("key") in _SUB_KEYS):
            fixed = f"{m.group('key')}: {m.group('value').strip()}"
            problems.add("E103", line, f"第 {line} 行字段名 {m.group('key')} 的冒号后面缺少空格",
                         f"在冒号后加一个空格：{fixed}", m.group("key"))
            found = True
            continue
        m = hints.SPECIAL_START.match(src)
        # `*`/`&` followed by a letter or digit is YAML alias/anchor syntax (allowed, within MAX_YAML_NODES); followed by
        # anything else (`*重要*通知`) it can only be meant as text
        if m and (m.group("char") in "!%@`" or not re.match(r"[*&][A-Za-z0-9_-]", m.group("value"))):
            msg, fix = hints.special_start_message(m.group("key"), m.group("char"), m.group("value"))
            problems.add("E103", line, msg, fix, m.group("key"))
            found = True
    return found


def _sub_lines(key: str, node, line_offset: int, lines: dict) -> None:
    """Lines of `key.sub` (mapping values) and `key[i]` / `key[i].sub` (list items)."""
    if isinstance(node, yaml.MappingNode):
        for k, _v in node.value:
            if isinstance(k, yaml.ScalarNode):
                lines.setdefault(f"{key}.{k.value}", k.start_mark.line + line_offset)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[f"{key}[{i}]"] = item.start_mark.line + line_offset
            if isinstance(item, yaml.MappingNode):
                _sub_lines(f"{key}[{i}]", item, line_offset, lines)


_TEXT_KINDS = ("str", "text", "ref")
_CITED_SUB_LINES = frozenset({"attachments", "keywords", "reviewed", "withdrawn", "repealed"})


def _trailing_comment(src_lines: list, node) -> str | None:
    """The ` # …` YAML dropped after a plain scalar (None when there is none)."""
    if not isinstance(node, yaml.ScalarNode) or node.style not in (None, ""):  # plain (libyaml: "")
        return None
    line = node.end_mark.line
    if line >= len(src_lines):
        return None
    rest = src_lines[line][node.end_mark.column:]
    m = re.match(r"[ \t]+(#.*)$", rest) if node.value else re.match(r"[ \t]*(#.*)$", rest)
    return m.group(1).rstrip() if m else None


def _comments(key: str, node, src_lines: list, line_offset: int, problems: _Problems, comments: dict) -> None:
    """W117 for text values cut at ` #`: YAML reads the rest of the line as a comment."""
    targets = [(key, node)]
    if isinstance(node, yaml.MappingNode):
        targets = [(f"{key}.{k.value}", v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value in ("by", "reason")]
    for name, value_node in targets:
        comment = _trailing_comment(src_lines, value_node)
        if comment is None:
            continue
        comments[name] = comment
        spec = FIELDS.get(name)
        if "." not in name and (spec is None or spec.kind not in _TEXT_KINDS):
            continue  # `written: 2026-03-02  # 成文` is a real comment: the date is whole
        line = value_node.end_mark.line + line_offset
        kept = value_node.value
        whole = f"{kept} {comment}".strip()
        short = name.rsplit(".", 1)[-1]
        if kept:
            msg = f"{name} 的值在「 #」处被截断：网站上只显示「{kept}」，「{comment}」被当作注释丢掉"
        else:
            msg = f"{name} 的值以「#」开头，整行被当作注释，这个字段是空的"
        problems.add("W117", line, msg, f"如果 # 是文字的一部分，整段加英文双引号：{short}: {hints.quoted(whole)}", name)


_YAML_PROBLEMS = [  # PyYAML's phrases → what happened, in plain words
    ("mapping values are not allowed", "这一行的值里有「: 」（冒号加空格），YAML 把后半段当作了新的字段"),
    ("cannot start any token", "这一行有 YAML 不接受的字符（常见：用 Tab 缩进，或值以 @、` 开头）"),
    ("could not find expected ':'", "上一行或这一行缺少“字段: 值”中的冒号（或冒号是中文的「：」）"),
    ("did not find expected key", "缩进不一致，或方括号、花括号没有成对"),
    ("did not find expected ',' or ']'", "方括号 [ ] 没有成对，或列表中的文字含有逗号、冒号而没有加引号"),
    ("did not find expected ',' or '}'", "花括号 { } 没有成对，或其中的文字含有逗号、冒号而没有加引号"),
    ("found unexpected end of stream", "引号或括号没有成对（缺少结尾的引号或括号）"),
    ("found unknown escape character", "双引号中的反斜杠 \\ 要写成两个 \\\\（或改用单引号）"),
    ("found undefined alias", "值以「*」开头，YAML 把它当作引用"),
    ("expected <block end>", "缩进不一致：同一层的字段要左对齐"),
]


def _construct(yaml_text: str, problems: _Problems, line_offset: int, sub_lines: dict, comments: dict):
    """Returns [(key, value_or_marker, line)] or None when the YAML itself is broken."""
    hazard = _yaml_hazard(yaml_text, line_offset)
    if hazard:
        problems.add("E115", *hazard)
        return None
    src_lines = yaml_text.split("\n") if "#" in yaml_text else None
    loader = _Loader(yaml_text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as e:
            # every slip below breaks the YAML, so they are looked for only then (nothing on the happy path)
            if not _line_slips(yaml_text, problems, line_offset):
                _yaml_error(e, yaml_text, problems, line_offset)
            return None
        if node is None:
            problems.add("E102", 1, "头信息是空的", "在两行 --- 之间填写 type、title、index_no 等字段")
            return None
        if not isinstance(node, yaml.MappingNode):
            if not _line_slips(yaml_text, problems, line_offset):
                problems.add("E103", line_offset, "头信息应为“字段: 值”的形式", "每行写一个字段，例如 title: 关于……的通知")
            return None
        out = []
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + line_offset
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            if src_lines is not None:
                _comments(key, value_node, src_lines, line_offset, problems, comments)
            try:
                if type(value_node) is yaml.ScalarNode and value_node.tag == _STR_TAG:
                    value = value_node.value  # what PyYAML's str constructor returns, minus its bookkeeping
                elif (type(value_node) is yaml.ScalarNode and value_node.tag == _TIMESTAMP_TAG
                      and _ISO_DAY.fullmatch(value_node.value)):
                    # a plain YYYY-MM-DD: the date PyYAML's timestamp constructor returns, without its
                    # regular expression; an impossible day (2026-02-30) raises ValueError as it does
                    value = dt.date(int(value_node.value[:4]), int(value_node.value[5:7]), int(value_node.value[8:10]))
                else:
                    value = loader.construct_object(value_node, deep=True)
                    if key in _CITED_SUB_LINES:
                        _sub_lines(key, value_node, line_offset, sub_lines)
            except (ValueError, OverflowError, yaml.YAMLError) as e:
                value = _BadValue(str(getattr(e, "problem", None) or e), value_node)
            out.append((key, value, line))
        return out
    finally:
        loader.dispose()


def _yaml_error(e, yaml_text: str, problems: _Problems, line_offset: int) -> None:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    line = (mark.line + line_offset) if mark else 1
    problem = getattr(e, "problem", None) or str(e)
    src_lines = yaml_text.split("\n")
    # a text value starting with [ or { (read as a list or mapping): name it, with the quoted value
    idx = (mark.line if mark else 0)
    for i in range(min(idx, len(src_lines) - 1), max(-1, idx - 4), -1):
        m = hints.FLOW_START.match(src_lines[i])
        if m and FIELDS.get(m.group("key")) is not None and FIELDS[m.group("key")].kind in _TEXT_KINDS + ("date",):
            msg, fix = hints.special_start_message(m.group("key"), m.group("char"), m.group("value"))
            problems.add("E103", i + line_offset, msg, fix, m.group("key"))
            return
    plain = next((words for phrase, words in _YAML_PROBLEMS if phrase in problem), None)
    hint = "检查这一行及上一行：冒号后要有空格，缩进用空格不用 Tab，含冒号或 # 的文字加引号"
    if "mapping values are not allowed" in problem and mark and mark.line < len(src_lines):
        m = re.match(r"^(\s*(?:-\s+)?)([A-Za-z_][\w.]*):\s+(.*)$", src_lines[mark.line])
        if m:
            hint = f"整段加英文双引号：{m.group(2)}: {hints.quoted(m.group(3).rstrip())}"
    if "\t" in (src_lines[mark.line] if mark and mark.line < len(src_lines) else ""):
        plain, hint = "这一行用了 Tab 键缩进，YAML 只接受空格", "把行首的 Tab 换成空格（每层两个空格）"
    problems.add("E103", line, plain or f"头信息的 YAML 写法有误（{problem}）", hint)


class _BadValue:
    def __init__(self, problem, node):
        self.problem = problem
        self.tag = getattr(node, "tag", "") or ""
        self.text = getattr(node, "value", "") if isinstance(getattr(node, "value", ""), str) else ""


def parse_record(src: Path, cfg: PortalConfig, raw: bytes | None = None) -> ParseResult:
    try:
        rel = src.relative_to(cfg.root).as_posix()  # discovered paths are absolute under the root
    except ValueError:
        try:
            rel = src.resolve().relative_to(cfg.root).as_posix()
        except ValueError:
            rel = str(src)
    problems = _Problems(rel)
    if raw is None:
        try:
            size = src.stat().st_size
        except OSError:
            size = 0
        if size > MAX_FILE_BYTES:
            problems.add("E115", 1, f"文件有 {size // 1024 // 1024} MB，超过记录文件的上限 {MAX_FILE_BYTES // 1024 // 1024} MB",
                         "正文过长时把全文作为 PDF 等附件发布，记录正文只写摘要")
            return ParseResult(None, problems.items)
        raw = src.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        problems.add("E115", 1, f"文件超过记录文件的上限 {MAX_FILE_BYTES // 1024 // 1024} MB",
                     "正文过长时把全文作为 PDF 等附件发布，记录正文只写摘要")
        return ParseResult(None, problems.items)
    text = decode(raw, problems)
    if text is None:
        return ParseResult(None, problems.items)
    split = split_front_matter(text, problems)
    if split is None:
        return ParseResult(None, problems.items)
    yaml_text, body, body_line = split
    if len(yaml_text) > MAX_FRONT_MATTER_BYTES:
        problems.add("E115", 2, f"头信息超过 {MAX_FRONT_MATTER_BYTES // 1024} KB", "头信息只写字段；长文字放在第二个 --- 之后的正文中")
        return ParseResult(None, problems.items)
    sub_lines: dict[str, int] = {}
    comments: dict[str, str] = {}
    pairs = _construct(yaml_text, problems, line_offset=2, sub_lines=sub_lines, comments=comments)
    if pairs is None:
        return ParseResult(None, problems.items)

    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key, value, line in pairs:
        if key in lines:
            problems.add("E111", line, f"字段 {key} 写了两次（第 {lines[key]} 行已有）", "删除其中一行", key)
            continue
        lines[key] = line
        values[key] = value
    for k, v in sub_lines.items():
        lines.setdefault(k, v)

    rtype = values.get("type")
    if isinstance(rtype, str) and rtype not in RECORD_TYPES:
        near = _nearest(rtype, RECORD_TYPES)
        problems.add("E108", lines["type"], f"类型「{rtype}」无法识别",
                     f"改为 {near}" if near else f"可用类型：{', '.join(RECORD_TYPES)}", "type")
        rtype = None
    elif "type" in values and not isinstance(rtype, str):
        problems.add("E106", lines["type"], "类型应为文字", f"可用类型：{', '.join(RECORD_TYPES)}", "type")
        rtype = None

    coerce = _Coerce(problems, lines, ["---", *yaml_text.split("\n")])  # index = file line - 1
    clean: dict[str, Any] = {}
    for key, value in values.items():
        line = lines[key]
        spec = FIELDS.get(key)
        if spec is None:
            near = _nearest(str(key), FIELDS)
            problems.add("E104", line, f"字段「{key}」无法识别",
                         f"是否应为 {near}（{FIELDS[near].label}）？" if near else "删除这一行，或查阅 README 的字段表", str(key))
            continue
        if rtype and rtype not in spec.applies:
            problems.add("E104", line, f"字段 {key}（{spec.label}）不适用于{RECORD_TYPES[rtype]}", "删除这一行，或检查 type 是否写对", key)
            continue
        if key == "type":
            continue
        if isinstance(value, _BadValue):
            if spec.kind == "date" or "range" in value.problem:
                problems.add("E107", line, f"{spec.label}「{value.text}」不是日历上存在的日期", DATE_HINT, key)
            elif value.tag.startswith("!"):
                raw = coerce.raw_value(line, key) or value.tag
                msg, fix = hints.special_start_message(key, "!", raw)
                problems.add("E103", line, msg, fix, key)
            else:
                problems.add("E106", line, f"{spec.label}「{value.text}」无法识别（{value.problem}）", "检查这个值的写法", key)
            continue
        if value is None or value == "" or value == []:
            continue  # treated as absent; the required check below speaks if needed
        conv = _convert(coerce, spec, value, line)
        if conv is not None:
            clean[key] = conv

    if "year" in clean and not EARLIEST_DATE.year <= clean["year"] <= LATEST_DATE.year:
        problems.add("E108", lines["year"], f"报告年度「{clean.pop('year')}」不在 {EARLIEST_DATE.year}–{LATEST_DATE.year} 之间",
                     "写成四位数的年份，如 year: 2025", "year")

    if rtype:
        for key, spec in FIELDS.items():
            if rtype in spec.required and key not in clean and key != "type" and not _already_reported(problems, key):
                problems.add("E105", 1, f"缺少必填字段 {key}（{spec.label}）",
                             f"在头信息中加一行 {key}: …" + (f"（{spec.doc}）" if spec.doc else ""), key)
        if cfg.rules.require_review and "reviewed" not in clean and not _already_reported(problems, "reviewed"):
            problems.add("E305", 1, "缺少保密审查记录（《政府信息公开条例》第十七条：先审查、后公开）",
                         "加上 reviewed: {by: 审查人, date: 审查日期}", "reviewed")
    elif "type" not in values:
        problems.add("E105", 1, "缺少必填字段 type（类型）", f"在头信息中加一行 type: …（{', '.join(RECORD_TYPES)}）", "type")

    # references to configuration: issuer, topic, column
    unit = None
    if "issuer" in clean:
        unit = cfg.unit(clean["issuer"])
        if unit is None:
            _not_configured(problems, "issuer", lines["issuer"], clean["issuer"], [u.name for u in cfg.units] or [],
                            f"发布机构「{clean['issuer']}」不在站点配置的单位列表中",
                            "使用 mkdocs.yml 中 extra.portal.units 里的单位全称")
    if "topic" in clean:
        topic = clean["topic"].replace("/", "\\").replace("＼", "\\")
        if topic not in cfg.topics:
            _not_configured(problems, "topic", lines["topic"], topic, cfg.topics,
                            f"主题分类「{clean['topic']}」不在主题分类表中" + ("（要写到二级：一级\\二级）" if topic in cfg.taxonomy else ""),
                            "写成“一级\\二级”，例如 综合政务\\政务公开")
        clean["topic"] = topic
    if "column" in clean:
        col = cfg.column(clean["column"])
        if col is None:
            _not_configured(problems, "column", lines["column"], clean["column"], [c.name for c in cfg.columns],
                            f"公开目录「{clean['column']}」不是已配置的栏目", "栏目在 mkdocs.yml 的 extra.portal.columns 中配置")
        else:
            clean["column"] = col.id
    elif rtype == "normative" and cfg.columns:
        first = next((c for c in cfg.columns if "（一）" in c.item), cfg.columns[0])
        clean["column"] = first.id

    clean["attachments"] = resolve_attachments(clean.get("attachments", []), src, cfg, problems, lines)

    has_errors = any(f.level == "error" for f in problems.items) or not rtype
    record = _build(rel, src, rtype or "disclosure", clean, unit, body, body_line, lines, cfg)
    if clean.get("published"):  # a draft may keep the template text while it is written
        for key, line, message, hint in placeholders.find(record, comments):
            problems.add("E116", line, message, hint, key)
            has_errors = True
    if has_errors:
        return ParseResult(None, problems.items, record)
    return ParseResult(record, problems.items)


def _build(rel, src, rtype, clean, unit, body, body_line, lines, cfg) -> Record:
    """The Record from the converted values; with errors, the fields that failed stay empty."""
    record = Record(
        path=rel, src_path=str(src), type=rtype, title=clean.get("title", ""), index_no=clean.get("index_no", ""),
        issuer=unit.id if unit else "", written=clean.get("written") or EARLIEST_DATE, body=body,
        body_line=body_line, lines=lines,
    )
    for key in ("doc_no", "topic", "column", "changed", "published", "summary", "keywords", "genre",
                "attachments", "late_reason", "personal_data_allowed", "related", "interprets", "reg_no",
                "effective", "amends", "amended_by", "year", "tables"):
        if key in clean:
            setattr(record, key, clean[key])
    if "reviewed" in clean:
        record.reviewed_by, record.reviewed_on = clean["reviewed"]["by"], clean["reviewed"]["date"]
    if "withdrawn" in clean:
        w = clean["withdrawn"]
        record.withdrawn = Withdrawal(w["date"], w["reason"], w.get("decided"))
    if "repealed" in clean:
        r = clean["repealed"]
        record.repealed = Repeal(r["date"], r.get("by") or "")
    if rtype == "normative":
        record.trial = clean.get("trial", "暂行" in record.title or "试行" in record.title)
        if "expires" in clean:
            record.expires, record.expires_explicit = clean["expires"], True
        elif record.effective:
            years = cfg.rules.normative_trial_validity_years if record.trial else cfg.rules.normative_validity_years
            record.expires = add_years(record.effective, years) - dt.timedelta(days=1)
    return record


def resolve_attachments(items: list, src: Path, cfg: PortalConfig, problems: _Problems, lines: dict) -> list:
    """Each attachment must be a regular file inside content/ (after resolving `..` and symlinks) of
    a type offices publish; each gets a published name that is safe in a URL and unique in the record.

    Published names: the file's own name, with `#`, `?`, `%` and `\\` replaced by `_`; when two
    attachments of one record share a name (`a/plan.pdf`, `b/plan.pdf`, compared ignoring case), the
    later ones become `plan-2.pdf`, `plan-3.pdf` … in the order written — stable as long as the list is."""
    if not items:
        return []
    docs = cfg.docs_dir.resolve()
    out = []
    for i, a in enumerate(items):
        line = a.line = lines.get(f"attachments[{i}]", lines.get("attachments", 1))
        shown = _echo(a.file)
        if not a.file.strip():
            problems.add("E109", line, "附件路径是空的", "写出附件文件的路径，或删除这一项", "attachments")
            continue
        if _CONTROL.search(a.file) or _CONTROL.search(a.title):
            problems.add("E112", line, f"附件「{shown}」的文件名或标题中有换行、制表符等控制字符",
                         "把文件改名，只用文字、数字、-、_ 和 .，并去掉标题中的换行", "attachments")
            continue
        base = cfg.docs_dir if a.file.startswith("/") else src.parent
        try:
            path = (base / a.file.lstrip("/")).resolve()
        except (OSError, RuntimeError, ValueError):  # symlink loops, names the OS refuses
            path = None
        if path is None or not path.is_relative_to(docs):
            problems.add("E308", line, f"附件「{shown}」在 content/ 文件夹之外（或是指向外部的链接文件）",
                         "把附件文件复制到 content/ 下（例如与记录放在同一文件夹），再写相对路径", "attachments")
            continue
        try:
            st = os.stat(path)
        except OSError:
            problems.add("E109", line, f"附件「{shown}」找不到",
                         "把附件文件放到 content/ 下并检查路径（相对于本记录文件所在的文件夹）", "attachments")
            continue
        if not stat.S_ISREG(st.st_mode):
            problems.add("E308", line, f"附件「{shown}」不是普通文件（是文件夹、设备或管道）",
                         "附件应为 PDF、Word 等普通文件", "attachments")
            continue
        suffix = path.suffix.lower().lstrip(".")
        if suffix not in ATTACHMENT_TYPES:
            why = ("网页、图形脚本一类的文件会在访问者的浏览器中直接运行" if suffix in _BROWSER_RUNS
                   else f"“.{suffix}”不是政府信息公开常用的文件类型" if suffix else "文件没有扩展名，无法判断类型")
            problems.add("E309", line, f"附件「{shown}」不能发布：{why}",
                         "转换为 PDF（或 OFD、Word、Excel、图片）后作为附件；允许的类型："
                         + "、".join(sorted(ATTACHMENT_TYPES)), "attachments")
            continue
        if suffix not in ("txt", "csv") and _looks_like_markup(path):
            problems.add("E309", line, f"附件「{shown}」的扩展名是 .{suffix}，内容却是网页或 SVG",
                         "用原始文件重新导出为真正的 PDF、Word 或图片", "attachments")
            continue
        a.path, a.size = path, st.st_size
        out.append(a)
    _published_names(out)
    return out


def _looks_like_markup(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024).lstrip().lower()
    except OSError:
        return False
    return head.startswith(b"<") and any(t in head for t in (b"<html", b"<svg", b"<script", b"<!doctype html"))


def _published_names(attachments: list) -> None:
    taken: set[str] = set()
    wanted = {_URL_UNSAFE_NAME.sub("_", Path(a.file).name).lower() for a in attachments}
    for a in attachments:
        name = _URL_UNSAFE_NAME.sub("_", Path(a.file).name)
        if name.lower() in taken:
            stem, dot, ext = name.rpartition(".")
            stem, ext = (stem, "." + ext) if dot and stem else (name, "")
            k = 2
            while f"{stem}-{k}{ext}".lower() in taken or f"{stem}-{k}{ext}".lower() in wanted:
                k += 1
            name = f"{stem}-{k}{ext}"
        taken.add(name.lower())
        a.name = name


_NOUNS = {"issuer": "单位", "topic": "主题分类", "column": "栏目"}


def _not_configured(problems: _Problems, key: str, line: int, value: str, options, message: str, fallback: str):
    """E108 for a value the site configuration does not know: the nearest one to copy, then the
    allowed values, nearest first."""
    near = _nearest(value, options)
    listing = hints.choices_text(value, options)
    hint = ((f"改为「{near}」；" if near else "") + f"可用的{_NOUNS.get(key, '值')}（最接近的在前）：{listing}"
            + (f"。{fallback}" if not near else ""))
    problems.add("E108", line, message, hint, key)


def _already_reported(problems: _Problems, key: str) -> bool:
    return any(f.field == key or f.field.startswith(key + ".") for f in problems.items)


def _convert(coerce: _Coerce, spec, value, line):
    key, label, kind = spec.key, spec.label, spec.kind
    if kind in ("str", "text", "ref"):
        return coerce.text(value, line, key, label)
    if kind == "date":
        return coerce.date(value, line, key, label)
    if kind == "int":
        return coerce.int(value, line, key, label)
    if kind == "bool":
        return coerce.bool(value, line, key, label)
    if kind in ("str_list", "ref_list"):
        return coerce.str_list(value, line, key, label)
    if kind == "review":
        return coerce.mapping(value, line, key, label, {"by": ("text", True), "date": ("date", True)})
    if kind == "withdrawn":
        return coerce.mapping(value, line, key, label,
                              {"date": ("date", True), "reason": ("text", True), "decided": ("date", False)})
    if kind == "repealed":
        return coerce.mapping(value, line, key, label, {"date": ("date", True), "by": ("text", False)})
    if kind == "tables":
        if isinstance(value, dict):
            return value
        coerce.p.add("E106", line, f"{label}应为表格数据（多个子项）", "参照 README 的年度报告表格写法", key)
        return None
    if kind == "attachments":
        items = value if isinstance(value, list) else [value]
        out = []
        for item in items:
            if isinstance(item, str):
                out.append(Attachment(item, Path(item).stem, None))
            elif isinstance(item, dict) and isinstance(item.get("file"), str):
                out.append(Attachment(item["file"], str(item.get("title") or Path(item["file"]).stem), None))
            else:
                coerce.p.add("E106", line, f"附件写法有误：{_kind_name(item)}",
                             "每个附件写成 - 文件路径，或 - {file: 路径, title: 名称}", key)
                return None
        return out
    raise AssertionError(kind)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
