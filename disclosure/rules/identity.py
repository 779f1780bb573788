"""索引号 well-formed and unique; 发文字号 well-formed and unique per issuer."""

from __future__ import annotations

import re
from collections import defaultdict

from disclosure.model.findings import Finding
from disclosure.model.placeholders import is_placeholder as _placeholder

from disclosure.model.hints import DOC_NO, doc_no_corrected, doc_no_problem  # noqa: F401 (public names)


def check(record, ctx):
    unit = ctx.cfg.unit(record.issuer)
    pattern = ctx.cfg.index_no_pattern(unit)
    if not pattern.match(record.index_no):
        example = ctx.cfg.format_index_no(unit, record.written.year, 1)
        yield Finding("E201", record.path, record.line("index_no"),
                      f"索引号「{record.index_no}」不符合{unit.name}的索引号格式",
                      f"应形如 {example}；用 disclosure new 生成可避免出错", "index_no")
    yield from check_doc_no(record, ctx)


def check_doc_no(record, ctx):
    """The 文号's format: independent of every other field, so it also runs on a record with errors."""
    if record.doc_no and not _placeholder(record.doc_no):
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
