"""propose_event: a member's event proposal (signed webhook) -> guidelines -> a slot, or polite reasons."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import jobs_rhythm


@functions_framework.http
def propose_event(request: Request) -> Response:
    return jobs_rhythm.propose_event(request)
