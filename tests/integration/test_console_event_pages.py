"""The console pages issues of events and members need (Attendees, Newsletter, Interviews, Referrals)
against the emulator, through the functions-framework test client: what each shows, what each change
does in Firestore, the outbox and the audit log, and the refusals (no CSRF token, not an organizer,
a wrong item): refused, nothing changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import functions_framework

from shared import bootstrap
from tests.conftest import ROOT
from tests.fakes.mailbox import mails
from tests.helpers import console as c
from tests.helpers import oidc
from tests.helpers.console import audit, signed_in

HOST = "kimura@example.jp"


def a_host(key: oidc.KeyPair) -> Any:
    """A host volunteer (not an organizer), signed in."""
    from shared.usecases import roster

    roster.add_host(bootstrap.config(), bootstrap.doc_store(), roster.NewHost("kimura", "木村　次郎", HOST, HOST), "tanaka",
                    dt.datetime.now(dt.UTC))
    return signed_in(key, HOST)


def snapshot(db: Any, *collections: str) -> dict[str, Any]:
    return {name: sorted((d.id, d.to_dict()) for d in db.collection(name).stream()) for name in collections}


# ------------------------------------------------------------------ attendees


def test_attendees_list_check_in_and_a_raised_capacity_promotes_from_the_waitlist(world, key, db, outbox):
    now = dt.datetime.now(dt.UTC)
    slot = c.in_person_slot()
    people = c.rsvps(slot["id"], 4, now, capacity=2)
    app = signed_in(key)
    listing = app.get("/attendees").get_data(as_text=True)
    assert f'/attendees/{slot["id"]}' in listing and "参加確定 2 / 定員 2" in listing and "キャンセル待ち 2 人" in listing
    assert f'/attendees/{slot["id"]}' in app.get("/").get_data(as_text=True)  # linked from Today
    assert f'/attendees/{slot["id"]}' in app.get(f"/schedule/{slot['id']}").get_data(as_text=True)  # and the event's page
    html = app.get(f"/attendees/{slot['id']}").get_data(as_text=True)
    assert "受付リスト (2)" in html and "参加者　0" in html and "アレルギー:えび\n車椅子で伺います" in html
    waitlist = html.split("キャンセル待ち (2)", 1)[1]
    assert waitlist.index("参加者　2") < waitlist.index("参加者　3")  # in order (the list numbers them)

    token = c.csrf_of(html)
    res = app.post(f"/attendees/{slot['id']}", data={"action": "check_in", "who": people[0], "present": "1", "csrf": token})
    assert res.status_code == 303 and "done=checked_in" in res.headers["Location"]
    doc = db.collection("rsvps").document(f"{slot['id']}~{people[0]}").get().to_dict()
    assert doc["checked_in"]["present"] is True and doc["checked_in"]["by"] == "tanaka"
    assert "受付済み" in app.get(f"/attendees/{slot['id']}").get_data(as_text=True)

    before = set(mails(outbox))
    res = app.post(f"/attendees/{slot['id']}", data={"action": "capacity", "capacity": "３", "csrf": token})  # full-width
    assert res.status_code == 303 and "done=capacity_promoted" in res.headers["Location"]
    promoted = [k for k in set(mails(outbox)) - before if ":promoted:" in str(k)]
    assert len(promoted) == 1 and people[2][:8] in str(promoted[0])
    page = app.get(f"/attendees/{slot['id']}").get_data(as_text=True)
    assert "受付リスト (3)" in page and "キャンセル待ち (1)" in page
    entries = audit(db)
    assert [e["action"] for e in entries] == ["event.check_in", "event.capacity"]
    assert entries[0]["before"] == {"present": None} and entries[0]["after"] == {"present": True}
    assert entries[1]["before"] == {"capacity": 2} and entries[1]["after"] == {"capacity": 3, "promoted": 1}
    assert entries[1]["target"] == f"slots/{slot['id']}" and entries[1]["actor_name"]


def test_attendees_refusals_change_nothing(world, key, db, outbox):
    now = dt.datetime.now(dt.UTC)
    slot = c.in_person_slot()
    people = c.rsvps(slot["id"], 3, now, capacity=2)
    app = signed_in(key)
    token = c.form_of(app, f"/attendees/{slot['id']}")
    watched = ("rsvps", "rsvp_heads", "rsvp_events", "audit")
    before, files = snapshot(db, *watched), set(mails(outbox))
    path = f"/attendees/{slot['id']}"
    # no CSRF token, or a forged one: 403, the handler never runs
    assert app.post(path, data={"action": "capacity", "capacity": "10"}).status_code == 403
    assert app.post(path, data={"action": "capacity", "capacity": "10", "csrf": "forged"}).status_code == 403
    # wrong input: a clear refusal
    for data in ({"capacity": "-1"}, {"capacity": "10001"}, {"capacity": "二"}, {"capacity": "2"}):
        res = app.post(path, data={"action": "capacity", "csrf": token, **data})
        assert res.status_code == 409, data
        assert 'role="alert"' in res.get_data(as_text=True)
    res = app.post(path, data={"action": "check_in", "who": people[2], "present": "1", "csrf": token})  # on the waitlist
    assert res.status_code == 409 and "参加確定ではありません" in res.get_data(as_text=True)
    assert app.post(path, data={"action": "check_in", "who": people[0], "present": "yes", "csrf": token}).status_code == 400
    assert app.post(path, data={"action": "explode", "csrf": token}).status_code == 400
    assert app.post("/attendees/nope", data={"action": "capacity", "capacity": "5", "csrf": token}).status_code == 404
    online = next(s for s in bootstrap.slot_store().slots_between(now, now + dt.timedelta(days=60)) if s.get("online"))
    res = app.post(f"/attendees/{online['id']}", data={"action": "check_in", "who": people[0], "present": "1", "csrf": token})
    assert res.status_code in (404, 409)
    # a host who is not an organizer: 403 on the page and on its change
    host = a_host(key)
    assert host.get(path).status_code == 403 and host.get("/attendees").status_code == 403
    host_token = c.form_of(host, "/hosts")
    assert host.post(path, data={"action": "capacity", "capacity": "10", "csrf": host_token}).status_code == 403
    assert host.post(path, data={"action": "check_in", "who": people[0], "present": "1", "csrf": host_token}).status_code == 403
    after = snapshot(db, *watched)
    assert after == before and set(mails(outbox)) == files


def test_links_after_the_event_reach_the_slot_and_a_bad_link_changes_nothing(world, key, db, outbox):
    now = dt.datetime.now(dt.UTC)
    slot = c.in_person_slot()
    c.rsvps(slot["id"], 2, now, capacity=2)
    app = signed_in(key)
    path = f"/attendees/{slot['id']}"
    token = c.form_of(app, path)
    watched = ("rsvp_events", "audit", "slots")
    before = snapshot(db, *watched)
    for bad in ({"recording_url": "http://example.com/rec"}, {"survey_url": "javascript:alert(1)"},
                {"recording_url": "https://example.com/a b"}):
        res = app.post(path, data={"action": "followup", "csrf": token, **bad})
        assert res.status_code == 409 and "https://" in res.get_data(as_text=True), bad
    assert snapshot(db, *watched) == before
    res = app.post(path, data={"action": "followup", "recording_url": "https://example.com/rec", "label": "当日の記事",
                               "survey_url": "https://forms.example.com/s", "csrf": token})
    assert res.status_code == 303 and "done=followup" in res.headers["Location"]
    assert db.collection("slots").document(slot["id"]).get().to_dict()["links"] == [
        {"label": "当日の記事", "url": "https://example.com/rec", "kind": "recording"}]
    settings = db.collection("rsvp_events").document(slot["id"]).get().to_dict()["followup"]
    assert settings["recording_url"] == "https://example.com/rec" and settings["survey_url"] == "https://forms.example.com/s"
    page = app.get(path + "?done=followup").get_data(as_text=True)
    assert 'value="https://forms.example.com/s"' in page and "開催後のリンクを保存しました" in page
    (entry,) = [e for e in audit(db) if e["action"] == "event.followup"]
    assert entry["after"] == {"recording_url": "https://example.com/rec", "survey_url": "https://forms.example.com/s"}
    # an empty field removes its link
    app.post(path, data={"action": "followup", "recording_url": "", "survey_url": "https://forms.example.com/s", "csrf": token})
    assert db.collection("slots").document(slot["id"]).get().to_dict()["links"] == []


# ------------------------------------------------------------------ newsletter


def actions_client() -> Any:
    return functions_framework.create_app("actions", str(ROOT / "functions/actions/main.py")).test_client()


def assembled(now: dt.datetime) -> str:
    """This month's issue, assembled and previewed as the monthly job does it; returns its month."""
    from shared.entrypoints.jobs_newsletter import deps
    from shared.usecases import newsletter

    report = newsletter.run(deps(), now)
    assert report.assembled and report.status == "preview"
    return report.month


