"""Community rhythm against the Firestore emulator: feed, prompt, reminders, digest, directory."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import threading
from pathlib import Path

import functions_framework
import pytest
import vobject

from shared import bootstrap
from shared.domain.ids import calendar_event_id
from tests.conftest import ROOT
from tests.helpers.members import consents

UTC = dt.UTC
JST = dt.timezone(dt.timedelta(hours=9))
CONFIG = """
community: {name: テスト　アルムナイ, locale: ja, timezone: Asia/Tokyo}
organizers:
  tanaka: {name: 田中　太郎, email: tanaka@example.com, zoom: {user: tanaka@example.com}}
  suzuki: {name: 鈴木　花子, email: suzuki@example.com}
series:
  speaker_night:
    kind: speaker_night
    title: "登壇イベント {month}月"
    start: "20:00"
    open_end: true
    rule: {type: monthly, nth: 2, weekday: tue}
rhythm:
  prompt: {texts: ["今週の #なんでもありデー\\n近況をどうぞ", "二つ目の話題"], batch_size: 3, daily_limit: 6}
  reminders: {offsets_days: [7, 1]}
"""


def cron(name: str, when: str) -> tuple[object, dict[str, str]]:
    app = functions_framework.create_app(name, str(ROOT / f"functions/{name}/main.py"))
    return app.test_client(), {"X-CloudScheduler-JobName": f"{name}-job", "X-CloudScheduler-ScheduleTime": when}


def slot(sid: str, start: dt.datetime, **extra: object) -> dict[str, object]:
    doc = {"series_id": sid.rsplit("_", 1)[0], "kind": "speaker_night", "title": "登壇イベント　12月", "online": True,
           "timezone": "Asia/Tokyo", "key_date": start.astimezone(JST).date().isoformat(),
           "date": start.astimezone(JST).date().isoformat(), "start": start.astimezone(UTC),
           "end": (start + dt.timedelta(hours=2)).astimezone(UTC), "open_end": True, "status": "scheduled",
           "speaker": None, "host": None, "gen_flags": {}, "revision": 0}
    doc.update(extra)
    return doc


def mails(outbox: Path) -> list[email.message.EmailMessage]:
    out = []
    for f in sorted((outbox / "mail").glob("*.eml")) if (outbox / "mail").is_dir() else []:
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        assert msg.get_content_type() in ("text/plain", "multipart/alternative")
        assert msg.get_body(("plain",)) is not None
        out.append(msg)
    return out


@pytest.fixture
def cfg(project, outbox, write_config, monkeypatch):
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("MAIL_FROM", "コミュニティ <community@example.com>")
    write_config(CONFIG)
    return bootstrap.config()


# --- ICS feed -------------------------------------------------------------------------------


def test_feed_parses_with_an_independent_parser_and_hides_itself_without_the_token(cfg, outbox, monkeypatch):
    from shared.usecases.rhythm import rotate_feed_token

    now = dt.datetime.now(UTC)
    store = bootstrap.slot_store()
    start = (now + dt.timedelta(days=10)).astimezone(JST).replace(hour=20, minute=0, second=0, microsecond=0)
    store.create_slot("speaker_night_a", slot("speaker_night_a", start, speaker={"id": "s1", "name": "山田　花子",
                                                                                "topic": "転職と\n起業", "status": "confirmed"}))
    store.create_slot("speaker_night_b", slot("speaker_night_b", start + dt.timedelta(days=14), status="cancelled"))
    store.create_slot("member_event_x", slot("member_event_x", start + dt.timedelta(days=3), kind="member_event",
                                             series_id="member_event", title="読書会", status="retired"))
    token = rotate_feed_token(bootstrap.rhythm_store(), now)
    client = functions_framework.create_app("ics_feed", str(ROOT / "functions/ics_feed/main.py")).test_client()

    for bad in ("/", "/wrong-token", f"/{token}x", "/?token=" + token[:-1]):
        res = client.get(bad)
        assert res.status_code == 404 and res.get_data(as_text=True) == "not found"
    res = client.get(f"/{token}")
    assert res.status_code == 200 and res.headers["Content-Type"].startswith("text/calendar")
    cal = vobject.readOne(res.get_data(as_text=True))
    events = {str(e.uid.value): e for e in cal.vevent_list}
    assert set(events) == {f"{calendar_event_id(s)}@alumni-autopilot" for s in ("speaker_night_a", "speaker_night_b", "member_event_x")}
    a = events[f"{calendar_event_id('speaker_night_a')}@alumni-autopilot"]
    assert a.dtstart.value == start and a.dtstart.value.utcoffset() == dt.timedelta(hours=9)
    assert "山田　花子" in a.description.value and a.status.value == "CONFIRMED"
    for sid in ("speaker_night_b", "member_event_x"):
        assert events[f"{calendar_event_id(sid)}@alumni-autopilot"].status.value == "CANCELLED"
    assert client.get("/?token=" + token).status_code == 200

    rotate_feed_token(bootstrap.rhythm_store(), now)  # the old URL dies at once
    assert client.get(f"/{token}").status_code == 404
    monkeypatch.setenv("ICS_FEED_TOKEN", "fixed-token-from-env-123")
    assert client.get("/fixed-token-from-env-123").status_code == 200


# --- weekly prompt ------------------------------------------------------------------------


def _members(db, n: int, opted: bool = True) -> None:
    batch = db.batch()
    for i in range(n):
        batch.set(db.collection("members").document(f"m{i:04d}"),
                  {"name": f"会員　{i}", "email": f"member{i}@example.com", "joined_at": dt.datetime(2026, 1, 1, tzinfo=UTC),
                   "consents": consents(weekly_prompt=opted and i % 5 != 4, directory=False)})
    batch.commit()


def test_prompt_goes_once_per_week_in_batches_within_the_daily_limit(cfg, db, outbox, monkeypatch):
    from tests.fakes.slack import running_slack

    _members(db, 15)  # 12 opted in -> 4 batches of 3; the daily limit (6) allows 2 a day
    with running_slack() as slack:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        bootstrap.reset()
        client, headers = cron("weekly_prompt", "2026-12-02T00:00:00Z")  # Wednesday 09:00 JST
        results: list[dict] = []

        def deliver() -> None:
            results.append(client.post("/", headers=headers).get_json())

        threads = [threading.Thread(target=deliver) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == 3 and sum(1 for r in results if not r["duplicate"]) == 1
        first = next(r for r in results if not r["duplicate"])
        assert first["slack"] == "posted" and first["sent"] == 2 and first["recipients"] == 6 and first["deferred"] == 2
        assert len(slack.posts) == 1 and "#なんでもありデー" in slack.posts[0]["text"]

        # A manual run the same day: budget spent, nothing more; the next day finishes the week.
        again = bootstrap.rhythm_store()
        from shared.usecases.rhythm import weekly_prompt

        same_day = weekly_prompt(cfg, again, bootstrap.mailer(), bootstrap.chat(), dt.datetime(2026, 12, 2, 5, tzinfo=UTC))
        assert same_day.sent == 0 and same_day.slack == "already" and same_day.deferred == 2
        client2, headers2 = cron("weekly_prompt", "2026-12-03T00:00:00Z")
        body = client2.post("/", headers=headers2).get_json()
        assert body["sent"] == 2 and body["deferred"] == 0 and len(slack.posts) == 1
        assert client2.post("/", headers=headers2).get_json()["duplicate"] is True

    sent = mails(outbox)
    assert len(sent) == 12  # 4 batches, each a message per member (its own unsubscribe link)
    everyone = [a.addr_spec for m in sent for a in m["To"].addresses]
    assert len(everyone) == 12 == len(set(everyone))
    for m in sent:
        assert "Bcc" not in m and len(m["To"].addresses) == 1
        assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "二つ目の話題" in m.get_body(("plain",)).get_content()  # week 49's text in the rotation
        assert "なんでもありデー" in str(m["Subject"])


def test_the_daily_prompt_run_waits_for_the_prompt_day_then_catches_up(cfg, db, outbox, monkeypatch):
    """infra/ runs weekly_prompt daily: before rhythm.prompt.weekday (Wednesday) a run does nothing;
    a later day of the same week sends the prompt when the prompt day's run never came."""
    from tests.fakes.slack import running_slack

    _members(db, 5)
    with running_slack() as slack:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        bootstrap.reset()
        for monday_or_tuesday in ("2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z"):
            client, headers = cron("weekly_prompt", monday_or_tuesday)
            body = client.post("/", headers=headers).get_json()
            assert body["waits_for"] == "wed" and body["sent"] == 0 and body["slack"] == "off", body
        assert slack.posts == [] and not (outbox / "mail").exists()
        assert [d.id for d in db.collection("prompt_plans").stream()] == []
        client, headers = cron("weekly_prompt", "2026-12-03T00:00:00Z")  # Thursday: the missed prompt day
        body = client.post("/", headers=headers).get_json()
        assert body["waits_for"] == "" and body["slack"] == "posted" and body["recipients"] == 4, body
    assert len(mails(outbox)) == body["recipients"] == 4 and body["sent"] == 2  # batches of 3, a message each


