"""``autopilot doctor``: can this live deployment work? Each check prints ``ok`` or ``FAIL`` with the
fix in one sentence; the exit code is 0 only when every check passed.

Read-only against the deployment (``GOOGLE_CLOUD_PROJECT``, your Google credentials, the settings
the functions get): the only write is one private probe entry in the community calendar, deleted at
once. Checks are small functions in a registry (:data:`CHECKS`, :func:`check`), so other parts add
their own: ``@doctor.check("my thing")`` on ``def f(ctx: Context) -> list[Result]``. Each check is
given a :class:`Context` with the environment, the config and the endpoints (the Google ones can be
pointed elsewhere, as the tests do with the local fakes).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.platform import env

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Result:
    check: str
    ok: bool
    detail: str  # ok: what was found; FAIL: what is wrong and the fix, in one sentence


@dataclass
class Context:
    environ: Mapping[str, str]
    project: str
    config: Any = None  # shared.config.Config, when it loads
    # Google REST bases (production defaults; tests point them at the local fakes)
    secretmanager: str = "https://secretmanager.googleapis.com"
    firestore_admin: str = "https://firestore.googleapis.com"
    scheduler: str = "https://cloudscheduler.googleapis.com"
    region: str = ""  # the deployment's region (GOOGLE_CLOUD_REGION; default: infra's var.region)
    timeout: float = 20.0  # one request's limit, cut to what is left of ``budget``
    budget: float = 55.0  # seconds for the whole run: doctor answers within a minute, whatever hangs
    clock: Callable[[], float] = time.monotonic
    started: float | None = None
    session: Any = None  # an authorized requests session for the Google REST calls (your credentials)
    cache: dict[str, Any] = field(default_factory=dict)

    def left(self) -> float:
        """Seconds left of the run's budget (counted from the first check)."""
        if self.started is None:
            self.started = self.clock()
        return self.budget - (self.clock() - self.started)

    def wait(self) -> float:
        """The timeout for the next request: ``timeout``, or less when the budget is nearly spent."""
        return max(1.0, min(self.timeout, self.left()))

    def google(self) -> Any:
        if self.session is None:
            import google.auth
            from google.auth.transport.requests import AuthorizedSession

            creds, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
            self.session = AuthorizedSession(creds)  # type: ignore[no-untyped-call]
        return self.session


Check = Callable[[Context], Iterable[Result]]
CHECKS: list[tuple[str, Check]] = []


def check(name: str) -> Callable[[Check], Check]:
    """Register ``fn`` as the check ``name`` (run in registration order)."""
    def register(fn: Check) -> Check:
        CHECKS.append((name, fn))
        return fn
    return register


def ok(name: str, detail: str) -> Result:
    return Result(name, True, detail)


def fail(name: str, detail: str) -> Result:
    return Result(name, False, detail)


def run(ctx: Context, only: Iterable[str] = ()) -> list[Result]:
    wanted = set(only)
    results: list[Result] = []
    for name, fn in CHECKS:
        if wanted and name not in wanted:
            continue
        if ctx.left() <= 0:  # a slow service used the minute: say which checks never ran
            results.append(fail(name, f"not checked: the run's {ctx.budget:.0f} s were used up by slower answers "
                                      "above; run `autopilot doctor " + name + "` on its own"))
            continue
        try:
            results.extend(fn(ctx))
        except Exception as exc:  # a check that cannot even ask: its own FAIL, the others still run
            results.append(fail(name, f"could not check ({type(exc).__name__}: {str(exc)[:300]})"))
    return results


def main(argv: list[str] | None = None, ctx: Context | None = None, out: Any = None) -> int:
    out = out or sys.stdout
    if ctx is None:
        project = os.environ.get(env.GOOGLE_CLOUD_PROJECT, "")
        if not project:
            print("FAIL  project: GOOGLE_CLOUD_PROJECT is not set: export GOOGLE_CLOUD_PROJECT=your-project-id "
                  "(and gcloud auth application-default login)", file=out)
            return 1
        ctx = Context(os.environ, project)
    if ctx.config is None:
        from shared.config import ConfigError, load_config

        try:
            ctx.config = load_config()
        except ConfigError as exc:
            print(f"FAIL  config: {exc}", file=out)
            return 1
    results = run(ctx, argv or ())
    for r in results:
        print(f"{'ok  ' if r.ok else 'FAIL'}  {r.check}: {r.detail}", file=out)
    failed = sum(1 for r in results if not r.ok)
    print(f"doctor: {len(results) - failed} ok, {failed} FAIL in {ctx.budget - ctx.left():.1f} s", file=out)
    return 1 if failed else 0


