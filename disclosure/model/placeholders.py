"""The template text `disclosure new` writes, so that a record never reaches the public with it (E116).

Checked once a record has `published` (a draft may keep its placeholders while it is written).
Covers what earlier versions of the scaffold wrote too (审查人姓名, 一句话概述主要内容, 正文。,
`reg_no: 待登记-…`, a 文号 marked `# 改为实际文号`).
"""

from __future__ import annotations

FILL_MARK = "（填写"  # every placeholder the scaffold writes now contains it: （填写发文字号，如 …）
TITLE_MARK = "（标题）"
EXACT = {"审查人姓名", "审查人", "一句话概述主要内容", "正文。", "正文", "标题"}
COMMENT_MARKS = ("改为实际", "改为统一登记编号")  # trailing comments of the earlier scaffold

PLAIN = {
    "title": ("标题仍是模板文字", "写出完整的标题"),
    "summary": ("内容概述仍是模板文字", "用一两句话写出这条信息的主要内容，或删除 summary 这一行"),
    "reviewed.by": ("保密审查人尚未填写（仍是模板文字）", "填写实际承担保密审查的人员或机构，如 reviewed: {by: 县教育局办公室 周静, date: 2026-11-20}"),
    "doc_no": ("发文字号仍是模板文字", "填写文件上印的发文字号，如 青教规〔2026〕1号"),
    "reg_no": ("登记编号仍是模板文字", "填写规范性文件统一登记编号（登记后取得）"),
    "body": ("正文仍是模板文字", "把文件全文粘贴在第二个 --- 之后，替换模板文字"),
    "genre": ("体裁仍是模板文字", "填写通知、公告、决定等，或删除这一行"),
    "late_reason": ("延迟说明仍是模板文字", "写出延迟公开的原因"),
}


def is_placeholder(value: str, comment: str = "") -> bool:
    v = (value or "").strip()
    return bool(v) and (v in EXACT or v.startswith(TITLE_MARK) or FILL_MARK in v or v.startswith("待登记")
                        or any(m in comment for m in COMMENT_MARKS))


def find(record, comments: dict | None = None):
    """(field, line, message, hint) for each placeholder left in a record."""
    comments = comments or {}
    values = (record.title, record.summary, record.doc_no, record.reg_no, record.genre, record.late_reason, record.reviewed_by)
    joined = "\x00".join(values)
    if not (FILL_MARK in joined or TITLE_MARK in joined or "待登记" in joined or comments
            or any(v in EXACT for v in values) or len(record.body) < 200):
        return
    fields = [("title", record.title), ("summary", record.summary), ("doc_no", record.doc_no),
              ("reg_no", record.reg_no), ("genre", record.genre), ("late_reason", record.late_reason),
              ("reviewed.by", record.reviewed_by)]
    for key, value in fields:
        if value and is_placeholder(value, comments.get(key, "")):
            line = record.lines.get(key) or record.lines.get(key.split(".")[0], 1)
            msg, hint = PLAIN[key]
            yield key, line, f"{msg}「{value}」，公开后访问者会看到这些字", hint
    if record.body.strip() in EXACT or (len(record.body) < 200 and FILL_MARK in record.body):
        msg, hint = PLAIN["body"]
        stripped = record.body.lstrip()
        line = record.body_line + record.body[: len(record.body) - len(stripped)].count("\n")
        yield "body", line, f"{msg}「{record.body.strip()}」，公开后访问者会看到这些字", hint