def test_slack_refusal_is_released_for_a_retry(cfg, monkeypatch):
    from shared.usecases.rhythm import weekly_prompt
    from tests.fakes.slack import running_slack

    with running_slack() as slack:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        bootstrap.reset()
        slack.fail_with = (404, "no_service")
        now = dt.datetime(2026, 12, 2, tzinfo=UTC)
        r = weekly_prompt(bootstrap.config(), bootstrap.rhythm_store(), None, bootstrap.chat(), now)
        assert r.slack == "refused" and slack.posts == []
        slack.fail_with = None
        r = weekly_prompt(bootstrap.config(), bootstrap.rhythm_store(), None, bootstrap.chat(), now)
        assert r.slack == "posted" and len(slack.posts) == 1


def test_prompt_on_cloud_functions_without_the_slack_url_refuses_and_writes_nothing(cfg, db, outbox, monkeypatch):
    """There the outbox is a throw-away disk: the post would reach nobody yet count as done."""
    from tests.fakes.slack import running_slack

    _members(db, 3)
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("K_SERVICE", "weekly-prompt")
    monkeypatch.setenv("ACTION_LINK_KEY", "k" * 32)  # the unsubscribe links' key: present, as Terraform gives it
    bootstrap.reset()
    client, headers = cron("weekly_prompt", "2026-12-02T00:00:00Z")
    res = client.post("/", headers=headers)
    assert res.status_code == 500, res.get_data(as_text=True)
    assert "SLACK_WEBHOOK_URL" in res.get_json()["error"] and "rhythm.prompt.slack: false" in res.get_json()["error"]
    assert not (outbox / "slack").exists() and not (outbox / "mail").exists()
    assert [d.id for c in ("idempotency", "chat_intents", "mail_intents") for d in db.collection(c).stream()] == []
    # The secret added: Cloud Scheduler's retry of the same run goes through.
    monkeypatch.delenv("K_SERVICE")
    with running_slack() as slack:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        bootstrap.reset()
        client, headers = cron("weekly_prompt", "2026-12-02T00:00:00Z")
        res = client.post("/", headers=headers)
        assert res.status_code == 200 and res.get_json()["slack"] == "posted" and len(slack.posts) == 1


