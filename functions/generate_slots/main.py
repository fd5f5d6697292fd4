"""generate_slots: keep the next months of event slots in Firestore (Cloud Scheduler, daily)."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import cron, jobs


@functions_framework.http
def generate_slots(request: Request) -> Response:
    return cron.handle(request, "generate_slots", jobs.generate_slots)
