"""Firestore adapter for :class:`shared.ports.DocStore` (counted in the shared OpCounter)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.api_core.exceptions import NotFound
from google.cloud import firestore

from shared.adapters.firestore import OpCounter, _Base


class FirestoreDocStore(_Base):
    def __init__(self, client: firestore.Client | None = None, ops: OpCounter | None = None) -> None:
        super().__init__(client, ops)

    def _ref(self, collection: str, doc_id: str) -> Any:
        return self.client.collection(collection).document(doc_id)

    def create(self, collection: str, doc_id: str, data: Mapping[str, Any]) -> bool:
        return self._create(self._ref(collection, doc_id), data)

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        return self._get(self._ref(collection, doc_id))

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