# --- reminders ----------------------------------------------------------------------------


def test_reminders_go_once_per_role_and_offset(cfg, db, outbox):
    now = dt.datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    store = bootstrap.slot_store()
    store.create_slot("speaker_night_2026-12-08", slot("speaker_night_2026-12-08", dt.datetime(2026, 12, 7, 20, tzinfo=JST),
                                                      host="tanaka", speaker={"id": "sp1", "name": "山田　花子",
                                                                              "topic": "アルムナイの\n起業", "status": "confirmed"}))
    store.create_slot("speaker_night_2026-12-02", slot("speaker_night_2026-12-02", dt.datetime(2026, 12, 1, 20, tzinfo=JST), host="tanaka"))
    store.create_slot("speaker_night_2026-12-30", slot("speaker_night_2026-12-30", dt.datetime(2026, 12, 30, 20, tzinfo=JST), host="tanaka"))
    db.collection("speakers").document("sp1").set({"name": "山田　花子", "email": "yamada@example.com"})
    client, headers = cron("send_reminders", now.isoformat().replace("+00:00", "Z"))
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(client.post("/", headers=headers).get_json())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["duplicate"] for r in results) == [False, True, True]
    assert next(r for r in results if not r["duplicate"])["sent"] == 3  # 7d: speaker + host; 1d: host
    # A later run the same day (another Scheduler time) sends nothing new.
    client2, headers2 = cron("send_reminders", "2026-12-01T01:00:00Z")
    assert client2.post("/", headers=headers2).get_json()["sent"] == 0
    sent = mails(outbox)
    assert len(sent) == 3
    speaker = next(m for m in sent if m["To"].addresses[0].addr_spec == "yamada@example.com")
    text = speaker.get_body(("plain",)).get_content()
    assert "山田　花子 さん" in text and "7日後" in text and "発表資料" in text and "アルムナイの\n起業" in text
    assert "2026年12月7日(月) 20:00〜(自由解散)" in text  # the event in full: date, weekday, time
    assert "明日は" in str(next(m for m in sent if "明日" in str(m["Subject"]))["Subject"])


