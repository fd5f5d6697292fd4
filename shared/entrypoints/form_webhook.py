"""The ``form_webhook`` HTTP contract: verify, parse, hand to the applications use case.

Refusals (nothing is read from or written to Firestore before all checks pass):
- body over 64 KiB: 413 (checked on Content-Length before reading, and on the bytes read);
- missing/invalid ``X-Autopilot-Timestamp`` or ``X-Autopilot-Signature``, a timestamp more than
  5 minutes off, or a signature that is not lowercase hex HMAC-SHA256(secret, ts + "." + raw body): 401;
- not ``application/json``, not UTF-8 JSON, or not of the schema: 400 naming the field;
- a ``formId`` that is none of the configured forms: 400 naming ``formId``.
Routing: ``applications.form_id`` -> membership applications; ``people.speakers.form.form_id`` ->
speaker proposals (:mod:`shared.usecases.speaker_form`), whose unmappable answers are a 400 naming
``answers.<field>`` with nothing written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
from typing import TYPE_CHECKING, Any

from flask import Request, Response

from shared.domain.applications import MAX_BODY_BYTES, Submission, SubmissionError, parse_submission
from shared.entrypoints import http
from shared.platform import env, log

if TYPE_CHECKING:
    from shared.config import Config

TIMESTAMP_HEADER = "X-Autopilot-Timestamp"
SIGNATURE_HEADER = "X-Autopilot-Signature"
MAX_SKEW_SECONDS = 300
FUNCTION = "form_webhook"


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """What the sender puts in X-Autopilot-Signature."""
    return hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def secret_from_env() -> bytes:
    value = os.environ.get(env.FORM_WEBHOOK_SECRET, "")
    if len(value) < 16:
        raise RuntimeError(f"{env.FORM_WEBHOOK_SECRET} is not set (or shorter than 16 characters)")
    return value.encode()


def read_body(request: Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise Refused(413, f"the body is over {MAX_BODY_BYTES // 1024} KiB")
    body = request.stream.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise Refused(413, f"the body is over {MAX_BODY_BYTES // 1024} KiB")
    return bytes(body)


def verify(secret: bytes, timestamp: str | None, signature: str | None, body: bytes, now: dt.datetime) -> None:
    if not timestamp or not re.fullmatch(r"\d{1,12}", timestamp):
        raise Refused(401, f"{TIMESTAMP_HEADER} is missing or not unix seconds")
    if abs(now.timestamp() - int(timestamp)) > MAX_SKEW_SECONDS:
        raise Refused(401, f"{TIMESTAMP_HEADER} is more than 5 minutes away from our clock")
    if not signature or not re.fullmatch(r"[0-9a-f]{64}", signature):
        raise Refused(401, f"{SIGNATURE_HEADER} is missing or not lowercase hex HMAC-SHA256")
    if not hmac.compare_digest(signature, sign(secret, timestamp, body)):
        raise Refused(401, "the signature does not match")


def decode(request: Request, body: bytes) -> Any:
    """The JSON body, every string in NFC with lone surrogates replaced (shared/domain/text.py), so
    that no later Firestore write fails on it; which strings were repaired is logged (paths only)."""
    from shared.domain.text import clean_json

    if request.mimetype != "application/json":
        raise Refused(400, "Content-Type must be application/json")
    try:
        data, repaired = clean_json(json.loads(body.decode("utf-8")))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Refused(400, "the body is not UTF-8 JSON") from None
    for path in repaired[:10]:
        log.get(FUNCTION).info("broken character replaced", path=path[:200])
    return data


def handle(request: Request) -> Response:
    from shared import bootstrap

    logger = log.get(FUNCTION)
    if request.method != "POST":
        return http.error(405, "use POST")
    if (refused := http.not_configured(FUNCTION)) is not None:
        return refused
    now = dt.datetime.now(dt.UTC)
    try:
        secret = secret_from_env()
    except RuntimeError as exc:
        logger.error("not configured", reason=str(exc))
        return http.error(503, "the webhook is not configured")
    try:
        body = read_body(request)
        verify(secret, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER), body, now)
        sub = parse_submission(decode(request, body))
        cfg = bootstrap.config()
        route = form_route(cfg, sub.formId)
        if route is None:
            if not form_ids(cfg):
                logger.error("not configured", reason="the community config has no applications or speaker form")
                return http.error(503, "the webhook is not configured")
            raise Refused(400, "formId: is not one of this community's forms")
        if route == SPEAKERS:
            return _speaker(sub, now)
    except Refused as exc:
        logger.warning("request refused", http_status=exc.status, reason=str(exc))
        return http.error(exc.status, str(exc))
    except SubmissionError as exc:
        logger.warning("request refused", http_status=400, reason=str(exc).split(":")[0])
        return http.error(400, str(exc))
    from shared.config import ConfigError
    from shared.usecases.applications import submit

    try:
        deps = bootstrap.application_deps()  # refuses a deployment that cannot mail, before anything is written
    except ConfigError as exc:
        logger.error("invalid community config", error=str(exc))
        return http.error(500, str(exc))
    result = submit(deps, sub, now, source="webhook")
    logger.info("submission handled", application_id=result["applicationId"], status=result["status"],
                response_id=sub.responseId)
    return http.ok(result)


APPLICATIONS, SPEAKERS = "applications", "speakers"


def form_ids(cfg: Config) -> dict[str, str]:
    """formId -> route, for every form this community configured (membership, speaker proposals)."""
    routes = {}
    if cfg.applications is not None:
        routes[cfg.applications.form_id] = APPLICATIONS
    if cfg.people.speakers.form is not None:
        routes[cfg.people.speakers.form.form_id] = SPEAKERS
    return routes


def form_route(cfg: Config, form_id: str) -> str | None:
    return form_ids(cfg).get(form_id)


def _speaker(sub: Submission, now: dt.datetime) -> Response:
    from shared import bootstrap
    from shared.config import ConfigError
    from shared.usecases.assign import ProposalError
    from shared.usecases.speaker_form import submit_speaker

    try:
        deps = bootstrap.assign_deps()
    except ConfigError as exc:
        log.get(FUNCTION).error("invalid community config", error=str(exc))
        return http.error(500, str(exc))
    try:
        result = submit_speaker(deps, sub, now, source="webhook")
    except ProposalError as exc:
        log.get(FUNCTION).warning("request refused", http_status=400, reason=exc.field, form_id=sub.formId)
        return http.error(400, str(exc))
    return http.ok(result)
