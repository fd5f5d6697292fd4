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


def not_configured(function: str) -> Response | None:
    """503 naming each setting ``function`` cannot run without, and its fix (shared/platform/settings.py);
    None when all are there. The same sentences go to the log (never a value)."""
    from shared.platform import log, settings

    found = settings.problems(function)
    if not found:
        return None
    logger = log.get(function)
    for problem in found:
        logger.error("not configured", reason=problem.sentence)
    return error(503, " ".join(p.sentence for p in found), settings=[p.variable for p in found])