def test_the_newsletter_preview_approved_in_the_console_and_by_the_mail_link_is_one_decision(world, key, db, outbox):
    from tests.fakes.mailbox import link_urls

    now = dt.datetime.now(dt.UTC)
    month = assembled(now)
    app = signed_in(key)
    html = app.get("/newsletter").get_data(as_text=True)
    assert f"{month} 号" in html and "承認待ち" in html and 'class="mail"' in html and "件名" in html
    assert "<script" not in html and "style=" not in html
    token = c.csrf_of(html)
    # refused: no CSRF token; a host who is not an organizer
    assert app.post(f"/newsletter/{month}", data={}).status_code == 403
    host = a_host(key)
    assert host.get("/newsletter").status_code == 403
    assert host.post(f"/newsletter/{month}", data={"csrf": c.form_of(host, "/hosts")}).status_code == 403
    assert db.collection("newsletters").document(month).get().to_dict()["status"] == "preview" and audit(db) == []
    assert app.post("/newsletter/2099-01", data={"csrf": token}).status_code == 404
    assert app.post("/newsletter/x", data={"csrf": token}).status_code == 404

    res = app.post(f"/newsletter/{month}", data={"csrf": token})
    assert res.status_code == 303 and "done=newsletter_approved" in res.headers["Location"]
    issue = db.collection("newsletters").document(month).get().to_dict()
    assert issue["status"] == "approved" and issue["approved_by"] == "田中　太郎"
    (entry,) = audit(db)
    assert entry["action"] == "newsletter.approve" and entry["before"] == {"status": "preview"}
    assert entry["after"] == {"status": "approved", "approved_by": "田中　太郎"}
    assert "田中　太郎 さんが" in app.get(f"/newsletter?month={month}").get_data(as_text=True)

    # the preview mail's approve link now says it was decided, and changes nothing
    preview = next(m for k, m in mails(outbox).items() if k.startswith(f"newsletter:{month}:preview:"))
    link = link_urls(preview)["approve_newsletter"].split("t=", 1)[1]
    assert actions_client().post("/", data={"t": link, "actor": "suzuki"}).status_code == 409
    assert db.collection("newsletters").document(month).get().to_dict()["approved_by"] == "田中　太郎"
    again = app.post(f"/newsletter/{month}", data={"csrf": token})
    assert again.status_code == 409 and len(audit(db)) == 1


