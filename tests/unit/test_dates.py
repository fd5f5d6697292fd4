"""Dates as people write them (shared/domain/dates.py): each locale's own ways, what cannot be read is
reported as written, and whatever our own mails print is read back as the same day."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.dates import read_dates
from shared.platform import texts

TODAY = dt.date(2026, 12, 1)
D = dt.date


@pytest.mark.parametrize(("text", "order", "dates"), [
    ("2027年3月9日", "ymd", [D(2027, 3, 9)]),
    ("3/9、３／１０", "ymd", [D(2027, 3, 9), D(2027, 3, 10)]),  # month first in Japanese; full-width digits
    ("２０２７年４月１日(木)と5月6日", "ymd", [D(2027, 4, 1), D(2027, 5, 6)]),
    ("2027-03-09\n2027/3/10", "ymd", [D(2027, 3, 9), D(2027, 3, 10)]),
    ("30 April 2027, 28/05/2027", "dmy", [D(2027, 4, 30), D(2027, 5, 28)]),
    ("Tuesday 12 January 2027 and 3rd Feb", "dmy", [D(2027, 1, 12), D(2027, 2, 3)]),
    ("05/06/2027", "dmy", [D(2027, 6, 5)]),
    ("05/06/2027", "mdy", [D(2027, 5, 6)]),
    ("May 28, 2027; June 3", "mdy", [D(2027, 5, 28), D(2027, 6, 3)]),
    ("05/28/2027", "dmy", [D(2027, 5, 28)]),  # no 28th month: the only reading there is
    ("12/1", "dmy", [D(2027, 1, 12)]),  # no year: the next such day
    ("Feb 29", "dmy", [D(2028, 2, 29)]),
    ("2027-06-08 は出張", "ymd", [D(2027, 6, 8)]),  # a note beside a date is not an unread date
])
def test_each_locale_writes_dates_its_own_way(text: str, order: str, dates: list[dt.date]) -> None:
    got = read_dates(text, order, TODAY)
    assert list(got.dates) == dates and got.not_understood == ()


@pytest.mark.parametrize(("text", "unread"), [
    ("来年の春ごろ", ("来年の春ごろ",)),
    ("2027年2月30日", ("2027年2月30日",)),
    ("next Friday, 31/02/2027", ("31/02/2027", "next Friday")),
])
def test_what_is_no_date_is_reported_as_written(text: str, unread: tuple[str, ...]) -> None:
    got = read_dates(text, "dmy", TODAY)
    assert got.dates == () and got.not_understood == unread


@pytest.mark.parametrize("text", ["なし", "特になし", "None.", "-", ""])
def test_saying_none_is_no_date_and_nothing_to_report(text: str) -> None:
    got = read_dates(text, "ymd", TODAY)
    assert got.dates == () and got.not_understood == ()


@given(st.dates(min_value=D(2027, 1, 1), max_value=D(2035, 12, 31)), st.sampled_from(texts.LOCALES))
def test_every_date_our_mails_print_reads_back(day: dt.date, locale: str) -> None:
    order = texts.date_order(locale)
    for form in ("date", "date_short"):
        written = texts.fmt_date(locale, day, form)
        got = read_dates(written, order, D(day.year, 1, 1))
        assert got.dates == (day,) and got.not_understood == (), written
    numeric = {"ymd": f"{day.year}/{day.month}/{day.day}", "dmy": f"{day.day:02d}/{day.month:02d}/{day.year}",
               "mdy": f"{day.month:02d}/{day.day:02d}/{day.year}"}[order]
    assert read_dates(numeric, order, TODAY).dates == (day,)
