"""The console's sign-in (docs/console.md): Google's ID token verified with google-auth (audience,
signature, expiry, issuer, verified address, the double-submit g_csrf_token), the link by mail
(one per 10 minutes, single use, short-lived, outbox delivery), sessions (signed, expiring,
revocable), and the refusals: each refused request writes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import functions_framework
import pytest

from tests.conftest import ROOT
from tests.fakes.mailbox import mails
from tests.helpers import console as c
from tests.helpers import oidc

SOURCE = str(ROOT / "functions/console/main.py")


@pytest.fixture(scope="module")
def keys() -> dict[str, oidc.KeyPair]:
    return {"google": oidc.make_key("k-google"), "forger": oidc.make_key("k-google")}


@pytest.fixture(scope="module")
def certs(keys: dict[str, oidc.KeyPair]) -> Iterator[oidc.CertsServer]:
    with oidc.certs_server(keys["google"]) as server:
        yield server


@pytest.fixture
def app(project, outbox, example_config, certs, monkeypatch):  # type: ignore[no-untyped-def]
    for name, value in c.environment(certs.url, "https://console.example.test/").items():
        monkeypatch.setenv(name, value)
    return functions_framework.create_app("console", SOURCE).test_client()


def sessions(db: Any) -> list[dict[str, Any]]:
    return [d.to_dict() for d in db.collection("console_sessions").stream()]


def test_an_organizer_signs_in_with_google_and_gets_a_session_cookie(app, db, keys, certs):
    assert app.get("/").status_code == 303  # not signed in: to the sign-in page
    page = app.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-client_id="' + c.CLIENT_ID + '"' in html
    assert 'data-login_uri="https://console.example.test/login/google"' in html and 'data-ux_mode="redirect"' in html
    assert "script-src 'self'" not in page.headers["Content-Security-Policy"]
    assert "script-src https://accounts.google.com/gsi/client" in page.headers["Content-Security-Policy"]

    res = c.sign_in(app, keys["google"])
    assert res.headers["Location"] == "/"
    cookie = next(h for h in res.headers.getlist("Set-Cookie") if h.startswith(c.SESSION_COOKIE + "="))
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert certs.fetches >= 1  # the key really came from the certs endpoint
    assert [s["person_id"] for s in sessions(db)] == ["tanaka"]
    today = app.get("/")
    assert today.status_code == 200 and "田中　太郎" in today.get_data(as_text=True)
    assert today.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("case", ["no_cookie", "csrf_mismatch", "wrong_audience", "forged", "expired", "unverified",
                                  "member_not_organizer", "wrong_issuer", "garbage"])
def test_google_sign_in_refusals_store_nothing(app, db, keys, case):
    form = c.google_form(keys["google"], c.ORGANIZER)
    if case != "no_cookie":
        app.set_cookie("g_csrf_token", "gcsrf-0123456789" if case != "csrf_mismatch" else "another-value")
    if case == "wrong_audience":
        form = c.google_form(keys["google"], c.ORGANIZER, audience="someone-else.apps.googleusercontent.com")
    elif case == "forged":
        form = c.google_form(keys["forger"], c.ORGANIZER)  # same kid, another key
    elif case == "expired":
        form = c.google_form(keys["google"], c.ORGANIZER, issued=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    elif case == "unverified":
        form = c.google_form(keys["google"], c.ORGANIZER, email_verified=False)
    elif case == "member_not_organizer":
        db.collection("members").document("m1").set({"name": "会員　一郎", "email": "member@example.com"})
        form = c.google_form(keys["google"], "member@example.com")
    elif case == "wrong_issuer":
        form = c.google_form(keys["google"], c.ORGANIZER, issuer="https://evil.example")
    elif case == "garbage":
        form = {"credential": "x.y.z", "g_csrf_token": "gcsrf-0123456789"}
    res = app.post("/login/google", data=form)
    assert res.status_code == 403, case
    assert sessions(db) == [] and not any(h.startswith(c.SESSION_COOKIE + "=") for h in res.headers.getlist("Set-Cookie"))
    assert app.get("/").status_code == 303


def test_forged_tampered_expired_and_signed_out_sessions_are_no_sessions(app, db, keys):
    c.sign_in(app, keys["google"])
    cookie = app.get_cookie(c.SESSION_COOKIE).value
    assert app.get("/").status_code == 200

    app.set_cookie(c.SESSION_COOKIE, cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB"))
    assert app.get("/").status_code == 303  # tampered signature
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer(b"not-our-key-0123456789abcdef0123", salt="console:session").dumps({"sid": "x"})
    app.set_cookie(c.SESSION_COOKIE, forged)
    assert app.get("/").status_code == 303  # signed with another key

    app.set_cookie(c.SESSION_COOKIE, cookie)
    (doc,) = db.collection("console_sessions").stream()
    doc.reference.update({"expires_at": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)})
    assert app.get("/").status_code == 303  # expired on the server side

    c.sign_in(app, keys["google"])
    token = c.form_of(app, "/")
    kept = app.get_cookie(c.SESSION_COOKIE).value
    assert app.post("/logout", data={"csrf": token}).status_code == 303
    app.set_cookie(c.SESSION_COOKIE, kept)  # the old cookie replayed after signing out
    assert app.get("/").status_code == 303


def test_a_session_ages_out_with_its_cookie_signature(app, keys):
    import time_machine

    c.sign_in(app, keys["google"])
    assert app.get("/").status_code == 200
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=12, minutes=1), tick=False):
        assert app.get("/").status_code == 303


def test_sign_in_by_mail_link_once_per_ten_minutes_single_use(app, db, outbox):
    login = app.get("/login")
    token = c.csrf_of(login.get_data(as_text=True))
    assert app.post("/login/mail", data={"email": "nobody@example.com", "csrf": token}).status_code == 200
    assert mails(outbox) == {}  # an unknown address: the same answer, no mail
    answer = app.post("/login/mail", data={"email": "Organizer1@Example.com", "csrf": token})
    assert answer.status_code == 200
    assert app.post("/login/mail", data={"email": c.ORGANIZER, "csrf": token}).status_code == 200
    sent = mails(outbox)
    assert len(sent) == 1  # the second request within 10 minutes sends nothing more
    (msg,) = sent.values()
    assert msg["To"] == c.ORGANIZER
    from tests.fakes.mailbox import text_of

    link = next(w for w in text_of(msg).split() if w.startswith("https://console.example.test/login/link?t="))
    path = link.removeprefix("https://console.example.test")
    confirm = app.get(path)
    assert confirm.status_code == 200 and "田中　太郎" in confirm.get_data(as_text=True)
    assert sessions(db) == []  # opening the link (a mail scanner does) signs nobody in
    t = path.split("t=", 1)[1]
    form_token = c.csrf_of(confirm.get_data(as_text=True))
    assert app.post("/login/link", data={"t": t}).status_code == 403  # no CSRF token
    res = app.post("/login/link", data={"t": t, "csrf": form_token})
    assert res.status_code == 303 and len(sessions(db)) == 1
    other = functions_framework.create_app("console", SOURCE).test_client()
    other.get("/login")
    again = other.post("/login/link", data={"t": t, "csrf": c.csrf_of(other.get(path).get_data(as_text=True))})
    assert again.status_code == 409 and len(sessions(db)) == 1  # single use


def test_a_sign_in_link_expires_after_fifteen_minutes_and_a_changed_one_is_refused(app, db, outbox):
    import time_machine

    from tests.fakes.mailbox import text_of

    token = c.csrf_of(app.get("/login").get_data(as_text=True))
    app.post("/login/mail", data={"email": c.ORGANIZER, "csrf": token})
    (msg,) = mails(outbox).values()
    t = next(w for w in text_of(msg).split() if "login/link?t=" in w).split("t=", 1)[1]
    assert app.get("/login/link", query_string={"t": t[:-2] + "xx"}).status_code in (400, 403)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16), tick=False):
        assert app.get("/login/link", query_string={"t": t}).status_code == 410
    assert sessions(db) == []


def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(app, db, keys):
    c.sign_in(app, keys["google"])
    app.get("/")
    res = app.post("/hosts/unavailable", data={"date": "2099-01-01", "unavailable": "1"})
    assert res.status_code == 403
    res = app.post("/hosts/unavailable", data={"date": "2099-01-01", "unavailable": "1", "csrf": "made-up"})
    assert res.status_code == 403
    res = app.post("/hosts/unavailable", data={"date": "2099-01-01", "unavailable": "1", "csrf": c.form_of(app, "/hosts")},
                   headers={"Origin": "https://evil.example"})
    assert res.status_code == 403
    assert list(db.collection("hosts").stream()) == [] and list(db.collection("audit").stream()) == []


def test_without_its_own_secret_the_console_derives_its_key_from_the_action_link_key(app, keys, monkeypatch):
    from shared.entrypoints.console import auth

    monkeypatch.delenv("CONSOLE_SESSION_KEY")
    derived = auth.session_key()
    assert len(derived) == 32 and derived != c.ACTION_KEY.encode()
    c.sign_in(app, keys["google"])
    assert app.get("/").status_code == 200
    monkeypatch.setenv("CONSOLE_SESSION_KEY", "too-short")
    with pytest.raises(RuntimeError):
        auth.session_key()
