"""The seat state machine (shared/domain/seats.py) against an independent model, with hypothesis.

The model keeps one record per person and a global arrival counter, and derives everything from
them; the implementation keeps ordered tuples. They must agree after every step, and the
invariants must hold whatever the sequence: never more seats held than the capacity allows, nobody
twice, waitlist in arrival order, each person promoted at most once per RSVP round.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain import seats as S

T0 = dt.datetime(2027, 3, 1, 0, 0, tzinfo=dt.UTC)
START = T0 + dt.timedelta(days=10)
PEOPLE = [f"p{i}" for i in range(8)]


@dataclass
class Person:
    state: str = "out"  # seat | offer | wait | out
    round: int = 0
    arrived: int = 0
    until: dt.datetime | None = None


@dataclass
class Model:
    capacity: int | None
    people: dict[str, Person] = field(default_factory=dict)
    counter: int = 0
    seated_order: list[str] = field(default_factory=list)

    def p(self, who: str) -> Person:
        return self.people.setdefault(who, Person())

    def held(self) -> int:
        return sum(1 for p in self.people.values() if p.state in ("seat", "offer"))

    def waiting(self) -> list[str]:
        return sorted((w for w, p in self.people.items() if p.state == "wait"), key=lambda w: self.people[w].arrived)

    def apply(self, act: S.Action, at: dt.datetime, pol: S.Policy) -> None:
        for who, p in self.people.items():
            if p.state == "offer" and p.until is not None and p.until <= at:
                p.state, p.until = "out", None
        started = at >= pol.start
        p = self.p(act.who) if act.who else None
        if act.kind == "join" and p is not None and p.state == "out" and act.round > p.round and not started:
            p.round = act.round
            self.counter += 1
            p.arrived = self.counter
            if not self.waiting() and (self.capacity is None or self.held() < self.capacity):
                p.state = "seat"
                self.seated_order.append(act.who)
            else:
                p.state = "wait"
        elif act.kind == "cancel" and p is not None and p.state != "out" and act.round == p.round:
            if p.state == "seat":
                self.seated_order.remove(act.who)
            p.state, p.until = "out", None
        elif act.kind == "accept" and p is not None and p.state == "offer":
            p.state, p.until = "seat", None
            self.seated_order.append(act.who)
        elif act.kind == "capacity":
            self.capacity = act.capacity
        if started:
            return
        for who in self.waiting():
            if self.capacity is not None and self.held() >= self.capacity:
                break
            q = self.people[who]
            if pol.accept_within > dt.timedelta(0) and pol.start - at <= pol.offer_within:
                q.state, q.until = "offer", min(at + pol.accept_within, pol.start)
            else:
                q.state = "seat"
                self.seated_order.append(who)


@st.composite
def scenario(draw):  # type: ignore[no-untyped-def]
    capacity = draw(st.one_of(st.none(), st.integers(0, 4)))
    steps = []
    at = T0
    rounds = dict.fromkeys(PEOPLE, 1)
    for _ in range(draw(st.integers(1, 40))):
        at += dt.timedelta(hours=draw(st.sampled_from([0, 1, 6, 30, 60])))
        kind = draw(st.sampled_from(["join", "join", "join", "cancel", "cancel", "accept", "capacity", "tick", "rejoin"]))
        who = draw(st.sampled_from(PEOPLE))
        if kind == "join":
            steps.append((S.join(who, rounds[who]), at))
        elif kind == "rejoin":
            rounds[who] += 1
            steps.append((S.join(who, rounds[who]), at))
        elif kind == "cancel":
            steps.append((S.cancel(who, draw(st.sampled_from([rounds[who], rounds[who] - 1]))), at))
        elif kind == "accept":
            steps.append((S.accept(who), at))
        elif kind == "capacity":
            steps.append((S.set_capacity(draw(st.one_of(st.none(), st.integers(0, 6)))), at))
        else:
            steps.append((S.tick(), at))
    pol = S.Policy(START, offer_within=dt.timedelta(hours=draw(st.sampled_from([0, 48, 400]))),
                   accept_within=dt.timedelta(hours=draw(st.sampled_from([0, 12]))))
    return capacity, steps, pol


@settings(max_examples=150, deadline=None)
@given(scenario())
def test_the_state_machine_agrees_with_the_model_and_keeps_its_promises(case):  # type: ignore[no-untyped-def]
    capacity, steps, pol = case
    model = Model(capacity)
    seats = S.initial(capacity)
    promoted: dict[tuple[str, int], int] = {}
    for act, at in steps:
        before = seats
        seats, effects = S.step(seats, act, at, pol)
        model.apply(act, at, pol)
        # the model's view equals the implementation's
        assert list(seats.confirmed) == model.seated_order
        assert list(seats.waiting) == model.waiting()
        assert {o.who: o.until for o in seats.offers} == {w: p.until for w, p in model.people.items() if p.state == "offer"}
        # nobody twice
        everyone = list(seats.confirmed) + [o.who for o in seats.offers] + list(seats.waiting)
        assert len(everyone) == len(set(everyone))
        # never more held than the capacity, unless an organizer lowered it below those already seated
        if seats.capacity is not None and seats.held > seats.capacity:
            assert act.kind == "capacity" or before.held > seats.capacity
            assert seats.held <= before.held
            assert not any(e.kind in ("confirmed", "promoted", "offered") for e in effects)
        # seats free and somebody waiting only once the event has started
        if seats.waiting and (seats.capacity is None or seats.held < seats.capacity):
            assert at >= pol.start
        # each person promoted (or offered) at most once per round
        for e in effects:
            if e.kind in ("promoted", "offered"):
                key = (e.who, seats.rounds[e.who])
                promoted[key] = promoted.get(key, 0) + 1
                assert promoted[key] == 1
        # the waitlist keeps its order: those still waiting keep their relative places
        kept = [w for w in before.waiting if w in seats.waiting]
        assert list(seats.waiting[: len(kept)]) == kept


def test_a_join_to_a_full_event_waits_and_a_cancel_promotes_the_first():
    pol = S.Policy(START, offer_within=dt.timedelta(0))
    seats, _ = S.replay(2, [(S.join("a", 1), T0), (S.join("b", 1), T0), (S.join("c", 1), T0), (S.join("d", 1), T0)], pol)
    assert seats.confirmed == ("a", "b") and seats.waiting == ("c", "d")
    assert seats.place("d") == ("waiting", 2)
    seats, effects = S.step(seats, S.cancel("a", 1), T0, pol)
    assert [(e.kind, e.who) for e in effects] == [("cancelled", "a"), ("promoted", "c")]
    assert seats.confirmed == ("b", "c") and seats.place("d") == ("waiting", 1)


def test_close_to_the_event_a_freed_seat_is_offered_and_passes_on_when_not_accepted():
    pol = S.Policy(START, offer_within=dt.timedelta(hours=48), accept_within=dt.timedelta(hours=12))
    near = START - dt.timedelta(hours=20)
    seats, _ = S.replay(1, [(S.join("a", 1), T0), (S.join("b", 1), T0), (S.join("c", 1), T0)], pol)
    seats, effects = S.step(seats, S.cancel("a", 1), near, pol)
    assert [(e.kind, e.who) for e in effects] == [("cancelled", "a"), ("offered", "b")]
    assert seats.offer_of("b") is not None and seats.offer_of("b").until == near + dt.timedelta(hours=12)  # type: ignore[union-attr]
    late = near + dt.timedelta(hours=13)
    seats, effects = S.step(seats, S.tick(), late, pol)
    assert [(e.kind, e.who) for e in effects] == [("lapsed", "b"), ("offered", "c")]
    assert seats.offer_of("c").until == START  # type: ignore[union-attr]  # never past the start
    seats, effects = S.step(seats, S.accept("b"), late, pol)
    assert [e.kind for e in effects] == ["too_late"]
    seats, effects = S.step(seats, S.accept("c"), late, pol)
    assert [e.kind for e in effects] == ["accepted"] and seats.confirmed == ("c",)


def test_raising_the_capacity_promotes_as_many_as_it_frees():
    pol = S.Policy(START, offer_within=dt.timedelta(0))
    seats, _ = S.replay(1, [(S.join(w, 1), T0) for w in "abcde"], pol)
    seats, effects = S.step(seats, S.set_capacity(3), T0, pol)
    assert [(e.kind, e.who) for e in effects if e.kind == "promoted"] == [("promoted", "b"), ("promoted", "c")]
    seats, effects = S.step(seats, S.set_capacity(None), T0, pol)
    assert seats.confirmed == tuple("abcde") and not seats.waiting


def test_an_old_link_cannot_rejoin_or_cancel_a_new_rsvp():
    pol = S.Policy(START, offer_within=dt.timedelta(0))
    seats, _ = S.replay(1, [(S.join("a", 1), T0), (S.cancel("a", 1), T0)], pol)
    seats, effects = S.step(seats, S.join("a", 1), T0, pol)
    assert [e.kind for e in effects] == ["stale"] and not seats.active("a")
    seats, effects = S.step(seats, S.join("a", 2), T0, pol)
    assert [e.kind for e in effects] == ["confirmed"]
    seats, effects = S.step(seats, S.cancel("a", 1), T0, pol)
    assert [e.kind for e in effects] == ["stale"] and seats.active("a")


def test_nothing_moves_once_the_event_has_started():
    pol = S.Policy(START, offer_within=dt.timedelta(0))
    seats, _ = S.replay(1, [(S.join("a", 1), T0), (S.join("b", 1), T0)], pol)
    seats, effects = S.step(seats, S.cancel("a", 1), START, pol)
    assert [e.kind for e in effects] == ["cancelled"] and seats.waiting == ("b",)
    seats, effects = S.step(seats, S.join("c", 1), START, pol)
    assert [e.kind for e in effects] == ["closed"]


def test_the_stored_form_round_trips():
    pol = S.Policy(START, offer_within=dt.timedelta(hours=400))
    seats, history = S.replay(1, [(S.join("a", 1), T0), (S.join("b", 1), T0), (S.cancel("a", 1), T0)], pol)
    assert S.from_doc(S.to_doc(seats)) == seats
    for effects in history:
        for e in effects:
            assert S.effect_from_doc(S.effect_doc(e)) == e
    act = S.set_capacity(7)
    assert S.action_from_doc(S.action_doc(act)) == act