# ---------------------------------------------------------------------------------------------- checks

REQUIRED_SECRETS = (env.ZOOM_CLIENT_SECRET, env.ZOOM_WEBHOOK_SECRET, env.FORM_WEBHOOK_SECRET, env.ACTION_LINK_KEY)
# which functions call which Google API (infra gives each its own service account: Workspace
# delegation is authorised per account, so each one is checked)
GOOGLE_USERS = {
    "gmail": ("actions", "assign_speakers", "form_webhook", "poll_form_responses", "propose_event", "provision_events",
              "send_digest", "send_newsletter", "send_reminders", "weekly_prompt"),
    "forms": ("poll_form_responses",),
    "calendar": ("provision_events",),
}


def service_account(ctx: Context, function: str) -> str:
    """The function's runtime account as infra/iam.tf names it."""
    return f"{('fn-' + function.replace('_', '-'))[:30]}@{ctx.project}.iam.gserviceaccount.com"


def _sender(ctx: Context) -> str:
    from shared.platform.mail import parse_address

    try:
        return parse_address(ctx.environ.get(env.MAIL_FROM, "")).addr_spec
    except ValueError:
        return ""


@check("secrets")
def secrets_present(ctx: Context) -> list[Result]:
    from shared.adapters import google_auth

    names = list(REQUIRED_SECRETS) + ([env.GOOGLE_API_CREDENTIALS] if google_auth.kind() == "oauth" else [])
    out = []
    for name in names:
        url = f"{ctx.secretmanager}/v1/projects/{ctx.project}/secrets/{name}/versions"
        res = ctx.google().get(url, params={"filter": "state:ENABLED"}, timeout=ctx.wait())
        if res.status_code == 404:
            out.append(fail(f"secret {name}", "the secret does not exist: run terraform apply in infra/ (README, Deploy, step 6)"))
        elif res.status_code != 200:
            out.append(fail(f"secret {name}", f"Secret Manager answered HTTP {res.status_code}: your account needs "
                                              "roles/secretmanager.viewer on the project"))
        elif not (res.json().get("versions") or []):
            out.append(fail(f"secret {name}", f"no enabled version: printf %s 'VALUE' | gcloud secrets versions add {name} "
                                              "--data-file=- (README, Deploy, step 6)"))
        else:
            out.append(ok(f"secret {name}", "has an enabled version"))
    return out


@check("google credentials")
def google_tokens(ctx: Context) -> list[Result]:
    """A token for each function and API, asked for exactly the scopes the code uses."""
    from google.auth.exceptions import RefreshError
    from google.auth.transport.requests import Request

    from shared.adapters import google_auth

    sender = _sender(ctx)
    if not sender:
        return [fail("google credentials", f"{env.MAIL_FROM} is not set here: export the MAIL_FROM of your settings "
                                           "(the user the functions act for) and run doctor again")]
    out = []
    if google_auth.kind() == "oauth":
        for api in google_auth.OAUTH_APIS:
            creds = google_auth.for_user(api, sender)
            try:
                creds.refresh(Request())
            except RefreshError as exc:
                out.append(fail(f"google {api} (refresh token)", f"refused ({str(exc)[:200]}): obtain a new refresh token "
                                                                  "with the scopes of README, Deploy, step 5, and store it"))
                continue
            granted = set(getattr(creds, "granted_scopes", None) or google_auth.SCOPES[api])
            missing = [s for s in google_auth.SCOPES[api] if s not in granted]
            out.append(fail(f"google {api} (refresh token)", f"the consent lacks {' '.join(missing)}: add it to the consent "
                                                              "screen and obtain the refresh token again (README, step 5)")
                       if missing else ok(f"google {api} (refresh token)", "token with " + " ".join(google_auth.SCOPES[api])))
        return out
    subjects: dict[google_auth.Api, str] = {"gmail": sender, "forms": sender}
    calendar = getattr(getattr(getattr(ctx.config, "provisioning", None), "calendar", None), "delegated_subject", None)
    if calendar:
        subjects["calendar"] = str(calendar)
    for api, subject in subjects.items():
        for function in GOOGLE_USERS[api]:
            account = service_account(ctx, function)
            creds = google_auth.DelegatedCredentials(google_auth.runtime((google_auth.CLOUD_PLATFORM,)), subject,
                                                     google_auth.SCOPES[api], principal=account)
            name = f"google {api} as {function}"
            try:
                creds.refresh(Request())
            except (RefreshError, google_auth.CredentialsProblem) as exc:
                out.append(fail(name, str(exc)))
                continue
            out.append(ok(name, f"delegated token for {' '.join(google_auth.SCOPES[api])}"))
    return out


