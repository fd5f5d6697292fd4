"""weekly_prompt: community rhythm (Cloud Scheduler); once per run, whatever the deliveries."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import cron, jobs_rhythm


@functions_framework.http
def weekly_prompt(request: Request) -> Response:
    return cron.handle(request, "weekly_prompt", jobs_rhythm.weekly_prompt)
