"""Blocking safety checks: classified marks, personal data, active HTML (《条例》第十四、十五、十七条).

Every text a visitor can see is screened: title, summary, keywords, genre, 文号, 登记编号, the
withdrawal reason, the late reason (shown on the public 公开时效 page), the reviewer, repeal basis,
each attachment's file name and title, and the body. `personal_data_allowed` excuses ID and mobile
numbers in the body, summary and attachments only (a 公示名单 may need them); never in the title,
keywords, reasons or names, and never 密级 marks.

Markup: the body is scanned with the render-time policy (`disclosure.model.sanitize`), other fields
only for what could run if printed unescaped.
"""

from __future__ import annotations

import re

from disclosure.model.findings import Finding
from disclosure.model.sanitize import may_have_markup, scan_markup
from disclosure.model.screening import (  # noqa: F401  (re-exported: the rules' public names)
    CLASSIFIED, ID_NUMBER, MOBILE, ascii_digits, find_id_numbers, id_check_ok, mask, may_contain_number,
)

# One pass over each text finds every kind (separate scans cost 3× on 100,000 bodies).
_KINDS = {"classified": CLASSIFIED, "id": ID_NUMBER, "mobile": MOBILE}
ANY = re.compile("|".join(f"(?P<{name}>{rx.pattern})" for name, rx in _KINDS.items()), re.M)
# In plain fields (title, summary, keywords …, printed escaped), what only an attack would write:
# an event handler or a script URL, with or without a tag around it (`x" onmouseover="…`).
_INJECTION = re.compile(r"\bon[a-z]{3,}\s*=|\b(?:javascript|vbscript)\s*:|\bdata\s*:\s*text/html|http-equiv", re.I)
MAX_PER_FIELD = 20  # findings of one code in one field; the last one says how many more there are


def _may_match(text: str) -> bool:
    return "密" in text or may_contain_number(text)


class _Lines:
    """Line of a position in a text, for positions visited in increasing order (linear overall)."""

    def __init__(self, text: str, first: int):
        self.text, self.pos, self.line = text, 0, first

    def at(self, pos: int) -> int:
        if pos < self.pos:
            self.pos, self.line = 0, self.line - self.text.count("\n", 0, self.pos)
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def _places(record):
    """(field, text, first line, is the body, personal data may be allowed) for each visible text."""
    line = record.line
    yield "title", record.title, line("title"), False, False
    if record.summary:
        yield "summary", record.summary, line("summary"), False, True
    for i, word in enumerate(record.keywords):
        yield "keywords", word, line(f"keywords[{i}]") if f"keywords[{i}]" in record.lines else line("keywords"), False, False
    for key in ("genre", "doc_no", "reg_no", "late_reason"):
        value = getattr(record, key)
        if value:
            yield key, value, line(key), False, False
    if record.reviewed_by:
        yield "reviewed.by", record.reviewed_by, line("reviewed.by") if "reviewed.by" in record.lines else line("reviewed"), False, False
    if record.withdrawn and record.withdrawn.reason:
        yield ("withdrawn.reason", record.withdrawn.reason,
               line("withdrawn.reason") if "withdrawn.reason" in record.lines else line("withdrawn"), False, False)
    if record.repealed and record.repealed.by:
        yield "repealed.by", record.repealed.by, line("repealed"), False, False
    for a in record.attachments:
        at = a.line or line("attachments")
        yield "attachments", a.file, at, False, True
        if a.title and a.title not in a.file:
            yield "attachments", a.title, at, False, True
    yield "body", record.body, record.body_line, True, True


def _nothing_to_find(text: str) -> bool:
    return not (_may_match(text) or may_have_markup(text) or _INJECTION.search(text))


def check(record, ctx):
    allow_personal = bool(record.personal_data_allowed)
    own = ctx.cfg.own_hosts
    places = list(_places(record))
    # one cheap test over all the short fields together: almost always nothing to look at
    if _nothing_to_find("\n".join(p[1] for p in places if not p[3] and p[1])):
        places = [p for p in places if p[3]]
    for fld, text, first, is_body, allowable in places:
        if not text or (is_body and not (_may_match(text) or may_have_markup(text))):
            continue
        lines = _Lines(text, first) if is_body else None
        counts: dict = {}

        def where(pos):
            return lines.at(pos) if lines else first

        def emit(code, pos, message, hint):
            n = counts[code] = counts.get(code, 0) + 1
            if n <= MAX_PER_FIELD:
                return Finding(code, record.path, where(pos), message, hint, fld)
            return None

        found = []
        if _may_match(text):
            plain = ascii_digits(text)
            for m in ANY.finditer(plain):
                kind, hit = m.lastgroup, text[m.start():m.end()]
                excused = allow_personal and allowable
                if kind == "classified":
                    found.append(emit("E301", m.start(), f"出现密级标志「{hit.strip()}」，涉密信息不得公开",
                                      "确认是否涉密：涉密的撤下该文件；已解密的删去密级标志并在保密审查中注明"))
                elif kind == "id" and not excused and id_check_ok(m.group(0)):
                    found.append(emit("E302", m.start(), f"出现身份证号码 {mask(hit)}，属于个人信息",
                                      "删除或隐去中间位数（如 3301**********1234）"
                                      + ("；确需公开的，加 personal_data_allowed: 依据" if allowable else "；这一项不能公开个人信息")))
                elif kind == "mobile" and not excused:
                    found.append(emit("E303", m.start(), f"出现手机号码 {mask(hit)}，属于个人信息",
                                      "改为单位办公电话，或隐去中间四位"
                                      + ("；确需公开的，加 personal_data_allowed: 依据" if allowable else "；这一项不能公开个人信息")))
        problems = scan_markup(text, own, markdown=is_body) if may_have_markup(text) else []
        if not is_body and not any(p.code == "E304" for p in problems):
            m = _INJECTION.search(text)
            if m:
                found.append(emit("E304", m.start(), f"含有网页代码片段「{m.group(0)}」，在网页中可能被执行",
                                  "这一项只写文字，删除其中的网页代码"))
        for p in problems:
            if p.code == "E304":
                hint = ("删除这段代码；正文用 Markdown 书写（标题、列表、表格、链接、图片都有对应写法）"
                        if is_body else "这一项只写文字，删除其中的网页代码")
                found.append(emit("E304", p.pos, f"含有会被执行的网页代码「{p.what}」：{p.why}", hint))
            elif p.code == "E306":
                found.append(emit("E306", p.pos, f"嵌入了其他网站的资源「{p.what}」：{p.why}",
                                  "把图片等文件下载后放到 content/ 下，用相对路径引用；普通链接不受影响"))
            else:
                found.append(emit("W307", p.pos, f"「{p.what}」{p.why}，网页上不会显示",
                                  "改用 Markdown 写法，或删除这段 HTML；允许的标签见 README 的“Safety of record content”一节"))
        for code in [c for c, n in counts.items() if n > MAX_PER_FIELD]:
            last = max((i for i, f in enumerate(found) if f is not None and f.code == code), default=None)
            if last is not None:
                f = found[last]
                found[last] = Finding(f.code, f.path, f.line, f.message + f"（同类问题共 {counts[code]} 处，只列出前 {MAX_PER_FIELD} 处）",
                                      f.hint, f.field)
        yield from (f for f in found if f is not None)
