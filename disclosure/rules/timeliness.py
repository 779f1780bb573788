"""第二十六条: publish within 20 working days of formation or change. Lateness is a finding, not a block."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from disclosure.model.calendar import Deadline, WorkCalendar
from disclosure.model.findings import Finding

ON_TIME, LATE, PROVISIONAL, PENDING, OVERDUE = "on_time", "late", "provisional", "pending", "overdue"


@dataclass(frozen=True)
class Verdict:
    status: str  # on_time | late | provisional (late against an unconfirmed calendar) | pending | overdue
    deadline: Deadline
    late_days: int = 0  # working days after the deadline


def judge(formed: dt.date, published: dt.date | None, as_of: dt.date, calendar: WorkCalendar,
          working_days: int = 20, start_day_counts: bool = False) -> Verdict:
    """Judge one record's timeliness. Not yet published: `pending`, or `overdue` once the deadline passed."""
    deadline = calendar.deadline(formed, working_days, start_day_counts)
    if published is None or published > as_of:
        if as_of > deadline.deadline and not deadline.provisional:
            return Verdict(OVERDUE, deadline, calendar.working_days_after(deadline.deadline, as_of))
        return Verdict(PENDING, deadline)
    if published <= deadline.deadline:
        return Verdict(ON_TIME, deadline)
    if deadline.provisional:
        return Verdict(PROVISIONAL, deadline)
    return Verdict(LATE, deadline, calendar.working_days_after(deadline.deadline, published))


def judge_record(record, ctx) -> Verdict:
    r = ctx.cfg.rules
    return judge(record.formed, record.published, ctx.as_of, ctx.calendar, r.deadline_working_days, r.start_day_counts)


def check(record, ctx):
    v = judge_record(record, ctx)
    formed_key = "changed" if record.changed and record.changed >= record.written else "written"
    dl = v.deadline.deadline.isoformat()
    n = ctx.cfg.rules.deadline_working_days
    if v.status == LATE:
        base = (f"发布日期 {record.published} 晚于期限 {dl}（{record.formed} 起第 {n} 个工作日），"
                f"逾期 {v.late_days} 个工作日")
        if record.late_reason:
            yield Finding("W402", record.path, record.line("published"), f"{base}；延迟说明：{record.late_reason}",
                          "已说明原因，仍计入逾期统计", "published")
        else:
            yield Finding("W401", record.path, record.line("published"), base,
                          "今后请在期限内发布；如有特殊原因，加 late_reason: 说明延迟原因", "published")
    elif v.status == PROVISIONAL:
        yield Finding("I403", record.path, record.line(formed_key),
                      f"期限 {dl} 为暂定：{v.deadline.deadline.year} 年放假安排尚未确认，不计为逾期",
                      "国务院公布放假安排后，在 mkdocs.yml 的 extra.portal.calendar.years 中补充", formed_key)
    elif record.published is None or record.published > ctx.as_of:
        when = f"定于 {record.published} 发布" if record.published else "尚未填写发布日期（草稿）"
        state = "，已超过期限" if v.status == OVERDUE else ""
        yield Finding("I404", record.path, record.line("published") if record.published else 1,
                      f"{when}，不会出现在网站上；公开期限 {dl}{state}",
                      "到期前填写 published 并发布", "published")
