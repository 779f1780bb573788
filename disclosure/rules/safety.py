"""Blocking safety checks: classified marks, personal data, active HTML (《条例》第十四、十五、十七条)."""

from __future__ import annotations

import re

from disclosure.model.findings import Finding

# 密级标志 as printed on documents (GB/T 9704): "秘密★1年", "机密 ★", "密级：绝密", or a bare 绝密/机密 line.
CLASSIFIED = re.compile(
    r"(绝密|机密|秘密)\s*★|密\s*级\s*[:：]\s*(绝密|机密|秘密)|^[ \t]*(绝密|机密)[ \t]*$", re.M
)
ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)
MOBILE = re.compile(r"(?<![\d-])1[3-9]\d(?:[- ]?\d{4}){2}(?![\d-])")
SCRIPT = re.compile(r"<\s*script\b|<[^>]*\son[a-z]+\s*=|javascript\s*:", re.I)
# Resources a browser would fetch from another site: Markdown images, <img>/<iframe>/<video>… src, CSS url().
# Plain links (<a href>, [text](url)) are fine: they are only followed when a visitor clicks.
EXTERNAL_RESOURCE = re.compile(
    r"!\[[^\]]*\]\(\s*<?(https?:)?//|<(?:img|iframe|script|video|audio|source|embed|object|link)\b[^>]*?"
    r"\b(?:src|href|data|poster)\s*=\s*[\"']?(https?:)?//|url\(\s*[\"']?(https?:)?//", re.I)

# One pass over each text finds every kind (five separate scans cost 5× on 100,000 bodies).
_KINDS = {"classified": CLASSIFIED, "id": ID_NUMBER, "mobile": MOBILE, "script": SCRIPT, "external": EXTERNAL_RESOURCE}
ANY = re.compile("|".join(f"(?P<{name}>{rx.pattern})" for name, rx in _KINDS.items()), re.M | re.I)
# Every kind needs one of these characters; most texts have none of the rare ones, and a substring
# test in C is far cheaper than trying the alternation at every position.
_RUN_OF_DIGITS = re.compile(r"\d{4}[- ]?\d{4}")  # in every ID and mobile number


def _may_match(text: str) -> bool:
    return ("密" in text or "<" in text or "//" in text or ":" in text or "url(" in text
            or _RUN_OF_DIGITS.search(text) is not None)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_ok(number: str) -> bool:
    """GB 11643-1999 check digit."""
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def find_id_numbers(text: str):
    return [m for m in ID_NUMBER.finditer(text) if id_check_ok(m.group(0))]


def mask(s: str) -> str:
    """Never echo personal data in full in a log: keep the first 3 and last 2 characters."""
    return s[:3] + "*" * (len(s) - 5) + s[-2:]


def _line_of(text: str, pos: int, first_line: int) -> int:
    return first_line + text.count("\n", 0, pos)


def _places(record):
    """(field, text, first line) for each text a visitor will see."""
    yield "title", record.title, record.line("title")
    if record.summary:
        yield "summary", record.summary, record.line("summary")
    yield "body", record.body, record.body_line
    for a in record.attachments:
        yield "attachments", f"{a.file} {a.title}", record.line("attachments")


def check(record, ctx):
    allow_personal = bool(record.personal_data_allowed)
    for fld, text, first in _places(record):
        if not _may_match(text):
            continue
        for m in ANY.finditer(text):
            kind, hit = m.lastgroup, m.group(0)
            line = _line_of(text, m.start(), first)
            if kind == "classified":
                yield Finding("E301", record.path, line, f"出现密级标志「{hit.strip()}」，涉密信息不得公开",
                              "确认是否涉密：涉密的撤下该文件；已解密的删去密级标志并在保密审查中注明", fld)
            elif kind == "id" and not allow_personal and id_check_ok(hit):
                yield Finding("E302", record.path, line, f"出现身份证号码 {mask(hit)}，属于个人信息",
                              "删除或隐去中间位数（如 3301**********1234）；确需公开的，加 personal_data_allowed: 依据", fld)
            elif kind == "mobile" and not allow_personal:
                yield Finding("E303", record.path, line, f"出现手机号码 {mask(hit)}，属于个人信息",
                              "改为单位办公电话，或隐去中间四位；确需公开的，加 personal_data_allowed: 依据", fld)
            elif kind == "external" and fld == "body":
                yield Finding("E306", record.path, line,
                              f"嵌入了其他网站的资源「{hit[:40]}」，访问者打开页面时会向第三方发出请求",
                              "把图片、视频等文件下载后放到 content/ 下作为附件或本地图片引用；普通链接不受影响", fld)
            elif kind == "script" and fld != "attachments":
                yield Finding("E304", record.path, line, f"含有可执行的网页代码「{hit[:30]}」",
                              "删除 <script>、onclick= 之类的代码和 javascript: 链接，正文只用 Markdown", fld)
