"""Date order, confidentiality-review dates and withdrawals (行政处罚法 第四十八条: 3 working days)."""

from __future__ import annotations

from disclosure.model.findings import Finding


def check(record, ctx):
    if record.published and record.published < record.written:
        yield Finding("E110", record.path, record.line("published"),
                      f"发布日期 {record.published} 早于成文日期 {record.written}", "核对两个日期", "published")
    if record.changed and record.changed < record.written:
        yield Finding("E110", record.path, record.line("changed"),
                      f"变更日期 {record.changed} 早于成文日期 {record.written}", "核对变更日期", "changed")
    if record.reviewed_on and record.published and record.reviewed_on > record.published:
        yield Finding("E110", record.path, record.line("reviewed"),
                      f"保密审查日期 {record.reviewed_on} 晚于发布日期 {record.published}，应先审查后公开",
                      "核对审查日期", "reviewed.date")
    w = record.withdrawn
    if w:
        if record.published and w.date < record.published:
            yield Finding("E110", record.path, record.line("withdrawn"),
                          f"撤回日期 {w.date} 早于发布日期 {record.published}", "核对撤回日期", "withdrawn.date")
        if w.decided:
            limit = ctx.cfg.rules.withdrawal_working_days
            due = ctx.calendar.add_working_days(w.decided, limit)
            if w.date > due:
                yield Finding("W701", record.path, record.line("withdrawn"),
                              f"处罚决定于 {w.decided} 变更或撤销，应在 {due} 前撤回，实际 {w.date}",
                              f"《行政处罚法》第四十八条：{limit} 个工作日内撤回并说明理由", "withdrawn.date")
