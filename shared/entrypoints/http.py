"""JSON responses shared by the HTTP functions."""

from __future__ import annotations

import json
from typing import Any

from flask import Response


def json_response(status: int, body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, default=str, sort_keys=True), status=status,
                    mimetype="application/json")


def ok(body: Any) -> Response:
    return json_response(200, body)


def error(status: int, message: str, **extra: Any) -> Response:
    """A refusal a person can read: ``{"error": "...", ...}``."""
    return json_response(status, {"error": message, **extra})