@check("calendar")
def calendar_writable(ctx: Context) -> list[Result]:
    """Insert and delete one private probe entry, as provision_events would."""
    from shared.adapters import google_auth
    from shared.adapters.google_calendar import GoogleCalendar
    from shared.ports import CalendarEvent, PermanentError

    ccfg = ctx.config.provisioning.calendar
    account = service_account(ctx, "provision_events")
    creds: Any
    if ccfg.delegated_subject:
        creds = google_auth.DelegatedCredentials(google_auth.runtime((google_auth.CLOUD_PLATFORM,)), str(ccfg.delegated_subject),
                                                 google_auth.SCOPES["calendar"], principal=account)
    else:
        creds = google_auth.ImpersonatedCredentials(google_auth.runtime((google_auth.CLOUD_PLATFORM,)), account,
                                                    google_auth.SCOPES["calendar"])
    cal = GoogleCalendar(ccfg.calendar_id, endpoint=ctx.environ.get(env.CALENDAR_API_ENDPOINT) or None, credentials=creds,
                         max_attempts=2, max_wait=2.0)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    probe = CalendarEvent(event_id=f"autopilotdoctor{int(now.timestamp()):x}", title="autopilot doctor probe",
                          start=now + dt.timedelta(days=400), end=now + dt.timedelta(days=400, minutes=5), timezone="UTC",
                          description="written and deleted at once by autopilot doctor", location="", status="confirmed")
    from google.auth.exceptions import RefreshError

    try:
        cal.insert(probe, "none")
        cal.delete(probe.event_id, "none")
    except RefreshError as exc:
        return [fail("calendar", f"no token for {account}: {exc}")]
    except PermanentError as exc:
        return [fail("calendar", f"{ccfg.calendar_id} is not writable as {account} ({str(exc)[:200]}): share the calendar "
                                 "with that account (\"Make changes to events\"), or set delegated_subject (README, Deploy, step 10)")]
    except Exception as exc:
        return [fail("calendar", f"the probe entry could not be written ({type(exc).__name__}: {str(exc)[:200]}): "
                                 "check provisioning.calendar.calendar_id and the account's access (README, step 10)")]
    return [ok("calendar", f"a probe entry was written to and deleted from {ccfg.calendar_id} as {account}")]


@check("forms")
def forms_known(ctx: Context) -> list[Result]:
    from googleapiclient.errors import HttpError

    from shared.adapters.google_forms import GoogleForms

    ids = [("applications.form_id", ctx.config.applications.form_id)] if ctx.config.applications else []
    form = getattr(getattr(ctx.config.people, "speakers", None), "form", None)
    if form is not None:
        ids.append(("people.speakers.form.form_id", form.form_id))
    from shared.adapters import google_auth

    creds = None  # as poll_form_responses reads them: its own account's delegation, or the refresh token
    if google_auth.kind() == "workspace":
        creds = google_auth.DelegatedCredentials(google_auth.runtime((google_auth.CLOUD_PLATFORM,)), _sender(ctx),
                                                 google_auth.SCOPES["forms"],
                                                 principal=service_account(ctx, "poll_form_responses"))
    out = []
    for path, form_id in ids:
        try:
            GoogleForms(attempts=1, subject=_sender(ctx) or None, credentials=creds).question_titles(form_id)
        except HttpError as exc:
            out.append(fail(path, f"the Forms API answered HTTP {exc.resp.status} for {form_id!r}: use the id of the form's "
                                  "edit URL (docs.google.com/forms/d/<id>/edit), owned by or shared with MAIL_FROM"))
            continue
        out.append(ok(path, f"{form_id} is known to the Forms API"))
    return out


