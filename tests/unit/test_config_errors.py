"""Config errors: every kind names its field path and says what is wrong (ConfigError.problems)."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.config import ConfigError, load_config, parse_config
from shared.domain.scheduling import Occurrence

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "community.example.yaml"
UNKNOWN = "(check the spelling; see the configuration reference in README.md)"

VALID_YAML = """\
community:
  name: ソニー有志アルムナイ　テスト
series:
  lunch:
    kind: lunch
    title: "ランチ交流会 {month}/{day}"
    start: "12:00"
    duration_minutes: 60
    online: false
    rule: {type: monthly, nth: 3, weekday: thu}
  mokumoku:
    kind: coworking
    title: "オンラインもくもく会"
    start: "10:00"
    rule: {type: same_day_as, series: lunch}
"""


def base() -> dict[str, Any]:
    data = yaml.safe_load(VALID_YAML)
    assert isinstance(data, dict)
    return data


def problems(data: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    lines = [f"{path}: {msg}" for path, msg in info.value.problems]
    # The exception text carries the same lines, one per problem.
    assert str(info.value).splitlines()[1:] == [f"  {line}" for line in lines]
    return lines


def edited(change: Any) -> dict[str, Any]:
    data = base()
    change(data)
    return data


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "community.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_valid_base_loads() -> None:
    cfg = parse_config(base())
    assert list(cfg.series) == ["lunch", "mokumoku"]


CASES = [
    # --- the issue's own example: a stray space
    ("weekday with a space", lambda d: d["series"]["lunch"]["rule"].update(weekday="Thu "),
     ["series.lunch.rule.weekday: 'Thu ' is not a weekday (mon..sun)"]),
    ("weekday as a number", lambda d: d["series"]["lunch"]["rule"].update(weekday=3),
     ["series.lunch.rule.weekday: 3 is not a weekday (mon..sun)"]),
    ("weekly weekdays typo", lambda d: d["series"]["lunch"].update(rule={"type": "weekly", "weekdays": ["mon", "frii"]}),
     ["series.lunch.rule.weekdays: 'frii' is not a weekday (mon..sun)"]),
    ("weekly without weekdays", lambda d: d["series"]["lunch"].update(rule={"type": "weekly", "weekdays": []}),
     ["series.lunch.rule.weekdays: give at least one weekday, e.g. [wed]"]),
    ("every 2 weeks needs starting", lambda d: d["series"]["lunch"].update(rule={"type": "weekly", "weekdays": ["mon"], "interval": 2}),
     ["series.lunch.rule.starting: every N weeks needs a first date to count from"]),
    ("interval 0", lambda d: d["series"]["lunch"].update(
        rule={"type": "weekly", "weekdays": ["mon"], "interval": 0, "starting": "2026-01-05"}),
     ["series.lunch.rule.interval: 0 must be 1 or more weeks"]),
    ("nth out of range", lambda d: d["series"]["lunch"]["rule"].update(nth=6),
     ["series.lunch.rule.nth: 6 is not an occurrence in the month (1..5, or -1 for the last)"]),
    ("nth zero", lambda d: d["series"]["lunch"]["rule"].update(nth=0),
     ["series.lunch.rule.nth: 0 is not an occurrence in the month (1..5, or -1 for the last)"]),
    ("bad one-off date", lambda d: d["series"]["lunch"].update(rule={"type": "dates", "dates": ["2026-02-30"]}),
     ["series.lunch.rule.dates.0: '2026-02-30' is not a date (YYYY-MM-DD)"]),
    # --- unknown keys at every level
    ("unknown top-level key", lambda d: d.update(serie={}),
     [f"serie: unknown key 'serie' {UNKNOWN}"]),
    ("unknown community key", lambda d: d["community"].update(nmae="x"),
     [f"community.nmae: unknown key 'nmae' {UNKNOWN}"]),
    ("unknown series key", lambda d: d["series"]["lunch"].update(colour="red"),
     [f"series.lunch.colour: unknown key 'colour' {UNKNOWN}"]),
    ("unknown rule key", lambda d: d["series"]["lunch"]["rule"].update(every=2),
     [f"series.lunch.rule.every: unknown key 'every' {UNKNOWN}"]),
    ("unknown blackout key", lambda d: d.update(scheduling={"blackouts": [{"from": "12-29", "until": "01-03"}]}),
     [f"scheduling.blackouts.0.until: unknown key 'until' {UNKNOWN}"]),
    ("unknown cron_auth key", lambda d: d.update(cron_auth={"mode": "oidc", "audience": "https://x", "issuer": "y"}),
     [f"cron_auth.issuer: unknown key 'issuer' {UNKNOWN}"]),
    # --- missing required fields
    ("no community", lambda d: d.pop("community"), ["community: is required"]),
    ("no community name", lambda d: d["community"].pop("name"), ["community.name: is required"]),
    ("no start", lambda d: d["series"]["lunch"].pop("start"), ["series.lunch.start: is required"]),
    ("no rule", lambda d: d["series"]["lunch"].pop("rule"), ["series.lunch.rule: is required"]),
    ("no nth", lambda d: d["series"]["lunch"]["rule"].pop("nth"), ["series.lunch.rule.nth: is required"]),
    ("no anchor", lambda d: d["series"]["mokumoku"]["rule"].pop("series"), ["series.mokumoku.rule.series: is required"]),
    ("no blackout from", lambda d: d.update(scheduling={"blackouts": [{"to": "01-03"}]}),
     ["scheduling.blackouts.0.from: is required"]),
    # --- times and zones
    ("25:00 quoted", lambda d: d["series"]["lunch"].update(start="25:00"),
     ["series.lunch.start: '25:00' is not a time of day (HH:MM, 00:00..23:59)"]),
    ("12:60", lambda d: d["series"]["lunch"].update(start="12:60"),
     ["series.lunch.start: '12:60' is not a time of day (HH:MM, 00:00..23:59)"]),
    ("noon in words", lambda d: d["series"]["lunch"].update(start="noon"),
     ["series.lunch.start: 'noon' is not a time of day (HH:MM, 00:00..23:59)"]),
    ("series zone", lambda d: d["series"]["lunch"].update(timezone="Asia/Tokio"),
     ["series.lunch.timezone: 'Asia/Tokio' is not an IANA time zone name (e.g. Europe/London, America/New_York, Asia/Tokyo)"]),
    ("community zone", lambda d: d["community"].update(timezone="JST"),
     ["community.timezone: 'JST' is not an IANA time zone name (e.g. Europe/London, America/New_York, Asia/Tokyo)"]),
    ("zone path traversal", lambda d: d["community"].update(timezone="../../etc/passwd"),
     ["community.timezone: '../../etc/passwd' is not an IANA time zone name (e.g. Europe/London, America/New_York, Asia/Tokyo)"]),
    # --- rule types
    ("bad rule type", lambda d: d["series"]["lunch"].update(rule={"type": "yearly", "month": 1}),
     ["series.lunch.rule: 'yearly' is not a rule type (monthly, weekly, same_day_as, dates)"]),
    ("rule without type", lambda d: d["series"]["lunch"].update(rule={"nth": 3, "weekday": "thu"}),
     ["series.lunch.rule: needs a 'type' (monthly, weekly, same_day_as, dates)"]),
    ("policy typo", lambda d: d["series"]["lunch"].update(on_holiday="next"),
     ["series.lunch.on_holiday: 'next' is not one of 'skip', 'next_business_day', 'previous_business_day' or 'allow'"]),
    # --- same_day_as
    ("anchor unknown", lambda d: d["series"]["mokumoku"]["rule"].update(series="lunh"),
     ["series.mokumoku.rule.series: 'lunh' is not a series in this config (known: lunch, mokumoku)"]),
    ("anchor is relative", lambda d: d["series"].update(early={
        "kind": "coworking", "title": "t", "start": "08:00", "rule": {"type": "same_day_as", "series": "mokumoku"}}),
     ["series.early.rule.series: 'mokumoku' is itself relative; anchor to a series with its own dates"]),
    ("starts with its anchor", lambda d: d["series"]["mokumoku"].update(start="12:00"),
     ["series.mokumoku.start: 12:00 must be before its anchor 'lunch' starts (12:00)"]),
    ("starts after its anchor", lambda d: d["series"]["mokumoku"].update(start="13:30"),
     ["series.mokumoku.start: 13:30 must be before its anchor 'lunch' starts (12:00)"]),
    ("other zone than its anchor", lambda d: d["series"]["mokumoku"].update(timezone="Europe/London"),
     ["series.mokumoku.timezone: must equal the time zone of its anchor 'lunch'"]),
    ("relative with a length", lambda d: d["series"]["mokumoku"].update(duration_minutes=90),
     ["series.mokumoku.duration_minutes: a same_day_as series ends when its anchor starts; leave length and open_end out"]),
    # --- duration and open_end: exactly one
    ("both duration and open_end", lambda d: d["series"]["lunch"].update(open_end=True),
     ["series.lunch.duration_minutes: give either duration_minutes or open_end: true"]),
    ("neither duration nor open_end", lambda d: d["series"]["lunch"].pop("duration_minutes"),
     ["series.lunch.duration_minutes: give either duration_minutes or open_end: true"]),
    ("duration too short", lambda d: d["series"]["lunch"].update(duration_minutes=2),
     ["series.lunch.duration_minutes: 2 is not a length in minutes (5..1440)"]),
    ("duration in words", lambda d: d["series"]["lunch"].update(duration_minutes="1時間"),
     ["series.lunch.duration_minutes: '1時間' is not a whole number"]),
    # --- blackouts
    ("blackout month 13", lambda d: d.update(scheduling={"blackouts": [{"from": "13-01"}]}),
     ["scheduling.blackouts.0.from: '13-01' is not a date (YYYY-MM-DD) or a yearly day (MM-DD)"]),
    ("blackout 02-30", lambda d: d.update(scheduling={"blackouts": [{"from": "02-28", "to": "02-30"}]}),
     ["scheduling.blackouts.0.to: '02-30' is not a date (YYYY-MM-DD) or a yearly day (MM-DD)"]),
    ("blackout with slashes", lambda d: d.update(scheduling={"blackouts": [{"from": "12/29", "to": "1/3"}]}),
     ["scheduling.blackouts.0.from: '12/29' is not a date (YYYY-MM-DD) or a yearly day (MM-DD)",
      "scheduling.blackouts.0.to: '1/3' is not a date (YYYY-MM-DD) or a yearly day (MM-DD)"]),
    ("blackout range backwards", lambda d: d.update(scheduling={"blackouts": [
        {"from": dt.date(2027, 8, 16), "to": dt.date(2027, 8, 10), "label": "お盆"}]}),
     ["scheduling.blackouts.0.to: 2027-08-10 is before from: 2027-08-16"]),
    ("blackout mixed kinds", lambda d: d.update(scheduling={"blackouts": [{"from": "12-29", "to": dt.date(2027, 1, 3)}]}),
     ["scheduling.blackouts.0.to: use MM-DD on both ends of a yearly range, or YYYY-MM-DD on both"]),
    ("blackout with a time", lambda d: d.update(scheduling={"blackouts": [{"from": dt.datetime(2027, 1, 3, 10, 0)}]}),
     ["scheduling.blackouts.0.from: '2027-01-03 10:00:00' has a time of day; give a date (YYYY-MM-DD) or a yearly day (MM-DD)"]),
    # --- other fields
    ("series id with capitals", lambda d: d["series"].update(Lunch=copy.deepcopy(d["series"]["lunch"])),
     ["series: 'Lunch' is not a series id (lowercase letters, digits, _; used in slot ids)"]),
    ("title field typo", lambda d: d["series"]["lunch"].update(title="ランチ {monht}月"),
     ["series.lunch.title: 'ランチ {monht}月' uses unknown field(s) ['monht'] (allowed: date, series, month, day, weekday, year, month_name)"]),
    ("holiday country", lambda d: d["community"].update(holiday_country="jp"),
     ["community.holiday_country: 'jp' is not an ISO 3166 country code (e.g. GB, JP, US)"]),
    ("holiday region", lambda d: d["community"].update(holiday_country="GB", holiday_region="Scotland!"),
     ["community.holiday_region: 'Scotland!' is not an ISO 3166-2 subdivision of GB (e.g. SCT or GB-SCT)"]),
    ("unknown venue", lambda d: d["series"]["lunch"].update(venue="hq"),
     ["series.lunch.venue: 'hq' is not a venue of this config (known: none yet: add them under venues:)"]),
    ("venue map link", lambda d: d.update(venues={"hq": {"name": "本社 10F", "map_url": "javascript:alert(1)"}}),
     ["venues.hq.map_url: 'javascript:alert(1)' is not an https:// link"]),
    ("horizon", lambda d: d.update(scheduling={"horizon_months": 0}),
     ["scheduling.horizon_months: 0 is not a horizon in months (1..24)"]),
    ("oidc without audience", lambda d: d.update(cron_auth={"mode": "oidc"}),
     ["cron_auth.audience: oidc mode needs the audience (the function's URL, e.g. "
     "https://REGION-PROJECT.cloudfunctions.net/{function})"]),
    ("series as a list", lambda d: d.update(series=[]), ["series: [] is not a mapping (key: value)"]),
    ("rule as a word", lambda d: d["series"]["lunch"].update(rule="monthly"),
     ["series.lunch.rule: 'monthly' is not a mapping (key: value)"]),
]


@pytest.mark.parametrize("name,change,expected", CASES, ids=[c[0] for c in CASES])
def test_each_error_names_its_field(name: str, change: Any, expected: list[str]) -> None:
    assert problems(edited(change)) == expected


def test_several_problems_are_reported_together() -> None:
    def change(d: dict[str, Any]) -> None:
        d["community"]["timezone"] = "Tokyo"
        d["series"]["lunch"]["start"] = "25:00"
        d["series"]["lunch"]["rule"]["weekday"] = "Thu "

    assert problems(edited(change)) == [
        "community.timezone: 'Tokyo' is not an IANA time zone name (e.g. Europe/London, America/New_York, Asia/Tokyo)",
        "series.lunch.start: '25:00' is not a time of day (HH:MM, 00:00..23:59)",
        "series.lunch.rule.weekday: 'Thu ' is not a weekday (mon..sun)",
    ]


def test_top_level_not_a_mapping() -> None:
    assert problems(["community"]) == ["(top level): the file must be a YAML mapping with community:, series:, ..."]
    assert problems(None) == ["(top level): the file must be a YAML mapping with community:, series:, ..."]


# ---------------------------------------------------------------------------------------------
# Through the file: YAML quirks, syntax errors, a missing file
# ---------------------------------------------------------------------------------------------

def load_problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.source == str(path)
    assert str(info.value).startswith(f"invalid community config ({path}):")
    return [f"{p}: {m}" for p, m in info.value.problems]


def test_unquoted_times_in_yaml(tmp_path: Path) -> None:
    # YAML 1.1 reads an unquoted 12:00 as the number 720; it still means noon ...
    cfg = load_config(write(tmp_path, VALID_YAML.replace('start: "12:00"', "start: 12:00")))
    assert cfg.series["lunch"].start == dt.time(12, 0)
    # ... and an unquoted 25:00 is still reported as the time it looks like.
    assert load_problems(write(tmp_path, VALID_YAML.replace('start: "12:00"', "start: 25:00"))) == [
        "series.lunch.start: '25:00' is not a time of day (HH:MM, 00:00..23:59)"]


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    bad = "community:\n  name: テスト\n   timezone: Asia/Tokyo\n"  # the ':' after timezone: line 3, column 12
    assert load_problems(write(tmp_path, bad)) == ["line 3, column 12: not valid YAML: mapping values are not allowed here"]
    tab = "community:\n\tname: テスト\n"
    assert load_problems(write(tmp_path, tab)) == [
        "line 2, column 1: not valid YAML: found character '\\t' that cannot start any token"]
    unclosed = VALID_YAML.replace("rule: {type: monthly, nth: 3, weekday: thu}", "rule: {type: monthly, nth: 3, weekday: thu")
    line = unclosed.splitlines().index("  mokumoku:") + 1  # the flow mapping is still open there
    problems_ = load_problems(write(tmp_path, unclosed))
    assert len(problems_) == 1 and problems_[0].startswith(f"line {line}, column ")
    assert "not valid YAML: " in problems_[0]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    assert load_problems(path) == [f"(file): cannot read {path}: No such file or directory"]


def test_empty_file(tmp_path: Path) -> None:
    assert load_problems(write(tmp_path, "# only a comment\n")) == [
        "(top level): the file must be a YAML mapping with community:, series:, ..."]


def test_config_path_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, VALID_YAML)
    monkeypatch.setenv("COMMUNITY_CONFIG", str(path))
    assert load_config().community.name == "ソニー有志アルムナイ　テスト"
    monkeypatch.setenv("COMMUNITY_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError):
        load_config()


# ---------------------------------------------------------------------------------------------
# The example config, and frozen objects
# ---------------------------------------------------------------------------------------------

def test_the_example_config_loads() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.community.timezone == "Asia/Tokyo" and cfg.community.holiday_country == "JP"
    assert cfg.scheduling.horizon_months == 3 and cfg.scheduling.open_end_nominal_minutes == 120
    night, lunch, moku = cfg.series["speaker_night"], cfg.series["lunch"], cfg.series["mokumoku"]
    assert (night.start, night.open_end, night.duration_minutes, night.on_holiday) == (dt.time(20), True, None, "next_business_day")
    assert (night.rule.type, night.rule.nth, night.rule.weekday) == ("monthly", 2, 1)  # type: ignore[union-attr]
    assert (lunch.start, lunch.duration_minutes, lunch.online, lunch.on_holiday) == (dt.time(12), 60, False, "skip")
    assert (lunch.rule.nth, lunch.rule.weekday) == (3, 3)  # type: ignore[union-attr]
    assert (moku.start, moku.rule.type, moku.rule.series) == (dt.time(10), "same_day_as", "lunch")  # type: ignore[union-attr]
    assert cfg.series_order().index("lunch") < cfg.series_order().index("mokumoku")
    (blackout,) = cfg.scheduling.blackouts
    assert (blackout.start, blackout.end, blackout.label) == ("12-29", "01-03", "年末年始")


def test_objects_are_frozen() -> None:
    cfg = load_config(EXAMPLE)
    with pytest.raises(AttributeError, match="immutable"):
        cfg.community.name = "別の会"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        cfg.series["lunch"].start = dt.time(13)  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        cfg.series["lunch"].rule.nth = 4  # type: ignore[misc,union-attr]
    with pytest.raises(AttributeError, match="immutable"):
        cfg.scheduling.blackouts[0].label = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        cfg.scheduling = cfg.scheduling  # type: ignore[misc]
    assert isinstance(cfg.scheduling.blackouts, tuple)  # no append either
    occ = Occurrence("lunch", dt.date(2026, 1, 15), dt.date(2026, 1, 15), dt.datetime(2026, 1, 15, 3, tzinfo=dt.UTC),
                     dt.datetime(2026, 1, 15, 4, tzinfo=dt.UTC), False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        occ.status = "cancelled"  # type: ignore[misc]
