"""The ``zoom_webhook`` HTTP contract: verify Zoom's signature, answer the URL validation, apply events.

Cold path for the URL validation (Zoom wants an answer within 3 s, re-checked every 72 h): the
framework and the stdlib signature check only; Firestore loads only for events that touch a slot.
"""

from __future__ import annotations

import os
import time

from flask import Request, Response

from shared.adapters.zoom import WebhookRefused, url_validation, verify_webhook
from shared.entrypoints import http
from shared.platform import env

MAX_BODY_BYTES = 64 * 1024


def handle(request: Request) -> Response:
    if request.method != "POST":
        return http.error(405, "Zoom sends POST")
    if (refused := http.not_configured("zoom_webhook")) is not None:
        return refused
    secret = os.environ.get(env.ZOOM_WEBHOOK_SECRET, "")
    try:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            raise WebhookRefused(413, "the body is too large for a Zoom event")
        event = verify_webhook(secret, request.get_data(cache=False), request.headers.get("x-zm-signature"),
                               request.headers.get("x-zm-request-timestamp"), time.time())
        if event["event"] == "endpoint.url_validation":
            return http.ok(url_validation(secret, event))
    except WebhookRefused as exc:
        return http.error(exc.status, exc.reason)
    from shared.entrypoints import jobs

    return http.ok({"outcome": jobs.zoom_event(event)})
