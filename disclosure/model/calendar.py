"""Mainland China working days (工作日) and the 20-working-day disclosure clock.

The day tables come from the maintained `chinesecalendar` package (State Council notices, 2004 to
its latest confirmed year, mid-year amendments included). A site adds a confirmed year or single
days in `extra.portal.calendar`. A year with no confirmed schedule is never guessed as definitive:
counting through it falls back to Monday-Friday and marks the result *provisional*.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping

from chinese_calendar import constants as _cc

WEEKEND = "周末"
MAKEUP_WORKDAY = "调休上班"
UNCONFIRMED = "未公布放假安排"

_CHINESE_NAMES = {h.value: h.chinese for h in _cc.Holiday}


@dataclass(frozen=True)
class DayInfo:
    day: dt.date
    is_workday: bool
    confirmed: bool
    reason: str  # empty for an ordinary working day


@dataclass(frozen=True)
class Deadline:
    formed: dt.date
    deadline: dt.date
    working_days: int
    provisional: bool
    skipped: tuple[DayInfo, ...] = field(default=())

    def as_dict(self) -> dict:
        return {
            "formed": self.formed.isoformat(),
            "deadline": self.deadline.isoformat(),
            "working_days": self.working_days,
            "provisional": self.provisional,
            "skipped": [
                {"date": d.day.isoformat(), "reason": d.reason, "confirmed": d.confirmed}
                for d in self.skipped
            ],
        }


def _parse_day(value) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


class WorkCalendar:
    """Answers 'is this a working day, and is that known for sure?' and counts working days."""

    def __init__(
        self,
        holidays: Mapping[dt.date, str],
        workdays: Mapping[dt.date, str],
        confirmed_years: Iterable[int],
    ):
        self._holidays = dict(holidays)
        self._workdays = dict(workdays)
        self.confirmed_years = frozenset(confirmed_years)
        self._deadline = lru_cache(maxsize=65536)(self._compute_deadline)

    @classmethod
    def default(cls) -> "WorkCalendar":
        return cls.from_config({})

    @classmethod
    def from_config(cls, cfg: Mapping | None) -> "WorkCalendar":
        """Build from the library tables plus `extra.portal.calendar`:

        ```yaml
        calendar:
          years:            # whole confirmed years (e.g. next year's notice, out each November)
            2027:
              holidays: {2027-01-01: 元旦}
              workdays: {2027-02-07: 春节}
          holidays: {2026-03-12: 县庆}   # single extra days off (regional holidays)
          workdays: {}                    # single extra working days
        ```
        """
        cfg = cfg or {}
        holidays = {d: _CHINESE_NAMES.get(n, n) for d, n in _cc.holidays.items()}
        workdays = {d: _CHINESE_NAMES.get(n, n) for d, n in _cc.workdays.items()}
        years = set(range(min(_cc.holidays).year, max(_cc.holidays).year + 1))
        for year, spec in (cfg.get("years") or {}).items():
            year = int(year)
            # an override replaces the year's library schedule entirely
            holidays = {d: n for d, n in holidays.items() if d.year != year}
            workdays = {d: n for d, n in workdays.items() if d.year != year}
            spec = spec or {}
            holidays.update({_parse_day(d): str(n) for d, n in (spec.get("holidays") or {}).items()})
            workdays.update({_parse_day(d): str(n) for d, n in (spec.get("workdays") or {}).items()})
            years.add(year)
        for d, n in (cfg.get("holidays") or {}).items():
            holidays[_parse_day(d)] = str(n)
            workdays.pop(_parse_day(d), None)
        for d, n in (cfg.get("workdays") or {}).items():
            workdays[_parse_day(d)] = str(n)
            holidays.pop(_parse_day(d), None)
        return cls(holidays, workdays, years)

    def is_confirmed(self, year: int) -> bool:
        return year in self.confirmed_years

    def info(self, day: dt.date) -> DayInfo:
        confirmed = day.year in self.confirmed_years
        if day in self._workdays:
            return DayInfo(day, True, confirmed, f"{MAKEUP_WORKDAY}（{self._workdays[day]}）")
        if day in self._holidays:
            return DayInfo(day, False, confirmed, self._holidays[day])
        if day.weekday() >= 5:
            return DayInfo(day, False, confirmed, WEEKEND)
        return DayInfo(day, True, confirmed, "" if confirmed else UNCONFIRMED)

    def is_workday(self, day: dt.date) -> bool:
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        return day.weekday() < 5

    def deadline(self, formed: dt.date, working_days: int = 20, start_day_counts: bool = False) -> Deadline:
        """The `working_days`-th working day after `formed` (day 0).

        With `start_day_counts`, the formation day itself counts as day 1 when it is a working day.
        """
        return self._deadline(formed, working_days, start_day_counts)

    def _compute_deadline(self, formed: dt.date, working_days: int, start_day_counts: bool) -> Deadline:
        provisional = formed.year not in self.confirmed_years
        counted = 1 if (start_day_counts and self.is_workday(formed)) else 0
        skipped: list[DayInfo] = []
        day = formed
        while counted < working_days:
            day += dt.timedelta(days=1)
            info = self.info(day)
            if not info.confirmed:
                provisional = True
            if info.is_workday:
                counted += 1
                if info.reason and info.reason != UNCONFIRMED:
                    skipped.append(info)  # a make-up workday: worth telling
            else:
                skipped.append(info)
        return Deadline(formed, day, working_days, provisional, tuple(skipped))

    def working_days_after(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; 0 when end <= start."""
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        return self.deadline(start, n).deadline
