"""Structured JSON logging for Cloud Logging: one JSON object per line on stdout.

Only stable, non-personal keys are accepted as fields (``function``, ``slot_id``, ...). As a
second line of defence every message and value is scrubbed of e-mail addresses and URLs with
credentials, so a careless call cannot leak personal data or a Zoom ``start_url``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from typing import Any

from shared.platform import env

ALLOWED_FIELDS = frozenset({
    "function", "slot_id", "series_id", "application_id", "idempotency_key", "run_key", "event_id",
    "meeting_id", "status", "count", "created", "updated", "retired", "flagged", "unchanged", "cancelled",
    "duration_ms", "attempt", "error", "error_type", "http_status", "kind", "job", "outcome", "reason",
    "path", "channel", "intent", "host_id", "speaker_id", "offer_id", "form_id", "response_id",
})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_SECRET_URL = re.compile(r"(https?://\S*?)([?#]\S*)")


def scrub(text: str) -> str:
    text = _EMAIL.sub("<email>", text)
    return _SECRET_URL.sub(lambda m: m.group(1) + "?<redacted>", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": scrub(record.getMessage()),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None) or {}
        for key, value in fields.items():
            if key in ALLOWED_FIELDS:
                entry[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info and record.exc_info[0] is not None:
            # The type and a scrubbed message only: tracebacks can carry request data.
            entry["error_type"] = record.exc_info[0].__name__
            entry["error"] = scrub(str(record.exc_info[1]))[:500]
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StdoutHandler(logging.Handler):
    """Writes to whatever ``sys.stdout`` is now (test runners and the CLI swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


_configured = False


def setup() -> None:
    global _configured
    if _configured:
        return
    handler = _StdoutHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("autopilot")
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get(env.LOG_LEVEL, "INFO").upper())
    root.propagate = False
    _configured = True


class Logger:
    """``log.info("slots generated", created=3, run_key=...)``: keys outside ALLOWED_FIELDS are dropped."""

    def __init__(self, name: str) -> None:
        setup()
        self._log = logging.getLogger(f"autopilot.{name}")

    def _emit(self, level: int, message: str, exc: bool, fields: dict[str, Any]) -> None:
        self._log.log(level, message, exc_info=exc, extra={"fields": fields})

    def debug(self, message: str, **fields: Any) -> None:
        self._emit(logging.DEBUG, message, False, fields)

    def info(self, message: str, **fields: Any) -> None:
        self._emit(logging.INFO, message, False, fields)

    def warning(self, message: str, **fields: Any) -> None:
        self._emit(logging.WARNING, message, False, fields)

    def error(self, message: str, exc: bool = False, **fields: Any) -> None:
        self._emit(logging.ERROR, message, exc, fields)


def get(name: str) -> Logger:
    return Logger(name)
