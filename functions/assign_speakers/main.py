"""assign_speakers: offer slots to queued speakers, roll them forward, rotate host duty (Cloud Scheduler)."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import cron, jobs


@functions_framework.http
def assign_speakers(request: Request) -> Response:
    return cron.handle(request, "assign_speakers", jobs.assign_speakers)
