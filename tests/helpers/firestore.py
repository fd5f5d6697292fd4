"""Firestore checks for tests (the npm emulator does not implement ListCollectionIds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Every collection the code writes (shared/adapters/firestore.py).
COLLECTIONS = ("slots", "slot_exceptions", "idempotency", "claims")


def snapshot(db: Any, collection: str) -> dict[str, Any]:
    """Documents with their server update time: equal snapshots mean nothing was written."""
    return {d.id: (d.update_time, d.to_dict()) for d in db.collection(collection).stream()}


def assert_nothing_written(db: Any, outbox: Path | None = None) -> None:
    written = {name: [d.id for d in db.collection(name).stream()] for name in COLLECTIONS}
    assert written == {name: [] for name in COLLECTIONS}
    if outbox is not None:
        assert not outbox.exists() or not any(outbox.rglob("*")), sorted(outbox.rglob("*"))
