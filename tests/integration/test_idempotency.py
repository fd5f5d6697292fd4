"""The idempotency helper against the Firestore emulator: once per key, under duplicates,
concurrency, failures and crashes.

Exclusivity rests on ``create()`` (the emulator enforces it; its transactions are not isolated),
so every concurrent case here would fail if the helper relied on a read-then-write.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shared.adapters.firestore import FirestoreIdempotencyStore, OpCounter
from shared.platform.idempotency import (
    COMPLETED,
    INPROGRESS,
    Idempotency,
    IdempotencyInProgress,
    IdempotencyPayloadMismatch,
    Outcome,
)

KEY = {"job": "generate-slots", "schedule_time": "2026-11-28T00:00:00+00:00"}
T0 = dt.datetime(2026, 11, 28, 0, 0, 5, tzinfo=dt.UTC)
WAIT = 20.0  # generous upper bound for waiters; the tests release the holder explicitly


class Crash(BaseException):
    """Stands for the instance dying mid-run (not an Exception, so no cleanup runs)."""


class Clock:
    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def helper(db: Any, clock: Callable[[], dt.datetime] | None = None, **kw: Any) -> Idempotency:
    store = FirestoreIdempotencyStore(client=db, ops=OpCounter())
    return Idempotency(store, "test_fn", clock=clock or Clock(), **kw)


def records(db: Any) -> dict[str, dict[str, Any]]:
    return {d.id: d.to_dict() for d in db.collection("idempotency").stream()}


def test_first_run_executes_and_the_second_replays_the_stored_result(db):
    calls = []
    idem = helper(db)

    def handler() -> dict[str, Any]:
        calls.append(1)
        return {"created": 9, "title": "ランチ交流会　12/17"}

    first = idem.run(KEY, handler)
    second = idem.run(dict(reversed(list(KEY.items()))), handler)  # key order does not matter

    assert calls == [1]
    assert first == Outcome({"created": 9, "title": "ランチ交流会　12/17"}, False, first.key)
    assert second.replayed is True and second.result == first.result and second.key == first.key
    assert first.key.startswith("test_fn#") and len(first.key) == len("test_fn#") + 64
    stored = records(db)
    assert list(stored) == [first.key]
    rec = stored[first.key]
    assert rec["status"] == COMPLETED and rec["function"] == "test_fn"
    assert rec["result"] == first.result
    assert rec["expires_at"] == T0 + dt.timedelta(days=30)  # the TTL policy's field
    assert rec["lease_until"] == T0 + dt.timedelta(minutes=10)


def test_sixteen_simultaneous_deliveries_run_the_handler_exactly_once(db):
    """Half of the callers wait for the holder's result, half give up at once (409 material)."""
    calls: list[str] = []
    entered = threading.Event()
    release = threading.Event()
    done_fast: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def handler() -> dict[str, Any]:
        calls.append(threading.current_thread().name)
        entered.set()
        assert release.wait(30), "the test never released the holder"
        return {"slots": ["lunch_2026-12-17", "speaker_night_2026-12-08"]}

    def deliver(i: int) -> Outcome | Exception:
        threading.current_thread().name = f"delivery-{i}"
        wait = WAIT if i % 2 else 0.0
        start.wait()
        try:
            return helper(db).run(KEY, handler, wait_seconds=wait)
        except IdempotencyInProgress as exc:
            return exc
        finally:
            if not wait:
                with lock:
                    done_fast.append(threading.current_thread().name)

    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(deliver, i) for i in range(16)]
        assert entered.wait(30)
        holder = calls[0]
        fast_others = 8 - (1 if int(holder.split("-")[1]) % 2 == 0 else 0)
        # Hold the handler until every non-waiting caller has answered: they must see "in progress".
        for _ in range(600):
            with lock:
                if len([n for n in done_fast if n != holder]) == fast_others:
                    break
            threading.Event().wait(0.05)
        release.set()
        results = [f.result(timeout=60) for f in futures]

    assert len(calls) == 1
    ran = [r for r in results if isinstance(r, Outcome) and not r.replayed]
    replayed = [r for r in results if isinstance(r, Outcome) and r.replayed]
    busy = [r for r in results if isinstance(r, IdempotencyInProgress)]
    assert len(ran) == 1
    assert len(ran) + len(replayed) + len(busy) == 16
    assert len(busy) == fast_others  # every impatient caller saw the run in progress
    assert len(replayed) == 15 - fast_others  # every patient caller got the holder's result
    assert all(r.result == ran[0].result for r in replayed)
    assert all(e.key == ran[0].key and "being handled" in str(e) for e in busy)
    assert len(records(db)) == 1


