"""Property tests for shared.domain.scheduling: random rules and windows between 2000 and 2100.

The oracle below is written independently of ``shared.domain.scheduling``: rule dates come from dateutil's
rrule in a different formulation (``bysetpos`` for the n-th weekday, RFC 5545 week counting from
``starting`` for every-N-weeks), cross-checked by plain date arithmetic; blackouts are checked with
real date ranges (not MM-DD string comparison); holidays come from jpholiday, the library the
implementation uses for JP.

Semantics the oracle pins down (decisions, documented in shared/domain/scheduling.py):
- a blackout's policy applies first; when the series ``allow``s blackouts, a holiday on that day
  still follows ``on_holiday``;
- a shift goes to the nearest weekday that is neither a holiday nor a blackout, at most 31 days
  away, else the occurrence is skipped;
- when two keys of one series land on the same day, the key that falls there by itself wins,
  otherwise the earliest key; the result does not depend on the window (the day the job runs);
- a wall-clock time in a spring-forward gap (02:30 on a New York spring-forward Sunday) is read
  with the offset in force before the gap, i.e. the real instant after the gap: 03:30 EDT. An
  ambiguous time (01:30 on a fall-back night) is its first instant (still summer time).
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import jpholiday
from dateutil.rrule import FR, MO, MONTHLY, SA, SU, TH, TU, WE, WEEKLY, rrule
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from shared.config import Config, DatesRule, MonthlyRule, WeeklyRule, parse_config
from shared.domain import scheduling
from shared.domain.scheduling import BusinessCalendar, SlotException

UTC = dt.UTC
NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RR_DAYS = (MO, TU, WE, TH, FR, SA, SU)
POLICIES = ("skip", "next_business_day", "next_business_day", "previous_business_day", "previous_business_day", "allow")
ZONES = ("Asia/Tokyo", "America/New_York", "Europe/London")
LO, HI = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
NOMINAL = 120
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def jp_holiday(day: dt.date) -> str | None:
    return jpholiday.is_holiday_name(day)


# ---------------------------------------------------------------------------------------------
# The oracle
# ---------------------------------------------------------------------------------------------

def _dt(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def oracle_rule_dates(rule: object, lo: dt.date, hi: dt.date) -> list[dt.date]:
    if isinstance(rule, DatesRule):
        return sorted({d for d in rule.dates if lo <= d <= hi})
    if isinstance(rule, MonthlyRule):
        it = rrule(MONTHLY, dtstart=_dt(lo.replace(day=1)), until=_dt(hi), byweekday=RR_DAYS[rule.weekday], bysetpos=rule.nth)
        return [d.date() for d in it if d.date() >= lo]
    assert isinstance(rule, WeeklyRule)
    first = rule.starting or lo
    it = rrule(WEEKLY, dtstart=_dt(first), until=_dt(hi), interval=rule.interval,
               byweekday=[RR_DAYS[w] for w in rule.weekdays], wkst=MO)
    got = [d.date() for d in it if d.date() >= lo]
    # Cross-check with arithmetic: weeks counted from the Monday of ``starting``'s week.
    monday = first - dt.timedelta(days=first.weekday())
    arith = [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]
    arith = [d for d in arith if d >= first and d.weekday() in rule.weekdays and ((d - monday).days // 7) % rule.interval == 0]
    assert got == arith
    return got


def in_blackout(day: dt.date, spec: tuple[object, object, str]) -> bool:
    start, end, _ = spec
    if isinstance(start, dt.date):
        assert isinstance(end, dt.date)
        return start <= day <= end
    (m1, d1), (m2, d2) = start, end  # type: ignore[misc]
    for year in (day.year - 1, day.year):
        first = dt.date(year, m1, d1)
        last = dt.date(year if (m2, d2) >= (m1, d1) else year + 1, m2, d2)
        if first <= day <= last:
            return True
    return False


def oracle_blackout(day: dt.date, specs: list[tuple[object, object, str]]) -> str | None:
    return next((label for *_, label in [s for s in specs if in_blackout(day, s)]), None)


def oracle_business(day: dt.date, specs: list[tuple[object, object, str]]) -> bool:
    return day.weekday() < 5 and jp_holiday(day) is None and oracle_blackout(day, specs) is None


def oracle_policy(key: dt.date, on_holiday: str, on_blackout: str, specs: list) -> tuple[dt.date | None, str]:
    blackout = oracle_blackout(key, specs)
    holiday = jp_holiday(key)
    if blackout is not None and on_blackout != "allow":
        policy, reason = on_blackout, f"blackout: {blackout}"
    elif holiday is not None and on_holiday != "allow":
        policy, reason = on_holiday, f"holiday: {holiday}"
    else:
        return key, ""
    if policy == "skip":
        return None, reason
    step = 1 if policy == "next_business_day" else -1
    for n in range(1, 32):
        cand = key + dt.timedelta(days=step * n)
        if oracle_business(cand, specs):
            return cand, reason
    return None, reason


def oracle(rule: object, on_holiday: str, on_blackout: str, specs: list, lo: dt.date, hi: dt.date) -> list[tuple]:
    """(key, day, note) of every occurrence whose key lies in [lo, hi]."""
    wide = oracle_rule_dates(rule, lo - dt.timedelta(days=70), hi + dt.timedelta(days=70))
    resolved = {k: oracle_policy(k, on_holiday, on_blackout, specs) for k in wide}
    by_day: dict[dt.date, list[dt.date]] = {}
    for key, (day, _) in resolved.items():
        if day is not None:
            by_day.setdefault(day, []).append(key)
    out = []
    for day, keys in by_day.items():
        win = day if day in keys else min(keys)
        if lo <= win <= hi:
            out.append((win, day, resolved[win][1] if day != win else ""))
    return sorted(out)


# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------

days = st.dates(LO, HI)
yearly_md = st.dates(dt.date(2001, 1, 1), dt.date(2001, 12, 31)).map(lambda d: (d.month, d.day))  # never 02-29


@st.composite
def windows(draw: st.DrawFn) -> tuple[dt.date, dt.date]:
    lo = draw(st.dates(LO, HI - dt.timedelta(days=1)))
    hi = min(HI, lo + dt.timedelta(days=draw(st.integers(0, 500))))
    return lo, hi


@st.composite
def rules(draw: st.DrawFn, lo: dt.date, hi: dt.date) -> dict:
    kind = draw(st.sampled_from(("monthly", "weekly", "weekly_n", "dates")))
    if kind == "monthly":
        return {"type": "monthly", "nth": draw(st.sampled_from((1, 2, 3, 4, 5, -1))), "weekday": draw(st.sampled_from(NAMES))}
    if kind == "dates":
        near = st.dates(max(LO, lo - dt.timedelta(days=40)), min(HI, hi + dt.timedelta(days=40)))
        return {"type": "dates", "dates": draw(st.lists(near, max_size=25))}
    rule: dict = {"type": "weekly", "weekdays": draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=7, unique=True))}
    if kind == "weekly_n":
        rule["interval"] = draw(st.integers(1, 5))
        rule["starting"] = draw(st.one_of(
            st.dates(max(LO, lo - dt.timedelta(days=800)), min(HI, hi + dt.timedelta(days=30))), days))
    elif draw(st.booleans()):
        rule["starting"] = draw(st.dates(max(LO, lo - dt.timedelta(days=60)), min(HI, hi + dt.timedelta(days=30))))
    return rule


@st.composite
def blackout_specs(draw: st.DrawFn, lo: dt.date, hi: dt.date) -> list[tuple[object, object, str]]:
    specs: list[tuple[object, object, str]] = []
    for i in range(draw(st.integers(0, 3))):
        label = f"休み{i}"
        if draw(st.booleans()):
            a, b = draw(yearly_md), draw(yearly_md)  # b < a wraps the new year
            specs.append((a, b, label))
        else:
            a = draw(st.dates(max(LO, lo - dt.timedelta(days=30)), min(HI, hi + dt.timedelta(days=30))))
            specs.append((a, a + dt.timedelta(days=draw(st.integers(0, 20))), label))
    if draw(st.booleans()):
        specs.append(((12, 29), (1, 3), "年末年始"))
    return specs


def yaml_blackouts(specs: list[tuple[object, object, str]]) -> list[dict]:
    out = []
    for start, end, label in specs:
        if isinstance(start, dt.date):
            out.append({"from": start, "to": end, "label": label})
        else:
            (m1, d1), (m2, d2) = start, end  # type: ignore[misc]
            out.append({"from": f"{m1:02d}-{d1:02d}", "to": f"{m2:02d}-{d2:02d}", "label": label})
    return out


def one_series(series: dict, specs: list | None = None) -> Config:
    return parse_config({"community": {"name": "テスト　会"},
                         "scheduling": {"open_end_nominal_minutes": NOMINAL, "blackouts": yaml_blackouts(specs or [])},
                         "series": {"s": series}})


def calendar(cfg: Config) -> BusinessCalendar:
    return BusinessCalendar(jp_holiday, cfg.scheduling.blackouts)


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

@SETTINGS
@given(st.data())
def test_dates_equal_the_rrule_and_holiday_oracle(data: st.DataObject) -> None:
    lo, hi = data.draw(windows())
    rule = data.draw(rules(lo, hi))
    specs = data.draw(blackout_specs(lo, hi))
    on_holiday, on_blackout = data.draw(st.sampled_from(POLICIES)), data.draw(st.sampled_from(POLICIES))
    cfg = one_series({"kind": "k", "title": "t", "start": "19:00", "duration_minutes": 90, "rule": rule,
                      "on_holiday": on_holiday, "on_blackout": on_blackout}, specs)

    got = scheduling.expand(cfg, lo, hi, calendar(cfg))
    expected = oracle(cfg.series["s"].rule, on_holiday, on_blackout, specs, lo, hi)
    assert [(o.key_date, o.date, o.note) for o in sorted(got, key=lambda o: o.key_date)] == expected
    keys = oracle_rule_dates(cfg.series["s"].rule, lo, hi)
    for label, hit in (("shifted", any(k != d for k, d, _ in expected)), ("skipped or merged", len(expected) < len(keys)),
                       ("holiday shift", any(n.startswith("holiday") for *_, n in expected)),
                       ("blackout shift", any(n.startswith("blackout") for *_, n in expected))):
        event(f"{label}: {hit}")
    assert len({o.date for o in got}) == len(got)  # never two occurrences of a series on one day
    for o in got:
        assert o.status == "scheduled"
        assert o.shifted_from == (o.key_date if o.date != o.key_date else None)
        assert o.slot_id == f"s_{o.key_date.isoformat()}"


@SETTINGS
@given(st.data())
def test_rule_dates_equal_rrule_oracle(data: st.DataObject) -> None:
    lo, hi = data.draw(windows())
    cfg = one_series({"kind": "k", "title": "t", "start": "19:00", "open_end": True, "rule": data.draw(rules(lo, hi))})
    assert scheduling.rule_dates(cfg.series["s"], lo, hi) == oracle_rule_dates(cfg.series["s"].rule, lo, hi)


@SETTINGS
@given(st.data())
def test_slot_ids_do_not_depend_on_the_window(data: st.DataObject) -> None:
    """A later run (window starting later) produces the same occurrence for every key both see."""
    lo, hi = data.draw(windows())
    # Cut the window next to a holiday now and then: that is where shifted keys collide.
    near_holiday = [d for d, _ in jpholiday.between(lo, hi)]
    if near_holiday and data.draw(st.booleans()):
        later = data.draw(st.sampled_from(near_holiday)) + dt.timedelta(days=data.draw(st.integers(-2, 2)))
        later = min(max(later, lo), hi)
    else:
        later = lo + dt.timedelta(days=data.draw(st.integers(0, (hi - lo).days)))
    rule = data.draw(st.one_of(rules(lo, hi), st.builds(
        lambda w: {"type": "weekly", "weekdays": w}, st.lists(st.sampled_from(NAMES), min_size=2, max_size=7, unique=True))))
    specs = data.draw(blackout_specs(lo, hi))
    cfg = one_series({"kind": "k", "title": "t", "start": "19:00", "duration_minutes": 60, "rule": rule,
                      "on_holiday": data.draw(st.sampled_from(POLICIES)),
                      "on_blackout": data.draw(st.sampled_from(POLICIES))}, specs)
    first = {o.key_date: o for o in scheduling.expand(cfg, lo, hi, calendar(cfg)) if o.key_date >= later}
    second = {o.key_date: o for o in scheduling.expand(cfg, later, hi, calendar(cfg))}
    assert first == second


def in_gap(day: dt.date, clock: dt.time, zone: ZoneInfo) -> bool:
    """PEP 495: in a gap, fold=0 reads the offset from before the transition, which is smaller."""
    wall = dt.datetime.combine(day, clock)
    before = wall.replace(tzinfo=zone, fold=0).utcoffset()
    after = wall.replace(tzinfo=zone, fold=1).utcoffset()
    assert before is not None and after is not None
    return before < after


dst_days = st.sampled_from([
    # America/New_York: 2nd Sunday of March / 1st Sunday of November (since 2007)
    dt.date(2026, 3, 8), dt.date(2026, 11, 1), dt.date(2007, 3, 11), dt.date(2099, 11, 1),
    # Europe/London: last Sunday of March / October
    dt.date(2026, 3, 29), dt.date(2026, 10, 25), dt.date(2000, 3, 26), dt.date(2100, 10, 31),
])
clocks = st.one_of(st.times().map(lambda t: t.replace(second=0, microsecond=0)),
                   st.sampled_from([dt.time(0, 30), dt.time(1, 0), dt.time(1, 30), dt.time(1, 59), dt.time(2, 0),
                                    dt.time(2, 30), dt.time(3, 0), dt.time(23, 30)]))


@SETTINGS
@given(zone_name=st.sampled_from(ZONES), clock=clocks, length=st.one_of(st.none(), st.integers(5, 1440)),
       dates=st.lists(st.one_of(dst_days, days), min_size=1, max_size=6))
def test_wall_clock_holds_across_dst(zone_name: str, clock: dt.time, length: int | None, dates: list[dt.date]) -> None:
    zone = ZoneInfo(zone_name)
    series = {"kind": "k", "title": "t", "timezone": zone_name, "start": clock.strftime("%H:%M"), "on_holiday": "allow",
              "rule": {"type": "dates", "dates": dates}}
    series.update({"open_end": True} if length is None else {"duration_minutes": length})
    cfg = one_series(series)
    got = scheduling.expand(cfg, LO, HI, calendar(cfg))
    assert sorted(o.date for o in got) == sorted(set(dates))
    for o in got:
        assert o.start.tzinfo is not None and o.end.tzinfo is not None
        wall = dt.datetime.combine(o.date, clock)
        if in_gap(o.date, clock, zone):
            # The real instant after: the wall time read with the pre-gap offset (02:30 EST = 03:30 EDT).
            offset = wall.replace(tzinfo=zone, fold=0).utcoffset()
            assert offset is not None
            assert o.start.astimezone(UTC).replace(tzinfo=None) == wall - offset
            assert o.start.replace(tzinfo=None) > wall
        else:
            assert (o.start.date(), o.start.time()) == (o.date, clock)
            # An ambiguous time is its first instant (fold=0).
            assert o.start.astimezone(UTC) == wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        real = o.end.astimezone(UTC) - o.start.astimezone(UTC)
        assert real == dt.timedelta(minutes=NOMINAL if length is None else length)
        assert real > dt.timedelta(0)


def test_a_weekly_evening_keeps_its_wall_clock_all_year() -> None:
    """New York 19:00 every Tuesday of 2026: UTC 23:00 in winter, 00:00 (next day) in summer."""
    cfg = one_series({"kind": "k", "title": "t", "timezone": "America/New_York", "start": "19:00", "duration_minutes": 90,
                      "on_holiday": "allow", "rule": {"type": "weekly", "weekdays": ["tue"]}})
    got = scheduling.expand(cfg, dt.date(2026, 1, 1), dt.date(2026, 12, 31), calendar(cfg))
    assert len(got) == 52
    assert {o.start.strftime("%H:%M") for o in got} == {"19:00"}
    assert {o.end.strftime("%H:%M") for o in got} == {"20:30"}
    utc = {o.date: o.start.astimezone(UTC) for o in got}
    assert utc[dt.date(2026, 3, 3)].time() == dt.time(0, 0) and utc[dt.date(2026, 3, 3)].date() == dt.date(2026, 3, 4)  # EST
    assert utc[dt.date(2026, 3, 10)].time() == dt.time(23, 0)  # EDT from 2026-03-08
    assert utc[dt.date(2026, 10, 27)].time() == dt.time(23, 0)
    assert utc[dt.date(2026, 11, 3)].time() == dt.time(0, 0)  # EST again from 2026-11-01


def test_dst_edges_by_hand() -> None:
    ny, london = ZoneInfo("America/New_York"), ZoneInfo("Europe/London")
    # 02:30 does not exist on 2026-03-08 in New York: the event starts at 03:30 EDT (07:30 UTC).
    assert scheduling.at(dt.date(2026, 3, 8), dt.time(2, 30), ny) == dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert scheduling.at(dt.date(2026, 3, 8), dt.time(2, 30), ny).strftime("%H:%M %Z") == "03:30 EDT"
    # 01:30 on 2026-03-29 does not exist in London: 02:30 BST (01:30 UTC).
    assert scheduling.at(dt.date(2026, 3, 29), dt.time(1, 30), london).strftime("%H:%M %Z") == "02:30 BST"
    # 01:30 happens twice on 2026-11-01 in New York: the first one (EDT, 05:30 UTC); one hour long
    # means 01:30 EST, not 02:30 EST (wall-clock arithmetic would give two hours).
    cfg = one_series({"kind": "k", "title": "t", "timezone": "America/New_York", "start": "01:30", "duration_minutes": 60,
                      "on_holiday": "allow", "rule": {"type": "dates", "dates": [dt.date(2026, 11, 1)]}})
    (o,) = scheduling.expand(cfg, LO, HI, calendar(cfg))
    # (compare in UTC: PEP 495 makes == across zones False for a fold-dependent time)
    assert o.start.astimezone(UTC) == dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert o.end.astimezone(UTC) == dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert o.end.strftime("%H:%M %Z") == "01:30 EST"


def test_relative_series_inside_the_skipped_hour() -> None:
    """Found by hypothesis: 01:00 before a 02:00 anchor in London. On 2027-03-28 the clocks go from
    01:00 to 02:00, so both are one instant; the relative entry is cancelled, says why, and still
    ends after it starts (its usual hour on the wall clock)."""
    cfg = parse_config({"community": {"name": "テスト", "timezone": "Europe/London"}, "series": {
        "talk": {"kind": "k", "title": "t", "start": "02:00", "duration_minutes": 60, "on_holiday": "allow",
                 "rule": {"type": "dates", "dates": [dt.date(2027, 3, 28), dt.date(2027, 4, 4)]}},
        "early": {"kind": "k", "title": "t", "start": "01:00", "rule": {"type": "same_day_as", "series": "talk"}}}})
    got = [o for o in scheduling.expand(cfg, LO, HI, calendar(cfg)) if o.series_id == "early"]
    spring, usual = got
    assert spring.status == "cancelled" and spring.note == "01:00-02:00 does not exist on 2027-03-28 (the clocks go forward)"
    assert spring.start.astimezone(UTC) == dt.datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert spring.end.astimezone(UTC) == dt.datetime(2027, 3, 28, 2, 0, tzinfo=UTC)
    assert usual.status == "scheduled" and (usual.start.strftime("%H:%M"), usual.end.strftime("%H:%M")) == ("01:00", "02:00")


# ---------------------------------------------------------------------------------------------
# Relative (same_day_as) series
# ---------------------------------------------------------------------------------------------

@SETTINGS
@given(st.data())
def test_relative_series_end_when_their_anchor_starts(data: st.DataObject) -> None:
    lo, hi = data.draw(windows())
    rule = data.draw(rules(lo, hi))
    zone_name = data.draw(st.sampled_from(ZONES))
    anchor_h = data.draw(st.integers(1, 23))
    anchor_start = dt.time(anchor_h, data.draw(st.sampled_from((0, 15, 30, 45))))
    rel_start = dt.time(data.draw(st.integers(0, anchor_h - 1)), data.draw(st.sampled_from((0, 30))))
    specs = data.draw(blackout_specs(lo, hi))
    cfg = parse_config({
        "community": {"name": "テスト", "timezone": zone_name},
        "scheduling": {"blackouts": yaml_blackouts(specs)},
        "series": {
            # listed first on purpose: the anchor must still be expanded before it
            "cowork": {"kind": "coworking", "title": "t", "start": rel_start.strftime("%H:%M"),
                       "rule": {"type": "same_day_as", "series": "lunch"}},
            "lunch": {"kind": "lunch", "title": "t", "start": anchor_start.strftime("%H:%M"), "duration_minutes": 60,
                      "rule": rule, "on_holiday": data.draw(st.sampled_from(POLICIES)),
                      "on_blackout": data.draw(st.sampled_from(POLICIES))},
        }})
    cal = calendar(cfg)
    plain = [o for o in scheduling.expand(cfg, lo, hi, cal) if o.series_id == "lunch"]
    exceptions: dict[str, SlotException] = {}
    for o in plain:
        action = data.draw(st.sampled_from((None, None, "cancel", "move")))
        if action == "cancel":
            exceptions[o.slot_id] = SlotException("cancel", reason="会場都合")
        elif action == "move":
            new_day = o.date + dt.timedelta(days=data.draw(st.integers(-10, 10)))
            new_start = data.draw(st.one_of(st.none(), st.times().map(lambda t: t.replace(second=0, microsecond=0))))
            exceptions[o.slot_id] = SlotException("move", date=new_day, start=new_start)

    got = scheduling.expand(cfg, lo, hi, cal, exceptions)
    anchors = {o.key_date: o for o in got if o.series_id == "lunch"}
    rels = {o.key_date: o for o in got if o.series_id == "cowork"}
    assert set(rels) == set(anchors)
    assert sorted(o.key_date for o in plain) == sorted(anchors)
    for key, rel in rels.items():
        anchor = anchors[key]
        assert rel.anchor_id == anchor.slot_id == f"lunch_{key.isoformat()}"
        assert rel.slot_id == f"cowork_{key.isoformat()}"
        assert rel.date == anchor.date  # the anchor's actual date, after shifts and moves
        assert rel.end.astimezone(UTC) > rel.start.astimezone(UTC)  # end > start, cancelled or not
        assert rel.start.replace(tzinfo=None) >= dt.datetime.combine(anchor.date, rel_start)  # later only in a DST gap
        usual = scheduling.at(anchor.date, anchor_start, ZoneInfo(zone_name))
        in_gap = usual.astimezone(UTC) <= rel.start.astimezone(UTC)
        if anchor.status == "cancelled":
            assert rel.status == "cancelled"
            assert rel.end == anchor.start or in_gap
        elif anchor.start.astimezone(UTC) > rel.start.astimezone(UTC):
            assert rel.status == "scheduled"
            assert rel.end == anchor.start  # ends exactly when the anchor starts, on the anchor's day
        else:  # the anchor starts no later than the relative one: an organizer moved it there, or
            # both wall times fall in the hour the clocks skip (01:00 and 02:00 are one instant in
            # London on the spring-forward night)
            assert rel.status == "cancelled"
            assert in_gap or exceptions[anchor.slot_id].action == "move"
            assert rel.end == usual or in_gap
            assert ("the clocks go forward" in rel.note) == in_gap
        if rel.status == "scheduled" or anchor.status == "cancelled":
            assert rel.end.astimezone(UTC) <= anchor.start.astimezone(UTC) or in_gap
        if anchor.status == "scheduled" and anchor.slot_id not in exceptions and "the clocks go forward" not in rel.note:
            assert rel.status == "scheduled"
            assert rel.shifted_from == anchor.shifted_from and rel.note == anchor.note
