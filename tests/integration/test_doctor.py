"""``autopilot doctor`` against the local fakes: Google's token endpoint and IAM Credentials
(tests/fakes/google_identity.py), Secret Manager and the Firestore admin API (tests/fakes/google_cloud.py),
Calendar, Forms, an actions URL and the Firestore emulator. A healthy deployment is all ok (exit 0);
each failure mode gives its own FAIL line with the fix (exit 1)."""

from __future__ import annotations

import io
import re
from contextlib import ExitStack

import pytest

from shared import bootstrap
from shared.adapters import google_auth
from shared.entrypoints import doctor
from tests.fakes.gmail import FakeGmail
from tests.fakes.google_calendar import FakeCalendar
from tests.fakes.google_cloud import FakeGoogleCloud
from tests.fakes.google_forms import FakeForms
from tests.fakes.http_server import FakeServer, JsonHandler
from tests.fakes.zoom import FakeZoom
from tools import infra_check

OPERATOR = "operator@demo-alumni.iam.gserviceaccount.com"  # the person's credentials (here a key) running doctor


class Actions(FakeServer):
    status = 400  # the actions function answers a bare GET with "no link": it is there

    def _handler(self) -> type[JsonHandler]:
        fake = self

        class Handler(JsonHandler):
            def _do(self, method: str) -> None:
                self._send(fake.status, {"error": "the link is incomplete"})

        return Handler


@pytest.fixture
def deployment(project, example_config, tmp_path, monkeypatch):
    with ExitStack() as stack:
        gmail = stack.enter_context(FakeGmail())
        identity = gmail.identity
        cal = stack.enter_context(FakeCalendar(identity=identity))
        cfg = bootstrap.config()
        forms = stack.enter_context(FakeForms(cfg.applications.form_id, {"q1": "お名前"},
                                              also=(cfg.people.speakers.form.form_id,)))
        cloud = stack.enter_context(FakeGoogleCloud(identity, project))
        actions = stack.enter_context(Actions())
        console, events, dispatcher = (stack.enter_context(Actions()) for _ in range(3))
        console.status, events.status, dispatcher.status = 200, 200, 403  # the dispatcher is private
        hosts = [str(o.zoom.user) for o in cfg.organizers.values() if o.zoom]
        zoom = stack.enter_context(FakeZoom(users=tuple(hosts)))
        for name, value in zoom.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CONSOLE_URL", console.base)
        monkeypatch.setenv("CONSOLE_OAUTH_CLIENT_ID", "123456789012-abcdefghij0123456789klmnopqrstuv.apps.googleusercontent.com")
        monkeypatch.setenv("EVENTS_BASE_URL", events.base)
        monkeypatch.delenv("GOOGLE_CLOUD_REGION", raising=False)
        cloud.jobs[f"locations/asia-northeast1/jobs/{doctor.TICK_JOB}"] = {
            "state": "ENABLED", "schedule": "*/5 * * * *", "timeZone": "Asia/Tokyo",
            "httpTarget": {"uri": dispatcher.base + "/", "httpMethod": "POST",
                           "oidcToken": {"serviceAccountEmail": f"autopilot-scheduler@{project}.iam.gserviceaccount.com"}}}
        for name, value in gmail.workspace_env(tmp_path, OPERATOR).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("GOOGLE_API_CREDENTIALS", raising=False)
        monkeypatch.setenv("MAIL_FROM", "運営 <organizers@example.jp>")
        monkeypatch.setenv("CALENDAR_API_ENDPOINT", cal.endpoint)
        monkeypatch.setenv("FORMS_API_ENDPOINT", forms.url)
        monkeypatch.setenv("ACTIONS_BASE_URL", actions.base + "/")
        accounts = {doctor.service_account(doctor.Context({}, project), fn)
                    for users in doctor.GOOGLE_USERS.values() for fn in users}
        identity.token_creators = {a: {OPERATOR} for a in accounts}  # the person may act as each account
        identity.delegation = {a: set(google_auth.ALL_SCOPES) for a in accounts}
        cloud.secrets = {name: 1 for name in doctor.REQUIRED_SECRETS}
        cloud.index("applications", [("status", "ASCENDING"), ("received_at", "ASCENDING")])
        # every TTL policy infra declares (the console and the front door added theirs)
        cloud.ttl = {c: "ACTIVE" for c in infra_check.load_infra(doctor.ROOT / "infra").locals["ttl_collections"]}
        yield {"identity": identity, "cal": cal, "cloud": cloud, "actions": actions, "project": project, "forms": forms,
               "zoom": zoom, "console": console, "events": events, "dispatcher": dispatcher, "hosts": hosts}


