"""Firestore adapters (google-cloud-firestore). Every operation is counted for the benchmarks.

Collections: ``slots``, ``slot_exceptions``, ``idempotency`` (+ ``claims``). Documents carrying an
``expires_at`` field are removed by a TTL policy in production (see infra/).
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from google.api_core.exceptions import AlreadyExists, NotFound
from google.cloud import firestore

from shared.platform import env
from shared.ports import Guard

DEMO_PROJECT = "demo-alumni-autopilot"


@cache
def default_client() -> firestore.Client:
    """One client per instance, built on first use (not at import time)."""
    return make_client()


def make_client(project: str | None = None) -> firestore.Client:
    project = project or os.environ.get(env.GOOGLE_CLOUD_PROJECT) or (
        DEMO_PROJECT if os.environ.get(env.FIRESTORE_EMULATOR_HOST) else None
    )
    database = os.environ.get(env.FIRESTORE_DATABASE) or "(default)"
    return firestore.Client(project=project, database=database)


class OpCounter(Counter[str]):
    """reads / writes / deletes as Firestore bills them (a query returning nothing costs one read)."""

    def read(self, n: int) -> None:
        self["reads"] += max(n, 1)

    def as_dict(self) -> dict[str, int]:
        return {k: self.get(k, 0) for k in ("reads", "writes", "deletes")}


class _Base:
    def __init__(self, client: firestore.Client | None = None, ops: OpCounter | None = None) -> None:
        self.client = client or default_client()
        self.ops = ops if ops is not None else OpCounter()

    def _create(self, ref: Any, data: Mapping[str, Any]) -> bool:
        self.ops["writes"] += 1
        try:
            ref.create(dict(data))
        except AlreadyExists:
            return False
        return True

    def _get(self, ref: Any) -> dict[str, Any] | None:
        self.ops.read(1)
        snap = ref.get()
        return snap.to_dict() if snap.exists else None

    def _guarded(self, ref: Any, guard: Guard, write: Any) -> bool:
        """Read, check and write in one transaction (isolated on real Firestore)."""
        ops = self.ops

        @firestore.transactional
        def run(txn: firestore.Transaction) -> bool:
            ops.read(1)
            snap = ref.get(transaction=txn)
            if not snap.exists or not guard(snap.to_dict()):
                return False
            write(txn)
            ops["writes"] += 1
            return True

        return bool(run(self.client.transaction()))


class FirestoreIdempotencyStore(_Base):
    def __init__(self, client: firestore.Client | None = None, ops: OpCounter | None = None,
                 collection: str = "idempotency") -> None:
        super().__init__(client, ops)
        self.col = self.client.collection(collection)
        self.claims = self.client.collection("claims")

    def create(self, key: str, record: Mapping[str, Any]) -> bool:
        return self._create(self.col.document(key), record)

    def get(self, key: str) -> dict[str, Any] | None:
        return self._get(self.col.document(key))

    def replace_if(self, key: str, token: str, record: Mapping[str, Any]) -> bool:
        ref = self.col.document(key)
        return self._guarded(ref, lambda cur: cur.get("token") == token, lambda txn: txn.set(ref, dict(record)))

    def update_if(self, key: str, token: str, changes: Mapping[str, Any]) -> bool:
        ref = self.col.document(key)
        return self._guarded(ref, lambda cur: cur.get("token") == token, lambda txn: txn.update(ref, dict(changes)))

    def delete_if(self, key: str, token: str) -> None:
        ref = self.col.document(key)
        if self._guarded(ref, lambda cur: cur.get("token") == token, lambda txn: txn.delete(ref)):
            self.ops["writes"] -= 1
            self.ops["deletes"] += 1

    def claim(self, name: str, expires_at: dt.datetime) -> bool:
        return self._create(self.claims.document(name), {"expires_at": expires_at})

    def by_status(self, statuses: Sequence[str], limit: int) -> list[dict[str, Any]]:
        # one ``in`` filter on one field: served by the automatic single-field index (no composite index)
        query = self.col.where(filter=firestore.FieldFilter("status", "in", list(statuses))).limit(limit)
        docs = [{**(d.to_dict() or {}), "id": d.id} for d in query.stream()]
        self.ops.read(len(docs))
        return docs


class FirestoreSlotStore(_Base):
    def __init__(self, client: firestore.Client | None = None, ops: OpCounter | None = None) -> None:
        super().__init__(client, ops)
        self.slots = self.client.collection("slots")
        self.exc = self.client.collection("slot_exceptions")

    def _stream(self, query: Any) -> list[dict[str, Any]]:
        docs = [{**d.to_dict(), "id": d.id} for d in query.stream()]
        self.ops.read(len(docs))
        return docs

    def slots_from(self, key_date: dt.date) -> dict[str, dict[str, Any]]:
        query = self.slots.where(filter=firestore.FieldFilter("key_date", ">=", key_date.isoformat()))
        return {d["id"]: d for d in self._stream(query)}

    def slots_between(self, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
        query = (self.slots.where(filter=firestore.FieldFilter("start", ">=", start))
                 .where(filter=firestore.FieldFilter("start", "<", end)).order_by("start"))
        return self._stream(query)

    def get_slot(self, slot_id: str) -> dict[str, Any] | None:
        doc = self._get(self.slots.document(slot_id))
        return None if doc is None else {**doc, "id": slot_id}

    def create_slot(self, slot_id: str, data: Mapping[str, Any]) -> bool:
        return self._create(self.slots.document(slot_id), data)

    def update_slot(self, slot_id: str, changes: Mapping[str, Any], guard: Guard | None = None) -> bool:
        ref = self.slots.document(slot_id)
        if guard is None:
            self.ops["writes"] += 1
            try:
                ref.update(dict(changes))
            except NotFound:
                return False
            return True
        return self._guarded(ref, guard, lambda txn: txn.update(ref, dict(changes)))

    def exceptions(self) -> dict[str, dict[str, Any]]:
        return {d["id"]: d for d in self._stream(self.exc)}

    def put_exception(self, slot_id: str, data: Mapping[str, Any]) -> None:
        self.ops["writes"] += 1
        self.exc.document(slot_id).set(dict(data))

    def delete_exception(self, slot_id: str) -> bool:
        existed = self._get(self.exc.document(slot_id)) is not None
        if existed:
            self.ops["deletes"] += 1
            self.exc.document(slot_id).delete()
        return existed
