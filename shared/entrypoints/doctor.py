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
import sys
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
    timeout: float = 20.0
    session: Any = None  # an authorized requests session for the Google REST calls (your credentials)
    cache: dict[str, Any] = field(default_factory=dict)

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
    print(f"doctor: {len(results) - failed} ok, {failed} FAIL", file=out)
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
        res = ctx.google().get(url, params={"filter": "state:ENABLED"}, timeout=ctx.timeout)
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
    res = ctx.google().get(f"{base}/-/indexes", timeout=ctx.timeout)
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
        res = ctx.google().get(f"{base}/{coll}/fields/expires_at", timeout=ctx.timeout)
        state = ((res.json().get("ttlConfig") or {}).get("state") if res.status_code == 200 else None)
        out.append(ok(f"ttl {coll}", "active") if state == "ACTIVE" else
                   fail(f"ttl {coll}", f"the TTL policy on {coll}.expires_at is {state or 'missing'}: run terraform apply "
                                       "in infra/ (google_firestore_field.ttl); records would never be deleted"))
    return out


@check("action links")
def actions_base_url(ctx: Context) -> list[Result]:
    import requests

    base = ctx.environ.get(env.ACTIONS_BASE_URL, "")
    if not base:
        return [fail("action links", f"{env.ACTIONS_BASE_URL} is not set: put `terraform output actions_base_url` into "
                                     "`settings` and run terraform apply (README, Deploy, step 7); mails with links wait until then")]
    try:
        res = requests.get(base, timeout=ctx.timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return [fail("action links", f"{base} does not answer ({type(exc).__name__}): check the URL against "
                                     "`terraform output actions_base_url`")]
    if res.status_code >= 500 or res.status_code == 404:
        return [fail("action links", f"{base} answered HTTP {res.status_code}: it is not the actions function, or that "
                                     "function is broken (gcloud functions logs read actions)")]
    return [ok("action links", f"{base} answers (HTTP {res.status_code})")]


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
