"""cron_dispatch: the one Cloud Scheduler job's target; calls every cron function whose run fell due."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import cron


@functions_framework.http
def cron_dispatch(request: Request) -> Response:
    return cron.handle_tick(request)
