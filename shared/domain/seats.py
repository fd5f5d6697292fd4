"""Seats, waitlist and promotions of one event: a pure state machine (docs/events.md).

The RSVP state of an event is a chain of log entries ``1, 2, 3, ...``; entry ``n`` holds one
action (a join, a cancel, an accept, a capacity change, a tick) and the state *after* it, computed by
:func:`step` from the state of entry ``n - 1``. Entries are created with Firestore ``create()``
(``shared/usecases/rsvp.py``): exactly one writer wins each number, and a writer only tries ``n``
after reading ``n - 1``, so the chain is gap-free, its order is the arrival order, and every
reader sees the same history. Nothing here does I/O; the rules are checked by property tests
against an independent model (tests/unit/test_seats.py).

Rules:
- a join takes a free seat while nobody waits, else the end of the waitlist (arrival order);
- confirmed seats plus open offers never exceed the capacity; lowering the capacity keeps everyone
  confirmed and only stops promotions until enough have cancelled;
- a freed seat (a cancel, a raised capacity, a lapsed offer) goes to the first in the waitlist at
  once: confirmed right away, or, when the event starts within ``policy.offer_within``, offered for
  ``policy.accept_within`` (never past the start); an offer not accepted in time lapses and passes on;
- each person is promoted (or offered) at most once per RSVP: a lapsed or cancelled person only
  comes back by RSVPing again (a new *round*), at the end of the queue;
- nothing moves once the event has started.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

ActionKind = Literal["join", "cancel", "accept", "capacity", "tick"]
EffectKind = Literal["confirmed", "waitlisted", "promoted", "offered", "accepted", "cancelled", "lapsed",
                     "already", "stale", "closed", "too_late", "capacity"]
# Effects that change someone's place and reach them by mail; the others only answer the caller.
MAILED: frozenset[str] = frozenset({"confirmed", "waitlisted", "promoted", "offered", "accepted", "cancelled", "lapsed"})
HOLDS_SEAT: frozenset[str] = frozenset({"confirmed", "promoted", "accepted"})


@dataclass(frozen=True)
class Offer:
    who: str
    until: dt.datetime  # aware


@dataclass(frozen=True)
class Seats:
    """The state after an entry. ``who`` values are opaque person keys (the member's e-mail key)."""

    capacity: int | None  # None: unlimited
    confirmed: tuple[str, ...] = ()
    offers: tuple[Offer, ...] = ()
    waiting: tuple[str, ...] = ()
    rounds: Mapping[str, int] = field(default_factory=dict)  # the last round each person used

    @property
    def held(self) -> int:
        """Seats taken: confirmed plus offered (an open offer holds its seat)."""
        return len(self.confirmed) + len(self.offers)

    def free(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.held)

    def place(self, who: str) -> tuple[str, int]:
        """(``confirmed`` | ``offered`` | ``waiting`` | ``out``, 1-based waitlist position or 0)."""
        if who in self.confirmed:
            return "confirmed", 0
        if any(o.who == who for o in self.offers):
            return "offered", 0
        if who in self.waiting:
            return "waiting", self.waiting.index(who) + 1
        return "out", 0

    def offer_of(self, who: str) -> Offer | None:
        return next((o for o in self.offers if o.who == who), None)

    def active(self, who: str) -> bool:
        return self.place(who)[0] != "out"


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    who: str = ""
    round: int = 0
    capacity: int | None = None


@dataclass(frozen=True)
class Effect:
    kind: EffectKind
    who: str = ""
    position: int = 0
    until: dt.datetime | None = None
    was: str = ""  # for "cancelled": confirmed | offered | waiting


@dataclass(frozen=True)
class Policy:
    """What :func:`step` needs to know about the event (recorded with each entry)."""

    start: dt.datetime  # aware
    offer_within: dt.timedelta = dt.timedelta(hours=48)  # closer than this to the start: offer, don't give
    accept_within: dt.timedelta = dt.timedelta(hours=12)  # how long an offer stays open
    # no offers at all when ``accept_within`` is zero: a freed seat is simply given


def join(who: str, round_: int) -> Action:
    return Action("join", who, round_)


def cancel(who: str, round_: int) -> Action:
    return Action("cancel", who, round_)


def accept(who: str) -> Action:
    return Action("accept", who)


def set_capacity(capacity: int | None) -> Action:
    return Action("capacity", capacity=capacity)


def tick() -> Action:
    return Action("tick")


def step(seats: Seats, action: Action, at: dt.datetime, policy: Policy) -> tuple[Seats, list[Effect]]:
    """The state after ``action`` at time ``at``, and what changed for whom (in order)."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    effects: list[Effect] = []
    confirmed, waiting = list(seats.confirmed), list(seats.waiting)
    offers: list[Offer] = []
    for o in seats.offers:  # offers whose time ran out pass on first
        if o.until <= at:
            effects.append(Effect("lapsed", o.who))
        else:
            offers.append(o)
    rounds = dict(seats.rounds)
    capacity = seats.capacity
    started = at >= policy.start

    def place(who: str) -> str:
        if who in confirmed:
            return "confirmed"
        if any(o.who == who for o in offers):
            return "offered"
        return "waiting" if who in waiting else "out"

    kind, who = action.kind, action.who
    if kind == "join":
        if place(who) != "out":
            effects.append(Effect("already", who, waiting.index(who) + 1 if who in waiting else 0))
        elif action.round <= rounds.get(who, 0):
            effects.append(Effect("stale", who))  # an old confirmation link after a cancel
        elif started:
            effects.append(Effect("closed", who))
        else:
            rounds[who] = action.round
            if not waiting and (capacity is None or len(confirmed) + len(offers) < capacity):
                confirmed.append(who)
                effects.append(Effect("confirmed", who))
            else:
                waiting.append(who)
                effects.append(Effect("waitlisted", who, len(waiting)))
    elif kind == "cancel":
        where = place(who)
        if where == "out" or action.round != rounds.get(who, 0):
            effects.append(Effect("stale", who))
        else:
            if where == "confirmed":
                confirmed.remove(who)
            elif where == "offered":
                offers = [o for o in offers if o.who != who]
            else:
                waiting.remove(who)
            effects.append(Effect("cancelled", who, was=where))
    elif kind == "accept":
        offer = next((o for o in offers if o.who == who), None)
        if offer is not None:
            offers.remove(offer)
            confirmed.append(who)
            effects.append(Effect("accepted", who))
        elif who in confirmed:
            effects.append(Effect("already", who))
        else:
            effects.append(Effect("too_late", who))
    elif kind == "capacity":
        if action.capacity is not None and action.capacity < 0:
            raise ValueError("capacity must be 0 or more (None: unlimited)")
        capacity = action.capacity
        effects.append(Effect("capacity", position=-1 if capacity is None else capacity))
    elif kind != "tick":
        raise ValueError(f"unknown action {kind!r}")
    if not started:  # freed seats go to the waitlist in order, each person once
        while waiting and (capacity is None or len(confirmed) + len(offers) < capacity):
            nxt = waiting.pop(0)
            if policy.accept_within > dt.timedelta(0) and policy.start - at <= policy.offer_within:
                until = min(at + policy.accept_within, policy.start)
                offers.append(Offer(nxt, until))
                effects.append(Effect("offered", nxt, until=until))
            else:
                confirmed.append(nxt)
                effects.append(Effect("promoted", nxt))
    return Seats(capacity, tuple(confirmed), tuple(offers), tuple(waiting), rounds), effects


def initial(capacity: int | None) -> Seats:
    return Seats(capacity)


def next_deadline(seats: Seats) -> dt.datetime | None:
    """When the next open offer lapses (a tick is due then), or None."""
    return min((o.until for o in seats.offers), default=None)


# --- plain values for storage (Firestore maps and lists) ----------------------------------------


def to_doc(seats: Seats) -> dict[str, Any]:
    return {"capacity": seats.capacity, "confirmed": list(seats.confirmed),
            "offers": [{"who": o.who, "until": o.until} for o in seats.offers],
            "waiting": list(seats.waiting), "rounds": dict(seats.rounds)}


def from_doc(doc: Mapping[str, Any]) -> Seats:
    cap = doc.get("capacity")
    return Seats(None if cap is None else int(cap), tuple(str(w) for w in doc.get("confirmed") or ()),
                 tuple(Offer(str(o["who"]), _aware(o["until"])) for o in doc.get("offers") or ()),
                 tuple(str(w) for w in doc.get("waiting") or ()),
                 {str(k): int(v) for k, v in (doc.get("rounds") or {}).items()})


def action_doc(action: Action) -> dict[str, Any]:
    return {"kind": action.kind, "who": action.who, "round": action.round, "capacity": action.capacity}


def action_from_doc(doc: Mapping[str, Any]) -> Action:
    cap = doc.get("capacity")
    return Action(doc["kind"], str(doc.get("who") or ""), int(doc.get("round") or 0), None if cap is None else int(cap))


def effect_doc(effect: Effect) -> dict[str, Any]:
    return {"kind": effect.kind, "who": effect.who, "position": effect.position, "until": effect.until, "was": effect.was}


def effect_from_doc(doc: Mapping[str, Any]) -> Effect:
    until = doc.get("until")
    return Effect(doc["kind"], str(doc.get("who") or ""), int(doc.get("position") or 0),
                  _aware(until) if until is not None else None, str(doc.get("was") or ""))


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        raise TypeError(f"not a datetime: {value!r}")
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def replay(capacity: int | None, actions: Sequence[tuple[Action, dt.datetime]], policy: Policy) -> tuple[Seats, list[list[Effect]]]:
    """The state after ``actions`` from an empty event (tests and the benchmark's cross-check)."""
    seats, history = initial(capacity), []
    for act, at in actions:
        seats, effects = step(seats, act, at, policy)
        history.append(effects)
    return seats, history
