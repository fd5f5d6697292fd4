"""Cron plumbing shared by every Scheduler-triggered function.

Cloud Scheduler delivers at least once; each request carries ``X-CloudScheduler-JobName`` and
``X-CloudScheduler-ScheduleTime``, which together key the run: a duplicate delivery returns the
first delivery's result, and a delivery arriving while the first is still running waits for it.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Request, Response

from shared import bootstrap
from shared.config import ConfigError, CronAuth
from shared.entrypoints import http
from shared.platform import env, log

JOB_HEADER = "X-CloudScheduler-JobName"
TIME_HEADER = "X-CloudScheduler-ScheduleTime"
PLAUSIBLE = (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2199, 12, 31, tzinfo=dt.UTC))
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
WAIT_FOR_TWIN_SECONDS = 25.0


class Unauthorized(Exception):
    pass


class BadRequest(Exception):
    pass


@dataclass(frozen=True)
class CronRun:
    job: str
    schedule_time: dt.datetime  # when the run was due; "now" for the use case
    scheduled: bool  # False for a manual call without Scheduler headers

    @property
    def key_data(self) -> dict[str, str]:
        return {"job": self.job, "schedule_time": self.schedule_time.isoformat()}


def parse_run(request: Request, now: dt.datetime) -> CronRun:
    job = request.headers.get(JOB_HEADER, "").strip()
    when = request.headers.get(TIME_HEADER, "").strip()
    if not job and not when:
        return CronRun(f"manual-{uuid.uuid4().hex[:12]}", now, False)
    if not job or not when:
        raise BadRequest(f"send both {JOB_HEADER} and {TIME_HEADER}, or neither (manual run)")
    if len(job) > 500:
        raise BadRequest(f"{JOB_HEADER} is too long")
    try:
        parsed = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{TIME_HEADER} {when[:40]!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise BadRequest(f"{TIME_HEADER} needs a time zone (e.g. 2026-12-01T00:00:00Z)")
    # Dates near year 1 or 9999 overflow the jobs' own date arithmetic (a week before, a month
    # after); no Scheduler run is due outside these years.
    if not PLAUSIBLE[0] <= parsed <= PLAUSIBLE[1]:
        raise BadRequest(f"{TIME_HEADER} {when[:40]!r} is not a time a run can be due "
                         f"({PLAUSIBLE[0]:%Y} to {PLAUSIBLE[1]:%Y})")
    return CronRun(job, parsed.astimezone(dt.UTC), True)


# google-auth's messages, mapped to a reason a person can act on (the raw text can carry the token
# itself, e.g. "Wrong number of segments in token: b'...'", or cut badly at the ':' of a URL).
_REFUSALS = (
    ("wrong audience", "it was issued for another audience (check cron_auth.audience: the function's URL)"),
    ("expired", "it has expired"),
    ("too early", "it is not valid yet (check the clock)"),
    ("not found", "it was signed by a key Google does not publish"),
    ("signature", "its signature does not verify"),
    ("segments", "it is not a JWT"),
)


def _refusal(exc: Exception) -> str:
    text = str(exc)
    for marker, reason in _REFUSALS:
        if marker in text.lower():
            return reason
    return text.split(":")[0][:80]


def verify_caller(request: Request, auth: CronAuth, function: str) -> None:
    """In ``oidc`` mode, check the Scheduler's ID token here too (audience always verified)."""
    if auth.mode != "oidc":
        return
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise Unauthorized("this function needs the Scheduler's OIDC token (Authorization: Bearer ...)")
    from google.auth import exceptions as auth_exceptions
    from google.auth.transport import requests as auth_requests
    from google.oauth2 import id_token

    try:
        claims = id_token.verify_token(
            header[len("Bearer "):], auth_requests.Request(), audience=auth.audience_for(function),
            certs_url=os.environ.get(env.OIDC_CERTS_URL) or GOOGLE_CERTS_URL,
        )
    except (ValueError, auth_exceptions.GoogleAuthError) as exc:
        raise Unauthorized(f"the OIDC token was refused: {_refusal(exc)}") from None
    if claims.get("iss") not in GOOGLE_ISSUERS:
        raise Unauthorized("the OIDC token was not issued by Google")
    if auth.service_account and (claims.get("email") != auth.service_account or not claims.get("email_verified")):
        raise Unauthorized("the OIDC token belongs to another service account")


def admit(request: Request, function: str) -> CronRun | Response:
    """The checks every cron entry point makes first: the method, the config, the caller, the
    Scheduler headers. A refusal comes back as the response to send (nothing was read or written)."""
    logger = log.get(function)
    if request.method not in ("POST", "GET"):
        return http.error(405, "use POST (Cloud Scheduler) or GET")
    try:
        cfg = bootstrap.config()
        verify_caller(request, cfg.cron_auth, function)
        return parse_run(request, dt.datetime.now(dt.UTC))
    except ConfigError as exc:
        logger.error("invalid community config", error=str(exc))
        return http.error(500, str(exc))
    except Unauthorized as exc:
        logger.warning("caller refused", reason=str(exc))
        return http.error(401, str(exc))
    except BadRequest as exc:
        return http.error(400, str(exc))


def handle(request: Request, function: str, job: Callable[[CronRun], dict[str, Any]]) -> Response:
    """Authenticate, key the run, run ``job`` once per Scheduler run, answer with its result."""
    from shared.platform.idempotency import IdempotencyInProgress

    logger = log.get(function)
    if (refused := http.not_configured(function)) is not None:
        return refused
    run = admit(request, function)
    if isinstance(run, Response):
        return run
    try:
        if not run.scheduled:
            return http.ok({"run": run.job, "duplicate": False, **job(run)})
        outcome = bootstrap.idempotency(function).run(run.key_data, lambda: job(run),
                                                       wait_seconds=WAIT_FOR_TWIN_SECONDS)
    except IdempotencyInProgress as exc:
        return http.error(409, str(exc))
    except ConfigError as exc:  # found by the job (a setting it needs); the run record was released
        logger.error("invalid community config", error=str(exc))
        return http.error(500, str(exc))
    logger.info("cron run done", job=run.job, idempotency_key=outcome.key, outcome="replayed" if outcome.replayed else "ran")
    return http.ok({"run": run.job, "duplicate": outcome.replayed, **outcome.result})


def handle_tick(request: Request) -> Response:
    """``cron_dispatch``: the one Scheduler job's tick calls every cron run due in its window
    (shared/entrypoints/dispatch.py). 200 when every run answered 2xx; 502 naming the failed runs otherwise, so
    that Cloud Scheduler retries the tick (the runs that succeeded are then replayed, not repeated)."""
    from shared.entrypoints import dispatch

    logger = log.get("cron_dispatch")
    run = admit(request, "cron_dispatch")
    if isinstance(run, Response):
        return run
    try:
        plan = dispatch.load_plan(os.environ.get(env.CRON_PLAN))
        outcomes = dispatch.dispatch(plan, run.schedule_time)
    except dispatch.PlanError as exc:
        logger.error("cannot dispatch", error=str(exc))
        return http.error(500, str(exc))
    body = dict(dispatch.summary(outcomes, plan, run.schedule_time))
    for o in outcomes:
        logger.info("cron run dispatched", job=o.function, due=o.at, status=o.status, duplicate=o.duplicate)
    if body["failed"]:
        logger.warning("cron runs failed", failed=body["failed"])
        return http.error(502, f"{len(body['failed'])} of {len(outcomes)} due runs failed: {', '.join(body['failed'])} "
                               "(Cloud Scheduler retries the tick; runs that succeeded are replayed, not repeated)", **body)
    return http.ok(body)