@check("firestore")
def firestore_indexes_and_ttl(ctx: Context) -> list[Result]:
    from tools import firestore_indexes, infra_check

    db = ctx.environ.get(env.FIRESTORE_DATABASE) or "(default)"
    base = f"{ctx.firestore_admin}/v1/projects/{ctx.project}/databases/{db}/collectionGroups"
    res = ctx.google().get(f"{base}/-/indexes", timeout=ctx.wait())
    if res.status_code != 200:
        return [fail("firestore", f"the Firestore admin API answered HTTP {res.status_code}: is the database created "
                                  "(terraform apply) and may your account read it (roles/datastore.indexAdmin or viewer)?")]
    live = {}
    for index in res.json().get("indexes") or []:
        coll = index["name"].split("/collectionGroups/")[1].split("/")[0]
        fields = tuple((f["fieldPath"], f.get("order", "CONTAINS")) for f in index.get("fields", []) if f["fieldPath"] != "__name__")
        live[(coll, fields)] = index.get("state", "")
    out = []
    for coll, fields in firestore_indexes.declared_indexes(ROOT):
        state = live.get((coll, tuple(fields)))
        name = f"index {coll}({', '.join(f for f, _ in fields)})"
        if state == "READY":
            out.append(ok(name, "ready"))
        elif state:
            out.append(fail(name, f"is {state}: Firestore is still building it; run doctor again in a few minutes"))
        else:
            out.append(fail(name, "is missing: run terraform apply in infra/ (local.firestore_indexes)"))
    for coll in infra_check.load_infra(ROOT / "infra").locals.get("ttl_collections") or []:
        res = ctx.google().get(f"{base}/{coll}/fields/expires_at", timeout=ctx.wait())
        state = ((res.json().get("ttlConfig") or {}).get("state") if res.status_code == 200 else None)
        out.append(ok(f"ttl {coll}", "active") if state == "ACTIVE" else
                   fail(f"ttl {coll}", f"the TTL policy on {coll}.expires_at is {state or 'missing'}: run terraform apply "
                                       "in infra/ (google_firestore_field.ttl); records would never be deleted"))
    return out


def _public_url(ctx: Context, name: str, variable: str, function: str, step: str, path: str = "") -> Result:
    """``variable`` is set and the function behind it answers (anything but 404 or 5xx)."""
    import requests

    base = ctx.environ.get(variable, "").strip()
    output = f"{function}_base_url" if function in ("actions", "events") else f"{function}_url"
    if not base:
        return fail(name, f"{variable} is not set: put `terraform output {output}` into `settings` and run terraform apply "
                          f"(README, Deploy, step {step}); mails with its links are held until then")
    url = base.rstrip("/") + path if path else base
    try:
        res = requests.get(url, timeout=ctx.wait(), allow_redirects=False)
    except requests.RequestException as exc:
        return fail(name, f"{url} does not answer ({type(exc).__name__}): check {variable} against `terraform output {output}`")
    if res.status_code >= 500 or res.status_code == 404:
        return fail(name, f"{url} answered HTTP {res.status_code}: {variable} is not the {function} function's URL, or that "
                          f"function is broken (gcloud functions logs read {function.replace('_', '-')})")
    return ok(name, f"{url} answers (HTTP {res.status_code})")


@check("action links")
def actions_base_url(ctx: Context) -> list[Result]:
    return [_public_url(ctx, "action links", env.ACTIONS_BASE_URL, "actions", "7")]


