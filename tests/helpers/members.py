"""Member records as an approval writes them (shared/domain/members.py), for seeding tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def consents(at: dt.datetime = AT, source: str = "form", **values: bool) -> dict[str, Any]:
    """``consents(weekly_prompt=True)`` -> ``{"weekly_prompt": {"value": True, "at": ..., "source": "form"}}``."""
    return {name: {"value": bool(v), "at": at, "source": source} for name, v in values.items()}
