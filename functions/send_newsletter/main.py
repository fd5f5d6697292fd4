"""send_newsletter: the monthly newsletter (Cloud Scheduler, hourly): assemble, preview, send when due."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import cron, jobs_newsletter


@functions_framework.http
def send_newsletter(request: Request) -> Response:
    return cron.handle(request, "send_newsletter", jobs_newsletter.send_newsletter)
