"""Each credential story through its real token flow (google-auth, our delegation credentials),
against local fakes of Google's token endpoint and of IAM Credentials signJwt
(tests/fakes/google_identity.py), checking the scopes and the subject asked for.

The defects this guards against: the code asked for scopes the README's domain-wide delegation step
did not authorise (under delegation such a token request is refused, so no mail would go out), and
the calendar's ``delegated_subject`` called ``with_subject`` on the Cloud Functions runtime
credentials, which have no such method."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap

import pytest
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request

from shared.adapters import google_auth
from tests.conftest import ROOT
from tests.fakes.gmail import FakeGmail

RUNTIME_SA = "fn-form-webhook@demo-alumni.iam.gserviceaccount.com"
USER = "organizers@example.jp"
GMAIL, FORMS, CAL = google_auth.SCOPES["gmail"], google_auth.SCOPES["forms"], google_auth.SCOPES["calendar"]


@pytest.fixture
def google(tmp_path, monkeypatch):
    with FakeGmail() as fake:
        monkeypatch.delenv("GOOGLE_API_CREDENTIALS", raising=False)
        monkeypatch.delenv("GOOGLE_SERVICE_ACCOUNT", raising=False)
        for name, value in fake.workspace_env(tmp_path, RUNTIME_SA).items():
            monkeypatch.setenv(name, value)
        yield fake


def test_workspace_delegation_signs_as_the_runtime_account_with_exactly_the_apis_scopes(google):
    google.identity.delegation = {RUNTIME_SA: set(google_auth.ALL_SCOPES)}  # what the README authorises
    for api, scopes in (("gmail", GMAIL), ("forms", FORMS)):
        creds = google_auth.for_user(api, USER)
        creds.refresh(Request())
        assert creds.valid and creds.token in google.identity.tokens
        grant = google.identity.delegated()[-1]
        assert grant["sub"] == USER and grant["iss"] == RUNTIME_SA and grant["scope"] == list(scopes)
        assert grant["aud"] == "https://oauth2.googleapis.com/token" and grant["exp"] - grant["iat"] <= 3600
    assert {c["principal"] for c in google.identity.signed} == {RUNTIME_SA}  # signed as itself, no key file
    assert all(c["caller"] == RUNTIME_SA for c in google.identity.signed)


def test_a_scope_the_admin_did_not_authorise_is_refused_with_the_fix(google):
    google.identity.delegation = {RUNTIME_SA: {google_auth.GMAIL_SEND, *FORMS}}  # the old README: no gmail.readonly
    with pytest.raises(RefreshError) as err:
        google_auth.for_user("gmail", USER).refresh(Request())
    message = str(err.value)
    assert "unauthorized_client" in message and "Domain-wide delegation" in message and RUNTIME_SA in message
    google_auth.for_user("forms", USER).refresh(Request())  # forms' scopes are authorised: it works


def test_without_the_token_creator_role_on_itself_signjwt_is_refused_with_the_fix(google):
    google.identity.self_signing = False
    with pytest.raises(RefreshError) as err:
        google_auth.for_user("gmail", USER).refresh(Request())
    assert "PERMISSION_DENIED" in str(err.value) and "roles/iam.serviceAccountTokenCreator" in str(err.value)
    assert google.identity.delegated() == []


def test_a_person_running_the_doctor_names_the_account_to_sign_as(google, monkeypatch):
    google.identity.token_creators = {"fn-poll-form-responses@demo-alumni.iam.gserviceaccount.com": {RUNTIME_SA}}
    monkeypatch.setenv("GOOGLE_SERVICE_ACCOUNT", "fn-poll-form-responses@demo-alumni.iam.gserviceaccount.com")
    google_auth.for_user("forms", USER).refresh(Request())
    assert google.identity.signed[-1]["principal"] == "fn-poll-form-responses@demo-alumni.iam.gserviceaccount.com"
    assert google.identity.delegated()[-1]["iss"] == "fn-poll-form-responses@demo-alumni.iam.gserviceaccount.com"


def test_consumer_gmail_refreshes_the_token_with_the_apis_scopes(google, tmp_path, monkeypatch):
    for name, value in google.oauth_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    assert google_auth.kind() == "oauth"
    for api, scopes in (("gmail", GMAIL), ("forms", FORMS)):
        creds = google_auth.for_user(api, USER)
        creds.refresh(Request())
        assert creds.valid and creds.token in google.identity.tokens
        assert google.identity.grants[-1] == {"grant": "refresh_token", "client_id": "1234.apps.googleusercontent.com",
                                              "scope": list(scopes)}
    assert google.identity.signed == []  # no delegation in this story
    google.identity.refresh_tokens.clear()  # revoked, or the consent screen left in "Testing" for 7 days
    with pytest.raises(RefreshError, match="invalid_grant"):
        google_auth.for_user("gmail", USER).refresh(Request())


def test_a_service_account_key_is_not_a_credential_story(tmp_path, monkeypatch):
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "client_email": "x@y.iam.gserviceaccount.com"}))
    monkeypatch.setenv("GOOGLE_API_CREDENTIALS", str(key))
    with pytest.raises(google_auth.CredentialsProblem, match=r"authorized_user JSON .* leave it out"):
        google_auth.for_user("gmail", USER)


CALENDAR_ON_CLOUD_FUNCTIONS = textwrap.dedent("""
    import datetime as dt, json, sys
    from shared.adapters.google_calendar import GoogleCalendar
    from shared.ports import CalendarEvent
    cal = GoogleCalendar("community@example.jp", endpoint=sys.argv[1], delegated_subject="events@example.jp")
    start = dt.datetime(2027, 1, 12, 11, tzinfo=dt.UTC)
    cal.insert(CalendarEvent(event_id="probe0000", title="t", start=start, end=start + dt.timedelta(hours=1),
                             timezone="Asia/Tokyo", description="", location="", status="confirmed"), "none")
    print(json.dumps({"ok": True}))
