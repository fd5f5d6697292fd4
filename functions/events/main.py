"""events: the public events pages, RSVP links and the public feed (docs/events.md)."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import events_pages


@functions_framework.http
def events(request: Request) -> Response:
    return events_pages.handle(request)
