"""Japanese cases, with dates worked out by hand (calendar arithmetic noted next to each).

2026: 1/1 is a Thursday; 2027: 1/1 is a Friday. Holiday rules: 成人の日 2nd Monday of January,
海の日 3rd Monday of July, 敬老の日 3rd Monday of September, スポーツの日 2nd Monday of October;
振替休日: a holiday on a Sunday moves to the next day that is not a holiday; 国民の休日: a day
between two holidays.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import holidays
import jpholiday
import pytest
import yaml

from shared.config import Config, load_config, parse_config
from shared.domain import scheduling
from shared.domain.scheduling import SlotException

D = dt.date
UTC = dt.UTC
EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "community.example.yaml"

HOLIDAYS_2026 = {
    D(2026, 1, 1): "元日",
    D(2026, 1, 12): "成人の日",  # 2nd Monday (Mondays 5, 12)
    D(2026, 2, 11): "建国記念の日",
    D(2026, 2, 23): "天皇誕生日",
    D(2026, 3, 20): "春分の日",
    D(2026, 4, 29): "昭和の日",
    D(2026, 5, 3): "憲法記念日",  # a Sunday ...
    D(2026, 5, 4): "みどりの日",
    D(2026, 5, 5): "こどもの日",
    D(2026, 5, 6): "憲法記念日 振替休日",  # ... so the first non-holiday after it, Wednesday 5/6
    D(2026, 7, 20): "海の日",  # 3rd Monday (6, 13, 20)
    D(2026, 8, 11): "山の日",
    D(2026, 9, 21): "敬老の日",  # 3rd Monday (7, 14, 21)
    D(2026, 9, 22): "国民の休日",  # Tuesday between 敬老の日 and 秋分の日
    D(2026, 9, 23): "秋分の日",
    D(2026, 10, 12): "スポーツの日",  # 2nd Monday (5, 12)
    D(2026, 11, 3): "文化の日",
    D(2026, 11, 23): "勤労感謝の日",
}
HOLIDAYS_2027 = {
    D(2027, 1, 1): "元日",
    D(2027, 1, 11): "成人の日",  # Mondays 4, 11
    D(2027, 2, 11): "建国記念の日",
    D(2027, 2, 23): "天皇誕生日",
    D(2027, 3, 21): "春分の日",  # a Sunday ...
    D(2027, 3, 22): "春分の日 振替休日",  # ... substitute on Monday
    D(2027, 4, 29): "昭和の日",
    D(2027, 5, 3): "憲法記念日",
    D(2027, 5, 4): "みどりの日",
    D(2027, 5, 5): "こどもの日",
    D(2027, 7, 19): "海の日",  # Mondays 5, 12, 19
    D(2027, 8, 11): "山の日",
    D(2027, 9, 20): "敬老の日",  # Mondays 6, 13, 20
    D(2027, 9, 23): "秋分の日",
    D(2027, 10, 11): "スポーツの日",  # Mondays 4, 11
    D(2027, 11, 3): "文化の日",
    D(2027, 11, 23): "勤労感謝の日",
}


def example_data() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def with_series(**series: dict[str, Any]) -> Config:
    """The example config plus extra series (its 12-29..01-03 年末年始 blackout included)."""
    data = example_data()
    data["series"].update(series)
    return parse_config(data)


def weekly(day: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "meetup", "title": "週次もくもく {month}/{day}", "start": "19:00", "duration_minutes": 90,
            "rule": {"type": "weekly", "weekdays": [day]}, **extra}


def run(cfg: Config, start: dt.date, end: dt.date, exceptions: dict[str, SlotException] | None = None,
        series: str | None = None) -> list[scheduling.Occurrence]:
    got = scheduling.expand(cfg, start, end, scheduling.business_calendar(cfg), exceptions)
    return [o for o in got if series is None or o.series_id == series]


def dates(occs: list[scheduling.Occurrence]) -> list[tuple[dt.date, dt.date, str]]:
    return [(o.key_date, o.date, o.note) for o in occs]


# ---------------------------------------------------------------------------------------------
# The holiday library
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("year,expected", [(2026, HOLIDAYS_2026), (2027, HOLIDAYS_2027)])
def test_jpholiday_knows_2026_and_2027(year: int, expected: dict[dt.date, str]) -> None:
    assert dict(jpholiday.year_holidays(year)) == expected
    assert D(year, 5, 3).weekday() == (6 if year == 2026 else 0)  # the Sunday behind 2026's 振替休日
    cfg = load_config(EXAMPLE)
    cal = scheduling.business_calendar(cfg)
    for day, name in expected.items():
        assert cal.holiday(day) == name
        assert not cal.is_business_day(day)


def test_jpholiday_and_holidays_package_agree_2000_2030() -> None:
    """Both libraries give the same 540 holiday dates for 2000-2030.

    Names differ in two ways (pinned jpholiday 1.0.3 / holidays 0.109): a substitute holiday is
    "<holiday> 振替休日" in jpholiday and plain "振替休日" in holidays, and 2019-10-22 is
    "即位礼正殿の儀" vs "即位礼正殿の儀が行われる日". (Checked further: the dates also agree for
    2031-2099; holidays has no data for 2100 while jpholiday does.)
    """
    years = range(2000, 2031)
    jp = {d: n for y in years for d, n in jpholiday.year_holidays(y)}
    other = dict(holidays.country_holidays("JP", years=years, language="ja"))
    assert sorted(jp) == sorted(other)
    assert len(jp) == 540

    def norm(name: str) -> str:
        return "振替休日" if name.endswith("振替休日") else name.removesuffix("が行われる日")

    assert {d: norm(n) for d, n in jp.items()} == {d: norm(n) for d, n in other.items()}
    substitutes = [d for d, n in jp.items() if n.endswith(" 振替休日")]
    assert substitutes == [d for d, n in other.items() if n == "振替休日"]
    assert D(2026, 5, 6) in substitutes and D(2027, 3, 22) in substitutes


# ---------------------------------------------------------------------------------------------
# The example config, 2026-2027
# ---------------------------------------------------------------------------------------------

SPEAKER_NIGHTS = [  # 2nd Tuesdays
    D(2026, 1, 13), D(2026, 2, 10), D(2026, 3, 10), D(2026, 4, 14), D(2026, 5, 12), D(2026, 6, 9),
    D(2026, 7, 14), D(2026, 8, 11), D(2026, 9, 8), D(2026, 10, 13), D(2026, 11, 10), D(2026, 12, 8),
    D(2027, 1, 12), D(2027, 2, 9), D(2027, 3, 9), D(2027, 4, 13), D(2027, 5, 11), D(2027, 6, 8),
    D(2027, 7, 13), D(2027, 8, 10), D(2027, 9, 14), D(2027, 10, 12), D(2027, 11, 9), D(2027, 12, 14),
]
LUNCHES = [  # 3rd Thursdays
    D(2026, 1, 15), D(2026, 2, 19), D(2026, 3, 19), D(2026, 4, 16), D(2026, 5, 21), D(2026, 6, 18),
    D(2026, 7, 16), D(2026, 8, 20), D(2026, 9, 17), D(2026, 10, 15), D(2026, 11, 19), D(2026, 12, 17),
    D(2027, 1, 21), D(2027, 2, 18), D(2027, 3, 18), D(2027, 4, 15), D(2027, 5, 20), D(2027, 6, 17),
    D(2027, 7, 15), D(2027, 8, 19), D(2027, 9, 16), D(2027, 10, 21), D(2027, 11, 18), D(2027, 12, 16),
]


def test_example_config_2026_2027_by_hand() -> None:
    cfg = load_config(EXAMPLE)
    got = run(cfg, D(2026, 1, 1), D(2027, 12, 31))
    nights = [o for o in got if o.series_id == "speaker_night"]
    # 2026-08-11 (the 2nd Tuesday) is 山の日: the speaker night moves to Wednesday 08-12.
    assert dates(nights) == [(d, D(2026, 8, 12), "holiday: 山の日") if d == D(2026, 8, 11) else (d, d, "") for d in SPEAKER_NIGHTS]
    shifted = next(o for o in nights if o.key_date == D(2026, 8, 11))
    assert shifted.slot_id == "speaker_night_2026-08-11" and shifted.shifted_from == D(2026, 8, 11)
    assert shifted.start.astimezone(UTC) == dt.datetime(2026, 8, 12, 11, 0, tzinfo=UTC)  # 20:00 JST
    assert shifted.end.astimezone(UTC) == dt.datetime(2026, 8, 12, 13, 0, tzinfo=UTC)  # nominal 120 min (自由解散)
    assert all(o.open_end and o.start.strftime("%H:%M") == "20:00" for o in nights)

    lunches = [o for o in got if o.series_id == "lunch"]
    assert dates(lunches) == [(d, d, "") for d in LUNCHES]
    assert all((o.start.strftime("%H:%M"), o.end.strftime("%H:%M")) == ("12:00", "13:00") for o in lunches)

    moku = [o for o in got if o.series_id == "mokumoku"]
    assert [o.date for o in moku] == LUNCHES
    for o, lunch in zip(moku, lunches, strict=True):
        assert (o.start.strftime("%H:%M"), o.end) == ("10:00", lunch.start)
        assert o.anchor_id == lunch.slot_id and o.slot_id == f"mokumoku_{lunch.key_date}"


def test_lunch_on_a_holiday_is_skipped_and_the_coworking_with_it() -> None:
    # 2025-03-20 (春分の日) is the 3rd Thursday of March 2025 (3/1 is a Saturday: Thursdays 6, 13, 20).
    cfg = load_config(EXAMPLE)
    got = run(cfg, D(2025, 3, 1), D(2025, 4, 30))
    assert [(o.series_id, o.date) for o in got if o.series_id != "speaker_night"] == [
        ("mokumoku", D(2025, 4, 17)), ("lunch", D(2025, 4, 17))]


def test_coworking_follows_the_lunch_to_its_actual_day() -> None:
    data = example_data()
    data["series"]["lunch"]["on_holiday"] = "next_business_day"
    cfg = parse_config(data)
    got = run(cfg, D(2025, 3, 1), D(2025, 3, 31))
    lunch = next(o for o in got if o.series_id == "lunch")
    moku = next(o for o in got if o.series_id == "mokumoku")
    assert (lunch.key_date, lunch.date, lunch.note) == (D(2025, 3, 20), D(2025, 3, 21), "holiday: 春分の日")
    assert (moku.slot_id, moku.date, moku.note) == ("mokumoku_2025-03-20", D(2025, 3, 21), "holiday: 春分の日")
    assert moku.start.astimezone(UTC) == dt.datetime(2025, 3, 21, 1, 0, tzinfo=UTC)  # 10:00 JST
    assert moku.end == lunch.start and moku.end.astimezone(UTC) == dt.datetime(2025, 3, 21, 3, 0, tzinfo=UTC)


def test_organizer_move_and_cancel_carry_the_coworking_along() -> None:
    cfg = load_config(EXAMPLE)
    moved = {"lunch_2026-01-15": SlotException("move", date=D(2026, 1, 16), start=dt.time(12, 30), reason="会場の都合")}
    got = run(cfg, D(2026, 1, 1), D(2026, 1, 31), moved)
    lunch = next(o for o in got if o.series_id == "lunch")
    moku = next(o for o in got if o.series_id == "mokumoku")
    assert (lunch.key_date, lunch.date, lunch.note, lunch.start.strftime("%H:%M"), lunch.end.strftime("%H:%M")) == (
        D(2026, 1, 15), D(2026, 1, 16), "会場の都合", "12:30", "13:30")
    assert (moku.slot_id, moku.date, moku.status) == ("mokumoku_2026-01-15", D(2026, 1, 16), "scheduled")
    assert (moku.start.strftime("%H:%M"), moku.end) == ("10:00", lunch.start)

    # Moved to start at 09:30: the 10:00 co-working can no longer end before it, so it is cancelled
    early = {"lunch_2026-01-15": SlotException("move", date=D(2026, 1, 16), start=dt.time(9, 30))}
    moku = run(cfg, D(2026, 1, 1), D(2026, 1, 31), early, series="mokumoku")[0]
    assert (moku.status, moku.date, moku.note) == ("cancelled", D(2026, 1, 16), "lunch now starts at 09:30, before this one")
    assert moku.end > moku.start

    cancelled = {"lunch_2026-01-15": SlotException("cancel", reason="講師体調不良")}
    got = run(cfg, D(2026, 1, 1), D(2026, 1, 31), cancelled)
    assert [(o.series_id, o.status, o.note) for o in got if o.series_id != "speaker_night"] == [
        ("mokumoku", "cancelled", "lunch is cancelled"), ("lunch", "cancelled", "講師体調不良")]


# ---------------------------------------------------------------------------------------------
# The year-end blackout (12-29 .. 01-03) and other shifts
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("policy,expected", [
    # Tuesdays around the new year 2027: 12/22, 12/29 (blackout), 1/5
    ("skip", [(D(2026, 12, 22), D(2026, 12, 22), ""), (D(2027, 1, 5), D(2027, 1, 5), "")]),
    # 12/30, 12/31 blackout; 1/1 元日; 1/2 Sat; 1/3 Sun: Monday 1/4
    ("next_business_day", [(D(2026, 12, 22), D(2026, 12, 22), ""), (D(2026, 12, 29), D(2027, 1, 4), "blackout: 年末年始"),
                           (D(2027, 1, 5), D(2027, 1, 5), "")]),
    ("previous_business_day", [(D(2026, 12, 22), D(2026, 12, 22), ""), (D(2026, 12, 29), D(2026, 12, 28), "blackout: 年末年始"),
                               (D(2027, 1, 5), D(2027, 1, 5), "")]),
    ("allow", [(D(2026, 12, 22), D(2026, 12, 22), ""), (D(2026, 12, 29), D(2026, 12, 29), ""), (D(2027, 1, 5), D(2027, 1, 5), "")]),
])
def test_year_end_blackout_on_a_weekly_series(policy: str, expected: list[tuple[dt.date, dt.date, str]]) -> None:
    cfg = with_series(weekly_tue=weekly("tue", on_blackout=policy))
    assert dates(run(cfg, D(2026, 12, 20), D(2027, 1, 10), series="weekly_tue")) == expected


@pytest.mark.parametrize("on_holiday,expected", [
    # Friday 2027-01-01 is 元日 and inside 年末年始; with blackouts allowed the holiday policy decides.
    ("skip", [D(2026, 12, 25), D(2027, 1, 8)]),
    ("allow", [D(2026, 12, 25), D(2027, 1, 1), D(2027, 1, 8)]),
    ("next_business_day", [D(2026, 12, 25), D(2027, 1, 4), D(2027, 1, 8)]),  # 1/2-1/3 weekend (and blackout)
])
def test_new_years_day_when_blackouts_are_allowed(on_holiday: str, expected: list[dt.date]) -> None:
    cfg = with_series(weekly_fri=weekly("fri", on_blackout="allow", on_holiday=on_holiday))
    got = run(cfg, D(2026, 12, 20), D(2027, 1, 10), series="weekly_fri")
    assert [o.date for o in got] == expected
    assert [o.note for o in got if o.date != o.key_date] == (["holiday: 元日"] if on_holiday == "next_business_day" else [])


def test_year_end_blackout_never_touches_the_example_monthly_series() -> None:
    # 2nd Tuesdays fall on the 8th..14th and 3rd Thursdays on the 15th..21st: never in 12/29..1/3.
    cfg = load_config(EXAMPLE)
    assert cfg.scheduling.blackouts[0].label == "年末年始"
    cal = scheduling.business_calendar(cfg)
    assert [cal.blackout(D(2026, 12, d)) for d in (28, 29, 31)] == [None, "年末年始", "年末年始"]
    assert [cal.blackout(D(2027, 1, d)) for d in (1, 3, 4)] == ["年末年始", "年末年始", None]


def test_substitute_holiday_and_national_holiday_shifts() -> None:
    cfg = with_series(
        weekly_wed=weekly("wed", on_holiday="next_business_day"),
        weekly_tue=weekly("tue", on_holiday="next_business_day"),
        weekly_tue_prev=weekly("tue", on_holiday="previous_business_day"),
        monthly_4th_tue={"kind": "meetup", "title": "t", "start": "19:00", "open_end": True,
                         "rule": {"type": "monthly", "nth": 4, "weekday": "tue"}, "on_holiday": "next_business_day"},
    )
    got = run(cfg, D(2026, 5, 1), D(2026, 9, 30))

    def one(series: str, key: dt.date) -> tuple[dt.date, str]:
        o = next(o for o in got if o.series_id == series and o.key_date == key)
        return o.date, o.note

    # Wednesday 2026-05-06 is the 振替休日 for 憲法記念日: Thursday 5/7.
    assert one("weekly_wed", D(2026, 5, 6)) == (D(2026, 5, 7), "holiday: 憲法記念日 振替休日")
    # Tuesday 2026-09-22 (国民の休日), Wednesday 9/23 秋分の日: Thursday 9/24 ...
    assert one("weekly_tue", D(2026, 9, 22)) == (D(2026, 9, 24), "holiday: 国民の休日")
    # ... or back over 敬老の日 (Mon 9/21) and the weekend to Friday 9/18.
    assert one("weekly_tue_prev", D(2026, 9, 22)) == (D(2026, 9, 18), "holiday: 国民の休日")
    # The 4th Tuesday of September 2026 (1, 8, 15, 22) is the 国民の休日 as well.
    assert one("monthly_4th_tue", D(2026, 9, 22)) == (D(2026, 9, 24), "holiday: 国民の休日")
    # Tuesday 2026-08-11 is 山の日 (the example's speaker night moves the same way).
    assert one("weekly_tue", D(2026, 8, 11)) == (D(2026, 8, 12), "holiday: 山の日")


def test_shifted_keys_that_land_on_one_day_make_one_occurrence_whatever_the_window() -> None:
    """Mon 2026-09-21 and Tue 9/22 are holidays, Wed 9/23 too: both keys of a Mon+Tue series move to
    Thursday 9/24. One occurrence, keyed by the earlier key, whether the job runs on 9/19 or 9/22
    (a run on 9/22 must not create a second slot for Thursday)."""
    cfg = with_series(mon_tue=weekly("mon", on_holiday="next_business_day") | {"rule": {"type": "weekly", "weekdays": ["mon", "tue"]}})
    for start in (D(2026, 9, 19), D(2026, 9, 21), D(2026, 9, 22)):
        got = run(cfg, start, D(2026, 9, 30), series="mon_tue")
        expected = [(D(2026, 9, 28), D(2026, 9, 28), ""), (D(2026, 9, 29), D(2026, 9, 29), "")]
        if start <= D(2026, 9, 21):
            expected.insert(0, (D(2026, 9, 21), D(2026, 9, 24), "holiday: 敬老の日"))
        assert dates(got) == expected
    # A shifted key that lands on a day the rule produces by itself gives way to it: Mon+Wed,
    # Monday 2026-11-23 (勤労感謝の日) moves to Tuesday 11/24, a free day, but with Mon+Tue it would
    # land on Tuesday's own occurrence, which keeps its key and has no note.
    cfg = with_series(mt=weekly("mon", on_holiday="next_business_day") | {"rule": {"type": "weekly", "weekdays": ["mon", "tue"]}},
                      mw=weekly("mon", on_holiday="next_business_day") | {"rule": {"type": "weekly", "weekdays": ["mon", "wed"]}})
    got = run(cfg, D(2026, 11, 22), D(2026, 11, 25))
    assert [(o.series_id, o.key_date, o.date, o.note) for o in got if o.series_id in ("mt", "mw")] == [
        ("mt", D(2026, 11, 24), D(2026, 11, 24), ""),
        ("mw", D(2026, 11, 23), D(2026, 11, 24), "holiday: 勤労感謝の日"),
        ("mw", D(2026, 11, 25), D(2026, 11, 25), ""),
    ]


def test_yearly_leap_day_blackout_only_in_leap_years() -> None:
    data = example_data()
    data["scheduling"]["blackouts"].append({"from": "02-29", "label": "うるう日"})
    cfg = parse_config(data)
    cal = scheduling.business_calendar(cfg)
    assert cal.blackout(D(2028, 2, 29)) == "うるう日"
    assert cal.blackout(D(2027, 2, 28)) is None and cal.blackout(D(2027, 3, 1)) is None


def test_one_off_blackout_range() -> None:
    data = example_data()
    data["scheduling"]["blackouts"].append({"from": D(2027, 8, 10), "to": D(2027, 8, 16), "label": "お盆"})
    data["series"]["speaker_night"]["on_blackout"] = "next_business_day"
    cfg = parse_config(data)
    night = next(o for o in run(cfg, D(2027, 8, 1), D(2027, 8, 31)) if o.series_id == "speaker_night")
    # 2nd Tuesday 2027-08-10 is inside お盆 (8/10-8/16, 8/11 also 山の日): Tuesday 8/17.
    assert (night.key_date, night.date, night.note) == (D(2027, 8, 10), D(2027, 8, 17), "blackout: お盆")
    assert run(cfg, D(2028, 8, 1), D(2028, 8, 31), series="speaker_night")[0].date == D(2028, 8, 8)  # one-off: not 2028
