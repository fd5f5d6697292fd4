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
