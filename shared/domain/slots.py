"""Reading a slot document (pure): the one place that knows where a slot keeps its join link."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def join_link(slot: Mapping[str, Any]) -> str:
    """The link members join an online event by: the community's Zoom meeting, once provisioning
    recorded it (``provision.zoom``: created, with its meeting id), else a member event's own link
    (``join_url``, ``zoom_mode: own``); "" for an in-person event or while there is none yet.

    The feed, the digest, reminders and the calendar entry all read it here, so a change in where
    provisioning stores the meeting (docs/provisioning.md) cannot leave one of them without it."""
    if not slot.get("online"):
        return ""
    zoom = (slot.get("provision") or {}).get("zoom") or {}
    if isinstance(zoom, Mapping) and zoom.get("state") == "created" and zoom.get("meeting_id") and zoom.get("join_url"):
        return str(zoom["join_url"])
    own = slot.get("join_url")
    return str(own) if isinstance(own, str) and own else ""
