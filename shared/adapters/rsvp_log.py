"""Firestore adapter for :class:`shared.ports.RsvpLog` (docs/events.md).

Layout, per event ``<e>``: ``rsvp_events/<e>/inbox/<action id>`` (actions as requests drop them),
``rsvp_events/<e>/log/<n, 6 digits>`` (the entries), and ``rsvp_undelivered/<e>~<action id>`` (actions
whose mails may not have gone out; created with the action, in one batch). A commit is one batch:
create the entry, set ``applied`` on each action it takes. Firestore applies a batch entirely or not at all; the entry's create() fails the batch
when another writer took the number first (checked on the npm emulator too).

The state after the last entry is also written, in the same batch, to ``rsvp_heads/<e>`` (its
``n``, ``at`` and ``state``): commits happen in the order of their numbers (a writer commits ``n + 1``
only after reading ``n``), so the head is always the last entry, and reading it is one get whatever
the number of entries (a page view, a writer's first step). Entries are listed ordered by their
``n`` field: the npm emulator ignores ``__name__`` ordering (checked).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from google.api_core.exceptions import AlreadyExists, Conflict, NotFound
from google.cloud import firestore

from shared.adapters.firestore import OpCounter, _Base

EVENTS, LOG, INBOX, UNDELIVERED, HEADS = "rsvp_events", "log", "inbox", "rsvp_undelivered", "rsvp_heads"


def entry_id(n: int) -> str:
    return f"{n:06d}"


class FirestoreRsvpLog(_Base):
    def __init__(self, client: firestore.Client | None = None, ops: OpCounter | None = None) -> None:
        super().__init__(client, ops)
        self.markers = self.client.collection(UNDELIVERED)
        self.heads = self.client.collection(HEADS)

    def _log(self, event_id: str) -> Any:
        return self.client.collection(EVENTS, event_id, LOG)

    def _inbox(self, event_id: str) -> Any:
        return self.client.collection(EVENTS, event_id, INBOX)

    def last(self, event_id: str) -> dict[str, Any] | None:
        return self._get(self.heads.document(event_id))

    def get(self, event_id: str, n: int) -> dict[str, Any] | None:
        return self._get(self._log(event_id).document(entry_id(n)))

    def enqueue(self, event_id: str, action_id: str, data: Mapping[str, Any]) -> None:
        batch = self.client.batch()
        batch.create(self._inbox(event_id).document(action_id), {**data, "applied": 0})
        batch.create(self.markers.document(f"{event_id}~{action_id}"), {"event": event_id, "action": action_id,
                                                                         "at": data.get("at"), "expires_at": data.get("expires_at")})
        self.ops["writes"] += 2
        batch.commit()

    def action(self, event_id: str, action_id: str) -> dict[str, Any] | None:
        return self._get(self._inbox(event_id).document(action_id))

    def pending(self, event_id: str, limit: int = 400) -> list[dict[str, Any]]:
        snaps = list(self._inbox(event_id).where(filter=firestore.FieldFilter("applied", "==", 0)).limit(limit).stream())
        self.ops.read(len(snaps))
        snaps.sort(key=lambda s: (s.create_time, s.id))  # arrival order; ids start with the writer's clock for ties
        return [{**(s.to_dict() or {}), "id": s.id} for s in snaps]

    def commit(self, event_id: str, n: int, entry: Mapping[str, Any], applied: Mapping[str, Mapping[str, Any]]) -> bool:
        batch = self.client.batch()
        batch.create(self._log(event_id).document(entry_id(n)), {**entry, "n": n, "event": event_id})
        batch.set(self.heads.document(event_id), {"n": n, "event": event_id, "at": entry.get("at"), "state": entry.get("state")})
        for action_id, result in applied.items():  # at most 400 (pending's limit): a batch takes 500 writes
            batch.update(self._inbox(event_id).document(action_id), dict(result))
        self.ops["writes"] += 2 + len(applied)
        try:
            batch.commit()
        except (AlreadyExists, Conflict, NotFound):
            return False
        return True

    def _lease(self, event_id: str, n: int, generation: int) -> Any:
        return self.client.collection(EVENTS, event_id, "leases").document(f"{entry_id(n)}.{generation}")

    def lease(self, event_id: str, n: int, generation: int, at: Any) -> bool:
        expires = at + dt.timedelta(days=2) if isinstance(at, dt.datetime) else None
        return self._create(self._lease(event_id, n, generation), {"at": at, "expires_at": expires})

    def lease_time(self, event_id: str, n: int, generation: int) -> Any:
        doc = self._get(self._lease(event_id, n, generation))
        return None if doc is None else doc.get("at")

    def entries(self, event_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        docs = [d.to_dict() or {} for d in self._log(event_id).order_by("n").limit(limit).stream()]
        self.ops.read(len(docs))
        return docs

    def undelivered(self, limit: int) -> list[dict[str, Any]]:
        docs = [d.to_dict() or {} for d in self.markers.limit(limit).stream()]
        self.ops.read(len(docs))
        return [d for d in docs if d.get("event") and d.get("action")]

    def delivered(self, event_id: str, action_id: str) -> None:
        self.ops["deletes"] += 1
        self.markers.document(f"{event_id}~{action_id}").delete()
