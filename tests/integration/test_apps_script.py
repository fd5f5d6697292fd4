"""infra/apps_script/Code.gs, run in Node with stand-ins for the Apps Script services
(tests/apps_script/run_code_gs.js), and what it builds posted to the real form_webhook: the script
and the verifier can never drift apart (body, form and response ids, signature)."""

from __future__ import annotations

import base64
import json
import subprocess
import time

import functions_framework
import pytest

from tests.conftest import ROOT
from tests.fakes import form_submissions as fs

HARNESS = ROOT / "tests" / "apps_script" / "run_code_gs.js"
URL = "https://asia-northeast1-demo.cloudfunctions.net/form-webhook"
PROPS = {"WEBHOOK_URL": URL, "WEBHOOK_SECRET": fs.SECRET}
ITEMS = [  # Apps Script item ids are integers; answers as getResponse() returns them
    {"id": 1101, "title": fs.TITLES["name"], "response": "山田　花子"},
    {"id": 1102, "title": fs.TITLES["email"], "response": "hanako.yamada@example.jp"},
    {"id": 1103, "title": fs.TITLES["affiliation"], "response": "ソニー株式会社"},
    {"id": 1104, "title": fs.TITLES["relation"], "response": "元社員"},
    {"id": 1105, "title": fs.TITLES["period"], "response": "2005年〜2018年"},
    {"id": 1106, "title": fs.TITLES["department"], "response": "R&D\n第二開発部　設計課"},
    {"id": 1107, "title": fs.TITLES["slack_opt_in"], "response": ["はい"]},  # a checkbox: String[]
    {"id": 1108, "title": "希望する曜日", "response": [["火", "水"], ["木"]]},  # a grid: String[][]
]


def run(call: str = "onFormSubmitted", props: dict | None = None, answers: list | None = None,
        triggers: list[str] | None = None, response_id: str = "2_ABaOnudAppsScriptResponse01") -> dict:
    scenario = {"call": call, "properties": PROPS if props is None else props, "form": {"id": fs.FORM_ID},
                "response": {"id": response_id, "timestamp": "2026-11-28T09:15:00.123Z", "email": "", "items": ITEMS},
                "answers": answers or [{"status": 200, "text": "{}"}], "triggers": triggers or []}
    proc = subprocess.run(["node", str(HARNESS)], input=json.dumps(scenario), capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(proc.stdout)


@pytest.fixture
def client(project, outbox, example_config, monkeypatch):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    monkeypatch.setenv("ACTIONS_BASE_URL", "https://actions.example.test/")
    return functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py")).test_client()


def post(client, fetch: dict):
    """The request UrlFetchApp.fetch would send: the payload's bytes, the script's headers."""
    params = fetch["params"]
    assert fetch["payload_text"] is None, "the script sends the body as the bytes it signed"
    body = base64.b64decode(fetch["payload_b64"])
    headers = {"Content-Type": params["contentType"], **params["headers"]}
    return client.post("/", data=body, headers=headers), body


def test_what_the_script_posts_is_accepted_by_form_webhook(client, db):
    out = run()
    assert out["error"] is None and len(out["fetches"]) == 1 and out["sleeps"] == []
    fetch = out["fetches"][0]
    assert fetch["url"] == URL and fetch["params"]["method"] == "post" and fetch["params"]["muteHttpExceptions"] is True
    res, body = post(client, fetch)
    assert res.status_code == 200, res.get_data(as_text=True)
    sent = json.loads(body.decode("utf-8"))
    assert sent["formId"] == fs.FORM_ID  # form.getId(): the edit-URL id, which the config names too
    assert sent["responseId"] == "2_ABaOnudAppsScriptResponse01" and sent["respondentEmail"] is None
    assert [a["questionId"] for a in sent["answers"]][:2] == ["1101", "1102"]
    assert sent["answers"][7]["answer"] == ["火, 水", "木"]
    app = db.collection("applications").document(res.get_json()["applicationId"]).get().to_dict()
    assert app["status"] == "needs_review" and app["fields"]["name"] == "山田　花子"
    assert app["fields"]["department"] == "R&D\n第二開発部　設計課" and app["fields"]["slack_opt_in"] is True
    again, _ = post(client, run()["fetches"][0])  # the same response sent again: the same application
    assert again.status_code == 200 and again.get_json()["applicationId"] == res.get_json()["applicationId"]


def test_a_retry_is_signed_anew_and_every_attempt_verifies(client):
    out = run(answers=[{"status": 503}, {"throws": "Address unavailable"}, {"status": 429}, {"status": 200}])
    assert len(out["fetches"]) == 4 and len(out["sleeps"]) == 3
    assert [1000 <= out["sleeps"][0] < 1500, 2000 <= out["sleeps"][1] < 2500, 4000 <= out["sleeps"][2] < 4500] == [True] * 3
    for fetch in out["fetches"]:
        res, _ = post(client, fetch)
        assert res.status_code == 200, res.get_data(as_text=True)
        assert abs(int(fetch["params"]["headers"]["X-Autopilot-Timestamp"]) - time.time()) < 120


def test_a_refusal_is_not_retried_and_is_logged(client):
    out = run(answers=[{"status": 400, "text": '{"error": "formId: is not one of this community\'s forms"}'}])
    assert len(out["fetches"]) == 1 and out["sleeps"] == []
    assert any(line.startswith("error: form_webhook refused the submission: HTTP 400") for line in out["logs"])


def test_a_wrong_secret_in_the_script_properties_is_refused(client):
    out = run(props={**PROPS, "WEBHOOK_SECRET": "another-secret-of-enough-length"})
    res, _ = post(client, out["fetches"][0])
    assert res.status_code == 401 and "signature" in res.get_json()["error"]


def test_setup_needs_both_properties_and_installs_one_trigger():
    out = run("setup", props={"WEBHOOK_URL": URL})
    assert "WEBHOOK_URL and WEBHOOK_SECRET" in out["error"] and out["created"] == []
    out = run("setup", triggers=["onFormSubmitted", "somethingElse", "onFormSubmitted"])
    assert out["error"] is None and out["deleted"] == ["onFormSubmitted", "onFormSubmitted"]
    assert out["created"] == [{"fn": "onFormSubmitted", "form": fs.FORM_ID}]
