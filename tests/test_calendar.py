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


# ---------------------------------------------------------------- provisional years: the days fixed by law
def _law_days_from_holidays_package(year):
    """The second source: `holidays` computes China's lunar festivals itself; its "(observed)" days are
    its own guess at 调休, not law, so they are left out."""
    return {d for d, name in holidays.China(years=year).items() if "observed" not in name}


@pytest.mark.parametrize("year", [2027, 2028, 2029, 2030])
def test_statutory_days_match_second_source(year):
    from disclosure.model.calendar import statutory_days

    assert set(statutory_days(year)) == _law_days_from_holidays_package(year)


def test_statutory_days_2027_hand_entered():
    """2027 from a published almanac: 除夕 Fri 5 Feb (正月初一 Sat 6 Feb), 清明 Mon 5 Apr,
    端午 (五月初五) Wed 9 Jun, 中秋 (八月十五) Wed 15 Sep."""
    from disclosure.model.calendar import statutory_days

    want = {"2027-01-01": "元旦", "2027-02-05": "春节", "2027-02-06": "春节", "2027-02-07": "春节",
            "2027-02-08": "春节", "2027-04-05": "清明", "2027-05-01": "劳动节", "2027-05-02": "劳动节",
            "2027-06-09": "端午", "2027-09-15": "中秋", "2027-10-01": "国庆节", "2027-10-02": "国庆节",
            "2027-10-03": "国庆节"}
    assert {d.isoformat(): n for d, n in statutory_days(2027).items()} == want


def test_2028_mid_autumn_falls_in_national_day():
    """2028: 中秋 (八月十五) is 3 October, inside 国庆; 除夕 Tue 25 Jan; 清明 Tue 4 Apr."""
    from disclosure.model.calendar import statutory_days

    days = statutory_days(2028)
    assert len(days) == 12 and dt.date(2028, 10, 3) in days
    assert [d for d, n in days.items() if n == "春节"] == [dt.date(2028, 1, d) for d in (25, 26, 27, 28)]


# Hand-counted provisional deadlines (weekends and statutory days skipped; 调休 unknown).
@pytest.mark.parametrize("formed,deadline", [
    # Dec 11(1) 14-18(6) 21-25(11) 28-31(15) | Jan 1 元旦 | Jan 4-8(20)
    ("2026-12-10", "2027-01-08"),
    # Jan 25-29(5) Feb 1-4(9) | Feb 5 除夕, 8 初三 off (6-7 weekend) | Feb 9-12(13) 15-19(18) 22-23(20)
    ("2027-01-22", "2027-02-23"),
    # Sep 21-24(4) 27-30(8) | Oct 1 国庆 | Oct 4-8(13) 11-15(18) 18-19(20)
    ("2027-09-20", "2027-10-19"),
    # 2028: Jan 24(1) | Jan 25-28 春节 | Jan 31-Feb 4(6) 7-11(11) 14-18(16) 21-24(20)
    ("2028-01-21", "2028-02-24"),
])
def test_provisional_deadlines_skip_days_fixed_by_law(formed, deadline):
    d = CAL.deadline(dt.date.fromisoformat(formed))
    assert d.deadline == dt.date.fromisoformat(deadline)
    assert d.provisional


def test_confirmed_year_ignores_the_estimate():
    cal = WorkCalendar.from_config({"years": {2027: {"holidays": {}, "workdays": {}}}})
    assert cal.is_workday(dt.date(2027, 1, 1))  # a confirmed year is exactly what was configured
    assert not CAL.is_workday(dt.date(2027, 1, 1))
    assert CAL.info(dt.date(2027, 1, 1)).confirmed is False
