"""The console's pages against the emulator, through the functions-framework test client: what each
page shows, what each change does in Firestore, the outbox and the audit log, and the refusals
(a host on organizer pages, another host's duty by id): refused, nothing changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared import bootstrap
from tests.fakes.mailbox import link_urls, mails
from tests.helpers import console as c
from tests.helpers.console import audit, signed_in


def test_every_page_renders_in_both_languages(world, key):
    app = signed_in(key)
    slot_id = world["duties"][0]["slot_id"]
    pages = ["/", "/schedule", f"/schedule/{slot_id}", "/applications", f"/applications/{world['applications'][0]}",
             "/speakers", "/hosts", "/members", "/audit"]
    for lang, word in (("ja", "予定"), ("en", "Schedule")):
        app.get(f"/lang/{lang}")
        for path in pages:
            res = app.get(path)
            html = res.get_data(as_text=True)
            assert res.status_code == 200, (path, html[:300])
            assert f'<html lang="{lang}">' in html and word in html, path
            assert "<script" not in html and "style=" not in html


def test_approving_in_the_console_and_by_the_mail_link_is_one_decision(world, key, db, outbox):
    app_id = world["applications"][0]
    app = signed_in(key)
    token = c.form_of(app, f"/applications/{app_id}")
    res = app.post(f"/applications/{app_id}", data={"decision": "approve", "csrf": token})
    assert res.status_code == 303
    assert db.collection("applications").document(app_id).get().to_dict()["status"] == "approved"
    assert [k for k in mails(outbox) if k.endswith(":welcome")] != []
    (entry,) = audit(db)
    assert entry["action"] == "application.approve" and entry["actor_id"] == "tanaka"
    assert entry["before"] == {"status": "needs_review"} and entry["after"]["status"] == "approved"

    # The reject link in the organizer mail now shows who decided, and decides nothing.
    from shared.entrypoints import action_handlers
    from shared.platform import actions, tokens

    action_handlers.load()
    reject = link_urls(mails(outbox)[f"application:{app_id}:review"])["reject_application"]
    token_value = reject.split("t=", 1)[1]
    service = actions.ActionService(db_store(), tokens.key_from_env(), "ja")
    page = service.perform(token_value, "suzuki", dt.datetime.now(dt.UTC))
    assert page.status == 409 and "田中　太郎" in " ".join(page.lines)
    assert db.collection("applications").document(app_id).get().to_dict()["status"] == "approved"

    # ... and the other way round: a link decision first, then the console's button.
    other = world["applications"][1]
    approve = link_urls(mails(outbox)[f"application:{other}:review"])["approve_application"].split("t=", 1)[1]
    assert service.perform(approve, "suzuki", dt.datetime.now(dt.UTC)).status == 200
    res = app.post(f"/applications/{other}", data={"decision": "reject", "csrf": c.form_of(app, f"/applications/{other}")})
    assert res.status_code == 409 and "鈴木　花子" in res.get_data(as_text=True)
    assert db.collection("applications").document(other).get().to_dict()["status"] == "approved"
    assert len(audit(db)) == 1


def db_store() -> Any:
    return bootstrap.doc_store()


def test_moving_onto_a_holiday_warns_first_and_the_same_day_series_follows(world, key, db):
    app = signed_in(key)
    slots = bootstrap.slot_store()
    lunch = next(s for s in slots.slots_between(dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
                                                dt.datetime.now(dt.UTC) + dt.timedelta(days=90))
                 if s["series_id"] == "lunch" and s["status"] == "scheduled")
    holiday = _next_weekday_holiday(lunch["start"].date())
    token = c.form_of(app, f"/schedule/{lunch['id']}")
    res = app.post(f"/schedule/{lunch['id']}", data={"action": "move", "date": holiday.isoformat(), "csrf": token})
    assert res.status_code == 409
    assert "祝日" in res.get_data(as_text=True)
    assert slots.exceptions() == {} and audit(db) == []  # warned: nothing written yet
    res = app.post(f"/schedule/{lunch['id']}", data={"action": "move", "date": holiday.isoformat(), "force": "1",
                                                      "reason": "会場の都合", "csrf": token})
    assert res.status_code == 303
    moved = slots.get_slot(lunch["id"])
    assert moved["date"] == holiday.isoformat() and "会場の都合" in moved["note"]
    dependent = next(s for s in slots.slots_between(moved["start"] - dt.timedelta(hours=6), moved["start"])
                     if s.get("anchor_id") == lunch["id"])
    assert dependent["date"] == holiday.isoformat()  # the co-working follows its anchor
    (entry,) = audit(db)
    assert entry["action"] == "slot.move" and set(entry["after"]) == {lunch["id"], dependent["id"]}
    assert entry["before"][lunch["id"]]["date"] == lunch["date"] and entry["after"][lunch["id"]]["date"] == holiday.isoformat()

    assert app.post(f"/schedule/{lunch['id']}", data={"action": "restore", "csrf": token}).status_code == 303
    assert slots.get_slot(lunch["id"])["date"] == lunch["date"]


def _next_weekday_holiday(after: dt.date) -> dt.date:
    import jpholiday

    day = after + dt.timedelta(days=1)
    while not (jpholiday.is_holiday(day) and day.weekday() < 5):
        day += dt.timedelta(days=1)
    return day


def test_a_host_hands_back_a_duty_and_the_next_host_is_asked(world, key, db, outbox):
    duty = world["duties"][0]
    holder = {"tanaka": c.ORGANIZER, "suzuki": c.SECOND}[duty["host_id"]]
    app = signed_in(key, holder)
    token = c.form_of(app, "/hosts")
    res = app.post(f"/hosts/duty/{duty['slot_id']}", data={"action": "hand_back", "csrf": token})
    assert res.status_code == 303
    after = db.collection("host_duties").document(duty["slot_id"]).get().to_dict()
    assert after["host_id"] != duty["host_id"] and after["state"] == "active"
    assert f"host:duty:{after['duty_id']}" in mails(outbox)
    slot = db.collection("slots").document(duty["slot_id"]).get().to_dict()
    assert duty["host_id"] in slot["host_handbacks"]
    (entry,) = audit(db)
    assert entry["action"] == "host.hand_back" and entry["after"] == {"host": after["host_id"]}


def test_another_hosts_duty_by_id_and_organizer_pages_are_refused_for_a_host(world, key, db, outbox):
    duty = world["duties"][0]
    other = {"tanaka": c.SECOND, "suzuki": c.ORGANIZER}[duty["host_id"]]
    app = signed_in(key, other)
    before = db.collection("host_duties").document(duty["slot_id"]).get().to_dict()
    files = set(mails(outbox))
    res = app.post(f"/hosts/duty/{duty['slot_id']}", data={"action": "hand_back", "csrf": c.form_of(app, "/hosts")})
    assert res.status_code == 403
    assert db.collection("host_duties").document(duty["slot_id"]).get().to_dict() == before
    assert set(mails(outbox)) == files and audit(db) == []

    # A host added in the console signs in (by mail) and sees only the host pages.
    store = bootstrap.doc_store()
    from shared.usecases import roster

    roster.add_host(bootstrap.config(), store, roster.NewHost("kimura", "木村　次郎", "kimura@example.jp", "kimura@example.jp"),
                    "tanaka", dt.datetime.now(dt.UTC))
    host = signed_in(key, "kimura@example.jp")
    assert host.get("/hosts").status_code == 200 and host.get("/").status_code == 200
    for path in ("/applications", f"/applications/{world['applications'][0]}", "/members", "/members/export/members.csv",
                 "/speakers", "/audit", f"/schedule/{duty['slot_id']}"):
        assert host.get(path).status_code == 403, path
    token = c.form_of(host, "/hosts")
    res = host.post(f"/applications/{world['applications'][0]}", data={"decision": "approve", "csrf": token})
    assert res.status_code == 403
    assert db.collection("applications").document(world["applications"][0]).get().to_dict()["status"] == "needs_review"


def test_two_hosts_swap_duties(world, key, db, outbox):
    duties = world["duties"]
    mine = next(d for d in duties if d["host_id"] == "tanaka")
    theirs = next(d for d in duties if d["host_id"] == "suzuki")
    tanaka = signed_in(key, c.ORGANIZER)
    res = tanaka.post(f"/hosts/duty/{mine['slot_id']}", data={"action": "swap", "take": theirs["slot_id"],
                                                              "csrf": c.form_of(tanaka, "/hosts")})
    assert res.status_code == 303, res.get_data(as_text=True)[:400]
    (swap,) = [d.to_dict() | {"id": d.id} for d in db.collection("host_swaps").stream()]
    assert swap["state"] == "requested" and f"host:swap:{swap['id']}" in mails(outbox)
    suzuki = signed_in(key, c.SECOND)
    assert "交代" in suzuki.get("/hosts").get_data(as_text=True)
    # tanaka cannot answer their own request
    assert tanaka.post(f"/hosts/swap/{swap['id']}", data={"answer": "accept", "csrf": c.form_of(tanaka, "/hosts")}).status_code == 403
    res = suzuki.post(f"/hosts/swap/{swap['id']}", data={"answer": "accept", "csrf": c.form_of(suzuki, "/hosts")})
    assert res.status_code == 303, res.get_data(as_text=True)[:400]
    a = db.collection("host_duties").document(mine["slot_id"]).get().to_dict()
    b = db.collection("host_duties").document(theirs["slot_id"]).get().to_dict()
    assert (a["host_id"], b["host_id"]) == ("suzuki", "tanaka")
    assert db.collection("slots").document(mine["slot_id"]).get().to_dict()["host"] == "suzuki"
    assert {f"host:duty:{a['duty_id']}", f"host:duty:{b['duty_id']}"} <= set(mails(outbox))
    assert [e["action"] for e in audit(db)] == ["host.swap_request", "host.swap_accept"]
    # the swap link in the mail now says it was answered
    again = suzuki.post(f"/hosts/swap/{swap['id']}", data={"answer": "decline", "csrf": c.form_of(suzuki, "/hosts")})
    assert again.status_code == 409


def test_a_new_host_added_without_a_redeploy_takes_duties_and_marked_dates_are_honoured(world, key, db):
    from shared.usecases import assign

    app = signed_in(key)
    res = app.post("/hosts/add", data={"id": "kimura", "name": "木村　次郎", "email": "kimura@example.jp",
                                       "zoom_user": "kimura@example.jp", "licence": "pro", "weight": "5",
                                       "csrf": c.form_of(app, "/hosts")})
    assert res.status_code == 303
    assert db.collection("hosts").document("kimura").get().to_dict()["zoom_user"] == "kimura@example.jp"
    refused = app.post("/hosts/add", data={"id": "tanaka", "name": "x", "email": "x@example.jp", "zoom_user": "x@example.jp",
                                           "licence": "pro", "weight": "1", "csrf": c.form_of(app, "/hosts")})
    assert refused.status_code == 400 and "すでに使われています" in refused.get_data(as_text=True)
    pool = {h.id for h in assign.host_pool(bootstrap.config(), bootstrap.doc_store())}
    assert pool == {"tanaka", "suzuki", "kimura"}

    # kimura marks the date of the first duty as one they cannot host; with weight 5 they would win it.
    kimura = signed_in(key, "kimura@example.jp")
    first = world["duties"][0]
    day = db.collection("slots").document(first["slot_id"]).get().to_dict()["start"].astimezone(
        dt.timezone(dt.timedelta(hours=9))).date()
    res = kimura.post("/hosts/unavailable", data={"date": day.isoformat(), "unavailable": "1", "csrf": c.form_of(kimura, "/hosts")})
    assert res.status_code == 303
    holder = {"tanaka": c.ORGANIZER, "suzuki": c.SECOND}[first["host_id"]]
    owner = signed_in(key, holder)
    owner.post(f"/hosts/duty/{first['slot_id']}", data={"action": "hand_back", "csrf": c.form_of(owner, "/hosts")})
    after = db.collection("host_duties").document(first["slot_id"]).get().to_dict()
    assert after["host_id"] not in ("kimura", first["host_id"])
    (why,) = [e for e in assign.explain(bootstrap.doc_store(), first["slot_id"]) if e.get("chosen") == after["host_id"]]
    reasons = {x["host_id"]: x["reason"] for x in why["considered"]}
    assert reasons["kimura"] == "marked_unavailable" and reasons[first["host_id"]] == "handed_back"
    assert [e["action"] for e in audit(db)] == ["host.add", "host.unavailable", "host.hand_back"]


def test_members_directory_pages_and_csv_exports_follow_the_cli_rules(world, key):
    app = signed_in(key)
    html = app.get("/members").get_data(as_text=True)
    assert "伊藤　さくら" in html and "Emma Brown" in html
    found = app.get("/members", query_string={"q": "伊藤"}).get_data(as_text=True)
    assert "伊藤　さくら" in found and "Emma Brown" not in found
    res = app.get("/members/export/members.csv")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    body = res.get_data()
    assert body.startswith("\ufeff".encode())  # Excel reads the UTF-8 with a BOM
    text = body.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+evil" in text  # formulas neutralised
    assert "attachment" in res.headers["Content-Disposition"]
    directory = app.get("/members/export/directory.csv").get_data().decode("utf-8-sig")
    assert "伊藤　さくら" not in directory and "青木　健" in directory  # only those who opted in
    assert app.get("/members/export/secrets.csv").status_code == 404


def test_the_audit_log_shows_every_change_newest_first(world, key, db):
    app = signed_in(key)
    token = c.form_of(app, "/hosts")
    for day in ("2099-01-05", "2099-01-06"):
        app.post("/hosts/unavailable", data={"date": day, "unavailable": "1", "csrf": token})
    html = app.get("/audit").get_data(as_text=True)
    cards = html.split('<li class="card"')[1:]
    assert len(cards) == 2 and "田中　太郎" in cards[0]
    assert "2099-01-06" in cards[0] and "2099-01-06" not in cards[1]  # newest first


def test_a_member_event_waiting_for_an_organizer_is_confirmed_on_today(world, key, db):
    from shared.entrypoints.jobs_rhythm import proposal_deps
    from shared.usecases.proposals import parse_proposal, propose_event

    day = (dt.datetime.now(dt.UTC) + dt.timedelta(days=60)).date()
    while day.weekday() != 5:  # a Saturday afternoon: no series there
        day += dt.timedelta(days=1)
    out = propose_event(proposal_deps(), parse_proposal({
        "proposal_id": "collab-1", "title": "企業とのコラボ　勉強会", "kind": "company_collab", "date": day.isoformat(),
        "start": "14:00", "duration_minutes": 90, "online": False, "location": "本社", "description": "共同開催",
        "proposer": {"name": "山本　さくら", "email": "sakura@example.com"}}), dt.datetime.now(dt.UTC))
    assert out.status == "pending_confirmation"
    app = signed_in(key)
    html = app.get("/").get_data(as_text=True)
    assert "企業とのコラボ　勉強会" in html
    res = app.post(f"/proposals/{out.proposal_id}", data={"csrf": c.csrf_of(html)})
    assert res.status_code == 303
    record = db.collection("proposals").document(out.proposal_id).get().to_dict()
    assert record["status"] == "scheduled" and bootstrap.slot_store().get_slot(record["slot_id"]) is not None
    assert [e["action"] for e in audit(db)] == ["proposal.confirm"]
    again = app.post(f"/proposals/{out.proposal_id}", data={"csrf": c.csrf_of(html)})
    assert again.status_code == 409 and len(audit(db)) == 1
    assert app.post("/proposals/nope", data={"csrf": c.csrf_of(html)}).status_code == 404


def speaker_docs(db: Any) -> dict[str, dict[str, Any]]:
    return {d.id: d.to_dict() for d in db.collection("speakers").stream()}


def test_an_organizer_adds_a_speaker_raises_them_in_the_queue_and_withdraws_a_confirmed_one(world, key, db, outbox):
    app = signed_in(key)
    before = speaker_docs(db)
    res = app.post("/speakers", data={"name": "小林　誠", "email": "kobayashi@example.jp", "topic": "量子計算の今",
                                      "series": "speaker_night", "earliest": "", "minutes": "45",
                                      "csrf": c.form_of(app, "/speakers")})
    assert res.status_code == 303 and "done=speaker_added" in res.headers["Location"]
    (new_id,) = set(speaker_docs(db)) - set(before)
    added = speaker_docs(db)[new_id]
    assert (added["name"], added["email"], added["status"], added["talk_minutes"], added["priority"]) == (
        "小林　誠", "kobayashi@example.jp", "queued", 45, 0)
    (entry,) = audit(db)
    assert entry["action"] == "speaker.add" and entry["target"] == f"speakers/{new_id}" and entry["actor_id"] == "tanaka"
    assert entry["after"] == {"name": "小林　誠", "series": "speaker_night", "topic": "量子計算の今"} and entry["before"] == {}
    queue = app.get("/speakers").get_data(as_text=True).split('<ol class="cards">', 1)[1]
    assert queue.index("中村　優") < queue.index("小林　誠")  # proposed later: behind in the queue

    res = app.post(f"/speakers/{new_id}", data={"action": "priority", "priority": "5", "csrf": c.form_of(app, "/speakers")})
    assert res.status_code == 303 and "done=speaker_priority" in res.headers["Location"]
    assert speaker_docs(db)[new_id]["priority"] == 5
    entry = audit(db)[-1]
    assert (entry["action"], entry["target"], entry["before"], entry["after"]) == (
        "speaker.priority", f"speakers/{new_id}", {"priority": 0}, {"priority": 5})
    queue = app.get("/speakers").get_data(as_text=True).split('<ol class="cards">', 1)[1]
    assert queue.index("小林　誠") < queue.index("中村　優")  # raised: first in line for the next offer

    confirmed = next(d | {"id": i} for i, d in speaker_docs(db).items() if d["status"] == "confirmed")
    slot_id = confirmed["confirmed_slot"]
    assert (db.collection("slots").document(slot_id).get().to_dict()["speaker"] or {}).get("id") == confirmed["id"]
    res = app.post(f"/speakers/{confirmed['id']}", data={"action": "withdraw", "csrf": c.form_of(app, "/speakers")})
    assert res.status_code == 303 and "done=speaker_withdrawn" in res.headers["Location"]
    after = speaker_docs(db)[confirmed["id"]]
    assert after["status"] == "withdrawn" and after["withdrawn_by"] == "organizer:tanaka"
    assert not db.collection("slots").document(slot_id).get().to_dict().get("speaker")  # the date opens again
    sent = mails(outbox)
    assert f"speaker:withdrawn:{confirmed['id']}" in sent and f"speaker:withdrawn:{confirmed['id']}:organizers" in sent
    entry = audit(db)[-1]
    assert (entry["action"], entry["target"], entry["before"], entry["after"]) == (
        "speaker.withdraw", f"speakers/{confirmed['id']}", {"status": "confirmed", "slot": slot_id}, {"status": "withdrawn"})

    # Withdrawing again changes nothing and is not logged twice.
    again = app.post(f"/speakers/{confirmed['id']}", data={"action": "withdraw", "csrf": c.form_of(app, "/speakers")})
    assert again.status_code == 303 and len(audit(db)) == 3 and set(mails(outbox)) == set(sent)


def test_a_speaker_with_a_bad_address_a_priority_out_of_range_or_an_unknown_id_is_refused_and_nothing_is_written(world, key, db):
    app = signed_in(key)
    token = c.form_of(app, "/speakers")
    before = speaker_docs(db)
    res = app.post("/speakers", data={"name": "小林　誠", "email": "kobayashi(at)example.jp", "topic": "量子計算の今",
                                      "series": "speaker_night", "csrf": token})
    html = res.get_data(as_text=True)
    assert res.status_code == 400 and "メールアドレスを正しく入力してください。" in html
    assert 'value="kobayashi(at)example.jp"' in html and 'value="小林　誠"' in html  # what was typed stays in the form
    res = app.post("/speakers", data={"name": "小林　誠", "email": "kobayashi@example.jp", "topic": "量子計算の今",
                                      "series": "speaker_night", "minutes": "3", "csrf": token})
    assert res.status_code == 400 and "発表時間は 5〜600 分で入力してください。" in res.get_data(as_text=True)
    queued = next(i for i, d in before.items() if d["status"] == "queued")
    for value in ("5000", "high"):
        res = app.post(f"/speakers/{queued}", data={"action": "priority", "priority": value, "csrf": token})
        assert res.status_code == 400 and "優先度は -1000 から 1000 の数字で入力してください。" in res.get_data(as_text=True)
    assert app.post("/speakers/nobody", data={"action": "withdraw", "csrf": token}).status_code == 404
    assert app.post(f"/speakers/{queued}", data={"action": "promote", "csrf": token}).status_code == 400
    assert speaker_docs(db) == before and audit(db) == []


def test_an_organizer_deactivates_a_host_who_leaves_the_rotation_and_is_signed_out(world, key, db):
    from shared.usecases import assign, roster

    now = dt.datetime.now(dt.UTC)
    roster.add_host(bootstrap.config(), bootstrap.doc_store(), roster.NewHost("kimura", "木村　次郎", "kimura@example.jp",
                                                                             "kimura@example.jp"), "tanaka", now)
    kimura = signed_in(key, "kimura@example.jp")
    assert kimura.get("/hosts").status_code == 200
    app = signed_in(key)
    res = app.post("/hosts/kimura/active", data={"active": "0", "csrf": c.form_of(app, "/hosts")})
    assert res.status_code == 303 and "done=host_inactive" in res.headers["Location"]
    assert db.collection("hosts").document("kimura").get().to_dict()["active"] is False
    (entry,) = audit(db)
    assert (entry["action"], entry["target"], entry["before"], entry["after"], entry["actor_id"]) == (
        "host.deactivate", "hosts/kimura", {"active": True}, {"active": False}, "tanaka")
    assert "kimura" not in {h.id for h in assign.host_pool(bootstrap.config(), bootstrap.doc_store())}
    assert kimura.get("/hosts").status_code == 303  # their session ends: to the sign-in page

    res = app.post("/hosts/kimura/active", data={"active": "1", "csrf": c.form_of(app, "/hosts")})
    assert res.status_code == 303 and "done=host_active" in res.headers["Location"]
    assert "kimura" in {h.id for h in assign.host_pool(bootstrap.config(), bootstrap.doc_store())}
    assert [e["action"] for e in audit(db)] == ["host.deactivate", "host.activate"]


def test_a_deactivated_host_s_upcoming_duties_go_to_the_next_hosts(world, key, db, outbox):
    """Signed out and out of the rotation, a host could never hand back what they still hold: the
    deactivation hands each upcoming duty back for them, through the hand-back decision."""
    from shared.usecases import roster

    now = dt.datetime.now(dt.UTC)
    roster.add_host(bootstrap.config(), bootstrap.doc_store(), roster.NewHost("kimura", "木村　次郎", "kimura@example.jp",
                                                                             "kimura@example.jp"), "tanaka", now)
    duty = world["duties"][0]
    db.collection("host_duties").document(duty["slot_id"]).update({"host_id": "kimura"})
    db.collection("slots").document(duty["slot_id"]).update({"host": "kimura"})
    files = set(mails(outbox))
    app = signed_in(key)
    res = app.post("/hosts/kimura/active", data={"active": "0", "csrf": c.form_of(app, "/hosts")})
    assert res.status_code == 303 and "done=host_inactive" in res.headers["Location"]
    after = db.collection("host_duties").document(duty["slot_id"]).get().to_dict()
    assert after["host_id"] not in ("kimura", None) and after["state"] == "active" and after["duty_id"] != duty["duty_id"]
    slot = db.collection("slots").document(duty["slot_id"]).get().to_dict()
    assert slot["host"] == after["host_id"] and "kimura" in slot["host_handbacks"]
    assert [m for m in set(mails(outbox)) - files if m.startswith("host:duty:")] == [f"host:duty:{after['duty_id']}"]
    assert [(e["action"], e["after"]) for e in audit(db)] == [("host.deactivate", {"active": False}),
                                                             ("host.hand_back", {"host": after["host_id"]})]
    # Again (a double submit): nothing more happens.
    app.post("/hosts/kimura/active", data={"active": "0", "csrf": c.form_of(app, "/hosts")})
    assert db.collection("host_duties").document(duty["slot_id"]).get().to_dict() == after


def test_a_config_host_or_an_unknown_one_cannot_be_deactivated_in_the_console(world, key, db):
    from shared.usecases import assign

    app = signed_in(key)
    token = c.form_of(app, "/hosts")
    hosts = sorted((d.id, d.to_dict()) for d in db.collection("hosts").stream())
    res = app.post("/hosts/suzuki/active", data={"active": "0", "csrf": token})
    assert res.status_code == 409 and "設定ファイル(レビューされた YAML)で変更してください" in res.get_data(as_text=True)
    assert app.post("/hosts/nobody/active", data={"active": "0", "csrf": token}).status_code == 404
    assert sorted((d.id, d.to_dict()) for d in db.collection("hosts").stream()) == hosts and audit(db) == []
    assert "suzuki" in {h.id for h in assign.host_pool(bootstrap.config(), bootstrap.doc_store())}
