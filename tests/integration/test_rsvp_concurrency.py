"""Never overbooked, never promoted twice: RSVPs racing on the Firestore emulator (docs/events.md).

The npm emulator does not isolate transactions; the chain of entries rests on create() alone, which
it enforces. Every test runs real threads against the real client and then audits the whole chain:
gap-free numbers, each state the step of the one before, and the outbox mails against the effects.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from shared.domain import seats as S
from shared.domain.applications import email_key
from shared.usecases import rsvp
from tests.helpers import events as E
from tests.helpers.swarm import swarm

NOW = dt.datetime(2027, 3, 1, 0, 0, tzinfo=dt.UTC)


def run_all(tasks: list[Any]) -> list[Any]:
    """Run every task (a callable) on its own thread, all released at once by one barrier."""
    barrier = threading.Barrier(len(tasks))

    def go(task: Any) -> Any:
        barrier.wait(timeout=120)
        return task()

    with ThreadPoolExecutor(len(tasks)) as pool:
        return list(pool.map(go, tasks))


def audit(deps: rsvp.Deps, slot: dict[str, Any]) -> list[dict[str, Any]]:
    """The chain is 1..n without a gap, each entry's state is its actions applied to the state
    before (in the order recorded), and no entry ever holds more seats than the capacity."""
    entries = deps.log.entries(slot["id"], limit=10_000)
    assert [e["n"] for e in entries] == list(range(1, len(entries) + 1))
    pol = rsvp.policy(deps.config, slot)
    seats = S.initial(rsvp.configured_capacity(deps.config, slot, None))
    seen: set[str] = set()
    for e in entries:
        for act in e["actions"]:
            assert act["id"] not in seen, f"action {act['id']} applied twice"
            seen.add(act["id"])
            seats, effects = S.step(seats, S.action_from_doc(act["action"]), e["at"], pol)
            assert [S.effect_doc(x) for x in effects] == act["effects"]
            if seats.capacity is not None:
                assert seats.held <= seats.capacity, f"overbooked at entry {e['n']}"
        assert S.to_doc(seats) == e["state"], f"entry {e['n']} is not its actions applied to entry {e['n'] - 1}"
    return entries


def joins(entries: list[dict[str, Any]]) -> list[str]:
    return [a["action"]["who"] for e in entries for a in e["actions"] if a["action"]["kind"] == "join"]


def effects(entries: list[dict[str, Any]], kind: str) -> list[tuple[str, str]]:
    """(``n.i`` of the action, who) for every effect of ``kind``."""
    return [(f"{e['n']}.{i}", x["who"]) for e in entries for i, a in enumerate(e["actions"]) for x in a["effects"]
            if x["kind"] == kind]


def test_300_concurrent_rsvps_for_20_seats(project: str, db: Any, outbox: Path) -> None:
    cfg = E.events_config(capacity=20)
    slot = E.put_slot(db)
    deps = E.deps(db, outbox, cfg)
    rids = [E.pending_rsvp(db, slot["id"], i) for i in range(300)]
    outcomes = swarm([("confirm", rid) for rid in rids], outbox, capacity=20)

    assert [o for o in outcomes if "error" in o] == []
    kinds = [o["kind"] for o in outcomes]
    assert kinds.count("confirmed") == 20 and kinds.count("waitlisted") == 280
    entries = audit(deps, slot)
    assert len(joins(entries)) == 300
    final = S.from_doc(entries[-1]["state"])
    assert len(final.confirmed) == 20 and len(final.waiting) == 280
    # arrival order is the chain's order: the first 20 joins hold the seats, the rest wait in order
    order = joins(entries)
    assert list(final.confirmed) == order[:20] and list(final.waiting) == order[20:]
    # every caller was told its own place, and the positions are 1..280 exactly once each
    positions = sorted(o["position"] for o in outcomes if o["kind"] == "waitlisted")
    assert positions == list(range(1, 281))
    for o in outcomes:
        if o["kind"] == "waitlisted":
            assert final.waiting[o["position"] - 1] == o["who"]
    # one mail per person: 20 confirmations with an invitation, 280 waitlist mails; no marker left
    assert len(E.mails(outbox, ":confirmed:")) == 20 and len(E.mails(outbox, ":waitlisted:")) == 280
    assert "METHOD:REQUEST" in _ics(E.mails(outbox, ":confirmed:")[0])
    assert deps.log.undelivered(1000) == []


def test_a_later_arrival_never_overtakes_an_earlier_one(project: str, db: Any, outbox: Path) -> None:
    """Two waves: everyone of the second started after the first had finished, so all of them wait behind."""
    cfg = E.events_config(capacity=3)
    slot = E.put_slot(db)
    deps = E.deps(db, outbox, cfg)
    first = [E.pending_rsvp(db, slot["id"], i) for i in range(20)]
    second = [E.pending_rsvp(db, slot["id"], i) for i in range(20, 40)]
    a = run_all([lambda rid=rid: rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, NOW), NOW) for rid in first])
    b = run_all([lambda rid=rid: rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, NOW), NOW) for rid in second])
    assert max(o.position for o in a) < min(o.position for o in b)
    assert {o.who for o in a if o.kind == "confirmed"} == set(S.from_doc(audit(deps, slot)[-1]["state"]).confirmed)


def test_50_concurrent_cancels_and_rsvps_never_overbook_and_mail_each_promotion_once(project: str, db: Any,
                                                                                      outbox: Path) -> None:
    cfg = E.events_config(capacity=20)
    slot = E.put_slot(db)
    deps = E.deps(db, outbox, cfg)
    seated = [E.pending_rsvp(db, slot["id"], i) for i in range(45)]
    for rid in seated:
        rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, NOW), NOW)
    state = S.from_doc(deps.log.last(slot["id"])["state"])  # type: ignore[index]
    assert len(state.confirmed) == 20 and len(state.waiting) == 25
    by_who = {rid.rpartition("~")[2]: rid for rid in seated}
    cancels = [by_who[w] for w in state.confirmed[:15]] + [by_who[w] for w in state.waiting[5:15]]  # 25 cancels
    newcomers = [E.pending_rsvp(db, slot["id"], i) for i in range(100, 125)]  # 25 new RSVPs
    outcomes = swarm([("cancel", rid) for rid in cancels] + [("confirm", rid) for rid in newcomers], outbox, capacity=20,
                     processes=5)
    assert [o for o in outcomes if "error" in o] == []

    entries = audit(deps, slot)  # confirmed <= capacity after every single action
    final = S.from_doc(entries[-1]["state"])
    active = 45 - 25 + 25
    assert len(final.confirmed) == min(20, active) and len(final.confirmed) + len(final.waiting) == active
    promotions = effects(entries, "promoted")
    assert len(promotions) >= 15  # the 15 freed seats went to the waitlist, not to newcomers jumping the queue
    assert len({who for _, who in promotions}) == len(promotions)  # nobody promoted twice
    promoted_mails = E.mails(outbox, ":promoted:")
    assert len(promoted_mails) == len(promotions)
    for n, who in promotions:  # each promotion has exactly its one mail, with the invitation
        [mail] = [p for p in promoted_mails if f":{n}:promoted:{who[:16]}" in p.name]
        assert "METHOD:REQUEST" in _ics(mail)
    assert len(effects(entries, "cancelled")) == 25 and len(E.mails(outbox, ":cancelled:")) == 25
    assert deps.log.undelivered(1000) == []


def test_a_crash_after_the_entry_leaves_the_mails_to_the_sweep_and_they_go_once(project: str, db: Any,
                                                                                  outbox: Path) -> None:
    from shared.usecases import event_mail

    cfg = E.events_config(capacity=1)
    slot = E.put_slot(db)
    deps = E.deps(db, outbox, cfg)
    a, b = E.pending_rsvp(db, slot["id"], 1), E.pending_rsvp(db, slot["id"], 2)
    rsvp.confirm(deps, E.token(rsvp.CONFIRM, a, NOW), NOW)
    rsvp.confirm(deps, E.token(rsvp.CONFIRM, b, NOW), NOW)

    class Crash(Exception):
        pass

    def crash(*_: Any, **__: Any) -> int:
        raise Crash

    real = rsvp.deliver
    rsvp.deliver = crash  # type: ignore[assignment]
    try:
        with pytest.raises(Crash):
            rsvp.cancel(deps, E.token(rsvp.CANCEL, a, NOW), NOW)
    finally:
        rsvp.deliver = real  # type: ignore[assignment]
    assert E.mails(outbox, ":promoted:") == [] and len(deps.log.undelivered(10)) == 1
    later = NOW + dt.timedelta(minutes=10)
    run_all([lambda: event_mail.deliver_pending(deps, later) for _ in range(4)])  # four sweeps at once
    [mail] = E.mails(outbox, ":promoted:")
    assert email_key(E.address(2))[:16] in mail.name
    assert len(E.mails(outbox, ":cancelled:")) == 1 and deps.log.undelivered(10) == []


def _ics(path: Path) -> str:
    import email

    msg = email.message_from_bytes(path.read_bytes())
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_payload(decode=True).decode()  # type: ignore[union-attr]
    return ""
