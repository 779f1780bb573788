"""The working-day calendar against a second source, hand-checked deadlines, and provisional years."""

import datetime as dt

import holidays
import pytest

from disclosure.model.calendar import WorkCalendar

CAL = WorkCalendar.default()


def days(year):
    d = dt.date(year, 1, 1)
    while d.year == year:
        yield d
        d += dt.timedelta(days=1)


@pytest.mark.parametrize("year", range(2008, 2027))
def test_every_day_matches_second_source(year):
    """`holidays` (independent maintainers) models 调休 too; both must agree on every day."""
    other = holidays.China(years=year)
    mismatches = [d for d in days(year) if CAL.is_workday(d) != other.is_working_day(d)]
    assert mismatches == []
    assert CAL.is_confirmed(year)


# Official schedule facts (State Council notices), including the mid-year amendments.
@pytest.mark.parametrize("day,workday", [
    ("2019-05-02", False), ("2019-05-03", False), ("2019-05-04", False),  # 2019 Labour Day, amended to 4 days
    ("2019-04-28", True), ("2019-05-05", True),                            # its make-up Sundays
    ("2020-01-31", False), ("2020-02-01", False), ("2020-02-02", False),  # 2020 Spring Festival extension
    ("2020-02-03", True),
    ("2024-02-04", True), ("2024-02-18", True), ("2024-02-12", False),    # 2024 Spring Festival 调休
    ("2025-01-26", True), ("2025-02-08", True), ("2025-02-04", False),    # 2025 Spring Festival
    ("2025-09-28", True), ("2025-10-11", True), ("2025-10-08", False),    # 2025 National Day + Mid-autumn
    ("2026-02-14", True), ("2026-02-28", True), ("2026-02-23", False),    # 2026 Spring Festival (9 days)
    ("2026-10-10", True), ("2026-10-07", False),
    ("2015-09-03", False), ("2015-09-06", True),                          # 70th anniversary day
])
def test_official_schedule(day, workday):
    assert CAL.is_workday(dt.date.fromisoformat(day)) is workday


# Deadlines counted by hand from the notices: formation day is day 0, deadline the 20th working day after.
@pytest.mark.parametrize("formed,deadline", [
    ("2024-02-08", "2024-03-13"),  # across Spring Festival 2024; Feb 9 and Sun Feb 18 are working days
    # Sep 28(1) 29 30 | Oct 1-8 off | 9(4) 10 11Sat(6) 13-17(11) 20-24(16) 27 28 29 30(20)
    ("2025-09-26", "2025-10-30"),  # across National Day 2025 (Oct 1-8 off, Sep 28 and Oct 11 on)
    # Apr 28Sun(1) 29 30 | May 1-4 off | 5Sun(4) 6-10(9) 13-17(14) 20-24(19) 27(20)
    ("2019-04-26", "2019-05-27"),  # across the amended 2019 Labour Day
    # Jan 21 22 23(3) | Jan 24-Feb 2 off (Feb 1 make-up cancelled) | Feb 3-7(8) 10-14(13) 17-21(18) 24 25(20)
    ("2020-01-20", "2020-02-25"),  # across the extended 2020 Spring Festival
    ("2024-12-20", "2025-01-20"),  # across New Year 2025
    # Feb 14Sat(1) | 15-23 off | 24-27(5) 28Sat(6) Mar 2-6(11) 9-13(16) 16-19(20)
    ("2026-02-13", "2026-03-19"),  # formed the day before the 2026 make-up Saturday
    ("2023-06-21", "2023-07-20"),  # Dragon Boat 2023 (22-24 off, Sun 25 on)
])
def test_hand_checked_deadlines(formed, deadline):
    d = CAL.deadline(dt.date.fromisoformat(formed))
    assert d.deadline == dt.date.fromisoformat(deadline)
    assert not d.provisional


def test_start_day_counts_option():
    d = CAL.deadline(dt.date(2024, 3, 1), 20, start_day_counts=True)
    assert d.deadline == CAL.deadline(dt.date(2024, 3, 1), 19).deadline


def test_skipped_days_explained():
    d = CAL.deadline(dt.date(2025, 9, 26))
    reasons = {s.day.isoformat(): s.reason for s in d.skipped}
    assert reasons["2025-10-01"] == "国庆节"
    assert reasons["2025-10-06"] == "中秋"
    assert reasons["2025-10-04"] == "国庆节"
    assert reasons["2025-10-11"].startswith("调休上班")
    assert reasons["2025-10-18"] == "周末"


def test_unconfirmed_year_is_provisional_until_configured():
    late_dec = CAL.deadline(dt.date(2026, 12, 20))
    assert late_dec.provisional  # reaches into 2027
    assert CAL.deadline(dt.date(2026, 11, 2)).provisional is False
    configured = WorkCalendar.from_config({"years": {2027: {
        "holidays": {"2027-01-01": "元旦"}, "workdays": {}}}})
    d = configured.deadline(dt.date(2026, 12, 20))
    assert not d.provisional
    assert dt.date(2027, 1, 1) in {s.day for s in d.skipped}


def test_regional_day_off_overrides_library():
    cal = WorkCalendar.from_config({"holidays": {"2026-03-12": "县庆"}})
    assert not cal.is_workday(dt.date(2026, 3, 12))
    assert cal.info(dt.date(2026, 3, 12)).reason == "县庆"
    assert cal.deadline(dt.date(2026, 3, 2)).deadline == CAL.deadline(dt.date(2026, 3, 2)).deadline + dt.timedelta(days=1)
