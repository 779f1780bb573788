"""年度报告: deadlines by unit level (第四十九条) and missing reports."""

from __future__ import annotations

import datetime as dt

from .. import annual_tables
from ..findings import Finding


def deadline_for(year: int, level: str, deadlines: dict) -> dt.date:
    """The report on `year` is due on this date of year+1 (31 Jan departments, 31 Mar governments)."""
    month, day = (int(x) for x in deadlines[level].split("-"))
    return dt.date(year + 1, month, day)


def check(record, ctx):
    if record.type != "annual-report" or record.year is None:
        return
    unit = ctx.cfg.unit(record.issuer)
    due = deadline_for(record.year, unit.level, ctx.cfg.rules.annual_report_deadline)
    if record.written.year <= record.year - 1 or record.year > ctx.as_of.year:
        yield Finding("E110", record.path, record.line("year"),
                      f"报告年度 {record.year} 与成文日期 {record.written} 不符", "年度报告应在报告年度结束后成文", "year")
    for problem in annual_tables.check(record.tables):
        yield Finding("E503", record.path, record.line("tables"), f"{problem.cell}：{problem.message}",
                      "核对该单元格及其所在行、列的数字，使表格勾稽关系成立", "tables")
    if record.published and record.published > due:
        late = (record.published - due).days
        yield Finding("W501", record.path, record.line("published"),
                      f"{record.year} 年度报告应于 {due} 前公开，实际 {record.published}，晚 {late} 天",
                      "按《条例》第四十九条，部门在1月31日前、政府在3月31日前公布", "published")


def check_corpus(records, ctx):
    rules = ctx.cfg.rules
    reports = {}
    first_year = {}
    for r in records:
        first_year[r.issuer] = min(first_year.get(r.issuer, 9999), r.written.year)
        if r.type == "annual-report" and r.year is not None:
            key = (r.issuer, r.year)
            if key in reports:
                other = reports[key]
                yield Finding("E504", r.path, r.line("year"),
                              f"{r.year} 年度报告与 {other.path} 重复", "每个单位每年只有一份年度报告", "year")
            else:
                reports[key] = r
    for unit in ctx.cfg.units:
        since = rules.annual_reports_since or first_year.get(unit.id)
        if since is None:
            continue
        for year in range(since, ctx.as_of.year):
            due = deadline_for(year, unit.level, rules.annual_report_deadline)
            report = reports.get((unit.id, year))
            if ctx.as_of > due and (report is None or not report.is_live(ctx.as_of)):
                yield Finding("W502", "mkdocs.yml", 1,
                              f"{unit.name} {year} 年度报告应于 {due} 前公开，至 {ctx.as_of} 仍未公开",
                              "编写年度报告记录（type: annual-report）并发布", "annual-report")
