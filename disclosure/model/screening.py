"""Personal data and 密级 marks: the patterns, the ID check digit, and masking for anything printed.

Lives in the model (not in rules/) because findings mask their own text with it: no message, log
line or report may echo an ID or mobile number in full, whichever rule wrote it.
"""

from __future__ import annotations

import re

# 密级标志 as printed on documents (GB/T 9704): "秘密★1年", "机密 ★", "密级：绝密", or a bare 绝密/机密 line.
CLASSIFIED = re.compile(
    r"(绝密|机密|秘密)\s*[★☆*＊]|密\s*级\s*[:：]\s*(绝密|机密|秘密)|^[ \t]*(绝密|机密)[ \t]*$", re.M
)
# ASCII digits only: text is passed through `ascii_digits` first, so full-width digits are caught too.
ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"
    r"(?![0-9A-Za-z])"
)
MOBILE = re.compile(r"(?<![0-9-])1[3-9][0-9](?:[- ]?[0-9]{4}){2}(?![0-9-])")

_FULLWIDTH = {0xFF10 + i: 0x30 + i for i in range(10)} | {0xFF38: 0x58, 0xFF58: 0x78, 0xFF0D: 0x2D, 0x3000: 0x20}
_RUN_OF_DIGITS = re.compile(r"[0-9]{4}[- ]?[0-9]{4}")  # in every ID and mobile number
_FULLWIDTH_CHARS = re.compile("[\uff0d\uff10-\uff19\uff38\uff58\u3000]")
_FULLWIDTH_DIGIT = re.compile("[\uff10-\uff19]")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def ascii_digits(text: str) -> str:
    """Full-width digits, X, hyphen and space → ASCII, same length (positions, so lines, are kept)."""
    return text.translate(_FULLWIDTH) if _FULLWIDTH_CHARS.search(text) else text


def id_check_ok(number: str) -> bool:
    """GB 11643-1999 check digit."""
    number = ascii_digits(number)
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def find_id_numbers(text: str):
    return [m for m in ID_NUMBER.finditer(ascii_digits(text)) if id_check_ok(m.group(0))]


def mask(s: str) -> str:
    """Never echo personal data in full: keep the first 3 and last 2 characters."""
    return s[:3] + "*" * (len(s) - 5) + s[-2:]


def may_contain_number(text: str) -> bool:
    return _RUN_OF_DIGITS.search(text) is not None or _FULLWIDTH_DIGIT.search(text) is not None


def mask_personal(text: str) -> str:
    """`text` with every ID number (valid check digit) and mobile number masked; cheap when there is none."""
    if not text or not may_contain_number(text):
        return text
    plain = ascii_digits(text)
    spans = [m.span() for m in ID_NUMBER.finditer(plain) if id_check_ok(m.group(0))]
    spans += [m.span() for m in MOBILE.finditer(plain)]
    if not spans:
        return text
    out, pos = [], 0
    for a, b in sorted(spans):
        if a < pos:
            continue
        out.append(text[pos:a])
        out.append(mask(text[a:b]))
        pos = b
    out.append(text[pos:])
    return "".join(out)
