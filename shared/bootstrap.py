"""The one place that builds adapters from the environment and the config (once per instance).

Nothing here runs at import time: functions call these on their first request, so a cold start
pays only for what the request uses.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from shared.config import Config, load_config

if TYPE_CHECKING:
    from shared.adapters.firestore import FirestoreIdempotencyStore, FirestoreSlotStore, OpCounter
    from shared.idempotency import Idempotency
    from shared.ports import CalendarPublisher


@cache
def config() -> Config:
    return load_config()


@cache
def ops() -> OpCounter:
    from shared.adapters.firestore import OpCounter

    return OpCounter()


@cache
def slot_store() -> FirestoreSlotStore:
    from shared.adapters.firestore import FirestoreSlotStore

    return FirestoreSlotStore(ops=ops())


@cache
def idempotency_store() -> FirestoreIdempotencyStore:
    from shared.adapters.firestore import FirestoreIdempotencyStore

    return FirestoreIdempotencyStore(ops=ops())


def idempotency(function: str) -> Idempotency:
    from shared.idempotency import Idempotency

    return Idempotency(idempotency_store(), function)


@cache
def calendar_publisher() -> CalendarPublisher:
    # Foundation: outbox delivery only; the live Google Calendar adapter arrives with provisioning.
    from shared.adapters.outbox import OutboxCalendar

    return OutboxCalendar()


def reset() -> None:
    """Forget every cached adapter (tests, and the CLI after it changes the environment)."""
    from shared.adapters.firestore import default_client

    for fn in (config, ops, slot_store, idempotency_store, calendar_publisher, default_client):
        fn.cache_clear()