def test_a_reused_key_with_another_payload_is_refused(db):
    idem = helper(db)
    body = {"slot_id": "lunch_2026-12-17", "name": "山田　花子"}
    first = idem.run(KEY, lambda: {"ok": True}, payload=body)
    with pytest.raises(IdempotencyPayloadMismatch) as err:
        idem.run(KEY, lambda: {"ok": "never"}, payload={**body, "name": "山田　太郎"})
    assert err.value.key == first.key and "different request body" in str(err.value)
    again = idem.run(KEY, lambda: {"ok": "never"}, payload=dict(reversed(list(body.items()))))
    assert again.replayed and again.result == {"ok": True}


def test_a_failed_handler_deletes_its_record_so_a_retry_runs(db):
    idem = helper(db)
    calls = []

    def flaky() -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Firestore was unavailable")
        return {"created": 3}

    with pytest.raises(RuntimeError):
        idem.run(KEY, flaky)
    assert records(db) == {}
    retry = idem.run(KEY, flaky)
    assert retry.replayed is False and retry.result == {"created": 3} and len(calls) == 2
    assert [r["status"] for r in records(db).values()] == [COMPLETED]


def test_a_crashed_holder_is_taken_over_exactly_once_after_its_lease(db):
    clock = Clock()

    def dies() -> dict[str, Any]:
        raise Crash()

    with pytest.raises(Crash):
        helper(db, clock).run(KEY, dies)
    (key, rec), = records(db).items()
    assert rec["status"] == INPROGRESS
    dead_token = rec["token"]

    # Within the lease the key stays busy, even for a caller willing to wait a little.
    clock.now = T0 + dt.timedelta(minutes=9)
    with pytest.raises(IdempotencyInProgress):
        helper(db, clock).run(KEY, lambda: {"never": True}, wait_seconds=0.2)

    # After the lease: 8 takers at once, half of them patient. One runs; nobody runs twice.
    clock.now = T0 + dt.timedelta(minutes=11)
    calls: list[int] = []
    gate = threading.Barrier(8)

    def handler() -> dict[str, Any]:
        calls.append(1)
        return {"recovered": True}

    def take(i: int) -> Outcome | Exception:
        gate.wait()
        try:
            return helper(db, clock).run(KEY, handler, wait_seconds=WAIT if i % 2 else 0.0)
        except IdempotencyInProgress as exc:
            return exc

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(take, range(8)))

    assert len(calls) == 1
    ran = [r for r in results if isinstance(r, Outcome) and not r.replayed]
    assert len(ran) == 1 and ran[0].key == key
    for i, r in enumerate(results):
        if i % 2:  # patient takers always end with the result
            assert isinstance(r, Outcome) and r.result == {"recovered": True}
        else:
            assert isinstance(r, IdempotencyInProgress) or r.result == {"recovered": True}
    rec = records(db)[key]
    assert rec["status"] == COMPLETED and rec["token"] != dead_token
    assert rec["expires_at"] == clock.now + dt.timedelta(days=30)
    claims = [d.id for d in db.collection("claims").stream()]
    period = int(clock.now.timestamp() // dt.timedelta(minutes=10).total_seconds())
    # The one takeover claim, named after the dead holder and the lease period it happened in.
    assert claims == [f"{key}~{dead_token}~{period}"]
    assert helper(db, clock).run(KEY, handler).replayed and len(calls) == 1


def test_an_expired_result_runs_again(db):
    clock = Clock()
    calls = []

    def handler() -> dict[str, Any]:
        calls.append(1)
        return {"run": len(calls)}

    assert helper(db, clock).run(KEY, handler).result == {"run": 1}
    clock.now = T0 + dt.timedelta(days=29, hours=23)
    assert helper(db, clock).run(KEY, handler).replayed
    clock.now = T0 + dt.timedelta(days=30, seconds=1)
    again = helper(db, clock).run(KEY, handler)
    assert again.replayed is False and again.result == {"run": 2}
    (rec,) = records(db).values()
    assert rec["status"] == COMPLETED and rec["expires_at"] == clock.now + dt.timedelta(days=30)
    assert helper(db, clock).run(KEY, handler).replayed and len(calls) == 2


def test_a_taker_that_dies_after_claiming_blocks_the_key_for_one_lease_only(db):
    clock = Clock()

    def dies() -> dict[str, Any]:
        raise Crash()

    with pytest.raises(Crash):
        helper(db, clock).run(KEY, dies)
    (key, rec), = records(db).items()
    # A taker claimed the takeover in this lease period, then died before replacing the record.
    clock.now = T0 + dt.timedelta(minutes=11)
    period = int(clock.now.timestamp() // dt.timedelta(minutes=10).total_seconds())
    db.collection("claims").document(f"{key}~{rec['token']}~{period}").create({"expires_at": clock.now})
    with pytest.raises(IdempotencyInProgress):
        helper(db, clock).run(KEY, lambda: {"ran": True})
    # One lease later somebody else recovers the key.
    clock.now = T0 + dt.timedelta(minutes=22)
    outcome = helper(db, clock).run(KEY, lambda: {"ran": True})
    assert outcome.result == {"ran": True} and outcome.replayed is False
