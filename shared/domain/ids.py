"""Deterministic external ids derived from slot ids."""

from __future__ import annotations

import base64


def calendar_event_id(slot_id: str) -> str:
    """Google Calendar event id for a slot: base32hex ([a-v0-9]), 5..1024 chars, reversible."""
    return base64.b32hexencode(slot_id.encode()).decode().lower().rstrip("=")


def slot_id_from_event_id(event_id: str) -> str:
    padded = event_id.upper() + "=" * (-len(event_id) % 8)
    return base64.b32hexdecode(padded).decode()
