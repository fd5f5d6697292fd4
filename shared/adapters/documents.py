"""Firestore adapter for :class:`shared.ports.DocStore`: documents plus queries, every operation counted.

The one document store behind ``bootstrap.doc_store()`` (applications, decisions, nonces),
``assign_docs()`` (speakers and hosts) and ``rhythm_store()`` (community rhythm).
Reads carry the document ``id``. ``query`` always has a ``limit`` and ``count`` uses Firestore's count
aggregation (billed one read per 1,000 index entries), so reads grow with what is shown, not with
the members.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from google.api_core.exceptions import NotFound
from google.cloud import firestore

from shared.adapters.firestore import OpCounter, _Base
from shared.ports import Filter


class FirestoreDocStore(_Base):
    def __init__(self, client: firestore.Client | None = None, ops: OpCounter | None = None) -> None:
        super().__init__(client, ops)

    def _ref(self, collection: str, doc_id: str) -> Any:
        return self.client.collection(collection).document(doc_id)

    def create(self, collection: str, doc_id: str, data: Mapping[str, Any]) -> bool:
        return self._create(self._ref(collection, doc_id), data)

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        doc = self._get(self._ref(collection, doc_id))
        return None if doc is None else {**doc, "id": doc_id}

    def update(self, collection: str, doc_id: str, changes: Mapping[str, Any]) -> bool:
        self.ops["writes"] += 1
        try:
            self._ref(collection, doc_id).update(dict(changes))
        except NotFound:
            return False
        return True

    def set(self, collection: str, doc_id: str, data: Mapping[str, Any]) -> None:
        self.ops["writes"] += 1
        self._ref(collection, doc_id).set(dict(data))

    def delete(self, collection: str, doc_id: str) -> None:
        self.ops["deletes"] += 1
        self._ref(collection, doc_id).delete()

    def _query(self, collection: str, where: Sequence[Filter]) -> Any:
        query: Any = self.client.collection(collection)
        for field, op, value in where:
            query = query.where(filter=firestore.FieldFilter(field, op, value))
        return query

    def _stream(self, query: Any) -> list[dict[str, Any]]:
        docs = [{**(d.to_dict() or {}), "id": d.id} for d in query.stream()]
        self.ops.read(len(docs))
        return docs

    def where(self, collection: str, field: str, op: str, value: Any) -> list[dict[str, Any]]:
        return self._stream(self._query(collection, [(field, op, value)]))

    def query(self, collection: str, where: Sequence[Filter] = (), order_by: str | None = None,
              limit: int = 100, descending: bool = False) -> list[dict[str, Any]]:
        direction = firestore.Query.DESCENDING if descending else firestore.Query.ASCENDING
        return self._stream(self._query(collection, where).order_by(order_by or "__name__", direction=direction).limit(limit))

    def count(self, collection: str, where: Sequence[Filter] = ()) -> int:
        result = self._query(collection, where).count().get()
        value = int(result[0][0].value)
        self.ops.read(max(1, (value + 999) // 1000))
        return value
