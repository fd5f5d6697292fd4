"""Regional public holidays (community.holiday_region, ISO 3166-2): an event skips a holiday of its
region only; check-config checks the region against what the holidays package knows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from shared.config import ConfigError, parse_config
from shared.domain import scheduling
from shared.domain.scheduling import holiday_problems

D = dt.date


def config(country: str, region: str | None, weekday: str, locale: str = "en") -> Any:
    community: dict[str, Any] = {"name": "Test", "locale": locale, "timezone": "Europe/London", "holiday_country": country}
    if region is not None:
        community["holiday_region"] = region
    return parse_config({"community": community, "series": {"talk": {
        "kind": "speaker_night", "title": "Talk {day} {month_name}", "start": "18:30", "duration_minutes": 90,
        "rule": {"type": "monthly", "nth": -1, "weekday": weekday}, "on_holiday": "skip"}}})


def dates(cfg: Any, start: D, end: D) -> list[D]:
    return [o.date for o in scheduling.expand(cfg, start, end, scheduling.business_calendar(cfg))]


def test_st_andrews_day_is_a_holiday_in_scotland_only() -> None:
    # 30 November 2027 is the last Tuesday of the month and St Andrew's Day (Scotland's bank holiday).
    window = (D(2027, 11, 1), D(2027, 12, 1))
    assert dates(config("GB", "SCT", "tue"), *window) == []
    assert dates(config("GB", "GB-SCT", "tue"), *window) == []  # the ISO 3166-2 form
    assert dates(config("GB", "ENG", "tue"), *window) == [D(2027, 11, 30)]
    assert dates(config("GB", None, "tue"), *window) == [D(2027, 11, 30)]  # the country alone: only common holidays


def test_a_us_state_holiday_counts_in_that_state_only() -> None:
    # 31 March 2027, the last Wednesday: Cesar Chavez Day in California, a working day in New York.
    ca = config("US", "CA", "wed", locale="en-US")
    ny = config("US", "NY", "wed", locale="en-US")
    assert dates(ca, D(2027, 3, 1), D(2027, 3, 31)) == [] and dates(ny, D(2027, 3, 1), D(2027, 3, 31)) == [D(2027, 3, 31)]
    assert scheduling.business_calendar(ca).holiday(D(2027, 3, 31)) == "Cesar Chavez Day"


def test_holiday_names_come_in_the_community_language_where_the_library_has_them() -> None:
    ja = scheduling.holiday_lookup("JP", None, "ja")
    en = scheduling.holiday_lookup("JP", None, "en")
    assert ja(D(2027, 1, 1)) == "元日" and en(D(2027, 1, 1)) == "New Year's Day"


@pytest.mark.parametrize(("region", "message"), [
    ("Scotland!", "is not an ISO 3166-2 subdivision of GB"),
])
def test_a_region_that_is_no_code_is_a_config_error(region: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        config("GB", region, "tue")
    assert info.value.problems[0][0] == "community.holiday_region" and message in info.value.problems[0][1]


def test_check_config_asks_the_holidays_package() -> None:
    assert holiday_problems("GB", "SCT") == [] and holiday_problems("DE", "BY") == [] and holiday_problems("JP", None) == []
    (path, message), = holiday_problems("GB", "XX")
    assert path == "community.holiday_region" and "SCT (Scotland)" in message and "ENG (England)" in message
    (path, message), = holiday_problems("JP", "13")
    assert "no regional holidays" in message
    (path, message), = holiday_problems("ZZ", None)
    assert path == "community.holiday_country"


def test_check_config_command_reports_an_unknown_region(tmp_path, capsys) -> None:
    from shared.entrypoints import cli

    path = tmp_path / "c.yaml"
    path.write_text("community: {name: T, locale: en, holiday_country: GB, holiday_region: XX}\n", encoding="utf-8")
    assert cli.check_config(str(path)) == 1
    assert "community.holiday_region: 'XX' is not a region of GB" in capsys.readouterr().err
    path.write_text("community: {name: T, locale: en, holiday_country: GB, holiday_region: SCT}\n", encoding="utf-8")
    assert cli.check_config(str(path)) == 0
    assert "holidays GB-SCT" in capsys.readouterr().out