def _deployed(function: str) -> bool:
    from tools import infra_check

    return function in infra_check.catalogue(ROOT)


@check("events pages")
def events_base_url(ctx: Context) -> list[Result]:
    if not _deployed("events"):
        return []
    return [_public_url(ctx, "events pages", env.EVENTS_BASE_URL, "events", "7")]


_OAUTH_CLIENT_ID = re.compile(r"[0-9]+-[0-9a-z]+\.apps\.googleusercontent\.com")


@check("console")
def console_settings(ctx: Context) -> list[Result]:
    if not _deployed("console"):
        return []
    out = [_public_url(ctx, "console", env.CONSOLE_URL, "console", "11")]
    client_id = ctx.environ.get(env.CONSOLE_OAUTH_CLIENT_ID, "").strip()
    if not client_id:
        out.append(ok("console sign-in", f"by mail links only ({env.CONSOLE_OAUTH_CLIENT_ID} is not set; README, Deploy, "
                                         "step 12 adds Sign in with Google)"))
    elif not _OAUTH_CLIENT_ID.fullmatch(client_id):
        out.append(fail("console sign-in", f"{env.CONSOLE_OAUTH_CLIENT_ID} is not an OAuth client id "
                                           "(NUMBER-xxxx.apps.googleusercontent.com): copy the Client ID of your "
                                           "\"Web application\" client (README, Deploy, step 12)"))
    else:
        out.append(ok("console sign-in", f"Sign in with Google with client {client_id.split('-')[0]}-..."))
    return out


# ---------------------------------------------------------------------------------------------- Zoom

# What the code calls (docs/provisioning.md): create, update and delete meetings, list a host's
# upcoming ones, read one, and read users (this check). Zoom's token answer names the app's scopes.
# Apps made before Zoom's granular scopes have the classic ones; every Server-to-Server app made
# since has granular ones (one per call): either set covers a need.
# classic scope -> the granular ones that cover the same calls
ZOOM_GRANULAR = {
    "meeting:write:admin": ("meeting:write:meeting:admin", "meeting:update:meeting:admin", "meeting:delete:meeting:admin"),
    "meeting:read:admin": ("meeting:read:list_meetings:admin", "meeting:read:meeting:admin"),
    "user:read:admin": ("user:read:user:admin",),
}


def zoom_scopes_missing(granted: set[str]) -> list[str]:
    """The scopes to add, in the app's own kind (granular when it has any granular scope)."""
    granular = any(s.count(":") >= 3 for s in granted)
    missing: list[str] = []
    for classic, fine in ZOOM_GRANULAR.items():
        if classic in granted or all(g in granted for g in fine):
            continue
        missing += [g for g in fine if g not in granted] if granular else [classic]
    return missing
ZOOM_USER_TYPES = {1: "Basic", 2: "Licensed"}  # GET /users/{userId} ``type``


def _zoom_secret(ctx: Context) -> str:
    """ZOOM_CLIENT_SECRET from here, else the latest version in Secret Manager (secretAccessor)."""
    import base64

    if ctx.environ.get(env.ZOOM_CLIENT_SECRET):
        return ctx.environ[env.ZOOM_CLIENT_SECRET]
    url = f"{ctx.secretmanager}/v1/projects/{ctx.project}/secrets/{env.ZOOM_CLIENT_SECRET}/versions/latest:access"
    res = ctx.google().get(url, timeout=ctx.wait())
    if res.status_code != 200:
        return ""
    return base64.b64decode(res.json()["payload"]["data"]).decode()


