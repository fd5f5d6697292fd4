"""An in-memory twin of :class:`shared.adapters.documents.FirestoreDocStore` for unit tests and benchmarks.

``create`` is atomic under a lock, documents are copied in and out, reads carry the ``id`` and every
operation is counted in an :class:`~shared.adapters.firestore.OpCounter` the way Firestore bills it.
Implements the create/get/update/set/delete/where/query part of :class:`shared.ports.DocStore`.
"""

from __future__ import annotations

import copy
import operator
import threading
from collections.abc import Mapping
from typing import Any

from shared.adapters.firestore import OpCounter

_OPS = {"==": operator.eq, ">=": operator.ge, ">": operator.gt, "<": operator.lt, "<=": operator.le,
        "!=": operator.ne}


class MemoryDocs:
    def __init__(self) -> None:
        self.data: dict[str, dict[str, dict[str, Any]]] = {}
        self.ops = OpCounter()
        self._lock = threading.Lock()

    def _col(self, col: str) -> dict[str, dict[str, Any]]:
        return self.data.setdefault(col, {})

    def create(self, col: str, doc_id: str, data: Mapping[str, Any]) -> bool:
        with self._lock:
            self.ops["writes"] += 1
            if doc_id in self._col(col):
                return False
            self._col(col)[doc_id] = copy.deepcopy(dict(data))
            return True

    def get(self, col: str, doc_id: str) -> dict[str, Any] | None:
        with self._lock:
            self.ops.read(1)
            doc = self._col(col).get(doc_id)
            return None if doc is None else {**copy.deepcopy(doc), "id": doc_id}

    def update(self, col: str, doc_id: str, changes: Mapping[str, Any]) -> bool:
        with self._lock:
            self.ops["writes"] += 1
            doc = self._col(col).get(doc_id)
            if doc is None:
                return False
            for key, value in changes.items():  # Firestore field paths: "a.b" sets a nested field
                target = doc
                *parents, last = key.split(".")
                for p in parents:
                    target = target.setdefault(p, {})
                target[last] = copy.deepcopy(value)
            return True

    def set(self, col: str, doc_id: str, data: Mapping[str, Any]) -> None:
        with self._lock:
            self.ops["writes"] += 1
            self._col(col)[doc_id] = copy.deepcopy(dict(data))

    def delete(self, col: str, doc_id: str) -> None:
        with self._lock:
            self.ops["deletes"] += 1
            self._col(col).pop(doc_id, None)

    def where(self, col: str, field: str, op: str, value: Any) -> list[dict[str, Any]]:
        with self._lock:
            test = _OPS[op]
            out = [{**copy.deepcopy(d), "id": i} for i, d in self._col(col).items()
                   if field in d and d[field] is not None and test(d[field], value)]
            self.ops.read(len(out))
            return out

    def query(self, col: str, where: Any = (), order_by: str | None = None, limit: int = 100,
              descending: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            rows = [{**copy.deepcopy(d), "id": i} for i, d in self._col(col).items()
                    if all(f in d and d[f] is not None and _OPS[op](d[f], v) for f, op, v in where)]
            rows.sort(key=lambda d: (str(d.get(order_by)) if order_by else d["id"]), reverse=descending)
            rows = rows[:limit]
            self.ops.read(len(rows))
            return rows
