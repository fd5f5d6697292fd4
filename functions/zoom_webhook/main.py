"""zoom_webhook: Zoom events (URL validation, meeting ended/deleted, participants joined/left), signed.

Cold path for the URL validation: functions_framework + the stdlib signature check only; Firestore
loads only for events that touch a slot.
"""

import os
import time

import functions_framework
from flask import Request, Response

from shared import env, http
from shared.adapters.zoom import WebhookRefused, url_validation, verify_webhook


@functions_framework.http
def zoom_webhook(request: Request) -> Response:
    if request.method != "POST":
        return http.error(405, "Zoom sends POST")
    secret = os.environ.get(env.ZOOM_WEBHOOK_SECRET, "")
    try:
        if (request.content_length or 0) > 64 * 1024:
            raise WebhookRefused(413, "the body is too large for a Zoom event")
        event = verify_webhook(secret, request.get_data(cache=False), request.headers.get("x-zm-signature"),
                               request.headers.get("x-zm-request-timestamp"), time.time())
        if event["event"] == "endpoint.url_validation":
            return http.ok(url_validation(secret, event))
    except WebhookRefused as exc:
        return http.error(exc.status, exc.reason)
    from shared import jobs

    return http.ok({"outcome": jobs.zoom_event(event)})
