"""Swapping two host duties (shared/usecases/assign.py), against the emulator: one request per pair
of duties, one answer however many clicks arrive at once (the swap links' decision claim, which the
console's buttons share), each host mailed once about the new duty, and nothing written when a
host could not take the other's event."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest

from shared import bootstrap
from shared.entrypoints import action_handlers
from shared.platform import actions, tokens
from shared.usecases import assign
from tests.fakes.mailbox import mails
from tests.helpers import console as c


@pytest.fixture
def world(project, outbox, example_config, monkeypatch):  # type: ignore[no-untyped-def]
    for name, value in c.environment("http://127.0.0.1:9/certs", "https://console.example.test/").items():
        monkeypatch.setenv(name, value)
    return c.seed(dt.datetime.now(dt.UTC))


def pair(world: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return (next(d for d in world["duties"] if d["host_id"] == "tanaka"),
            next(d for d in world["duties"] if d["host_id"] == "suzuki"))


def duty(db: Any, slot_id: str) -> dict[str, Any]:
    return db.collection("host_duties").document(slot_id).get().to_dict()


def test_one_request_per_pair_and_one_answer_however_many_clicks(world, db, outbox):
    mine, theirs = pair(world)
    deps = bootstrap.assign_deps()
    now = dt.datetime.now(dt.UTC)
    first = assign.request_swap(deps, "tanaka", mine["slot_id"], theirs["slot_id"], now)
    again = assign.request_swap(deps, "tanaka", mine["slot_id"], theirs["slot_id"], now)
    assert first.status == "done" and again.code == first.code
    assert len(list(db.collection("host_swaps").stream())) == 1
    assert len([k for k in mails(outbox) if k.startswith("host:swap:")]) == 1

    action_handlers.load()
    service = actions.ActionService(bootstrap.doc_store(), tokens.key_from_env(), "ja")
    pages: list[actions.Page] = []
    barrier = threading.Barrier(4)

    def click(accept: bool) -> None:
        barrier.wait()
        pages.append(service.decide("host_swap_accept" if accept else "host_swap_decline", first.code, "suzuki", "鈴木　花子",
                                    dt.datetime.now(dt.UTC)))

    threads = [threading.Thread(target=click, args=(i != 3,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p.status for p in pages) == [200, 409, 409, 409]
    swap = db.collection("host_swaps").document(first.code).get().to_dict()
    a, b = duty(db, mine["slot_id"]), duty(db, theirs["slot_id"])
    held = {u.to_dict()["duty_id"] for u in db.collection("host_units").stream()}
    if swap["state"] == "done":  # an accept came first
        assert (a["host_id"], b["host_id"]) == ("suzuki", "tanaka")
        assert {f"host:duty:{a['duty_id']}", f"host:duty:{b['duty_id']}"} <= set(mails(outbox))
        assert {a["duty_id"], b["duty_id"]} <= held and not held & {mine["duty_id"], theirs["duty_id"]}  # seats moved
        assert assign.host_handback(deps, mine["duty_id"], dt.datetime.now(dt.UTC)).status == "already"  # the old link
    else:  # the decline came first: nothing changed hands
        assert swap["state"] == "declined" and (a["host_id"], b["host_id"]) == ("tanaka", "suzuki")
        assert {mine["duty_id"], theirs["duty_id"]} <= held
        assert f"host:swap:{first.code}:declined" in mails(outbox)


def test_a_swap_the_other_host_cannot_take_is_refused_and_writes_nothing(world, db, outbox):
    from shared.usecases import roster

    mine, theirs = pair(world)
    deps = bootstrap.assign_deps()
    now = dt.datetime.now(dt.UTC)
    request = assign.request_swap(deps, "tanaka", mine["slot_id"], theirs["slot_id"], now)
    assert request.status == "done"
    # suzuki marks the date of tanaka's duty as one they cannot host
    day = db.collection("slots").document(mine["slot_id"]).get().to_dict()["start"].astimezone(
        dt.timezone(dt.timedelta(hours=9))).date()
    roster.set_unavailable(bootstrap.doc_store(), "suzuki", day, True, now)
    before = {d.id: d.to_dict() for d in db.collection("host_duties").stream()}
    files = set(mails(outbox))
    answer = assign.answer_swap(deps, request.code, True, dt.datetime.now(dt.UTC))
    assert answer.status == "refused" and answer.code == "them:marked_unavailable"
    assert {d.id: d.to_dict() for d in db.collection("host_duties").stream()} == before
    assert db.collection("host_swaps").document(request.code).get().to_dict()["state"] == "requested"
    assert set(mails(outbox)) == files
    assert "担当できません" in answer.text("ja")


def test_a_host_cannot_ask_for_a_swap_of_a_duty_that_is_not_theirs(world, db):
    mine, theirs = pair(world)
    result = assign.request_swap(bootstrap.assign_deps(), "suzuki", mine["slot_id"], theirs["slot_id"], dt.datetime.now(dt.UTC))
    assert (result.status, result.code) == ("refused", "not_yours")
    assert list(db.collection("host_swaps").stream()) == []
