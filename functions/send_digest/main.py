"""send_digest: community rhythm (Cloud Scheduler); once per run, whatever the deliveries."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import cron, jobs_rhythm


@functions_framework.http
def send_digest(request: Request) -> Response:
    return cron.handle(request, "send_digest", jobs_rhythm.send_digest)
