"""The Forms API poller against a local server speaking the Forms API wire format."""

from __future__ import annotations

import datetime as dt
import threading

import functions_framework
import pytest
from googleapiclient.errors import HttpError

from shared import bootstrap
from shared.adapters.google_forms import GoogleForms
from shared.usecases.poll_form_responses import STATE, poll
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.google_forms import FakeForms
from tests.fakes.mailbox import mails

QUESTIONS = {f"3a{i:02x}f1": title for i, title in enumerate(fs.TITLES.values())}
ID = {field: qid for qid, field in zip(QUESTIONS, fs.TITLES, strict=True)}
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def answers(name, email, affiliation="ソニー株式会社", relation="元社員"):
    return {ID["name"]: name, ID["email"]: email, ID["affiliation"]: affiliation, ID["relation"]: relation,
            ID["slack_opt_in"]: "はい"}


@pytest.fixture
def forms(project, outbox, example_config, monkeypatch):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    with FakeForms(fs.FORM_ID, QUESTIONS) as fake:
        monkeypatch.setenv("FORMS_API_ENDPOINT", fake.url)
        yield fake


def docs(db, name):
    return {d.id: d.to_dict() for d in db.collection(name).stream()}


def test_pages_empty_pages_429_and_5xx_with_backoff(forms, db, outbox):
    for i in range(5):
        forms.add(f"ACYDBN_poll_{i}", NOW - dt.timedelta(minutes=50 - i), answers(f"会員　{i}号", f"m{i}@example.jp"))
    forms.add("ACYDBN_old", NOW - dt.timedelta(days=3), answers("古い　申込", "old@example.jp"))
    forms.empty_pages, forms.fail_next = 1, [429, 503, 500]
    sleeps = []
    source = GoogleForms(base_delay=0.001, sleep=sleeps.append)
    result = poll(bootstrap.application_deps(), source, NOW)
    assert result["count"] == 5 and source.retries == 3 and len(sleeps) == 3
    assert sleeps[0] < sleeps[1] < sleeps[2]  # exponential
    assert sum("pageToken" in r for r in forms.requests) >= 3  # it followed the pages
    apps = docs(db, "applications")
    assert sorted(a["fields"]["name"] for a in apps.values()) == [f"会員　{i}号" for i in range(5)]
    assert {a["source"] for a in apps.values()} == {"poller"} and len(mails(outbox)) == 5
    assert docs(db, STATE)[fs.FORM_ID]["watermark"] == NOW - dt.timedelta(minutes=46)
    # a second run sees the same responses again (look-back) and changes nothing
    again = poll(bootstrap.application_deps(), GoogleForms(base_delay=0.001, sleep=sleeps.append), NOW)
    assert again["count"] >= 0 and len(docs(db, "applications")) == 5 and len(mails(outbox)) == 5


def test_watermark_stays_when_the_run_fails(forms, db, outbox):
    forms.add("ACYDBN_w1", NOW - dt.timedelta(minutes=5), answers("一　郎", "ichiro@example.jp"))
    forms.fail_next = [503] * 6
    with pytest.raises(HttpError):
        poll(bootstrap.application_deps(), GoogleForms(base_delay=0.0, sleep=lambda s: None, attempts=3), NOW)
    assert not docs(db, STATE)
    forms.fail_next = []
    poll(bootstrap.application_deps(), GoogleForms(base_delay=0.0, sleep=lambda s: None), NOW)
    assert docs(db, STATE)[fs.FORM_ID]["watermark"] == NOW - dt.timedelta(minutes=5)
    assert len(docs(db, "applications")) == 1


