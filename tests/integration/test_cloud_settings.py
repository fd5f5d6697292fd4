"""On Cloud Functions (``K_SERVICE``) no adapter falls back to the outbox, and every function is
given the settings its own code path reads (tools/infra_check.py, per function).

The defect this guards against: provision_events had no MAIL_TRANSPORT in Terraform, so its hourly
``resume()`` "sent" every unfinished mail to the instance's throw-away disk, marked it ``sent`` and
dropped the stored message: a mail Gmail had refused (429) was never delivered.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import functions_framework
import pytest

from shared import bootstrap
from shared.adapters.firestore import FirestoreIdempotencyStore
from shared.config import ConfigError
from shared.platform.mail import FAILED, ExactlyOnceMailer, OutgoingMail
from tests.fakes.gmail import FakeGmail
from tools import infra_check as ic

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.UTC
MAIL_SETTINGS = ("MAIL_TRANSPORT", "MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_STARTTLS", "SMTP_PASSWORD")


def _failed_intent(now: dt.datetime) -> OutgoingMail:
    """A review mail Gmail refused once (429): ``failed``, its message stored for resume()."""
    mail = OutgoingMail(to=("運営　花子 <hanako@example.jp>",), subject="【確認】入会申請", text="一行目\n二行目",
                        intent="application:app_1:organizers")
    store = FirestoreIdempotencyStore(collection="mail_intents")
    rec = ExactlyOnceMailer(None, store)._record("t0", mail, 1)  # type: ignore[arg-type]
    assert store.create(ExactlyOnceMailer.key(mail.intent), rec | {"status": FAILED, "lease_until": now})
    return mail


def test_provision_events_on_cloud_functions_without_mail_settings_refuses_and_keeps_the_mail(
        project, example_config, outbox, tmp_path, monkeypatch):
    for name in MAIL_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("K_SERVICE", "provision-events")
    mail = _failed_intent(dt.datetime(2026, 12, 1, tzinfo=UTC))
    bootstrap.reset()
    app = functions_framework.create_app("provision_events", str(ROOT / "functions/provision_events/main.py"))
    headers = {"X-CloudScheduler-JobName": "provision-job", "X-CloudScheduler-ScheduleTime": "2026-12-01T01:40:00Z"}
    res = app.test_client().post("/", headers=headers)
    assert res.status_code == 500, res.get_data(as_text=True)
    error = res.get_json()["error"]
    assert "MAIL_TRANSPORT" in error and "MAIL_FROM" in error and "terraform" in error.lower()
    rec = FirestoreIdempotencyStore(collection="mail_intents").get(ExactlyOnceMailer.key(mail.intent))
    assert rec is not None and rec["status"] == FAILED and rec["mail"]["subject"] == mail.subject  # nothing lost
    assert not (outbox / "mail").exists()

    # The settings added (what infra/functions.tf now gives it): Scheduler's retry of the same run
    # delivers the mail through Gmail, once.
    with FakeGmail() as gmail:
        monkeypatch.setenv("MAIL_TRANSPORT", "gmail")
        monkeypatch.setenv("MAIL_FROM", "運営 <organizers@example.jp>")
        for name, value in gmail.oauth_env(tmp_path).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("GMAIL_API_ENDPOINT", gmail.endpoint)
        bootstrap.reset()
        app = functions_framework.create_app("provision_events", str(ROOT / "functions/provision_events/main.py"))
        res = app.test_client().post("/", headers=headers)
        assert res.status_code == 200, res.get_data(as_text=True)
        assert res.get_json()["mails_resumed"] == {"sent": 1}
        assert [str(s.message["Subject"]) for s in gmail.sent] == [mail.subject]


@pytest.mark.parametrize("transport", ["", "outbox", " Outbox "])
def test_the_mailer_refuses_the_outbox_on_cloud_functions(transport, project, example_config, monkeypatch, tmp_path):
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path))
    monkeypatch.setenv("MAIL_TRANSPORT", transport)
    monkeypatch.setenv("K_SERVICE", "form-webhook")
    bootstrap.reset()
    with pytest.raises(ConfigError, match="MAIL_TRANSPORT") as err:
        bootstrap.mailer()
    assert "MAIL_FROM" in str(err.value) and "throw-away" in str(err.value)
    monkeypatch.delenv("K_SERVICE")
    bootstrap.reset()
    assert bootstrap.mailer() is not None  # locally the outbox is what `make demo` shows


def test_zoom_calendar_and_slack_refuse_the_outbox_on_cloud_functions(write_config, monkeypatch, tmp_path):
    text = (ROOT / "config/community.example.yaml").read_text(encoding="utf-8")
    assert "  delivery: auto" in text
    write_config(text.replace("  delivery: auto", "  delivery: outbox", 1))
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("K_SERVICE", "provision-events")
    bootstrap.reset()
    for build, setting in ((bootstrap.meetings, "provisioning.delivery"), (bootstrap.calendar, "provisioning.delivery"),
                           (bootstrap.chat, "SLACK_WEBHOOK_URL")):
        with pytest.raises(ConfigError, match=setting):
            build()
    assert not (tmp_path / "outbox").exists()


@pytest.mark.parametrize("function", ["form_webhook", "propose_event"])
def test_a_webhook_that_cannot_mail_on_cloud_functions_answers_500_before_writing(function, project, example_config,
                                                                                  outbox, monkeypatch, db):
    from tests.fakes import form_submissions as fs
    from tests.integration.test_proposals import body as proposal

    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    for name in MAIL_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("K_SERVICE", function)
    bootstrap.reset()
    raw = fs.encode(fs.submission() if function == "form_webhook" else proposal())
    app = functions_framework.create_app(function, str(ROOT / f"functions/{function}/main.py"))
    res = app.test_client().post("/", data=raw, headers=fs.sign(raw))
    assert res.status_code == 500, res.get_data(as_text=True)
    assert "MAIL_TRANSPORT" in res.get_json()["error"]
    assert [d.id for c in ("applications", "application_emails", "claims", "proposals", "slots", "mail_intents")
            for d in db.collection(c).stream()] == []
    assert not outbox.exists()


# ------------------------------------------------------------------------------------ per function in Terraform

@pytest.fixture
def tree(tmp_path: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".terraform*", "terraform.tfstate*")
    for name in ("infra", "functions", "shared"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=ignore)
    return tmp_path


def _drop_from_entry(path: Path, function: str, setting: str) -> None:
    """Remove ``setting`` from the lists of one catalogue entry only."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f"    {function} = {{")
    end = text.index("\n    }\n", start)
    entry = text[start:end]
    assert f'"{setting}"' in entry, f"{setting} not in the {function} entry"
    new = entry.replace(f'"{setting}", ', "").replace(f', "{setting}"', "").replace(f'"{setting}"', "")
    path.write_text(text[:start] + new + text[end:], encoding="utf-8")


@pytest.mark.parametrize(("function", "setting"), [
    ("provision_events", "MAIL_TRANSPORT"), ("provision_events", "MAIL_FROM"), ("provision_events", "SMTP_PASSWORD"),
    ("weekly_prompt", "SMTP_STARTTLS"), ("propose_event", "ACTION_LINK_KEY"), ("send_digest", "ACTION_LINK_KEY"),
])
def test_a_setting_missing_from_one_function_is_named_although_others_get_it(tree, function, setting):
    _drop_from_entry(tree / "infra" / "functions.tf", function, setting)
    problems = ic.check_env(tree)
    assert [p for p in problems if f"function {function} reads {setting}" in p], problems


def test_the_code_paths_are_per_function_not_the_union():
    consts, _ = ic.env_constants(ROOT)
    reads = ic.function_reads(ROOT, consts)
    assert {"MAIL_TRANSPORT", "MAIL_FROM", "SMTP_PASSWORD"} <= set(reads["provision_events"])
    assert {"ZOOM_CLIENT_SECRET", "ZOOM_ACCOUNT_ID"} <= set(reads["provision_events"])
    # bootstrap.py is in every function's module closure, yet these read none of its mail or Zoom settings:
    for quiet in ("zoom_webhook", "ics_feed", "generate_slots", "cron_dispatch"):
        assert not {"MAIL_TRANSPORT", "ZOOM_CLIENT_SECRET", "SLACK_WEBHOOK_URL"} & set(reads[quiet]), (quiet, reads[quiet])
    assert "SLACK_WEBHOOK_URL" in reads["weekly_prompt"] and "SLACK_WEBHOOK_URL" not in reads["send_digest"]
    assert "CRON_PLAN" in reads["cron_dispatch"] and "CRON_PLAN" not in reads["provision_events"]
