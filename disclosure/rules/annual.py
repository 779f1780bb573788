"""年度报告: deadlines by unit level (第四十九条) and missing reports."""

from __future__ import annotations

import datetime as dt

from disclosure.model import annual_tables
from disclosure.model.findings import Finding


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


def years_due(records, cfg, as_of: dt.date):
    """(unit, year, deadline, report or None) for every annual report each unit owes before `as_of`'s year:
    from `rules.annual_reports_since`, else from the year of the unit's first record. Shared by the
    W502 rule and the compliance report, so both judge the same years."""
    reports: dict = {}
    first_year: dict = {}
    for r in records:
        first_year[r.issuer] = min(first_year.get(r.issuer, 9999), r.written.year)
        if r.type == "annual-report" and r.year is not None:
            reports.setdefault((r.issuer, r.year), r)  # a duplicate is E504; the first one counts
    rules = cfg.rules
    for unit in cfg.units:
        since = rules.annual_reports_since or first_year.get(unit.id)
        if since is None:
            continue
        for year in range(since, as_of.year):
            yield unit, year, deadline_for(year, unit.level, rules.annual_report_deadline), reports.get((unit.id, year))


def check_corpus(records, ctx):
    seen = {}
    for r in records:
        if r.type == "annual-report" and r.year is not None:
            other = seen.setdefault((r.issuer, r.year), r)
            if other is not r:
                yield Finding("E504", r.path, r.line("year"),
                              f"{r.year} 年度报告与 {other.path} 重复", "每个单位每年只有一份年度报告", "year")
    for unit, year, due, report in years_due(records, ctx.cfg, ctx.as_of):
        if ctx.as_of > due and (report is None or not report.is_live(ctx.as_of)):
            yield Finding("W502", "mkdocs.yml", 1,
                          f"{unit.name} {year} 年度报告应于 {due} 前公开，至 {ctx.as_of} 仍未公开",
                          "编写年度报告记录（type: annual-report）并发布", "annual-report")