def run(d, *checks: str) -> tuple[int, list[str]]:
    import os

    ctx = doctor.Context(os.environ, d["project"], secretmanager=d["cloud"].base, firestore_admin=d["cloud"].base,
                         scheduler=d["cloud"].base, timeout=10)
    out = io.StringIO()
    code = doctor.main(list(checks), ctx=ctx, out=out)
    return code, out.getvalue().splitlines()


def fails(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("FAIL")]


def test_a_healthy_deployment_is_all_ok(deployment):
    code, lines = run(deployment)
    assert code == 0, "\n".join(lines)
    assert fails(lines) == [] and re.fullmatch(r"doctor: \d+ ok, 0 FAIL in \d+\.\d s", lines[-1]), lines[-1]
    names = {line.split(":")[0][6:] for line in lines[:-1]}
    assert {"secret ACTION_LINK_KEY", "google gmail as form_webhook", "google forms as poll_form_responses", "calendar",
            "applications.form_id", "index applications(status, received_at)", "ttl claims", "action links", "mail",
            "zoom token", "zoom host tanaka", "zoom host suzuki", "scheduler job", "dispatcher", "console",
            "console sign-in", "events pages"} <= names
    assert [e["status"] for e in deployment["cal"].events.values()] == ["cancelled"]  # the probe was deleted again


def test_a_slow_service_cannot_keep_doctor_past_its_minute(deployment):
    """Each request's timeout is cut to what is left of the run's budget, and the checks a slow answer
    left no time for are reported as not checked (with how to run each alone), not silently dropped."""
    import os

    now = [0.0]
    ctx = doctor.Context(os.environ, deployment["project"], secretmanager=deployment["cloud"].base,
                         firestore_admin=deployment["cloud"].base, scheduler=deployment["cloud"].base,
                         timeout=10, clock=lambda: now[0])
    assert ctx.wait() == 10 and ctx.left() == 55
    now[0] = 50.0
    assert ctx.wait() == 5  # the next request may wait only for what is left
    order = [name for name, _ in doctor.CHECKS]
    ran: list[str] = []
    original = list(doctor.CHECKS)

    def slow(name, fn):
        def check(c):
            ran.append(name)
            now[0] = 60.0  # this one answered late: the minute is gone
            return fn(c)
        return check
    try:
        doctor.CHECKS[:] = [(n, slow(n, f)) for n, f in original]
        now[0] = 0.0
        ctx.started = None
        out = io.StringIO()
        assert doctor.main([], ctx=ctx, out=out) == 1
    finally:
        doctor.CHECKS[:] = original
    lines = out.getvalue().splitlines()
    assert ran == order[:1]
    skipped = [line for line in lines if "not checked: the run's 55 s were used up" in line]
    assert len(skipped) == len(order) - 1 and f"`autopilot doctor {order[1]}` on its own" in skipped[0]


def test_each_failure_gives_its_own_fix(deployment, db):
    cloud, identity = deployment["cloud"], deployment["identity"]
    del cloud.secrets["ZOOM_WEBHOOK_SECRET"]
    cloud.secrets["ACTION_LINK_KEY"] = 0
    poller = doctor.service_account(doctor.Context({}, deployment["project"]), "poll_form_responses")
    identity.delegation[poller] = set(google_auth.SCOPES["gmail"])  # its forms scopes were never authorised
    cloud.indexes[0]["state"] = "CREATING"
    cloud.ttl.pop("claims")
    deployment["actions"].status = 404
    db.collection("mail_intents").document("x").set({"status": "stuck", "intent": "application:a:review"})
    db.collection("mail_intents").document("y").set({"status": "held", "intent": "application:b:review",
                                                     "waiting_for": ["ACTIONS_BASE_URL"]})
    code, lines = run(deployment)
    assert code == 1
    text = "\n".join(fails(lines))
    assert "FAIL  secret ZOOM_WEBHOOK_SECRET: the secret does not exist: run terraform apply" in text
    assert "FAIL  secret ACTION_LINK_KEY: no enabled version: printf %s 'VALUE' | gcloud secrets versions add ACTION_LINK_KEY" in text
    assert "FAIL  google forms as poll_form_responses: Google refused the delegated token" in text
    assert "Domain-wide delegation, authorise the client id of " + poller in text
    assert "google gmail as poll_form_responses" not in text  # its gmail scopes are fine
    assert "FAIL  index applications(status, received_at): is CREATING: Firestore is still building it" in text
    assert "FAIL  ttl claims: the TTL policy on claims.expires_at is missing: run terraform apply" in text
    assert "FAIL  action links: " in text and "answered HTTP 404" in text
    assert "FAIL  mail: 1 stuck and 0 failed mail intent(s)" in text
    assert "FAIL  mail held: 1 mail(s) held because ACTIONS_BASE_URL is not set where they were sent: set it in " \
           "`settings` (`terraform output actions_base_url`)" in text