@check("zoom")
def zoom_app_and_hosts(ctx: Context) -> list[Result]:
    """The app's token, with the scopes the code needs; each configured host a user of that
    account with the licence the config claims (Basic users' meetings end after 40 minutes)."""
    from urllib.parse import quote

    import requests

    from shared.adapters import zoom

    cfg = ctx.config
    hosts = [(key, o.zoom) for key, o in cfg.organizers.items() if o.zoom is not None]
    if cfg.provisioning.delivery == "outbox" or not hosts:
        return [ok("zoom", "not used (provisioning.delivery is outbox, or no organizer has a zoom account)")]
    account, client = ctx.environ.get(env.ZOOM_ACCOUNT_ID, ""), ctx.environ.get(env.ZOOM_CLIENT_ID, "")
    if not (account and client):
        return [fail("zoom", f"{env.ZOOM_ACCOUNT_ID} and {env.ZOOM_CLIENT_ID} are not set here: export the values of "
                             "`settings` in terraform.tfvars and run doctor again")]
    secret = _zoom_secret(ctx)
    if not secret:
        return [fail("zoom", f"{env.ZOOM_CLIENT_SECRET} could not be read: grant your account "
                             "roles/secretmanager.secretAccessor on it, or export it here, and run doctor again")]
    token_url = ctx.environ.get(env.ZOOM_OAUTH_TOKEN_URL) or zoom.DEFAULT_TOKEN_URL
    api = (ctx.environ.get(env.ZOOM_API_BASE_URL) or zoom.DEFAULT_API_BASE).rstrip("/")
    try:
        res = requests.post(token_url, params={"grant_type": "account_credentials", "account_id": account},
                            auth=(client, secret), timeout=ctx.wait())
    except requests.RequestException as exc:
        return [fail("zoom token", f"Zoom's token endpoint does not answer ({type(exc).__name__}): try again later")]
    if res.status_code != 200:
        reason = str((res.json() if res.headers.get("content-type", "").startswith("application/json") else {})
                     .get("error") or f"HTTP {res.status_code}")
        return [fail("zoom token", f"Zoom refused the app's credentials ({reason}): copy Account ID, Client ID and Client "
                                   "Secret again from the Server-to-Server OAuth app's App credentials page, and check "
                                   "that the app is activated (README, Deploy, step 4)")]
    body = res.json()
    granted = set(str(body.get("scope") or "").split())
    missing = zoom_scopes_missing(granted)
    out = [fail("zoom token", f"the app lacks the scope(s) {' '.join(missing)}: add them on the app's Scopes page and "
                              "activate it again (docs/provisioning.md)") if missing
           else ok("zoom token", "Server-to-Server OAuth token with the scopes the code needs")]
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    for key, account_of in hosts:
        name, user = f"zoom host {key}", str(account_of.user)
        try:
            got = requests.get(f"{api}/users/{quote(user, safe='')}", headers=headers, timeout=ctx.wait())
        except requests.RequestException as exc:
            out.append(fail(name, f"Zoom does not answer ({type(exc).__name__}): try again later"))
            continue
        if got.status_code == 404:
            out.append(fail(name, f"{user} is not a user of this Zoom account: add them under Zoom's User Management, "
                                  f"or correct organizers.{key}.zoom.user"))
            continue
        if got.status_code != 200:
            out.append(fail(name, f"Zoom answered HTTP {got.status_code} for {user}: the app needs user:read:admin "
                                  "(docs/provisioning.md)"))
            continue
        kind = int(got.json().get("type") or 0)
        claimed = account_of.licence
        if kind == 1 and claimed != "basic":
            out.append(fail(name, f"{user} is a Basic (free) user but the config says {claimed}: assign a licence in Zoom "
                                  f"(User Management > Users > Edit), or set organizers.{key}.zoom.licence: basic "
                                  "(meetings then end after 40 minutes)"))
        elif kind == 2 and claimed == "basic":
            out.append(ok(name, f"{user} is licensed (the config says basic: set licence: pro to plan meetings longer "
                                "than 40 minutes)"))
        elif kind in ZOOM_USER_TYPES:
            out.append(ok(name, f"{user} is a {ZOOM_USER_TYPES[kind]} user, as the config says ({claimed})"))
        else:
            out.append(fail(name, f"{user} has Zoom user type {kind}, which cannot host meetings made by the API: "
                                  "give them a Basic or Licensed seat"))
    return out


# ------------------------------------------------------------------------------------ Cloud Scheduler

TICK_JOB = "autopilot-tick"  # infra/main.tf google_cloud_scheduler_job.tick


