"""What a googleapiclient ``HttpError`` says about itself (shared by the Calendar and Gmail adapters)."""

from __future__ import annotations

import json
from typing import Any


def error_reasons(exc: Any) -> set[str]:
    """The ``error.errors[].reason`` values of a Google API error body (empty when it has none)."""
    try:
        data = json.loads(exc.content)
        return {str(e.get("reason")) for e in data.get("error", {}).get("errors", [])}
    except (ValueError, AttributeError, TypeError):
        return set()