def test_without_the_right_to_act_as_the_functions_accounts(deployment):
    deployment["identity"].token_creators = {}
    code, lines = run(deployment, "google credentials", "calendar")
    assert code == 1
    assert all("PERMISSION_DENIED" in line and "roles/iam.serviceAccountTokenCreator" in line for line in fails(lines)), fails(lines)
    assert len(fails(lines)) == sum(len(v) for k, v in doctor.GOOGLE_USERS.items() if k != "calendar") + 1


def test_a_calendar_the_function_may_not_write(deployment):
    deployment["cal"].fail("POST", "/events", 403, body={"error": {"code": 403, "message": "Forbidden",
                                                                   "errors": [{"reason": "requiredAccessLevel"}]}})
    code, lines = run(deployment, "calendar")
    assert code == 1 and "share the calendar with that account" in fails(lines)[0]


def test_an_unknown_form_id(deployment, monkeypatch):
    deployment["forms"].known.discard(bootstrap.config().people.speakers.form.form_id)
    code, lines = run(deployment, "forms")
    assert code == 1
    (line,) = fails(lines)
    assert line.startswith("FAIL  people.speakers.form.form_id: the Forms API answered HTTP 404") and "edit URL" in line


def test_action_links_not_set_or_not_answering(deployment, monkeypatch):
    monkeypatch.delenv("ACTIONS_BASE_URL")
    assert "ACTIONS_BASE_URL is not set: put `terraform output actions_base_url`" in fails(run(deployment, "action links")[1])[0]
    monkeypatch.setenv("ACTIONS_BASE_URL", "http://127.0.0.1:9/")
    assert "does not answer" in fails(run(deployment, "action links")[1])[0]


def test_checks_are_a_registry_others_extend(deployment):
    @doctor.check("console session key")
    def session_key(ctx: doctor.Context) -> list[doctor.Result]:
        return [doctor.fail("console session key", "not set: add it")]

    try:
        code, lines = run(deployment, "console session key")
        assert (code, lines[0]) == (1, "FAIL  console session key: not set: add it")
    finally:
        doctor.CHECKS.pop()


def test_doctor_without_a_project_says_what_to_set(monkeypatch):
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    out = io.StringIO()
    assert doctor.main([], out=out) == 1 and "GOOGLE_CLOUD_PROJECT is not set" in out.getvalue()


def test_zoom_each_failure_gives_its_own_fix(deployment, monkeypatch):
    """GET /users/{userId}: 404 (code 1001) for a user not on the account; ``type`` 1 Basic, 2 Licensed."""
    zoom, (tanaka, suzuki) = deployment["zoom"], deployment["hosts"][:2]
    zoom.users.discard(suzuki)
    zoom.user_types[tanaka] = 1  # the config says pro
    zoom.scopes = "meeting:write:admin meeting:read:admin"
    code, lines = run(deployment, "zoom")
    text = "\n".join(fails(lines))
    assert code == 1
    assert "FAIL  zoom token: the app lacks the scope(s) user:read:admin: add them on the app's Scopes page" in text
    assert f"FAIL  zoom host tanaka: {tanaka} is a Basic (free) user but the config says pro: assign a licence" in text
    assert f"FAIL  zoom host suzuki: {suzuki} is not a user of this Zoom account: add them under Zoom's User Management" in text

    monkeypatch.setenv("ZOOM_CLIENT_SECRET", "wrong")
    code, lines = run(deployment, "zoom")
    assert fails(lines) == ["FAIL  zoom token: Zoom refused the app's credentials (invalid_client): copy Account ID, "
                            "Client ID and Client Secret again from the Server-to-Server OAuth app's App credentials "
                            "page, and check that the app is activated (README, Deploy, step 4)"]

    from tests.fakes import zoom as zoom_fake

    monkeypatch.delenv("ZOOM_CLIENT_SECRET")  # doctor reads it from Secret Manager then
    code, lines = run(deployment, "zoom")
    assert "FAIL  zoom: ZOOM_CLIENT_SECRET could not be read: grant your account roles/secretmanager.secretAccessor" in lines[0]
    deployment["cloud"].secret_values["ZOOM_CLIENT_SECRET"] = zoom_fake.CLIENT_SECRET
    zoom.users.add(suzuki)
    zoom.user_types[tanaka] = 2
    zoom.scopes += " user:read:admin"
    code, lines = run(deployment, "zoom")
    assert code == 0, lines


