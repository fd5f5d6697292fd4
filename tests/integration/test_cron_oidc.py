"""The in-function OIDC check (``cron_auth.mode: oidc``) with real RS256 tokens and a local certs
endpoint in Google's format; everything refused is a 401 with a reason, and writes nothing."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import functions_framework
import pytest

from shared.platform import env
from tests.conftest import ROOT
from tests.helpers import oidc
from tests.helpers.configs import example_dict, to_yaml
from tests.helpers.firestore import assert_nothing_written

SOURCE = str(ROOT / "functions/generate_slots/main.py")
AUDIENCE = "https://asia-northeast1-demo-project.cloudfunctions.net/generate_slots"
SCHEDULER = "scheduler@demo-project.iam.gserviceaccount.com"
HEADERS = {"X-CloudScheduler-JobName": "generate-slots-daily", "X-CloudScheduler-ScheduleTime": "2026-11-28T00:00:00Z"}


@pytest.fixture(scope="module")
def keys() -> dict[str, oidc.KeyPair]:
    return {"google": oidc.make_key("a1b2c3"), "forger": oidc.make_key("a1b2c3"), "stranger": oidc.make_key("zz99")}


@pytest.fixture(scope="module")
def certs(keys: dict[str, oidc.KeyPair]) -> Iterator[oidc.CertsServer]:
    with oidc.certs_server(keys["google"]) as server:
        yield server


@pytest.fixture
def app(project, outbox, write_config, certs, monkeypatch):  # type: ignore[no-untyped-def]
    data = example_dict()
    data["cron_auth"] = {"mode": "oidc", "audience": AUDIENCE, "service_account": SCHEDULER}
    write_config(to_yaml(data))
    monkeypatch.setenv(env.OIDC_CERTS_URL, certs.url)
    return functions_framework.create_app("generate_slots", SOURCE).test_client()


def post(app: Any, token: str | None, scheme: str = "Bearer") -> tuple[int, dict[str, Any]]:
    headers = dict(HEADERS)
    if token is not None:
        headers["Authorization"] = f"{scheme} {token}"
    res = app.post("/", headers=headers)
    return res.status_code, res.get_json()


def test_a_valid_scheduler_token_is_accepted(app, db, keys, certs):
    code, body = post(app, oidc.id_token(keys["google"], AUDIENCE, SCHEDULER))
    assert code == 200, body
    assert body["created"] == 9 and body["duplicate"] is False
    assert len(list(db.collection("slots").stream())) == 9
    assert certs.fetches >= 1  # the keys really came from the certs endpoint


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unsigned() -> str:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {"aud": AUDIENCE, "iss": oidc.ISSUER, "email": SCHEDULER, "email_verified": True, "iat": now, "exp": now + 600}
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


REFUSALS = {
    "wrong-audience": (lambda k: oidc.id_token(k["google"], "https://evil.example/generate_slots", SCHEDULER),
                       "issued for another audience"),
    "expired": (lambda k: oidc.id_token(k["google"], AUDIENCE, SCHEDULER,
                                        issued=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)), "expired"),
    "wrong-issuer": (lambda k: oidc.id_token(k["google"], AUDIENCE, SCHEDULER, issuer="https://issuer.example"),
                     "not issued by Google"),
    "garbage": (lambda k: "これはトークンではない", "not a JWT"),
    "unsigned": (lambda k: _unsigned(), "signature does not verify"),  # alg: none
    "forged-signature": (lambda k: oidc.id_token(k["forger"], AUDIENCE, SCHEDULER), "signature does not verify"),
    "unknown-key": (lambda k: oidc.id_token(k["stranger"], AUDIENCE, SCHEDULER), "key Google does not publish"),
    "other-service-account": (lambda k: oidc.id_token(k["google"], AUDIENCE, "intruder@other.iam.gserviceaccount.com"),
                              "another service account"),
    "email-not-verified": (lambda k: oidc.id_token(k["google"], AUDIENCE, SCHEDULER, email_verified=False),
                           "another service account"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_bad_token_is_a_401_with_a_reason_and_writes_nothing(app, db, outbox, keys, case):
    make, reason = REFUSALS[case]
    token = make(keys)
    code, body = post(app, token)
    assert code == 401, body
    assert reason in body["error"], body["error"]
    assert "OIDC token" in body["error"]
    assert token not in body["error"] and "@" not in body["error"]  # neither the token nor an address echoed
    assert_nothing_written(db, outbox)


@pytest.mark.parametrize("scheme", [None, "Basic", "bearer"])
def test_a_missing_bearer_token_is_a_401(app, db, outbox, keys, scheme):
    token = oidc.id_token(keys["google"], AUDIENCE, SCHEDULER)
    code, body = post(app, None if scheme is None else token, scheme or "Bearer")
    assert code == 401
    assert "Authorization: Bearer" in body["error"]
    assert_nothing_written(db, outbox)


def test_the_token_is_checked_before_the_run_is_keyed(app, db, outbox):
    """An unauthenticated caller learns nothing about the headers and cannot burn a run key."""
    res = app.post("/", headers={**HEADERS, "X-CloudScheduler-ScheduleTime": "not-a-time"})
    assert res.status_code == 401
    assert_nothing_written(db, outbox)


def test_oidc_mode_without_an_audience_is_a_config_error(project, db, outbox, write_config):
    data = example_dict()
    data["cron_auth"] = {"mode": "oidc"}
    write_config(to_yaml(data))
    res = functions_framework.create_app("generate_slots", SOURCE).test_client().post("/", headers=HEADERS)
    assert res.status_code == 500
    assert "cron_auth.audience: " in res.get_json()["error"]
    assert_nothing_written(db, outbox)
