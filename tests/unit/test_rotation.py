"""Host rotation: fairness over a simulated year and the Zoom licence rules."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from shared.config.base import convert
from shared.config.people import HostAvailability
from shared.domain import rotation
from tests.fakes.docs import MemoryDocs
from tests.unit.test_assign_usecase import CONFIG, deps_for, make_config

TOKYO = ZoneInfo("Asia/Tokyo")
WINDOW = dt.timedelta(days=365)


def weekly_events(weeks: int = 52, per_week: int = 2) -> list[rotation.Event]:
    first = dt.datetime(2027, 1, 4, 20, 0, tzinfo=TOKYO)
    out = []
    for w in range(weeks):
        for k in range(per_week):
            start = first + dt.timedelta(weeks=w, days=2 * k)
            out.append(rotation.Event(f"s{w:02d}_{k}", start, start + dt.timedelta(hours=2)))
    return out


def simulate(hosts: list[rotation.Host], events: list[rotation.Event]) -> dict[str, int]:
    duties: list[rotation.Duty] = []
    for ev in events:
        best = rotation.rank_hosts(ev, hosts, duties, TOKYO, WINDOW).best
        assert best is not None
        duties.append(rotation.Duty(best, ev.slot_id, ev.start, ev.end))
    counts = {h.id: 0 for h in hosts}
    for d in duties:
        counts[d.host_id] += 1
    return counts


def test_equal_weights_counts_differ_by_at_most_one() -> None:
    hosts = [rotation.Host(f"h{i}", "pro") for i in range(5)]
    for n in range(1, 105):
        counts = simulate(hosts, weekly_events()[:n])
        assert max(counts.values()) - min(counts.values()) <= 1, (n, counts)


def test_weighted_shares_follow_the_weights_within_one_event() -> None:
    weights = {"a": 2.0, "b": 1.0, "c": 1.0, "d": 0.5}
    hosts = [rotation.Host(k, "business", HostAvailability(weight=w)) for k, w in weights.items()]
    events = weekly_events()
    counts = simulate(hosts, events)
    total = sum(weights.values())
    for hid, w in weights.items():
        assert abs(counts[hid] - len(events) * w / total) <= 1, counts


def test_ties_go_to_whoever_hosted_least_recently() -> None:
    hosts = [rotation.Host("a", "pro"), rotation.Host("b", "pro")]
    ev = weekly_events()
    duties = [rotation.Duty("b", "old1", ev[0].start - dt.timedelta(days=20), ev[0].start - dt.timedelta(days=20)),
              rotation.Duty("a", "old2", ev[0].start - dt.timedelta(days=10), ev[0].start - dt.timedelta(days=10))]
    assert rotation.rank_hosts(ev[0], hosts, duties, TOKYO, WINDOW).best == "b"


def test_the_explanation_names_the_tie_break_that_decided() -> None:
    """``why`` used to say "higher load or more recent" for a host with the same numbers as the
    chosen one: each passed-over host now gets the rule that actually decided."""
    hosts = [rotation.Host(h, "pro") for h in ("a", "b", "c", "d")]
    ev = weekly_events()[0]
    day = dt.timedelta(days=1)
    duties = [rotation.Duty("a", "o1", ev.start - 30 * day, ev.start - 30 * day),  # a and b: one duty, same day
              rotation.Duty("b", "o2", ev.start - 30 * day, ev.start - 30 * day),
              rotation.Duty("c", "o3", ev.start - 10 * day, ev.start - 10 * day),  # c: one duty, more recent
              rotation.Duty("d", "o4", ev.start - 40 * day, ev.start - 40 * day),  # d: two duties
              rotation.Duty("d", "o5", ev.start - 35 * day, ev.start - 35 * day)]
    ranking = rotation.rank_hosts(ev, hosts, duties, TOKYO, WINDOW)
    assert ranking.best == "a"
    reasons = {e["host_id"]: e["reason"] for e in ranking.explanation("a")}
    assert reasons == {"a": None, "b": rotation.R_ID_ORDER, "c": rotation.R_MORE_RECENT, "d": rotation.R_HIGHER_LOAD}


def test_availability_weekdays_hours_blackouts_monthly_max() -> None:
    ev = rotation.Event("x", dt.datetime(2027, 2, 9, 20, 0, tzinfo=TOKYO), dt.datetime(2027, 2, 9, 22, 0, tzinfo=TOKYO))
    cases = {
        "weekday": convert({"weekdays": ["mon", "wed"]}, HostAvailability),
        "hours": convert({"hours": {"from": "09:00", "to": "21:00"}}, HostAvailability),
        "blackout": convert({"blackouts": ["2027-02-09"]}, HostAvailability),
        "monthly_max": HostAvailability(monthly_max=1),
        "not_in_rotation": HostAvailability(weight=0),
    }
    hosts = [rotation.Host(k, "pro", av) for k, av in cases.items()] + [rotation.Host("ok", "pro")]
    duties = [rotation.Duty("monthly_max", "earlier", ev.start - dt.timedelta(days=7), ev.end - dt.timedelta(days=7))]
    ranking = rotation.rank_hosts(ev, hosts, duties, TOKYO, WINDOW)
    assert ranking.ranked == ("ok",)
    reasons = {e["host_id"]: e["reason"] for e in ranking.explanation("ok")}
    assert reasons == {"ok": None} | {k: k for k in cases}


def test_a_date_the_host_marked_in_the_console_makes_them_ineligible_that_day_only() -> None:
    ev = rotation.Event("x", dt.datetime(2027, 2, 9, 20, 0, tzinfo=TOKYO), dt.datetime(2027, 2, 9, 22, 0, tzinfo=TOKYO))
    away = rotation.Host("away", "pro", HostAvailability(weight=10), frozenset({dt.date(2027, 2, 9)}))
    ranking = rotation.rank_hosts(ev, [away, rotation.Host("ok", "pro")], [], TOKYO, WINDOW)
    assert ranking.ranked == ("ok",)
    assert {e["host_id"]: e["reason"] for e in ranking.explanation("ok")}["away"] == rotation.R_UNAVAILABLE
    next_week = rotation.Event("y", ev.start + dt.timedelta(days=7), ev.end + dt.timedelta(days=7))
    assert rotation.rank_hosts(next_week, [away, rotation.Host("ok", "pro")], [], TOKYO, WINDOW).best == "away"


def random_events(seed: int, n: int = 60) -> list[rotation.Event]:
    rnd = random.Random(seed)
    base = dt.datetime(2027, 3, 1, 9, 0, tzinfo=TOKYO)
    out = []
    for i in range(n):
        start = base + dt.timedelta(days=rnd.randrange(14), minutes=15 * rnd.randrange(48))
        length = rnd.choice([30, 40, 45, 60, 120])
        out.append(rotation.Event(f"e{i:03d}", start, start + dt.timedelta(minutes=length), rnd.random() < 0.2))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_licence_rules_hold_through_the_use_case(seed: int) -> None:
    """Basic never > 40 min or open end; pro never two overlapping; business at most two."""
    from shared.usecases import assign

    cfg = make_config(CONFIG.replace("sato:   {name: \"佐藤　一郎\", email: sa@example.com}",
                                     "sato:   {name: \"佐藤　一郎\", email: sa@example.com, zoom: {user: sa@example.com, licence: basic}}"))
    deps = deps_for(cfg, MemoryDocs())
    now = dt.datetime(2027, 2, 1, tzinfo=TOKYO)
    for ev in random_events(seed):
        slot = {"id": ev.slot_id, "start": ev.start, "end": ev.end, "open_end": ev.open_end, "online": True,
                "status": "scheduled", "timezone": "Asia/Tokyo", "title": "もくもく会"}
        deps.store.create("slots", ev.slot_id, slot)
        assign.assign_host(deps, slot, now)
    check_licences(deps.store, cfg)


def check_licences(store: object, cfg: object) -> None:
    from shared.usecases import assign

    duties = [d for d in store.where("host_duties", "state", "==", "active")]  # type: ignore[attr-defined]
    licence = {h.id: h.licence for h in assign.host_pool(cfg)}  # type: ignore[arg-type]
    assert duties
    for hid, lic in licence.items():
        mine = [(d["start"], d["end"]) for d in duties if d["host_id"] == hid]
        if lic == "basic":
            assert all(e - s <= dt.timedelta(minutes=40) for s, e in mine)
            assert all(not (store.get("slots", d["slot_id"]) or {}).get("open_end")  # type: ignore[attr-defined]
                       for d in duties if d["host_id"] == hid)
        assert rotation.max_concurrency(mine) <= {"basic": 1, "pro": 1, "business": 2}[lic], (hid, lic)
