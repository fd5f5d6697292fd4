"""The audit log: every change a person makes (console or CLI), who, what, when, before and after.

``audit/<seq>~<random>``: ``seq`` counts down with time (``10**13`` minus the epoch milliseconds), so
the newest entries come first in id order and a page of the log is one bounded query
(``seq > last seen``) without cursors. Entries are written after the change, once per change;
they are never updated. ``before`` / ``after`` hold the fields the change touched, not whole documents.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.ports import DocStore

AUDIT = "audit"
PAGE = 50
_TOP = 10**13


@dataclass(frozen=True)
class Actor:
    """Who made a change: a person's id and name, and through what (``console`` | ``cli`` | ``link``)."""

    id: str
    name: str
    via: str = "console"


def seq_of(moment: dt.datetime) -> int:
    return _TOP - int(moment.timestamp() * 1000)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in (sorted(value, key=str) if isinstance(value, set | frozenset) else value)]
    if isinstance(value, dt.date | dt.datetime | str | int | float | bool) or value is None:
        return value
    return str(value)


def record(store: DocStore, actor: Actor, action: str, target: str, before: Mapping[str, Any] | None,
           after: Mapping[str, Any] | None, now: dt.datetime, note: str = "") -> str:
    seq = seq_of(now)
    entry_id = f"{seq:013d}~{uuid.uuid4().hex[:8]}"
    store.create(AUDIT, entry_id, {
        "seq": seq, "at": now, "actor_id": actor.id, "actor_name": actor.name, "via": actor.via, "action": action,
        "target": target, "before": _plain(before or {}), "after": _plain(after or {}), "note": note[:500],
    })
    return entry_id


def page(store: DocStore, after_seq: int | None = None, limit: int = PAGE) -> list[dict[str, Any]]:
    """The newest ``limit`` entries (older than ``after_seq`` when given): one query."""
    where = [("seq", ">", after_seq)] if after_seq is not None else []
    return store.query(AUDIT, where, order_by="seq", limit=limit)
