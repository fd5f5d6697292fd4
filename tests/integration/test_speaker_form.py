"""Speaker proposals from the second Google Form: form_webhook routes by formId, the poller covers it.

Against the Firestore emulator, through the framework's test client; Japanese test data.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import functions_framework
import pytest

from shared import bootstrap
from shared.usecases.poll_form_responses import STATE, poll_speakers
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.mailbox import mails, text_of

SPEAKER_FORM = "1Sp3exampleSpeakerForm9876543210ZyXwVuTsRq"  # config/community.example.yaml people.speakers.form
TITLES = {"name": "お名前", "email": "メールアドレス", "topic": "発表テーマ", "series": "登壇を希望するイベント",
          "earliest": "登壇できる最も早い日", "impossible_dates": "都合の悪い日", "talk_minutes": "発表時間(分)"}
WRITTEN = ("speakers", "offers", "mail_intents", "applications", "application_emails", "members")


def proposal(response_id: str = "ACYDBNspk_1", **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "高橋　美咲", "email": "misaki.takahashi@example.jp", "topic": "退職後の学び直し\nと副業の始め方",
        "series": "登壇イベント(毎月第2火曜)", "earliest": "2027-03-01",
        "impossible_dates": "２０２７年４月１３日、2027/5/11\n2027-06-08 は出張", "talk_minutes": "３０分"}
    values.update(overrides)
    answers = [{"questionId": f"s{i:02d}", "title": TITLES[k], "answer": v}
               for i, (k, v) in enumerate(values.items()) if v is not None]
    return {"formId": SPEAKER_FORM, "responseId": response_id, "submittedAt": "2026-11-28T09:15:00Z",
            "respondentEmail": None, "answers": answers}


@pytest.fixture
def client(project, outbox, example_config, monkeypatch):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    monkeypatch.setenv("ACTIONS_BASE_URL", "https://actions.example.test/")
    return functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py")).test_client()


def post(client, data):
    body = fs.encode(data)
    return client.post("/", data=body, headers=fs.sign(body))


def stored(db, name):
    return {d.id: d.to_dict() for d in db.collection(name).stream()}


def test_speaker_form_queues_one_speaker_with_one_acknowledgement(client, db, outbox):
    res = post(client, proposal())
    assert res.status_code == 200, res.get_data(as_text=True)
    body = res.get_json()
    assert body["status"] == "received" and body["speakerId"].startswith("f")
    sp = stored(db, "speakers")[body["speakerId"]]
    assert sp["name"] == "高橋　美咲" and sp["topic"] == "退職後の学び直し\nと副業の始め方"
    assert sp["series_id"] == "speaker_night" and sp["earliest"] == "2027-03-01" and sp["talk_minutes"] == 30
    assert sp["impossible_dates"] == ["2027-04-13", "2027-05-11", "2027-06-08"]
    assert sp["status"] == "queued" and sp["locale"] == "ja" and sp["source"] == "webhook"
    assert not stored(db, "applications")  # not mistaken for a membership application
    sent = mails(outbox)
    assert list(sent) == [f"speaker:received:{body['speakerId']}"]
    msg = sent[f"speaker:received:{body['speakerId']}"]
    assert msg["To"].addresses[0].addr_spec == "misaki.takahashi@example.jp"
    assert "高橋　美咲 様" in text_of(msg) and "退職後の学び直し\nと副業の始め方" in text_of(msg)
    # the same response again: the same answer, no second speaker, no second mail
    again = post(client, proposal())
    assert again.status_code == 200 and again.get_json() == body
    assert len(stored(db, "speakers")) == 1 and len(mails(outbox)) == 1


def test_concurrent_duplicate_deliveries_make_one_speaker(client, db, outbox):
    body = fs.encode(proposal("ACYDBNspk_race", name="Ｏｌｉｖｅｒ　Ｂｒｏｗｎ", topic="海外転職のリアル"))
    app = functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py"))
    barrier, results = threading.Barrier(6), []

    def deliver():
        barrier.wait()
        res = app.test_client().post("/", data=body, headers=fs.sign(body))
        results.append((res.status_code, res.get_data(as_text=True)))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r[0] for r in results} == {200} and len({r[1] for r in results}) == 1
    assert len(stored(db, "speakers")) == 1 and len(mails(outbox)) == 1


def test_unknown_form_id_is_refused_naming_form_id_and_nothing_is_written(client, db, outbox):
    res = post(client, {**proposal(), "formId": "1FAIpQLSsomeoneElsesForm"})
    assert res.status_code == 400 and "formId" in res.get_data(as_text=True)
    assert all(not stored(db, c) for c in WRITTEN) and not mails(outbox)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"topic": "  "}, "answers.topic"),
    ({"email": "メールアドレスなし"}, "answers.email"),
    ({"series": "ランチ交流会"}, "answers.series"),
    ({"talk_minutes": "未定"}, "answers.talk_minutes"),
])
def test_unmappable_answers_are_a_400_naming_the_field_with_nothing_written(client, db, outbox, overrides, field):
    res = post(client, proposal("ACYDBNspk_bad", **overrides))
    assert res.status_code == 400 and field in res.get_data(as_text=True), res.get_data(as_text=True)
    assert all(not stored(db, c) for c in WRITTEN) and not mails(outbox)


def test_dates_as_people_write_them_are_read_and_the_acknowledgement_says_which(client, db, outbox):
    """The form takes what people write; what is no date is kept as written and named back to them."""
    res = post(client, proposal("ACYDBNspk_dates", earliest="来年の春ごろ",
                                impossible_dates="2027年3月9日、3/16\n４月１３日(火)\n2027年2月30日"))
    assert res.status_code == 200, res.get_data(as_text=True)
    doc = next(iter(stored(db, "speakers").values()))
    assert doc["impossible_dates"] == ["2027-03-09", "2027-03-16", "2027-04-13"] and doc["earliest"] is None
    assert doc["dates_not_understood"] == ["来年の春ごろ", "2027年2月30日"]
    text = text_of(next(iter(mails(outbox).values())))
    assert "2027年3月9日(火)、2027年3月16日(火)、2027年4月13日(火)" in text  # what was understood
    assert "来年の春ごろ、2027年2月30日" in text and "返信" in text  # and what was not, with what to do


def test_membership_form_still_goes_to_applications(client, db, outbox):
    res = post(client, fs.submission("ACYDBN_member_1"))
    assert res.status_code == 200 and res.get_json()["status"] == "needs_review"
    assert not stored(db, "speakers")


class FormsInMemory:
    """The poller's FormResponses port for two forms (the HTTP wire format is tested in
    test_poll_form_responses.py); a form it does not know fails like a 404 would."""

    def __init__(self, forms: Mapping[str, list[dict[str, Any]]]) -> None:
        self.forms = forms

    def question_titles(self, form_id: str) -> dict[str, str]:
        if form_id not in self.forms:
            raise LookupError(form_id)
        return {f"q{i}": t for i, t in enumerate(TITLES.values())}

    def responses_since(self, form_id: str, since: dt.datetime) -> Iterator[Mapping[str, Any]]:
        yield from self.forms[form_id]


def forms_response(response_id: str, when: dt.datetime, **values: str) -> dict[str, Any]:
    qid = {k: f"q{i}" for i, k in enumerate(TITLES)}
    return {"responseId": response_id, "lastSubmittedTime": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "answers": {qid[k]: {"questionId": qid[k], "textAnswers": {"answers": [{"value": v}]}}
                        for k, v in values.items()}}


def test_poller_covers_the_speaker_form_and_races_the_webhook_into_one_speaker(client, db, outbox):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    when = now - dt.timedelta(minutes=3)
    good = forms_response("ACYDBNspk_poll", when, name="中村　健", email="ken.nakamura@example.jp",
                          topic="スタートアップの資金調達", series="speaker_night", talk_minutes="45")
    bad = forms_response("ACYDBNspk_blank", when, name="名無し", email="x@example.jp", topic="")
    source = FormsInMemory({SPEAKER_FORM: [good, bad]})
    webhook_body = proposal("ACYDBNspk_poll", name="中村　健", email="ken.nakamura@example.jp",
                            topic="スタートアップの資金調達", series="speaker_night", earliest=None,
                            impossible_dates=None, talk_minutes="45")
    barrier, results = threading.Barrier(2), []

    def hook():
        barrier.wait()
        results.append(post(client, webhook_body).status_code)

    def poller():
        barrier.wait()
        results.append(poll_speakers(bootstrap.assign_deps(), source, now))

    threads = [threading.Thread(target=hook), threading.Thread(target=poller)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 200 in results
    summary = next(r for r in results if isinstance(r, dict))
    assert summary["count"] == 1 and summary["skipped"] == 1  # the blank topic is skipped, not retried forever
    speakers = stored(db, "speakers")
    assert [s["name"] for s in speakers.values()] == ["中村　健"] and len(mails(outbox)) == 1
    assert stored(db, STATE)[SPEAKER_FORM]["watermark"] == when


def test_poll_job_polls_both_forms_and_a_failing_speaker_form_does_not_undo_the_other(client, db, outbox, monkeypatch):
    from shared.entrypoints import jobs_applications
    from shared.entrypoints.cron import CronRun

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    speaker = forms_response("ACYDBNspk_job", now - dt.timedelta(minutes=1), name="小林　優", email="yu@example.jp",
                             topic="育休と復職", series="登壇イベント(毎月第2火曜)")
    source = FormsInMemory({fs.FORM_ID: [], SPEAKER_FORM: [speaker]})
    monkeypatch.setattr("shared.adapters.google_forms.GoogleForms", lambda: source)
    run = CronRun(job="poll-test", schedule_time=now, scheduled=True)
    result = jobs_applications.poll_form_responses(run)
    assert result["count"] == 0 and result["speakers"]["count"] == 1
    assert [s["name"] for s in stored(db, "speakers").values()] == ["小林　優"]

    source.forms = {fs.FORM_ID: []}  # the speaker form is no longer readable
    result = jobs_applications.poll_form_responses(run)
    assert result["speakers"]["outcome"] == "failed"
    assert stored(db, STATE)[fs.FORM_ID]["last_count"] == 0