def test_the_mail_link_first_then_the_console_shows_it_decided(world, key, db, outbox):
    from tests.fakes.mailbox import link_urls

    month = assembled(dt.datetime.now(dt.UTC))
    preview = next(m for k, m in mails(outbox).items() if k.startswith(f"newsletter:{month}:preview:"))
    link = link_urls(preview)["approve_newsletter"].split("t=", 1)[1]
    assert actions_client().post("/", data={"t": link, "actor": "suzuki"}).status_code == 200
    app = signed_in(key)
    html = app.get("/newsletter").get_data(as_text=True)
    assert "鈴木　花子 さんが" in html and f'action="/newsletter/{month}"' not in html  # no approve button any more
    res = app.post(f"/newsletter/{month}", data={"csrf": c.csrf_of(html)})
    assert res.status_code == 409 and audit(db) == []
    app.get("/lang/en")
    assert "Approved by 鈴木　花子" in app.get("/newsletter").get_data(as_text=True)


# ------------------------------------------------------------------ interviews


def test_the_interview_pipeline_asks_by_mail_agrees_only_by_the_member_and_publishes_with_a_link(world, key, db, outbox):
    from shared.domain.applications import email_key
    from tests.fakes.mailbox import link_urls

    member = db.collection("members").document("m0").get().to_dict()
    db.collection("members").document(email_key("Member0@Example.jp")).set(member)  # members are keyed by address
    app = signed_in(key)
    token = c.form_of(app, "/interviews")
    res = app.post("/interviews", data={"email": "Member0@Example.jp", "angle": "アルムナイ起業の\n最初の一年", "csrf": token})
    assert res.status_code == 303
    (piece,) = [(d.id, d.to_dict()) for d in db.collection("interviews").stream()]
    iid, doc = piece
    assert doc["state"] == "idea" and doc["member_name"] == "青木　健" and doc["angle"] == "アルムナイ起業の 最初の一年"
    html = app.get("/interviews").get_data(as_text=True)
    assert "アルムナイ起業の 最初の一年" in html and "アイデア" in html

    # refusals change nothing: an unknown member, no angle, the same idea twice, a skipped step, agreed
    # by an organizer, no CSRF token, a host
    watched = ("interviews", "audit")
    before, files = snapshot(db, *watched), set(mails(outbox))
    for data in ({"email": "nobody@example.jp", "angle": "x"}, {"email": "member0@example.jp", "angle": "　"},
                 {"email": "member0@example.jp", "angle": "アルムナイ起業の 最初の一年"}):
        assert app.post("/interviews", data={**data, "csrf": token}).status_code == 409, data
    assert app.post(f"/interviews/{iid}", data={"state": "drafted", "csrf": token}).status_code == 409
    assert app.post(f"/interviews/{iid}", data={"state": "agreed", "csrf": token}).status_code == 409
    assert app.post(f"/interviews/{iid}", data={"state": "gone", "csrf": token}).status_code == 400
    assert app.post("/interviews/nope", data={"state": "asked", "csrf": token}).status_code == 404
    assert app.post(f"/interviews/{iid}", data={"state": "asked"}).status_code == 403
    assert app.post("/interviews", data={"email": "member0@example.jp", "angle": "別の話"}).status_code == 403
    host = a_host(key)
    host_token = c.form_of(host, "/hosts")
    assert host.get("/interviews").status_code == 403
    assert host.post(f"/interviews/{iid}", data={"state": "asked", "csrf": host_token}).status_code == 403
    assert host.post("/interviews", data={"email": "member0@example.jp", "angle": "別の話", "csrf": host_token}).status_code == 403
    assert snapshot(db, *watched) == before and set(mails(outbox)) == files

    res = app.post(f"/interviews/{iid}", data={"state": "asked", "csrf": token})
    assert res.status_code == 303 and "done=interview_asked" in res.headers["Location"]
    request = mails(outbox)[f"interview:{iid}:ask"]
    assert request["To"].addresses[0].addr_spec == "member0@example.jp"
    assert "ご本人のお返事を待っています" in app.get("/interviews").get_data(as_text=True)
    agree = link_urls(request)["interview_agree"].split("t=", 1)[1]
    assert actions_client().post("/", data={"t": agree}).status_code == 200
    assert "に同意" in app.get("/interviews").get_data(as_text=True)

    # the CLI is the other caller of the same use case: one audit log
    from shared.entrypoints import cli

    assert cli.main(["interviews", "move", iid, "drafted"]) == 0
    assert app.post(f"/interviews/{iid}", data={"state": "published", "link": "", "csrf": token}).status_code == 409
    res = app.post(f"/interviews/{iid}", data={"state": "published", "link": "https://example.jp/alumni/aoki", "csrf": token})
    assert res.status_code == 303
    doc = db.collection("interviews").document(iid).get().to_dict()
    assert doc["state"] == "published" and doc["link"] == "https://example.jp/alumni/aoki" and doc["newsletter_pending"] is True
    entries = audit(db)
    assert [(e["action"], e["via"], e["after"].get("state")) for e in entries] == [
        ("interview.add", "console", "idea"), ("interview.move", "console", "asked"), ("interview.move", "cli", "drafted"),
        ("interview.move", "console", "published")]
    assert entries[-1]["before"] == {"state": "drafted", "link": ""}
    assert 'href="https://example.jp/alumni/aoki"' in app.get("/interviews").get_data(as_text=True)


