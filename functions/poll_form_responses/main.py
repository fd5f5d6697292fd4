"""poll_form_responses: the safety net behind form_webhook (Cloud Scheduler, every 15 minutes)."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import cron, jobs_applications


@functions_framework.http
def poll_form_responses(request: Request) -> Response:
    return cron.handle(request, "poll_form_responses", jobs_applications.poll_form_responses)
