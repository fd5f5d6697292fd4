"""Firestore adapter for :class:`shared.usecases.rhythm.RhythmStore`: documents plus bounded queries.

Queries always carry a ``limit`` and counts use Firestore's count aggregation (billed one read per
1,000 index entries), so what the digest reads grows with what the mail shows, not with the members.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from google.api_core.exceptions import NotFound
from google.cloud import firestore

from shared.adapters.firestore import OpCounter, _Base

Filter = tuple[str, str, Any]


class FirestoreRhythmStore(_Base):
    def __init__(self, client: firestore.Client | None = None, ops: OpCounter | None = None) -> None:
        super().__init__(client, ops)

    def _ref(self, col: str, doc_id: str) -> Any:
        return self.client.collection(col).document(doc_id)

    def create(self, col: str, doc_id: str, data: Mapping[str, Any]) -> bool:
        return self._create(self._ref(col, doc_id), data)

    def get(self, col: str, doc_id: str) -> dict[str, Any] | None:
        doc = self._get(self._ref(col, doc_id))
        return None if doc is None else {**doc, "id": doc_id}

    def update(self, col: str, doc_id: str, changes: Mapping[str, Any]) -> bool:
        self.ops["writes"] += 1
        try:
            self._ref(col, doc_id).update(dict(changes))
        except NotFound:
            return False
        return True

    def set(self, col: str, doc_id: str, data: Mapping[str, Any]) -> None:
        self.ops["writes"] += 1
        self._ref(col, doc_id).set(dict(data))

    def delete(self, col: str, doc_id: str) -> None:
        self.ops["deletes"] += 1
        self._ref(col, doc_id).delete()

    def _query(self, col: str, where: Sequence[Filter]) -> Any:
        query: Any = self.client.collection(col)
        for field, op, value in where:
            query = query.where(filter=firestore.FieldFilter(field, op, value))
        return query

    def query(self, col: str, where: Sequence[Filter] = (), order_by: str | None = None,
              limit: int = 100) -> list[dict[str, Any]]:
        """At most ``limit`` documents (with ``id``), ordered by ``order_by`` (default: document id)."""
        query = self._query(col, where)
        query = query.order_by(order_by or "__name__")
        docs = [{**d.to_dict(), "id": d.id} for d in query.limit(limit).stream()]
        self.ops.read(len(docs))
        return docs

    def count(self, col: str, where: Sequence[Filter] = ()) -> int:
        result = self._query(col, where).count().get()
        value = int(result[0][0].value)
        self.ops.read(max(1, (value + 999) // 1000))
        return value
