"""Run a piece of work once per key, whatever the number of deliveries.

In the spirit of the powertools idempotency utility: the key is ``function#sha256(canonical JSON
of the chosen fields)``; a record moves INPROGRESS -> COMPLETED (with the stored result) and
expires; a live in-progress record raises :class:`IdempotencyInProgress`; a failed handler deletes
its record so a retry can run; a payload hash catches a reused key with a different body.

Exclusivity rests on Firestore ``create()`` (which fails with AlreadyExists when the document
exists), never on transaction isolation. A holder that crashed leaves an INPROGRESS record whose
lease runs out; exactly one later caller takes it over, by creating a claim named after the dead
holder's token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.ports import IdempotencyStore

INPROGRESS = "INPROGRESS"
COMPLETED = "COMPLETED"


class IdempotencyError(Exception):
    pass


class IdempotencyInProgress(IdempotencyError):
    """Another delivery with the same key is being handled right now."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the same request ({key}) is being handled by another delivery; try again shortly")
        self.key = key


class IdempotencyPayloadMismatch(IdempotencyError):
    """The key was used before with a different payload."""

    def __init__(self, key: str) -> None:
        super().__init__(f"this key ({key}) was already used with a different request body")
        self.key = key


def canonical_hash(data: Any) -> str:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def make_key(function: str, data: Mapping[str, Any]) -> str:
    return f"{function}#{canonical_hash(data)}"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Outcome:
    result: dict[str, Any]
    replayed: bool  # True when an earlier delivery did the work
    key: str


class Idempotency:
    def __init__(
        self,
        store: IdempotencyStore,
        function: str,
        expires_after: dt.timedelta = dt.timedelta(days=30),
        lease: dt.timedelta = dt.timedelta(minutes=10),
        clock: Callable[[], dt.datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.function = function
        self.expires_after = expires_after
        self.lease = lease
        self.clock = clock
        self.sleep = sleep

    def key(self, data: Mapping[str, Any]) -> str:
        return make_key(self.function, data)

    def run(
        self,
        key_data: Mapping[str, Any],
        handler: Callable[[], dict[str, Any]],
        payload: Any = None,
        wait_seconds: float = 0.0,
    ) -> Outcome:
        """Run ``handler`` unless a delivery with the same key ran (or is running) it.

        ``wait_seconds``: how long to wait for a concurrent holder to finish before raising
        :class:`IdempotencyInProgress`, so that two simultaneous deliveries answer alike.
        """
        key = self.key(key_data)
        payload_hash = canonical_hash(payload) if payload is not None else ""
        deadline = time.monotonic() + wait_seconds
        for _ in range(1000):
            token = uuid.uuid4().hex
            if self.store.create(key, self._record(token, payload_hash)):
                return Outcome(self._execute(key, token, handler), False, key)
            existing = self.store.get(key)
            if existing is None:
                continue  # deleted by a failed holder between our create and get: try again
            if payload_hash and existing.get("payload_hash") not in ("", payload_hash):
                raise IdempotencyPayloadMismatch(key)
            now = self.clock()
            if existing["status"] == COMPLETED and existing["expires_at"] > now:
                return Outcome(dict(existing.get("result") or {}), True, key)
            if existing["status"] == INPROGRESS and existing["lease_until"] > now:
                if time.monotonic() < deadline:
                    self.sleep(0.05)
                    continue
                raise IdempotencyInProgress(key)
            # A crashed holder (lease over) or an expired result: exactly one caller takes over.
            # The claim name carries the lease period, so a taker that dies right after claiming blocks
            # the key for one lease only, not until the claim's TTL.
            period = int(self.clock().timestamp() // max(self.lease.total_seconds(), 1))
            if self.store.claim(f"{key}~{existing['token']}~{period}", self.clock() + self.lease * 2) and \
                    self.store.replace_if(key, existing["token"], self._record(token, payload_hash)):
                return Outcome(self._execute(key, token, handler), False, key)
            if time.monotonic() < deadline:
                self.sleep(0.05)  # another caller took over: wait for its result like for any holder
                continue
            raise IdempotencyInProgress(key)
        raise IdempotencyInProgress(key)

    def _record(self, token: str, payload_hash: str) -> dict[str, Any]:
        now = self.clock()
        return {
            "function": self.function,
            "status": INPROGRESS,
            "token": token,
            "payload_hash": payload_hash,
            "created_at": now,
            "lease_until": now + self.lease,
            "expires_at": now + self.expires_after,  # the TTL policy's field
        }

    def _execute(self, key: str, token: str, handler: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            result = handler()
        except Exception:
            self.store.delete_if(key, token)
            raise
        now = self.clock()
        done = {"status": COMPLETED, "result": result, "completed_at": now, "expires_at": now + self.expires_after}
        self.store.update_if(key, token, done)
        return result
