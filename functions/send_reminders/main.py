"""send_reminders: community rhythm (Cloud Scheduler); once per run, whatever the deliveries."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import cron, jobs_rhythm


@functions_framework.http
def send_reminders(request: Request) -> Response:
    return cron.handle(request, "send_reminders", jobs_rhythm.send_reminders)
