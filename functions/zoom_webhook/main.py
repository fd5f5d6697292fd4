"""zoom_webhook: Zoom events (URL validation, meeting ended/deleted, participants joined/left), signed."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import zoom_webhook as webhook


@functions_framework.http
def zoom_webhook(request: Request) -> Response:
    return webhook.handle(request)
