"""event_sweep: the hourly run around events: offers, invitations, reminders, headcounts, thank-yous, announcements."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import cron, jobs_events


@functions_framework.http
def event_sweep(request: Request) -> Response:
    return cron.handle(request, "event_sweep", jobs_events.event_sweep)
