"""索引号 well-formed and unique; 发文字号 well-formed and unique per issuer."""

from __future__ import annotations

import re
from collections import defaultdict

from disclosure.model.findings import Finding

DOC_NO = re.compile(r"^(?P<agency>[^\s〔〕\[\]()（）【】]+)〔(?P<year>[0-9]{4})〕(?P<seq>[1-9][0-9]*)号$")
_BRACKETS = re.compile(r"[\[(（【［﹝〖{｛<《]\s*([0-9０-９]{2,4})\s*[\])）】］﹞〗}｝>》]")
_FULLWIDTH_DIGITS = {0xFF10 + i: 0x30 + i for i in range(10)}


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
    s = re.sub(r"\s+", "", doc_no.translate(_FULLWIDTH_DIGITS))

    def year(m):
        y = m.group(1).translate(_FULLWIDTH_DIGITS)
        if len(y) == 2 and year_hint and str(year_hint).endswith(y):
            y = str(year_hint)
        return f"〔{y}〕"

    s = _BRACKETS.sub(year, s)
    m = re.fullmatch(r"(?P<agency>[^〔〕]+)〔(?P<year>[0-9]{4})〕第?0*(?P<seq>[1-9][0-9]*)号?", s)
    if not m:
        return None
    fixed = f"{m.group('agency')}〔{m.group('year')}〕{m.group('seq')}号"
    return fixed if DOC_NO.match(fixed) and fixed != doc_no else None


def check(record, ctx):
    unit = ctx.cfg.unit(record.issuer)
    pattern = ctx.cfg.index_no_pattern(unit)
    if not pattern.match(record.index_no):
        example = ctx.cfg.format_index_no(unit, record.written.year, 1)
        yield Finding("E201", record.path, record.line("index_no"),
                      f"索引号「{record.index_no}」不符合{unit.name}的索引号格式",
                      f"应形如 {example}；用 disclosure new 生成可避免出错", "index_no")
    if record.doc_no:
        problem = doc_no_problem(record.doc_no)
        if problem:
            fixed = doc_no_corrected(record.doc_no, record.written.year)
            hint = (f"改为「{fixed}」（复制引号内的文字；〔〕是六角括号，输入法中可打“括号”或“六角”选取）" if fixed
                    else "写成 机关代字〔四位年份〕序号号，如 青政发〔2024〕3号（《党政机关公文格式》GB/T 9704）")
            yield Finding("E204", record.path, record.line("doc_no"),
                          f"发文字号「{record.doc_no}」格式不规范：{problem}", hint, "doc_no")


def check_corpus(records, ctx):
    by_index = defaultdict(list)
    by_doc = defaultdict(list)
    for r in records:
        by_index[r.index_no].append(r)
        if r.doc_no:
            by_doc[(r.issuer, r.doc_no)].append(r)
    for index_no, group in by_index.items():
        for r in group[1:]:
            first = group[0]
            yield Finding("E202", r.path, r.line("index_no"),
                          f"索引号「{index_no}」与 {first.path}:{first.line('index_no')} 重复",
                          "索引号是永久编号，不能重复；用 disclosure new 取得下一个可用的索引号", "index_no")
    by_slug = defaultdict(list)
    for index_no, group in by_index.items():
        by_slug[group[0].slug].append(group[0])
    for slug, group in by_slug.items():
        for r in group[1:]:
            first = group[0]
            yield Finding("E202", r.path, r.line("index_no"),
                          f"索引号「{r.index_no}」与 {first.path} 的「{first.index_no}」对应同一个网址 /records/{slug}/",
                          "索引号只用半角数字、字母和 / -；用 disclosure new 取得下一个可用的索引号", "index_no")
    for (issuer, doc_no), group in by_doc.items():
        for r in group[1:]:
            first = group[0]
            yield Finding("E203", r.path, r.line("doc_no"),
                          f"发文字号「{doc_no}」与 {first.path}:{first.line('doc_no')} 重复",
                          "同一机关的发文字号不能重复，核对原文的文号", "doc_no")
