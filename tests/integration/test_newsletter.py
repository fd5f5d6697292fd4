"""The monthly newsletter: assembled once, previewed, approved by link or sent by itself, delivered to a
mailing list or to each member (batches within the daily limit); rendered in Japanese and English."""

from __future__ import annotations

import datetime as dt
import re
import threading
from zoneinfo import ZoneInfo

import functions_framework
import pytest

from shared import bootstrap
from shared.domain.members import consent_records, directory_pick
from shared.platform import texts
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.mailbox import link_urls, mails, text_of
from tests.helpers.configs import example_dict, to_yaml

JST = ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=JST)  # the March issue: February's events, March's ahead


def _seed(db, members=7) -> None:
    joined = dt.datetime(2027, 2, 10, tzinfo=JST)
    for i in range(members + 2):
        opted = i < members
        directory = i % 3 == 0
        db.collection("members").document(f"m{i}").set({
            "name": f"会員　{i}号", "email": f"member{i}@example.com", "joined_at": joined if i % 2 else joined.replace(month=1),
            "consents": consent_records({"newsletter": opted, "directory": directory}, joined, "form"),
            "directory": {"company": f"株式会社{i}", "role": "代表", "link": "https://example.jp", "intro": "紹介\n二行目"}
            if directory else None, "directory_pick": directory_pick(f"m{i}") if directory else None})
    for sid, start, extra in (
            ("speaker_night_2027-02-09", dt.datetime(2027, 2, 9, 20, 0, tzinfo=JST),
             {"attendance": {"participants": 42}, "links": [{"label": "録画", "url": "https://example.jp/rec"},
                                                              {"label": "bad", "url": "javascript:alert(1)"}],
              "speaker": {"id": "s1", "name": "登壇　太郎", "topic": "起業の話", "status": "confirmed"}}),
            ("lunch_2027-03-18", dt.datetime(2027, 3, 18, 12, 0, tzinfo=JST), {}),
            ("lunch_2027-04-15", dt.datetime(2027, 4, 15, 12, 0, tzinfo=JST), {})):
        db.collection("slots").document(sid).set({
            "series_id": sid.rsplit("_", 1)[0], "kind": "lunch" if "lunch" in sid else "speaker_night",
            "title": f"イベント {sid}", "online": True, "timezone": "Asia/Tokyo", "key_date": start.date().isoformat(),
            "start": start, "end": start + dt.timedelta(hours=1), "status": "scheduled", "speaker": None, "host": None,
            "gen_flags": {}, **extra})
    db.collection("interviews").document("iv1").set({"title": "元エンジニアの起業", "member_name": "会員　3号",
                                                      "link": "https://example.jp/interview", "state": "published",
                                                      "consent": {"value": True, "source": "link"},
                                                      "newsletter_pending": True})


@pytest.fixture
def newsletter_env(project, outbox, write_config, monkeypatch, db):
    def setup(locale="ja", **over):
        data = example_dict()
        data["community"]["locale"] = locale
        data["newsletter"] = {"batch_size": 3, "daily_limit": 6, "featured_entries": 2, "auto_send_after_days": 3,
                              "rsvp_url": "https://example.jp/events/{slot_id}", **over}
        write_config(to_yaml(data))
        monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
        monkeypatch.delenv("ACTIONS_BASE_URL", raising=False)
        bootstrap.reset()
        _seed(db)
        from shared.entrypoints import jobs_newsletter

        return jobs_newsletter.deps
    return setup


def planned(db, month="2027-03") -> list[str]:
    """The recipients of the issue's batches, as planned and sent (docs/newsletter.md)."""
    batches = [d.to_dict() for d in db.collection("newsletter_batches").stream() if d.id.startswith(month)]
    assert all(b["sent"] for b in batches)
    return [a for b in batches for a in b["to"]]