# ------------------------------------------------------------------ referrals


def test_referrals_per_month_and_who_brought_whom_only_with_the_referrers_consent(world, key, db):
    from shared.domain.members import consent_records
    from shared.usecases import referrals

    now = dt.datetime.now(dt.UTC)
    this, last = referrals.months(now, bootstrap.config().community.timezone, 2)
    db.collection("members").document("m0").update({"consents.referral_shown": consent_records({"referral_shown": True}, now,
                                                                                               "self_service")["referral_shown"]})
    for member, referrer, month in (("m1", "m0", this), ("m2", "m3", this), ("m4", "m0", last)):
        db.collection("referrals").document(member).set({"referrer": referrer, "member": member, "month": month, "at": now})
    app = signed_in(key)
    html = app.get("/referrals").get_data(as_text=True)
    assert "青木　健 さん → 伊藤　さくら さん" in html  # m0 agreed to be shown
    assert "Emma Brown" not in html and "HYPERLINK" not in html  # m3 (who brought m2) did not
    assert "ほか 1 件" in html and "2 人" in html and "1 人" in html
    older = app.get(f"/referrals?month={last}").get_data(as_text=True)
    assert "青木　健 さん → 渡辺　翔 さん" in older and "ほか" not in older
    assert app.get("/referrals?month=garbage").status_code == 200
    app.get("/lang/en")
    assert "青木　健 brought 伊藤　さくら" in app.get("/referrals").get_data(as_text=True)
    host = a_host(key)
    assert host.get("/referrals").status_code == 403


def test_the_new_pages_render_in_both_languages(world, key):
    slot = c.in_person_slot()
    c.rsvps(slot["id"], 2, dt.datetime.now(dt.UTC))
    assembled(dt.datetime.now(dt.UTC))
    app = signed_in(key)
    pages = ["/attendees", f"/attendees/{slot['id']}", "/newsletter", "/interviews", "/referrals"]
    for lang, words in (("ja", ("参加者", "ニュースレター", "インタビュー", "紹介")), ("en", ("Attendees", "Newsletter", "Interviews", "Referrals"))):
        app.get(f"/lang/{lang}")
        for path in pages:
            res = app.get(path)
            html = res.get_data(as_text=True)
            assert res.status_code == 200, (path, html[:300])
            assert f'<html lang="{lang}">' in html and all(w in html for w in words), path  # the navigation
            assert "<script" not in html and "style=" not in html
