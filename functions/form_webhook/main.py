"""form_webhook: signed Google Form submissions (Apps Script, poller, others) -> applications."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import form_webhook as webhook


@functions_framework.http
def form_webhook(request: Request) -> Response:
    return webhook.handle(request)
