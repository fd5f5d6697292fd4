"""provision_events: one Zoom meeting and one calendar entry per slot, kept in sync (Cloud Scheduler)."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import cron, jobs


@functions_framework.http
def provision_events(request: Request) -> Response:
    return cron.handle(request, "provision_events", jobs.provision_events)
