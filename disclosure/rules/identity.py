"""索引号 well-formed and unique; 发文字号 well-formed and unique per issuer."""

from __future__ import annotations

import re
from collections import defaultdict

from disclosure.model.findings import Finding

DOC_NO = re.compile(r"^(?P<agency>[^\s〔〕\[\]()（）【】]+)〔(?P<year>\d{4})〕(?P<seq>[1-9]\d*)号$")


def doc_no_problem(doc_no: str) -> str | None:
    """None when `doc_no` follows 机关代字〔YYYY〕N号; otherwise what to change, in plain words."""
    if DOC_NO.match(doc_no):
        return None
    if re.search(r"[\[\]()（）【】]", doc_no):
        return "年份应使用六角括号〔〕，不用 []、()、（）或【】"
    if "第" in doc_no:
        return "序号前不加“第”"
    if re.search(r"〔\d{4}〕0\d*号", doc_no):
        return "序号不编虚位（不补 0），如 1号 而不是 01号"
    if not re.search(r"〔\d{4}〕", doc_no):
        return "应写出完整四位年份并用〔〕括起，如 青政发〔2024〕3号"
    if not doc_no.endswith("号"):
        return "末尾应有“号”"
    return "格式应为 机关代字〔年份〕序号号，如 青政发〔2024〕3号"


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
            yield Finding("E204", record.path, record.line("doc_no"),
                          f"发文字号「{record.doc_no}」格式不规范：{problem}", "按《党政机关公文格式》GB/T 9704 修改", "doc_no")


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
    for (issuer, doc_no), group in by_doc.items():
        for r in group[1:]:
            first = group[0]
            yield Finding("E203", r.path, r.line("doc_no"),
                          f"发文字号「{doc_no}」与 {first.path}:{first.line('doc_no')} 重复",
                          "同一机关的发文字号不能重复，核对原文的文号", "doc_no")
