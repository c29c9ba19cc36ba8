"""The one clock: a facility's calendar, across midnight, month ends, leap days and
daylight-saving changes (DESIGN rule 8; deadlines R-ACC-2, R-AMD-2, R-AOD-5)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from recordroom.kernel import clock

NY, LA, HNL = "America/New_York", "America/Los_Angeles", "Pacific/Honolulu"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_half_past_eleven_at_night_is_still_today_at_the_facility():
    # 23:30 in New York on December 6 is 04:30 UTC on December 7
    at = utc(2026, 12, 7, 4, 30)
    assert clock.today(NY, now=at) == date(2026, 12, 6)
    assert clock.today("UTC", now=at) == date(2026, 12, 7)
    assert clock.today(HNL, now=utc(2026, 12, 7, 9, 59)) == date(2026, 12, 6)
    assert clock.today(HNL, now=utc(2026, 12, 7, 10, 0)) == date(2026, 12, 7)


def test_month_and_year_ends_follow_the_facility():
    assert clock.today(LA, now=utc(2027, 1, 1, 7, 59)) == date(2026, 12, 31)
    assert clock.today(LA, now=utc(2027, 1, 1, 8, 0)) == date(2027, 1, 1)
    assert clock.today(NY, now=utc(2026, 5, 1, 3, 0)) == date(2026, 4, 30)


def test_leap_day_is_a_calendar_day():
    assert clock.today(NY, now=utc(2028, 3, 1, 4, 59)) == date(2028, 2, 29)
    # R-ACC-2: 30 calendar days after receipt on February 29 is March 30
    assert clock.add_days(date(2028, 2, 29), 30) == date(2028, 3, 30)
    assert clock.add_days(date(2028, 1, 30), 30) == date(2028, 2, 29)


def test_daylight_saving_changes_move_local_midnight():
    # New York springs forward on 2026-03-08 (UTC-5 -> UTC-4), falls back 2026-11-01
    assert clock.start_of_day(date(2026, 3, 8), NY) == utc(2026, 3, 8, 5)
    assert clock.start_of_day(date(2026, 3, 9), NY) == utc(2026, 3, 9, 4)
    assert clock.start_of_day(date(2026, 11, 1), NY) == utc(2026, 11, 1, 4)
    assert clock.start_of_day(date(2026, 11, 2), NY) == utc(2026, 11, 2, 5)
    assert clock.today(NY, now=utc(2026, 3, 9, 3, 59)) == date(2026, 3, 8)
    assert clock.today(NY, now=utc(2026, 11, 2, 4, 59)) == date(2026, 11, 1)
    # the hour from 01:00 to 02:00 happens twice: the zone's name tells them apart
    assert clock.short_datetime(utc(2026, 11, 1, 5, 30), NY) == "2026-11-01 01:30 EDT"
    assert clock.short_datetime(utc(2026, 11, 1, 6, 30), NY) == "2026-11-01 01:30 EST"


def test_zone_of_a_facility_or_a_row_of_one():
    facility = SimpleNamespace(timezone=LA)
    request = SimpleNamespace(facility=facility)
    assert clock.zone_name(facility) == LA
    assert clock.zone_name(request) == LA
    assert clock.local_date(utc(2026, 12, 7, 6), request) == date(2026, 12, 6)


def test_an_unknown_or_missing_zone_falls_back_to_utc_and_says_so(caplog):
    with caplog.at_level(logging.WARNING, logger="recordroom.kernel.clock"):
        assert clock.zone_name("Mars/Olympus_Mons") == "UTC"
    assert "Mars/Olympus_Mons" in caplog.text
    assert clock.zone_name(None) == "UTC"
    assert clock.zone_name(SimpleNamespace(timezone="")) == "UTC"


def test_dates_as_letters_and_pages_print_them():
    at = utc(2026, 12, 7, 2)  # the evening of December 6 in New York
    assert clock.long_date(at, NY) == "December 6, 2026"
    assert clock.long_date(date(2026, 3, 1)) == "March 1, 2026"
    assert clock.short_date(at, NY) == "2026-12-06"
    assert clock.slash_date(at, NY) == "12/06/2026"
    assert clock.long_date(None) == ""
    with pytest.raises(ValueError, match="needs a facility"):
        clock.long_date(at)


def test_frozen_holds_now_and_today():
    with clock.frozen(utc(2026, 12, 7, 4, 30)):
        assert clock.now() == utc(2026, 12, 7, 4, 30)
        assert clock.today(NY) == date(2026, 12, 6)
    assert clock.now() != utc(2026, 12, 7, 4, 30)
    with pytest.raises(ValueError, match="naive"):
        clock.today(NY, now=datetime(2026, 12, 7))


def test_a_date_given_for_today_is_now_else_local_noon():
    at = utc(2026, 12, 7, 4, 30)
    assert clock.at_local(date(2026, 12, 6), NY, now=at) == at
    assert clock.at_local(date(2026, 12, 1), NY, now=at) == utc(2026, 12, 1, 17)