def test_assembled_once_previewed_approved_by_link_and_sent_in_batches_within_the_daily_limit(newsletter_env, db, outbox):
    from shared.usecases import newsletter

    deps = newsletter_env()
    first = newsletter.run(deps(), NOW)
    organizers = len(bootstrap.config().organizers)
    assert first.assembled and first.previews == organizers and first.status == "preview" and first.sent == 0
    again = newsletter.run(deps(), NOW + dt.timedelta(hours=1))
    assert not again.assembled and again.previews == 0 and again.sent == 0

    issue = db.collection("newsletters").document("2027-03").get().to_dict()
    c = issue["content"]
    assert [e["title"] for e in c["past"]] == ["イベント speaker_night_2027-02-09"]
    assert c["past"][0]["attendance"] == 42 and c["past"][0]["links"] == [{"label": "録画", "url": "https://example.jp/rec"}]
    assert [e["rsvp_url"] for e in c["ahead"]] == ["https://example.jp/events/lunch_2027-03-18"]  # April is not "ahead"
    assert c["new_members"] == 4  # m1, m3, m5, m7 joined in February (a count aggregation)
    assert len(c["featured"]) == 2 and all(f["company"].startswith("株式会社") for f in c["featured"])
    assert c["interviews"][0]["link"] == "https://example.jp/interview"

    preview = next(m for k, m in mails(outbox).items() if k.startswith("newsletter:2027-03:preview:"))
    assert "先月のイベント" in text_of(preview) and "参加 42人" in text_of(preview)
    act = functions_framework.create_app("actions", str(ROOT / "functions/actions/main.py")).test_client()
    approve = link_urls(preview)["approve_newsletter"]
    token = approve.split("t=", 1)[1]
    assert "2027-03 のニュースレターをこの内容で配信しますか" in act.get("/", query_string={"t": token}).get_data(as_text=True)
    assert act.post("/", data={"t": token, "actor": "suzuki"}).status_code == 200
    assert db.collection("newsletters").document("2027-03").get().to_dict()["approved_by"] == "鈴木　花子"

    day1 = newsletter.run(deps(), NOW + dt.timedelta(hours=2))
    assert day1.batches == 3 and day1.sent == 2 and day1.recipients == 6 and day1.deferred == 1 and day1.status == "sending"
    assert newsletter.run(deps(), NOW + dt.timedelta(hours=3)).sent == 0  # today's budget is spent
    day2 = newsletter.run(deps(), NOW + dt.timedelta(days=1))
    assert day2.sent == 1 and day2.recipients == 1 and day2.status == "sent"
    sent = [m for k, m in mails(outbox).items() if re.fullmatch(r"newsletter:2027-03:mail:\d+:\d+", k)]
    everyone = sorted(planned(db))
    assert len(sent) == 7 and everyone == sorted(f"member{i}@example.com" for i in range(7))  # each opted-in member once
    assert sorted(a.addr_spec for m in sent for a in m["To"].addresses) == everyone  # a message each, alone in To
    for m in sent:  # RFC 8058: each member's own signed link, in the header and visibly in the body
        assert m["Bcc"] is None and m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = str(m["List-Unsubscribe"]).split(",")[0].strip("<> ")
        assert "/u?t=" in link and link in text_of(m) and "/me" in text_of(m)
    assert len({str(m["List-Unsubscribe"]) for m in sent}) == 7
    assert db.collection("interviews").document("iv1").get().to_dict()["newsletter_pending"] is False
    assert newsletter.run(deps(), NOW + dt.timedelta(days=2)).sent == 0


def test_without_approval_it_goes_by_itself_after_the_configured_days(newsletter_env, db, outbox):
    from shared.usecases import newsletter

    deps = newsletter_env(daily_limit=60, batch_size=50)
    newsletter.run(deps(), NOW)
    assert newsletter.run(deps(), NOW + dt.timedelta(days=2, hours=23)).sent == 0
    due = newsletter.run(deps(), NOW + dt.timedelta(days=3))
    assert due.sent == 1 and due.recipients == 7 and due.status == "sent"


def test_only_after_approval_when_auto_send_is_off(newsletter_env, db, outbox):
    from shared.usecases import newsletter

    deps = newsletter_env(auto_send_after_days=None, day=5)
    assert newsletter.run(deps(), NOW + dt.timedelta(days=3)).status == "not_yet"  # March 4th: before the day
    newsletter.run(deps(), NOW + dt.timedelta(days=4))
    assert newsletter.run(deps(), NOW + dt.timedelta(days=20)).status == "preview"


def test_a_mailing_list_gets_one_message(newsletter_env, db, outbox):
    from shared.usecases import newsletter

    deps = newsletter_env(mailing_list="alumni-all@googlegroups.com", auto_send_after_days=0)
    report = newsletter.run(deps(), NOW)
    assert report.sent == 1 and report.status == "sent"
    [msg] = [m for k, m in mails(outbox).items() if k == "newsletter:2027-03:list"]
    assert msg["To"].addresses[0].addr_spec == "alumni-all@googlegroups.com" and msg["Bcc"] is None
    assert not [k for k in mails(outbox) if ":mail:" in k]


