"""Parse one record file (Markdown + YAML front matter) into a typed `Record`, or say precisely why not.

Structure problems are reported with the file, the line of the offending key and a fix; nothing
here raises on bad input. libyaml (CSafeLoader) parses each front matter once: the node tree gives
the line of every key, and each value is constructed on its own so one bad date does not hide the rest.
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from disclosure.model.config import PortalConfig
from disclosure.model.findings import Finding
from disclosure.model.schema import FIELDS, RECORD_TYPES

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pyyaml without libyaml
    _Loader = yaml.SafeLoader

_STR_TAG = "tag:yaml.org,2002:str"
DATE_HINT = "写成 YYYY-MM-DD，例如 2024-03-18，且必须是日历上存在的日期"


@dataclass(slots=True)
class Attachment:
    file: str  # as written in the front matter
    title: str
    path: Path | None  # resolved on disk
    size: int = 0

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
    src_path: Path
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


def slug_for(index_no: str) -> str:
    """URL segment from the 索引号: `MB0000001/2024-00012` → `MB0000001-2024-00012`."""
    return _SLUG_BAD.sub("-", index_no).strip("-")


@dataclass(slots=True)
class ParseResult:
    record: Record | None
    findings: list


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

    def __init__(self, problems: _Problems):
        self.p = problems

    def date(self, value, line, key, label) -> dt.date | None:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.p.add("E107", line, f"{label}「{value}」不是有效日期", DATE_HINT, key)
        return None

    def text(self, value, line, key, label) -> str | None:
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        self.p.add("E106", line, f"{label}应为一段文字，现在是{_kind_name(value)}", f"写成 {key}: 文字内容", key)
        return None

    def int(self, value, line, key, label) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        self.p.add("E106", line, f"{label}应为整数，现在是「{value}」", f"写成 {key}: 2024 这样的数字", key)
        return None

    def bool(self, value, line, key, label) -> bool | None:
        if isinstance(value, bool):
            return value
        self.p.add("E106", line, f"{label}应为 true 或 false，现在是「{value}」", f"写成 {key}: true 或 {key}: false", key)
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
            conv = getattr(self, kind)(value[sub], line, f"{key}.{sub}", f"{label}的 {sub}")
            if conv is None:
                ok = False
            out[sub] = conv
        return out if ok else None


def _kind_name(value) -> str:
    if isinstance(value, list):
        return "列表"
    if isinstance(value, dict):
        return "多个子项"
    if value is None:
        return "空值"
    return f"「{value}」"


def _construct(yaml_text: str, problems: _Problems, line_offset: int):
    """Returns [(key, value_or_marker, line)] or None when the YAML itself is broken."""
    loader = _Loader(yaml_text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
            line = (mark.line + line_offset) if mark else 1
            problem = getattr(e, "problem", None) or str(e)
            problems.add("E103", line, f"头信息的 YAML 写法有误（{problem}）",
                         "检查这一行及上一行：冒号后要有空格，缩进用空格不用 Tab，含冒号或 # 的文字加引号")
            return None
        if node is None:
            problems.add("E102", 1, "头信息是空的", "在两行 --- 之间填写 type、title、index_no 等字段")
            return None
        if not isinstance(node, yaml.MappingNode):
            problems.add("E103", line_offset, "头信息应为“字段: 值”的形式", "每行写一个字段，例如 title: 关于……的通知")
            return None
        out = []
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + line_offset
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            try:
                if type(value_node) is yaml.ScalarNode and value_node.tag == _STR_TAG:
                    value = value_node.value  # what PyYAML's str constructor returns, minus its bookkeeping
                else:
                    value = loader.construct_object(value_node, deep=True)
            except (ValueError, yaml.YAMLError) as e:
                value = _BadValue(str(getattr(e, "problem", None) or e), value_node)
            out.append((key, value, line))
        return out
    finally:
        loader.dispose()


class _BadValue:
    def __init__(self, problem, node):
        self.problem = problem
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
        raw = src.read_bytes()
    text = decode(raw, problems)
    if text is None:
        return ParseResult(None, problems.items)
    split = split_front_matter(text, problems)
    if split is None:
        return ParseResult(None, problems.items)
    yaml_text, body, body_line = split
    pairs = _construct(yaml_text, problems, line_offset=2)
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

    rtype = values.get("type")
    if isinstance(rtype, str) and rtype not in RECORD_TYPES:
        near = _nearest(rtype, RECORD_TYPES)
        problems.add("E108", lines["type"], f"类型「{rtype}」无法识别",
                     f"改为 {near}" if near else f"可用类型：{', '.join(RECORD_TYPES)}", "type")
        rtype = None
    elif "type" in values and not isinstance(rtype, str):
        problems.add("E106", lines["type"], "类型应为文字", f"可用类型：{', '.join(RECORD_TYPES)}", "type")
        rtype = None

    coerce = _Coerce(problems)
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
            else:
                problems.add("E106", line, f"{spec.label}「{value.text}」无法识别（{value.problem}）", "检查这个值的写法", key)
            continue
        if value is None or value == "" or value == []:
            continue  # treated as absent; the required check below speaks if needed
        conv = _convert(coerce, spec, value, line)
        if conv is not None:
            clean[key] = conv

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
            _not_configured(problems, "issuer", lines["issuer"], clean["issuer"], [u.name for u in cfg.units],
                            f"发布机构「{clean['issuer']}」不在站点配置的单位列表中",
                            "使用 mkdocs.yml 中 extra.portal.units 里的单位全称")
    if "topic" in clean:
        topic = clean["topic"].replace("/", "\\").replace("＼", "\\")
        if topic not in cfg.topics:
            _not_configured(problems, "topic", lines["topic"], topic, cfg.topics,
                            f"主题分类「{clean['topic']}」不在主题分类表中", "写成“一级\\二级”，例如 综合政务\\政务公开")
        clean["topic"] = topic
    if "column" in clean:
        col = cfg.column(clean["column"])
        if col is None:
            _not_configured(problems, "column", lines["column"], clean["column"], [c.name for c in cfg.columns],
                            f"公开目录「{clean['column']}」不是已配置的栏目", "使用 extra.portal.columns 中的栏目名称")
        else:
            clean["column"] = col.id
    elif rtype == "normative" and cfg.columns:
        first = next((c for c in cfg.columns if "（一）" in c.item), cfg.columns[0])
        clean["column"] = first.id

    attachments = []
    for a in clean.get("attachments", []):
        base = cfg.docs_dir if a.file.startswith("/") else src.parent
        path = (base / a.file.lstrip("/")).resolve()
        if not path.is_file():
            problems.add("E109", lines["attachments"], f"附件「{a.file}」找不到",
                         "把附件文件放到 content/ 下并检查路径（相对于本记录文件所在的文件夹）", "attachments")
            continue
        a.path = path
        a.size = path.stat().st_size
        attachments.append(a)
    clean["attachments"] = attachments

    if any(f.level == "error" for f in problems.items) or not rtype:
        return ParseResult(None, problems.items)

    record = Record(
        path=rel, src_path=src, type=rtype, title=clean["title"], index_no=clean["index_no"],
        issuer=unit.id, written=clean["written"], body=body, body_line=body_line, lines=lines,
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
    return ParseResult(record, problems.items)


def _not_configured(problems: _Problems, key: str, line: int, value: str, options, message: str, fallback: str):
    """E108 for a value the site configuration does not know, suggesting the nearest one it does."""
    near = _nearest(value, options)
    problems.add("E108", line, message, f"改为「{near}」" if near else fallback, key)


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
