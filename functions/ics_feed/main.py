"""ics_feed: every upcoming event as iCalendar, behind a secret token in the URL (404 otherwise)."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import jobs_rhythm


@functions_framework.http
def ics_feed(request: Request) -> Response:
    return jobs_rhythm.ics_feed(request)