# --- digest -------------------------------------------------------------------------------


def test_digest_once_per_organizer_with_what_needs_a_person(cfg, db, outbox):
    now = dt.datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # Monday 08:00 JST
    store = bootstrap.slot_store()
    store.create_slot("speaker_night_2026-12-08", slot("speaker_night_2026-12-08", dt.datetime(2026, 12, 8, 20, tzinfo=JST)))
    store.create_slot("speaker_night_2027-01-05", slot("speaker_night_2027-01-05", dt.datetime(2027, 1, 5, 20, tzinfo=JST),
                                                      host="tanaka", speaker={"id": "s", "name": "佐藤　次郎", "status": "confirmed"},
                                                      gen_flags={"rule_changed": {}}, provision={"zoom_error": "user not found"}))
    store.create_slot("speaker_night_2026-11-24", slot("speaker_night_2026-11-24", dt.datetime(2026, 11, 24, 20, tzinfo=JST),
                                                      attendance={"participants": 23}))
    for i, status in enumerate(["needs_review", "needs_review", "incomplete", "approved"]):
        db.collection("applications").document(f"app{i}").set(
            {"status": status, "received_at": now - dt.timedelta(days=i), "fields": {"name": f"申請　{i}", "affiliation": "ソニー"}})
    db.collection("members").document("new").set({"name": "新人", "joined_at": now - dt.timedelta(days=2)})
    client, headers = cron("send_digest", now.isoformat().replace("+00:00", "Z"))
    bodies = [client.post("/", headers=headers).get_json() for _ in range(2)]
    assert bodies[0]["sent"] == 2 and bodies[1]["duplicate"] is True
    assert bodies[0]["applications_waiting"] == 2 and bodies[0]["attendance"] == 23 and bodies[0]["new_members"] == 1
    sent = mails(outbox)
    assert sorted(m["To"].addresses[0].addr_spec for m in sent) == ["suzuki@example.com", "tanaka@example.com"]
    text = next(m for m in sent if "tanaka" in str(m["To"])).get_body(("plain",)).get_content()
    assert "田中　太郎 さん" in text and "申請　0" in text and "申請　1" in text and "記入不足: 1件" in text
    assert "登壇者・Zoomホストが未定" in text  # the December slot
    assert "開催ルールが変わりました" in text and "user not found" in text  # a flag in words, an error as stored
    assert "参加 23人" in text and "佐藤　次郎" in text
    subject = str(next(m for m in sent if "tanaka" in str(m["To"]))["Subject"])
    assert "11月30日(月)〜12月6日(日)" in subject and "W49" not in subject  # the digest names its dates


# --- directory ----------------------------------------------------------------------------


def test_directory_exports_and_opt_out(cfg, db):
    import csv
    import io

    from shared.usecases.members import Deps, remove_entry
    from shared.usecases.rhythm import export_directory_csv, export_directory_markdown

    db.collection("members").document("a").set({"name": "高橋　一郎", "consents": consents(directory=True),
                                                "directory": {"company": "株式会社テスト", "role": "代表取締役",
                                                              "link": "https://example.com/a", "intro": "AIの会社です|改行\nあり"}})
    db.collection("members").document("b").set({"name": "=cmd()", "consents": consents(directory=True), "directory": {"company": "X"}})
    db.collection("members").document("c").set({"name": "載せない人", "consents": consents(directory=False)})
    store = bootstrap.rhythm_store()
    rows = list(csv.DictReader(io.StringIO(export_directory_csv(store, "ja"))))  # headers in the community's words
    assert [r["名前"] for r in rows] == ["'=cmd()", "高橋　一郎"]
    assert rows[1]["紹介"] == "AIの会社です|改行\nあり"
    assert next(csv.reader(io.StringIO(export_directory_csv(store, "en")))) == ["Name", "Company", "Role", "Link", "About"]
    md = export_directory_markdown(store, "ja")
    assert "| 高橋　一郎 | 株式会社テスト | 代表取締役 | <https://example.com/a> | AIの会社です\\|改行 あり |" in md
    assert "載せない人" not in md
    deps = Deps(bootstrap.config(), store, bootstrap.mailer(), b"k" * 32)
    assert remove_entry(deps, "a", store.get("members", "a"), dt.datetime.now(UTC)) == ["directory", "directory_entry"]
    assert "高橋" not in export_directory_csv(store, "ja")
    assert store.get("members", "a")["directory"] is None  # the texts are gone, not only hidden
