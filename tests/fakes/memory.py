"""An in-memory IdempotencyStore with Firestore's create() semantics (thread-safe)."""

from __future__ import annotations

import threading
from typing import Any


class MemoryIdempotencyStore:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.claims: set[str] = set()
        self.lock = threading.Lock()

    def create(self, key, record):
        with self.lock:
            if key in self.docs:
                return False
            self.docs[key] = dict(record)
            return True

    def get(self, key):
        with self.lock:
            return dict(self.docs[key]) if key in self.docs else None

    def replace_if(self, key, token, record):
        with self.lock:
            if self.docs.get(key, {}).get("token") != token:
                return False
            self.docs[key] = dict(record)
            return True

    def update_if(self, key, token, changes):
        with self.lock:
            if self.docs.get(key, {}).get("token") != token:
                return False
            self.docs[key].update(changes)
            return True

    def delete_if(self, key, token):
        with self.lock:
            if self.docs.get(key, {}).get("token") == token:
                del self.docs[key]

    def claim(self, name, expires_at):
        with self.lock:
            if name in self.claims:
                return False
            self.claims.add(name)
            return True

    def by_status(self, statuses, limit):
        with self.lock:
            return [{**doc, "id": key} for key, doc in self.docs.items() if doc.get("status") in statuses][:limit]