def _region(ctx: Context) -> str:
    if ctx.region:
        return ctx.region
    from tools import infra_check

    default = (infra_check.load_infra(ROOT / "infra").variables.get("region") or {}).get("default")
    return ctx.environ.get(env.GOOGLE_CLOUD_REGION) or str(default or "asia-northeast1")


@check("scheduler")
def scheduler_and_dispatcher(ctx: Context) -> list[Result]:
    """The one Scheduler job is there and enabled, calls with an OIDC token, and its target (the
    dispatcher) answers, refusing a caller without a token as a private function must."""
    import requests

    region = _region(ctx)
    url = f"{ctx.scheduler}/v1/projects/{ctx.project}/locations/{region}/jobs/{TICK_JOB}"
    res = ctx.google().get(url, timeout=ctx.wait())
    if res.status_code == 404:
        return [fail("scheduler job", f"there is no job {TICK_JOB} in {region}: run terraform apply in infra/ (or set "
                                      f"{env.GOOGLE_CLOUD_REGION} to the region of terraform.tfvars)")]
    if res.status_code != 200:
        return [fail("scheduler job", f"Cloud Scheduler answered HTTP {res.status_code}: your account needs "
                                      "roles/cloudscheduler.viewer on the project")]
    job = res.json()
    target = job.get("httpTarget") or {}
    uri = str(target.get("uri") or "")
    if job.get("state") != "ENABLED":
        return [fail("scheduler job", f"{TICK_JOB} is {job.get('state') or 'in no state'}: nothing runs; "
                                      f"gcloud scheduler jobs resume {TICK_JOB} --location {region}")]
    if not uri or not target.get("oidcToken"):
        return [fail("scheduler job", f"{TICK_JOB} does not call the dispatcher with an OIDC token: run terraform apply "
                                      "in infra/ (google_cloud_scheduler_job.tick)")]
    out = [ok("scheduler job", f"{TICK_JOB} is enabled in {region} ({job.get('schedule', '')})")]
    try:
        answer = requests.get(uri, timeout=ctx.wait(), allow_redirects=False)
    except requests.RequestException as exc:
        out.append(fail("dispatcher", f"{uri} does not answer ({type(exc).__name__}): is cron_dispatch deployed? "
                                      "(terraform apply; gcloud functions describe cron-dispatch)"))
        return out
    if answer.status_code in (401, 403):
        out.append(ok("dispatcher", f"cron_dispatch answers and refuses a caller without the Scheduler's token "
                                    f"(HTTP {answer.status_code})"))
    elif answer.status_code < 400:
        out.append(fail("dispatcher", f"cron_dispatch answered HTTP {answer.status_code} to a caller without a token: "
                                      "anyone could start the runs; it must be private (terraform apply in infra/)"))
    else:
        out.append(fail("dispatcher", f"{uri} answered HTTP {answer.status_code}: the job's target is not cron_dispatch, "
                                      "or it is broken (gcloud functions logs read cron-dispatch)"))
    return out


@check("mail")
def mails_waiting(ctx: Context) -> list[Result]:
    from shared import bootstrap

    store = bootstrap.doc_store()
    counts = {status: store.count("mail_intents", [("status", "==", status)]) for status in ("stuck", "failed", "held")}
    out = []
    if counts["stuck"] or counts["failed"]:
        out.append(fail("mail", f"{counts['stuck']} stuck and {counts['failed']} failed mail intent(s): the organizer digest "
                                "lists them with the provider's reason; fix that reason, then resend or drop them "
                                "(docs/applications.md)"))
    if counts["held"]:
        waiting = sorted({str(v) for m in store.query("mail_intents", [("status", "==", "held")], limit=50)
                          for v in m.get("waiting_for") or ()}) or [env.ACTIONS_BASE_URL]
        out.append(fail("mail held", f"{counts['held']} mail(s) held because {' and '.join(waiting)} is not set where they "
                                     "were sent: set it in `settings` (" + ", ".join(f"`terraform output {v.lower()}`" for v in waiting) + ") and "
                                     "run terraform apply; "
                                     "the next hourly run sends each one once (docs/applications.md, \"Held mail\")"))
    return out or [ok("mail", "no mail stuck, failed or held")]
