"""Mainland China working days (工作日) and the 20-working-day disclosure clock.

The day tables come from the maintained `chinesecalendar` package (State Council notices, 2004 to
its latest confirmed year, mid-year amendments included). A site adds a confirmed year or single
days in `extra.portal.calendar`. A year with no confirmed schedule is never guessed as definitive:
counting through it skips weekends and the days fixed by law in 《全国年节及纪念日放假办法》 (2024
amendment, in force from 2025: 元旦 1 day, 春节 4 days from 除夕, 清明 1, 劳动节 2, 端午 1, 中秋 1,
国庆 3), which are known years ahead, and marks the result *provisional* (the State Council's
调休 and bridging days are not known until its notice). Lunar dates and the 清明 solar term come
from the maintained `lunar-python` package.
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
BY_LAW = "按《全国年节及纪念日放假办法》推算"
LAW_SINCE = 2025  # the 2024 amendment's first year; earlier unconfirmed years count Monday–Friday only

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


@lru_cache(maxsize=256)
def statutory_days(year: int) -> dict:
    """The days off fixed by 《全国年节及纪念日放假办法》 (2024 amendment) in `year`, date → name
    (the names chinesecalendar uses). Without the State Council's yearly notice: no 调休."""
    from lunar_python import Lunar, Solar

    def solar(s) -> dt.date:
        return dt.date(s.getYear(), s.getMonth(), s.getDay())

    days = {dt.date(year, 1, 1): "元旦"}
    new_year = solar(Lunar.fromYmd(year, 1, 1).getSolar())  # 正月初一 of the lunar year starting in `year`
    eve = new_year - dt.timedelta(days=1)  # 除夕: the last day of the previous lunar year
    for i in range(4):
        days[eve + dt.timedelta(days=i)] = "春节"
    qingming = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]  # the solar term, in the solar year `year`
    days[solar(Solar.fromYmd(qingming.getYear(), qingming.getMonth(), qingming.getDay()))] = "清明"
    days[dt.date(year, 5, 1)] = days[dt.date(year, 5, 2)] = "劳动节"
    days[solar(Lunar.fromYmd(year, 5, 5).getSolar())] = "端午"
    days[solar(Lunar.fromYmd(year, 8, 15).getSolar())] = "中秋"
    for d in (1, 2, 3):
        days.setdefault(dt.date(year, 10, d), "国庆节")
    return {d: n for d, n in days.items() if d.year == year}


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
        self._by_law: dict[int, dict] = {}

    def law_days(self, year: int) -> dict:
        """Statutory days off assumed for an unconfirmed year (empty for confirmed years and before LAW_SINCE)."""
        days = self._by_law.get(year)
        if days is None:
            days = self._by_law[year] = ({} if year in self.confirmed_years or year < LAW_SINCE
                                         else statutory_days(year))
        return days

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
        if not confirmed and day in self.law_days(day.year):
            return DayInfo(day, False, False, f"{self.law_days(day.year)[day]}（{BY_LAW}）")
        if day.weekday() >= 5:
            return DayInfo(day, False, confirmed, WEEKEND)
        return DayInfo(day, True, confirmed, "" if confirmed else UNCONFIRMED)

    def is_workday(self, day: dt.date) -> bool:
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        if day.year not in self.confirmed_years and day in self.law_days(day.year):
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