def test_concurrent_runs_send_each_batch_once(newsletter_env, db, outbox):
    from shared.usecases import newsletter

    deps = newsletter_env(auto_send_after_days=0, daily_limit=60)
    results: list[newsletter.Report] = []
    threads = [threading.Thread(target=lambda: results.append(newsletter.run(deps(), NOW))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = [m for k, m in mails(outbox).items() if ":mail:" in k]
    everyone = planned(db)
    assert sorted(everyone) == sorted(set(everyone)) and len(everyone) == 7
    assert sum(r.recipients for r in results) == len(sent) == 7  # a message per member, each once


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_newsletter_renders_in_japanese_and_english(newsletter_env, db, outbox, locale):
    from shared.usecases import newsletter

    deps = newsletter_env(locale)  # the community's language: the preview, the issue and its dates
    newsletter.run(deps(), NOW)
    issue = db.collection("newsletters").document("2027-03").get().to_dict()
    r = newsletter.render_issue(bootstrap.config(), issue["content"], "https://example.jp/me")
    for part in (r.text, r.html):
        assert "登壇　太郎" not in part or locale == "ja"
        assert "https://example.jp/rec" in part and "https://example.jp/events/lunch_2027-03-18" in part
        assert "https://example.jp/interview" in part and "https://example.jp/me" in part
    if locale == "ja":
        assert r.subject.endswith("ニュースレター 2027年3月号") and "先月は 4人が仲間に加わりました" in r.text
    else:
        assert r.subject.endswith("Newsletter, March 2027") and "4 joined us last month" in r.text
        own = {bootstrap.config().community.name, *(e["title"] for e in issue["content"]["past"] + issue["content"]["ahead"]),
               *(f[k] for f in issue["content"]["featured"] for k in ("name", "company", "role")),
               *(line for f in issue["content"]["featured"] for line in f["intro"].splitlines()),
               "元エンジニアの起業", "会員　3号", "録画"}
        rest = r.text
        for name in sorted(own, key=len, reverse=True):
            rest = rest.replace(name, "")
        assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", rest), rest


def test_the_archive_shows_a_sent_edition_without_the_featured_members_and_nothing_else(newsletter_env, db, outbox):
    from shared.usecases import newsletter

    deps = newsletter_env(mailing_list="alumni-all@googlegroups.com", auto_send_after_days=0)
    assert newsletter.run(deps(), NOW).status == "sent"
    issue = db.collection("newsletters").document("2027-03").get().to_dict()
    featured = issue["content"]["featured"]
    assert len(featured) == 2  # in the members' mail
    for n, status in ((4, "preview"), (5, "approved"), (6, "sending")):  # editions that have not gone out (yet)
        db.collection("newsletters").document(f"2027-0{n}").set({**issue, "month": f"2027-0{n}", "status": status,
                                                                   "content": {**issue["content"], "month": f"2027-0{n}"}})
    site = functions_framework.create_app("events", str(ROOT / "functions/events/main.py")).test_client()
    res = site.get("/newsletters/2027-03")
    page = res.get_data(as_text=True)
    assert res.status_code == 200 and "2027-03 号" in page and res.headers["Cache-Control"] == "private, no-cache"
    assert "イベント speaker_night_2027-02-09" in page and "参加 42人" in page and "https://example.jp/rec" in page
    assert "元エンジニアの起業" in page and "https://example.jp/interview" in page  # the member agreed to the web too
    # the featured members' consent covers the members' mail, not the web: none of their entry
    assert "起業家・経営者名簿から" not in page and "二行目" not in page
    assert not [f for f in featured if f["company"] in page]
    assert "@example.com" not in page and "/u?t=" not in page and "javascript:" not in page
    archive = site.get("/newsletters").get_data(as_text=True)
    assert "/newsletters/2027-03" in archive and "2027-04" not in archive and "2027-06" not in archive
    for month in ("2027-04", "2027-05", "2027-06", "2026-12", "nothing"):
        assert site.get(f"/newsletters/{month}").status_code == 404, month
    site.get("/lang/en")
    english = site.get("/newsletters/2027-03").get_data(as_text=True)
    title = texts.t("en", "events.newsletters.issue", month="2027-03")
    assert '<html lang="en">' in english and title in english and "4 joined us last month" in english
    assert not [f for f in featured if f["company"] in english]