""")


def test_the_calendar_acts_for_its_delegated_subject_on_the_runtimes_own_credentials(tmp_path):
    """As on Cloud Functions: no key file, google.auth.default() finds the metadata server (compute
    credentials, which have no with_subject); the delegation is signed through signJwt."""
    from tests.fakes.google_calendar import FakeCalendar
    from tests.helpers.oidc import MetadataServer, make_key

    sa = "fn-provision-events@demo-alumni.iam.gserviceaccount.com"
    with FakeCalendar() as cal, MetadataServer(make_key("k1"), sa, identity=cal.identity) as metadata:
        cal.identity.delegation = {sa: set(google_auth.ALL_SCOPES)}
        env = {k: v for k, v in os.environ.items() if k not in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_API_CREDENTIALS")}
        env.update(metadata.env(), PYTHONPATH=str(ROOT), IAM_CREDENTIALS_ENDPOINT=cal.base,
                   GOOGLE_OAUTH_TOKEN_URL=cal.token_uri, GOOGLE_CLOUD_PROJECT="demo-alumni")
        proc = subprocess.run([sys.executable, "-c", CALENDAR_ON_CLOUD_FUNCTIONS, cal.endpoint], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert cal.event("probe0000") is not None
        (grant,) = cal.identity.delegated()
        assert grant["sub"] == "events@example.jp" and grant["iss"] == sa and grant["scope"] == list(CAL)
        assert cal.identity.signed[0]["caller"] == sa  # the metadata server's token, the function's own account


def test_the_readme_lists_exactly_the_scopes_the_code_requests():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("5. **Google credentials"):readme.index("6. **Secrets")]
    workspace = section[section.index("*Google Workspace"):section.index("*Consumer Gmail")]
    consumer = section[section.index("*Consumer Gmail"):]
    import re

    found = lambda text: tuple(re.findall(r"https://www\.googleapis\.com/auth/[a-z.]+", text))  # noqa: E731
    assert found(workspace) == google_auth.ALL_SCOPES
    assert found(consumer) == google_auth.OAUTH_SCOPES
    assert dt.timedelta(seconds=google_auth.LIFETIME) <= dt.timedelta(hours=1)
