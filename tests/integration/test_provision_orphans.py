"""No Zoom meeting is left behind when a create's result was never recorded (emulator, real adapters,
the Zoom fake on its wire format).

The defect: after a create whose result was never recorded (a crash, or a lost reply), the next
run adopted the meeting only when the host was unchanged; a host hand-back left two live meetings,
a cancel left the meeting live and the slot stuck in ``creating``.
"""

from __future__ import annotations

import pytest

from tests.integration import test_provision as tp
from tests.integration.test_provision import Crash, assert_exactly_one_each, assign_all, run

fakes, world = tp.fakes, tp.world  # the same fixtures: emulator, Zoom and Calendar fakes, the example config


def _crash_after_first_create(target: list[str]):
    def crash(name: str, sid: str) -> None:
        if name == "zoom.create" and not target:
            target.append(sid)
            raise Crash(name)
    return crash


def _zoom_state(store, sid):
    return ((store.get_slot(sid) or {}).get("provision") or {}).get("zoom") or {}


def _other(host: str) -> str:
    return "suzuki" if host == "tanaka" else "tanaka"


def test_a_host_change_after_an_unrecorded_create_leaves_one_meeting_under_the_new_host(world):
    _, store, _, zoom, _ = world
    assign_all(store)
    crashed: list[str] = []
    with pytest.raises(Crash):
        run(world, after_call=_crash_after_first_create(crashed))
    sid = crashed[0]
    (orphan,) = zoom.by_marker(sid)
    assert _zoom_state(store, sid)["state"] == "creating"
    store.update_slot(sid, {"host": _other(store.get_slot(sid)["host"])})  # the host hands the date back
    report = run(world, clock_minutes=10)
    (meeting,) = zoom.by_marker(sid)
    assert meeting["id"] != orphan["id"] and str(orphan["id"]) in zoom.deleted
    new_user = {"tanaka": "organizer1@example.com", "suzuki": "organizer2@example.com"}[store.get_slot(sid)["host"]]
    assert meeting["host_email"] == new_user and _zoom_state(store, sid)["meeting_id"] == str(meeting["id"])
    assert sid in report.meetings_deleted
    assert_exactly_one_each(world)
    writes = zoom.writes()
    run(world, clock_minutes=20)
    assert zoom.writes() == writes


def test_a_cancel_after_an_unrecorded_create_deletes_the_meeting_and_the_slot_leaves_creating(world):
    _, store, _, zoom, _ = world
    assign_all(store)
    crashed: list[str] = []
    with pytest.raises(Crash):
        run(world, after_call=_crash_after_first_create(crashed))
    sid = crashed[0]
    (orphan,) = zoom.by_marker(sid)
    store.update_slot(sid, {"status": "cancelled"})
    run(world, clock_minutes=10)
    assert zoom.by_marker(sid) == [] and str(orphan["id"]) in zoom.deleted
    assert _zoom_state(store, sid).get("state") == "resolved"
    writes = zoom.writes()
    run(world, clock_minutes=20)
    assert zoom.writes() == writes


def test_a_failed_listing_creates_nothing_and_the_next_run_finishes(world):
    _, store, _, zoom, _ = world
    assign_all(store)
    crashed: list[str] = []
    with pytest.raises(Crash):
        run(world, after_call=_crash_after_first_create(crashed))
    sid = crashed[0]
    store.update_slot(sid, {"host": _other(store.get_slot(sid)["host"])})
    zoom.fail("GET", "/meetings", 500, times=50)  # every listing fails (after the adapter's retries)
    report = run(world, clock_minutes=10)
    assert sid in report.errors and len(zoom.by_marker(sid)) == 1  # no second meeting while we cannot look
    assert _zoom_state(store, sid)["state"] == "creating"
    zoom.faults.clear()
    run(world, clock_minutes=20)
    assert len(zoom.by_marker(sid)) == 1 and _zoom_state(store, sid)["state"] == "created"
    assert_exactly_one_each(world)


def test_a_lost_create_reply_then_a_host_change(world):
    """The reply is lost (slower than the timeout; Zoom creates it anyway), the look right after finds
    nothing yet, then the host changes before the next run."""
    _, store, _, zoom, _ = world
    slots = assign_all(store)
    zoom.fail("POST", "/meetings", 0, delay=1.5)
    zoom.fail("GET", "/meetings", 500, times=30)  # the look right after the lost reply fails too
    run(world)
    (sid,) = [s for s in slots if _zoom_state(store, s).get("state") == "creating"]
    store.update_slot(sid, {"host": _other(store.get_slot(sid)["host"])})
    zoom.faults.clear()
    run(world, clock_minutes=10)
    assert_exactly_one_each(world)
