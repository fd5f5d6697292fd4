"""One Cloud Scheduler job for every cron function: the tick and what it calls.

Cloud Scheduler bills $0.10 a month per job beyond 3 per billing account, so one job per cron
function (seven of them) cost money whatever the usage. Instead one job (the *tick*, e.g. every 5
minutes) calls ``cron_dispatch``, which works out, from each cron function's own schedule, which runs
fell due in the tick's window and calls each function the way Cloud Scheduler would: a POST with
``X-CloudScheduler-JobName`` (the function's name with hyphens, as its own job was called) and
``X-CloudScheduler-ScheduleTime`` (the run's own due time, not the tick's), with an OIDC token for
the function's URL. The run keys are therefore the same as with one Scheduler job per function, and
every exactly-once guarantee of ``shared/entrypoints/cron.py`` still holds:

- the window of a tick is ``(previous tick, this tick]`` on the tick's schedule, computed from the
  tick's ``X-CloudScheduler-ScheduleTime``; a retried or duplicated tick computes the same window
  and the same runs, which the functions answer as duplicates;
- the dispatcher keeps no state (no Firestore), so it cannot half-write anything;
- any run that fails makes the tick fail (502), so Cloud Scheduler retries the tick; the runs that
  had succeeded are replayed by the functions' idempotency, not run again.

The plan arrives as one JSON environment value (``CRON_PLAN``, written by Terraform from the
function catalogue):

    {"time_zone": "Asia/Tokyo", "tick": "*/5 * * * *",
     "jobs": {"generate_slots": {"schedule": "15 4 * * *", "url": "https://...", "audience": "https://...",
                                 "timeout": 300}, ...}}

``audience`` set: an ID token for it is fetched from the metadata server (the dispatcher's runtime
service account) and sent as ``Authorization: Bearer``; absent (local runs): no token.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from shared.config.base import ConfigError, Model, Zone, convert

MAX_RUNS_PER_TICK = 50  # a tick is minutes long; more runs than this means a schedule is wrong


class PlanError(ValueError):
    """The CRON_PLAN value is missing or wrong (a deployment error, not a caller's)."""


def _cron(expr: str) -> str:
    from cronsim import CronSim, CronSimError

    text = " ".join(expr.split())
    try:
        CronSim(text, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    except (CronSimError, ValueError) as exc:
        raise ValueError(f"{expr!r} is not a unix-cron schedule ({exc})") from None
    return text


class Cron(str):
    """A unix-cron expression (5 fields), spaces normalised."""

    __slots__ = ()

    @classmethod
    def from_config(cls, v: Any) -> Cron:
        if not isinstance(v, str):
            raise ValueError(f"{v!r} is not a unix-cron schedule")
        return cls(_cron(v))


class Job(Model):
    schedule: Cron
    url: str
    audience: str | None = None
    timeout: float = 300

    def check(self) -> None:
        if not re.match(r"^https?://[^\s/]+", self.url):
            raise ValueError(f"url: {self.url[:60]!r} is not an http(s) URL")
        if not 0 < self.timeout <= 3600:
            raise ValueError(f"timeout: {self.timeout} is not a timeout in seconds (more than 0, at most 3600)")


class Plan(Model, kw_only=True):
    time_zone: Zone = Zone("Asia/Tokyo")
    tick: Cron = Cron("*/5 * * * *")
    jobs: dict[str, Job]

    def check(self) -> None:
        for name in self.jobs:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name):
                raise ValueError(f"jobs: job name {name!r}: use the function's name (lowercase, digits, _)")

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


def load_plan(raw: str | None) -> Plan:
    if not raw or not raw.strip():
        raise PlanError("CRON_PLAN is not set: the dispatcher does not know which functions to call")
    try:
        return convert(json.loads(raw), Plan, unknown="(not a field of CRON_PLAN; see README, One Scheduler job)")
    except json.JSONDecodeError as exc:
        raise PlanError(f"CRON_PLAN is not JSON ({exc.msg} at character {exc.pos})") from None
    except ConfigError as exc:
        where = "; ".join(f"{path if path != '(top level)' else 'CRON_PLAN'}: {msg}" for path, msg in exc.problems[:5])
        raise PlanError(f"CRON_PLAN is wrong: {where}") from None


@dataclass(frozen=True)
class Due:
    function: str
    at: dt.datetime  # the run's own due time (UTC)

    @property
    def job_name(self) -> str:
        return self.function.replace("_", "-")

    @property
    def headers(self) -> dict[str, str]:
        return {"X-CloudScheduler-JobName": self.job_name,
                "X-CloudScheduler-ScheduleTime": self.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


def window(plan: Plan, tick_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """``(start, end]``: from the tick's previous due time (on its own schedule) to ``tick_at``."""
    from cronsim import CronSim

    local = tick_at.astimezone(plan.zone)
    # CronSim steps in whole minutes and excludes its start: step back from the next minute so that a
    # tick at exactly hh:mm:00 finds the due time before it, not itself.
    start = next(CronSim(plan.tick, local.replace(second=0, microsecond=0), reverse=True))
    return start.astimezone(dt.UTC), tick_at.astimezone(dt.UTC)


def due_runs(plan: Plan, tick_at: dt.datetime) -> list[Due]:
    """Every (function, due time) whose schedule fires in the tick's window, in time order."""
    from cronsim import CronSim

    start, end = window(plan, tick_at)
    runs: list[Due] = []
    for name, job in sorted(plan.jobs.items()):
        for fire in CronSim(job.schedule, start.astimezone(plan.zone)):
            if fire.astimezone(dt.UTC) > end:
                break
            runs.append(Due(name, fire.astimezone(dt.UTC)))
            if len(runs) > MAX_RUNS_PER_TICK:
                raise PlanError(f"more than {MAX_RUNS_PER_TICK} runs fall due in one tick ({start:%H:%M}-{end:%H:%M} UTC): "
                                "check the schedules in CRON_PLAN")
    return sorted(runs, key=lambda d: (d.at, d.function))


@dataclass(frozen=True)
class Outcome:
    function: str
    at: str
    status: int | None  # None: no answer (timeout, connection refused)
    duplicate: bool | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def as_dict(self) -> dict[str, Any]:
        return {"function": self.function, "at": self.at, "status": self.status, "duplicate": self.duplicate,
                **({"error": self.error} if self.error else {})}


TokenSource = Callable[[str], str]


def metadata_token(audience: str) -> str:
    """An ID token for ``audience`` from the runtime's metadata server (Cloud Run, GCE)."""
    from google.auth.transport import requests as auth_requests
    from google.oauth2 import id_token

    token: str = id_token.fetch_id_token(auth_requests.Request(), audience)  # type: ignore[no-untyped-call]
    return token


def _reason(text: str) -> str:
    """The target's own refusal message, if it answered with ours (``{"error": ...}``)."""
    try:
        body = json.loads(text)
    except ValueError:
        return text[:120]
    return str(body.get("error", ""))[:200] if isinstance(body, dict) else text[:120]


def call(run: Due, job: Job, session: Any, token_source: TokenSource) -> Outcome:
    at = run.headers["X-CloudScheduler-ScheduleTime"]
    headers = dict(run.headers)
    if job.audience:
        try:
            headers["Authorization"] = f"Bearer {token_source(job.audience)}"
        except Exception as exc:  # reported as this run's failure; the tick is retried
            return Outcome(run.function, at, None, None, f"no ID token for its audience ({type(exc).__name__})")
    try:
        res = session.post(job.url, headers=headers, timeout=(10, job.timeout + 30))
    except Exception as exc:  # any failure of one run is reported, the others go on
        return Outcome(run.function, at, None, None, f"{type(exc).__name__}: no answer")
    duplicate = None
    if 200 <= res.status_code < 300:
        try:
            duplicate = bool(res.json().get("duplicate"))
        except (ValueError, AttributeError):
            duplicate = None
        return Outcome(run.function, at, res.status_code, duplicate, None)
    return Outcome(run.function, at, res.status_code, None, _reason(res.text))


def dispatch(plan: Plan, tick_at: dt.datetime, *, session: Any = None,
             token_source: TokenSource = metadata_token) -> list[Outcome]:
    """Call every run due in the tick's window, concurrently; one outcome per run."""
    import requests

    runs = due_runs(plan, tick_at)
    if not runs:
        return []
    own = session is None
    session = session or requests.Session()
    try:
        with ThreadPoolExecutor(max_workers=min(8, len(runs))) as pool:
            return list(pool.map(lambda r: call(r, plan.jobs[r.function], session, token_source), runs))
    finally:
        if own:
            session.close()


def summary(outcomes: list[Outcome], plan: Plan, tick_at: dt.datetime) -> Mapping[str, Any]:
    start, end = window(plan, tick_at)
    return {"window": [start.isoformat(), end.isoformat()], "runs": [o.as_dict() for o in outcomes],
            "failed": sorted({o.function for o in outcomes if not o.ok})}