def test_poller_racing_the_webhook_makes_one_application_and_one_mail(forms, db, outbox):
    when = NOW - dt.timedelta(minutes=2)
    forms.add("ACYDBN_race", when, answers("山田　花子", "hanako.yamada@example.jp"))
    hook = functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py"))
    cron = functions_framework.create_app("poll_form_responses", str(ROOT / "functions/poll_form_responses/main.py"))
    body = fs.encode(fs.submission("ACYDBN_race"))
    barrier, results = threading.Barrier(4), []

    def webhook():
        barrier.wait()
        results.append(hook.test_client().post("/", data=body, headers=fs.sign(body)).status_code)

    def poller(i):
        barrier.wait()
        res = cron.test_client().post("/", headers={"X-CloudScheduler-JobName": f"poll-{i}",
                                                    "X-CloudScheduler-ScheduleTime": NOW.isoformat()})
        results.append(res.status_code)

    threads = [threading.Thread(target=webhook), threading.Thread(target=webhook),
               threading.Thread(target=poller, args=(1,)), threading.Thread(target=poller, args=(2,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 4
    assert len(docs(db, "applications")) == 1 and len(mails(outbox)) == 1


class FailingForOne:
    """The real document store; creating one application fails (any error other than a schema error:
    a field Firestore cannot store, an outage for that write...)."""

    def __init__(self, inner, app_id, times=1):
        self.inner, self.app_id, self.times = inner, app_id, times

    def create(self, col, doc_id, data):
        if col == "applications" and doc_id == self.app_id and self.times:
            self.times -= 1
            raise RuntimeError("injected: this response cannot be stored")
        return self.inner.create(col, doc_id, data)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_one_bad_response_is_set_aside_the_rest_go_on_and_the_watermark_moves(forms, db, outbox, capsys):
    import dataclasses

    from shared.domain.applications import application_id
    from shared.usecases.rhythm import digest_content

    for i, minutes in enumerate((30, 20, 10)):
        forms.add(f"ACYDBN_s{i}", NOW - dt.timedelta(minutes=minutes), answers(f"会員　{i}号", f"s{i}@example.jp"))
    deps = bootstrap.application_deps()
    bad = application_id(fs.FORM_ID, "ACYDBN_s1")
    failing = dataclasses.replace(deps, store=FailingForOne(deps.store, bad))
    result = poll(failing, GoogleForms(base_delay=0.0, sleep=lambda s: None), NOW)
    assert result["count"] == 2 and result["set_aside"] == 1
    assert sorted(a["fields"]["name"] for a in docs(db, "applications").values()) == ["会員　0号", "会員　2号"]
    assert docs(db, STATE)[fs.FORM_ID]["watermark"] == NOW - dt.timedelta(minutes=10)  # moved past the bad one
    (aside,) = docs(db, "form_set_aside").values()
    assert aside["response_id"] == "ACYDBN_s1" and aside["status"] == "open" and aside["attempts"] == 1
    assert "RuntimeError" in aside["reason"]
    logs = capsys.readouterr().out
    assert "ACYDBN_s1" in logs and "会員　1号" not in logs and "s1@example.jp" not in logs  # ids, never answers
    content = digest_content(deps.config, bootstrap.slot_store(), bootstrap.rhythm_store(), NOW)
    assert [a["response_id"] for a in content["set_aside"]] == ["ACYDBN_s1"]
    from shared.platform.mail import render_text

    for locale in ("ja", "en"):
        _, text = render_text("rhythm_digest", locale, name="運営", week="2026-W48", period="11月23日(月)〜11月29日(日)", community="会", **content)
        assert "ACYDBN_s1" in text and "RuntimeError" in text

    # The next run tries it again first (the fault is gone): it becomes an application, once.
    again = poll(deps, GoogleForms(base_delay=0.0, sleep=lambda s: None), NOW + dt.timedelta(minutes=30))
    assert again["set_aside"] == 0 and again["recovered"] == 1
    assert len(docs(db, "applications")) == 3 and len(mails(outbox)) == 3
    assert docs(db, "form_set_aside")[next(iter(docs(db, "form_set_aside")))]["status"] == "resolved"
    assert digest_content(deps.config, bootstrap.slot_store(), bootstrap.rhythm_store(), NOW)["set_aside"] == []


def test_a_response_that_keeps_failing_is_given_up_and_stays_in_the_digest(forms, db, outbox):
    import dataclasses

    from shared.domain.applications import application_id
    from shared.usecases.poll_form_responses import SET_ASIDE_ATTEMPTS
    from shared.usecases.rhythm import digest_content

    forms.add("ACYDBN_k", NOW - dt.timedelta(minutes=5), answers("二　郎", "jiro@example.jp"))
    deps = bootstrap.application_deps()
    failing = dataclasses.replace(deps, store=FailingForOne(deps.store, application_id(fs.FORM_ID, "ACYDBN_k"), 99))
    for run in range(SET_ASIDE_ATTEMPTS + 2):
        poll(failing, GoogleForms(base_delay=0.0, sleep=lambda s: None), NOW + dt.timedelta(minutes=30 * run))
    (aside,) = docs(db, "form_set_aside").values()
    assert aside["status"] == "given_up" and aside["attempts"] == SET_ASIDE_ATTEMPTS
    content = digest_content(deps.config, bootstrap.slot_store(), bootstrap.rhythm_store(), NOW)
    assert [(a["response_id"], a["status"]) for a in content["set_aside"]] == [("ACYDBN_k", "given_up")]