def test_zoom_granular_scopes_count_as_the_classic_ones(deployment):
    """Every Server-to-Server app made since Zoom introduced granular scopes has those, one per call
    (developers.zoom.us, "OAuth scopes"): an app with exactly what our calls need is ok, and a
    missing one is named in the app's own kind."""
    zoom = deployment["zoom"]
    needed = ["meeting:write:meeting:admin", "meeting:update:meeting:admin", "meeting:delete:meeting:admin",
              "meeting:read:list_meetings:admin", "meeting:read:meeting:admin", "user:read:user:admin"]
    zoom.scopes = " ".join(needed)
    code, lines = run(deployment, "zoom")
    assert code == 0, lines
    zoom.scopes = " ".join(n for n in needed if n != "meeting:delete:meeting:admin")
    code, lines = run(deployment, "zoom")
    assert code == 1 and "FAIL  zoom token: the app lacks the scope(s) meeting:delete:meeting:admin: add them" \
        in "\n".join(fails(lines)), lines


@pytest.mark.parametrize("mode", ["missing", "paused", "no_oidc", "public_dispatcher", "no_dispatcher", "elsewhere"])
def test_scheduler_each_failure_gives_its_own_fix(deployment, monkeypatch, mode):
    job = deployment["cloud"].jobs[f"locations/asia-northeast1/jobs/{doctor.TICK_JOB}"]
    expected = {
        "missing": "FAIL  scheduler job: there is no job autopilot-tick in asia-northeast1: run terraform apply",
        "paused": "FAIL  scheduler job: autopilot-tick is PAUSED: nothing runs; gcloud scheduler jobs resume autopilot-tick",
        "no_oidc": "FAIL  scheduler job: autopilot-tick does not call the dispatcher with an OIDC token",
        "public_dispatcher": "FAIL  dispatcher: cron_dispatch answered HTTP 200 to a caller without a token",
        "no_dispatcher": "FAIL  dispatcher: ",
        "elsewhere": "FAIL  scheduler job: there is no job autopilot-tick in europe-west1",
    }[mode]
    also = ""
    if mode == "missing":
        deployment["cloud"].jobs.clear()
    elif mode == "paused":
        job["state"] = "PAUSED"
    elif mode == "no_oidc":
        del job["httpTarget"]["oidcToken"]
    elif mode == "public_dispatcher":
        deployment["dispatcher"].status = 200
    elif mode == "no_dispatcher":
        deployment["dispatcher"].status = 404
        also = "answered HTTP 404: the job's target is not cron_dispatch"
    else:
        monkeypatch.setenv("GOOGLE_CLOUD_REGION", "europe-west1")
    code, lines = run(deployment, "scheduler")
    assert code == 1 and len(fails(lines)) == 1 and fails(lines)[0].startswith(expected), lines
    assert also in fails(lines)[0]


@pytest.mark.parametrize("mode", ["no_console_url", "console_404", "bad_client_id", "no_events_url", "events_500"])
def test_console_and_events_settings_each_failure_gives_its_own_fix(deployment, monkeypatch, mode):
    expected = {
        "no_console_url": "FAIL  console: CONSOLE_URL is not set: put `terraform output console_url` into `settings`",
        "console_404": "FAIL  console: ",
        "bad_client_id": "FAIL  console sign-in: CONSOLE_OAUTH_CLIENT_ID is not an OAuth client id",
        "no_events_url": "FAIL  events pages: EVENTS_BASE_URL is not set: put `terraform output events_base_url`",
        "events_500": "FAIL  events pages: ",
    }[mode]
    also = ""
    if mode == "no_console_url":
        monkeypatch.delenv("CONSOLE_URL")
    elif mode == "console_404":
        deployment["console"].status = 404
        also = "answered HTTP 404: CONSOLE_URL is not the console function's URL"
    elif mode == "bad_client_id":
        monkeypatch.setenv("CONSOLE_OAUTH_CLIENT_ID", "GOCSPX-not-the-id")
    elif mode == "no_events_url":
        monkeypatch.delenv("EVENTS_BASE_URL")
    else:
        deployment["events"].status = 500
        also = "answered HTTP 500: EVENTS_BASE_URL is not the events function's URL"
    code, lines = run(deployment, "console", "events pages")
    assert code == 1 and len(fails(lines)) == 1 and fails(lines)[0].startswith(expected), lines
    assert also in fails(lines)[0]
