"""Missing or short secrets answer with a sentence naming the variable and the fix, never a
traceback; locally, with outbox delivery, a missing ACTION_LINK_KEY is the checkout's development key.

The defects: ``autopilot run assign_speakers`` after ``propose-speaker`` failed with HTTP 500 and a
traceback (``ACTION_LINK_KEY is not set``); a short ``FORM_WEBHOOK_SECRET`` gave a 503 whose reason
was only in the log; ``propose_event`` without its secret answered 500."""

from __future__ import annotations

import functions_framework
import pytest

from shared import bootstrap
from shared.entrypoints import cli
from shared.platform import settings, tokens
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tools import infra_check


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "INFO")  # cli.main sets it with setdefault: keep it from leaking
    for name in ("ACTION_LINK_KEY", "FORM_WEBHOOK_SECRET", "MAIL_TRANSPORT", "MAIL_FROM", "K_SERVICE", "ZOOM_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)


def app(name: str):
    return functions_framework.create_app(name, str(ROOT / f"functions/{name}/main.py")).test_client()


def test_autopilot_run_assign_speakers_locally_uses_a_development_key(project, outbox, example_config, capsys):
    assert cli.main(["run", "generate_slots", "--job", "t", "--time", "2026-11-28T00:00:00Z"]) == 0
    assert cli.main(["propose-speaker", "--name", "山田　花子", "--email", "hanako@example.jp", "--topic", "転職と学び直し",
                     "--series", "speaker_night"]) == 0
    capsys.readouterr()
    assert cli.main(["run", "assign_speakers", "--job", "t", "--time", "2026-11-28T00:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert "HTTP 200" in out and "Traceback" not in out
    assert "ACTION_LINK_KEY is not set: using this checkout's development key in" in out  # the log line says so
    key_file = outbox / tokens.DEV_KEY_FILE
    assert key_file.is_file() and len(key_file.read_text()) == 64 and (key_file.stat().st_mode & 0o777) == 0o600
    assert tokens.key_from_env() == key_file.read_text().encode()  # the same key on the next run


def test_a_short_form_webhook_secret_is_a_503_that_names_it_and_the_fix(project, outbox, example_config, monkeypatch, db):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", "short")
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    body = fs.encode(fs.submission())
    res = app("form_webhook").post("/", data=body, headers=fs.sign(body, secret="short"))
    assert res.status_code == 503
    err = res.get_json()
    assert err["settings"] == ["FORM_WEBHOOK_SECRET"]
    assert err["error"].startswith("FORM_WEBHOOK_SECRET is shorter than 16 bytes: add a version to the Secret Manager "
                                   "secret FORM_WEBHOOK_SECRET (`openssl rand -hex 32 | gcloud secrets versions add")
    assert "redeploy form_webhook" in err["error"]
    assert [d.id for d in db.collection("applications").stream()] == []


def test_propose_event_without_its_secret_answers_503_not_500(project, outbox, example_config):
    res = app("propose_event").post("/", data=b"{}", headers={"Content-Type": "application/json"})
    assert res.status_code == 503 and res.get_json()["settings"] == ["FORM_WEBHOOK_SECRET"]


def test_on_cloud_functions_there_is_no_development_key(project, outbox, example_config, monkeypatch):
    monkeypatch.setenv("K_SERVICE", "assign-speakers")
    monkeypatch.setenv("MAIL_TRANSPORT", "gmail")
    monkeypatch.setenv("MAIL_FROM", "運営 <organizers@example.jp>")
    bootstrap.reset()
    headers = {"X-CloudScheduler-JobName": "j", "X-CloudScheduler-ScheduleTime": "2026-11-28T00:00:00Z"}
    res = app("assign_speakers").post("/", headers=headers)
    assert res.status_code == 503 and res.get_json()["settings"] == ["ACTION_LINK_KEY"]
    assert "ACTION_LINK_KEY is not set: add a version to the Secret Manager secret ACTION_LINK_KEY" in res.get_json()["error"]
    assert not (outbox / tokens.DEV_KEY_FILE).exists()
    with pytest.raises(RuntimeError, match="ACTION_LINK_KEY is not set: add a version"):
        tokens.key_from_env()


def test_live_mail_without_a_sender_is_refused_before_anything_is_done(project, outbox, example_config, monkeypatch, db):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    monkeypatch.setenv("MAIL_TRANSPORT", "smtp")
    bootstrap.reset()
    body = fs.encode(fs.submission())
    res = app("form_webhook").post("/", data=body, headers=fs.sign(body))
    assert res.status_code == 503 and res.get_json()["settings"] == ["MAIL_FROM"]
    assert "MAIL_FROM is not set, but MAIL_TRANSPORT=smtp sends live mail" in res.get_json()["error"]
    assert [d.id for d in db.collection("applications").stream()] == []
    monkeypatch.setenv("MAIL_FROM", "Alumni <no-reply@example.invalid>")  # the old placeholder is no sender either
    assert settings.problems("form_webhook")[0].sentence.startswith("MAIL_FROM is not an e-mail address")


def test_autopilot_run_prints_the_same_sentence(project, outbox, example_config, monkeypatch, capsys):
    monkeypatch.setenv("ZOOM_WEBHOOK_SECRET", "")
    assert cli.main(["run", "zoom_webhook"]) == 1
    out = capsys.readouterr()
    assert "ZOOM_WEBHOOK_SECRET is not set (the Zoom app's Secret Token signs every event): add a version" in out.out + out.err


def test_the_names_are_env_py_names():
    from shared.platform import env

    assert {n for names in settings.NEEDS.values() for n in names} | set(settings.CHECKS) <= {v for v in vars(env).values() if isinstance(v, str)}


def test_every_setting_a_function_needs_is_given_to_it_by_terraform():
    cat = infra_check.catalogue(ROOT)
    assert set(settings.NEEDS) == set(cat), "one NEEDS entry per function"
    for fn, names in settings.NEEDS.items():
        given = set(cat[fn]["env"]) | set(cat[fn]["secrets"]) | set(cat[fn]["secret_files"])
        assert set(names) <= given, f"{fn} needs {sorted(set(names) - given)} but infra/functions.tf does not give it"


@pytest.mark.parametrize("function", ["console", "events"])
def test_the_web_functions_answer_503_naming_a_missing_key_not_a_traceback(function, project, outbox, example_config,
                                                                          monkeypatch):
    monkeypatch.setenv("K_SERVICE", function)
    monkeypatch.setenv("MAIL_TRANSPORT", "gmail")
    monkeypatch.setenv("MAIL_FROM", "運営 <organizers@example.jp>")
    bootstrap.reset()
    res = app(function).get("/")
    page = res.get_data(as_text=True)
    assert res.status_code == 503, page[:500]
    assert "ACTION_LINK_KEY is not set: add a version to the Secret Manager secret ACTION_LINK_KEY" in page
    assert "Traceback" not in page and "まだ準備中です" in page  # the example community reads Japanese
    monkeypatch.setenv("ACTION_LINK_KEY", "k" * 32)
    assert app(function).get("/").status_code != 503  # the same request, configured
