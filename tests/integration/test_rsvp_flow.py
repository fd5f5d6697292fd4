"""RSVP flows on the Firestore emulator, followed through the mails as a person would (docs/events.md)."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from shared.domain import seats as S
from shared.domain.applications import email_key
from shared.platform import tokens
from shared.usecases import event_mail, rsvp
from tests.fakes.mailbox import link_urls, mails, text_of
from tests.helpers import events as E

NOW = dt.datetime(2027, 3, 1, 0, 0, tzinfo=dt.UTC)
START = dt.datetime(2027, 3, 18, 3, 0, tzinfo=dt.UTC)  # 12:00 in Tokyo


def token_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["t"][0]


def only(outbox: Path, part: str) -> Any:
    found = [m for name, m in mails(outbox).items() if part in name]
    assert len(found) == 1, sorted(mails(outbox))
    return found[0]


def ics_of(msg: Any) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            assert part.get_param("method") in ("REQUEST", "CANCEL")
            return str(part.get_payload(decode=True).decode())
    raise AssertionError("no text/calendar part")


def test_double_opt_in_then_waitlist_then_a_cancel_promotes_with_an_invitation(project: str, db: Any, outbox: Path):
    cfg = E.events_config(capacity=1)
    slot = E.put_slot(db)
    deps = E.deps(db, outbox, cfg)
    # the form: nothing counts yet, a confirmation link goes out
    out = rsvp.request(deps, slot["id"], "Hanako.Yamada@Example.jp", "山田　花子", "卵アレルギー\r\n遅れて参加します", NOW)
    assert out.mailed == "confirm"
    assert deps.log.last(slot["id"]) is None
    msg = only(outbox, ":request:")
    assert msg["To"] == "Hanako.Yamada@Example.jp" and "山田　花子 さん" in text_of(msg)  # the address as typed
    confirm = link_urls(msg)["rsvp_confirm"]
    assert confirm.startswith(E.BASE + "/r/confirm?t=")
    # the link: seat confirmed, an invitation with the venue; the notes kept as written
    done = rsvp.confirm(deps, token_of(confirm), NOW)
    assert done.kind == "confirmed"
    doc = db.collection("rsvps").document(rsvp.rsvp_id(slot["id"], email_key("hanako.yamada@example.jp"))).get().to_dict()
    assert doc["name"] == "山田　花子" and doc["notes"] == "卵アレルギー\n遅れて参加します"
    invite = ics_of(only(outbox, ":confirmed:"))
    assert "METHOD:REQUEST" in invite and "SEQUENCE:0" in invite and "渋谷　会議室" in invite
    assert "ATTENDEE" in invite and "mailto:Hanako.Yamada@Example.jp" in invite.replace("\r\n ", "")
    # the same link again, and a second click: nothing changes
    assert rsvp.confirm(deps, token_of(confirm), NOW).kind == "already"
    # a second person waits, told their position
    rsvp.request(deps, slot["id"], "taro@example.com", "田中　太郎", "", NOW)
    taro = next(m for n, m in mails(outbox).items() if ":request:" in n and m["To"] == "taro@example.com")
    second = rsvp.confirm(deps, token_of(link_urls(taro)["rsvp_confirm"]), NOW)
    assert (second.kind, second.position) == ("waitlisted", 1)
    waitlisted = only(outbox, ":waitlisted:")
    assert "キャンセル待ちの 1 番目" in text_of(waitlisted)
    # the first cancels by the link in their mail: the second is promoted, mailed once with the invitation
    cancel_url = link_urls(only(outbox, ":confirmed:"))["rsvp_cancel"]
    assert rsvp.cancel(deps, token_of(cancel_url), NOW).kind == "cancelled"
    cancelled = only(outbox, ":cancelled:")
    assert "METHOD:CANCEL" in ics_of(cancelled) and "SEQUENCE:1" in ics_of(cancelled)
    promoted = only(outbox, ":promoted:")
    assert promoted["To"] == "taro@example.com" and "繰り上がりました" in promoted["Subject"]
    assert "METHOD:REQUEST" in ics_of(promoted)
    # cancelling twice does nothing more
    assert rsvp.cancel(deps, token_of(cancel_url), NOW).kind == "stale"
    assert len([n for n in mails(outbox) if ":promoted:" in n]) == 1


def test_members_only_rsvp_says_the_same_to_a_stranger_and_mails_nobody(project: str, db: Any, outbox: Path):
    data = E.example_dict()
    data.setdefault("events", {}).setdefault("kinds", {})["lunch"] = {"rsvp": "members", "capacity": 5}
    cfg = E.config(data)
    slot = E.put_slot(db)
    deps = E.deps(db, outbox, cfg)
    assert rsvp.request(deps, slot["id"], "stranger@example.com", "誰か", "", NOW).mailed == "none"
    assert mails(outbox) == {} and list(db.collection("rsvps").stream()) == []
    db.collection("members").document(email_key("member@example.com")).set({"email": "member@example.com", "name": "会員　一郎"})
    assert rsvp.request(deps, slot["id"], "member@example.com", "", "", NOW).mailed == "confirm"
    assert "会員　一郎 さん" in text_of(only(outbox, ":request:"))  # the member's name when the form left it empty


@pytest.mark.parametrize("bad", ["not-an-address", "a@b", "x" * 300 + "@example.com", "山田@example.jp\r\nBcc: x@y.z"])
def test_a_bad_address_is_refused_and_writes_nothing(project: str, db: Any, outbox: Path, bad: str):
    deps = E.deps(db, outbox, E.events_config())
    slot = E.put_slot(db)
    with pytest.raises(rsvp.RsvpRefused) as exc:
        rsvp.request(deps, slot["id"], bad, "x", "", NOW)
    assert exc.value.status == 400 and list(db.collection("rsvps").stream()) == [] and mails(outbox) == {}


def test_closed_events_take_no_rsvp(project: str, db: Any, outbox: Path):
    deps = E.deps(db, outbox, E.events_config())
    E.put_slot(db, "lunch_past", start=NOW - dt.timedelta(hours=1))
    E.put_slot(db, "lunch_cancelled", status="cancelled")
    E.put_slot(db, "coworking_x", kind="coworking")  # no rsvp for this kind in the test config
    data = E.example_dict()
    for sid, reason in (("lunch_past", "started"), ("lunch_cancelled", "cancelled"), ("nothing", "not_found")):
        with pytest.raises(rsvp.RsvpRefused) as exc:
            rsvp.request(deps, sid, "a@example.com", "", "", NOW)
        assert exc.value.reason == reason
    data["events"]["kinds"]["coworking"] = {"rsvp": "none"}
    with pytest.raises(rsvp.RsvpRefused) as exc:
        rsvp.request(E.deps(db, outbox, E.config(data)), "coworking_x", "a@example.com", "", "", NOW)
    assert exc.value.reason == "no_rsvp"
    assert list(db.collection("rsvps").stream()) == [] and mails(outbox) == {}


def test_requests_are_limited_per_round_and_a_cancelled_person_can_come_back_at_the_end(project: str, db: Any, outbox: Path):
    deps = E.deps(db, outbox, E.events_config(capacity=1))
    slot = E.put_slot(db)
    for _ in range(5):
        rsvp.request(deps, slot["id"], "a@example.com", "", "", NOW)
    assert len([n for n in mails(outbox) if ":request:" in n]) == rsvp.MAX_REQUEST_MAILS
    rid = rsvp.rsvp_id(slot["id"], email_key("a@example.com"))
    rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, NOW), NOW)
    rsvp.cancel(deps, E.token(rsvp.CANCEL, rid, NOW), NOW)
    assert rsvp.request(deps, slot["id"], "a@example.com", "", "", NOW).mailed == "confirm"  # round 2
    assert rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, NOW, round_=1), NOW).kind == "stale"  # the old link
    assert rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, NOW, round_=2), NOW).kind == "confirmed"


def test_close_to_the_event_a_freed_seat_is_offered_then_passes_on(project: str, db: Any, outbox: Path):
    cfg = E.events_config(capacity=1, promotion={"offer_within_hours": 48, "accept_hours": 12})
    slot = E.put_slot(db)
    deps = E.deps(db, outbox, cfg)
    rids = [E.pending_rsvp(db, slot["id"], i) for i in range(3)]
    for rid in rids:
        rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, NOW), NOW)
    near = START - dt.timedelta(hours=30)
    rsvp.cancel(deps, E.token(rsvp.CANCEL, rids[0], near), near)
    offered = only(outbox, ":offered:")
    assert "までにご返信ください" in offered["Subject"]
    head = S.from_doc(deps.log.last(slot["id"])["state"])  # type: ignore[index]
    assert head.held == 1 and head.offers[0].who == rids[1].rpartition("~")[2]
    # nobody answers: the sweep after the deadline passes it on, mails both, once
    later = near + dt.timedelta(hours=13)
    event_mail.sweep(deps, later, organizers=())
    event_mail.sweep(deps, later + dt.timedelta(hours=1), organizers=())
    assert "期限が過ぎました" in only(outbox, ":lapsed:")["Subject"]
    second_offer = [m for n, m in mails(outbox).items() if ":offered:" in n and m["To"] == E.address(2)]
    assert len(second_offer) == 1
    # the first one's link is too late now; the second accepts in time
    assert rsvp.accept(deps, E.token(rsvp.ACCEPT, rids[1], later), later).kind == "too_late"
    accepted = rsvp.accept(deps, E.token(rsvp.ACCEPT, rids[2], later), later)
    assert accepted.kind == "accepted" and "METHOD:REQUEST" in ics_of(only(outbox, ":accepted:"))


def test_an_event_without_its_own_capacity_takes_its_series_capacity(project: str, db: Any, outbox: Path):
    from shared.usecases.rsvp_rules import seat_summary

    # the venue of the lunch series has 2 seats; the kind allows 10 (docs/events.md, "Who may RSVP")
    cfg = E.events_config(capacity=10, series={"lunch": {"capacity": 2}})
    deps = E.deps(db, outbox, cfg)
    slot = E.put_slot(db)  # series lunch
    other = E.put_slot(db, "lunch_elsewhere", start=START + dt.timedelta(days=7), series_id="special")  # a series without one
    assert seat_summary(cfg, deps.log, slot).capacity == 2 and seat_summary(cfg, deps.log, other).capacity == 10
    outcomes = [rsvp.confirm(deps, E.token(rsvp.CONFIRM, E.pending_rsvp(db, slot["id"], i), NOW), NOW) for i in range(4)]
    assert [(o.kind, o.position) for o in outcomes[2:]] == [("waitlisted", 1), ("waitlisted", 2)]
    assert [o.kind for o in outcomes[:2]] == ["confirmed", "confirmed"]
    listing = rsvp.attendees(deps, slot["id"])
    assert (len(listing.confirmed), len(listing.waiting), listing.capacity) == (2, 2, 2)
    assert len([n for n in mails(outbox) if ":waitlisted:" in n]) == 2
    # the other series' event takes the kind's capacity: everyone seated
    assert {rsvp.confirm(deps, E.token(rsvp.CONFIRM, E.pending_rsvp(db, other["id"], i), NOW), NOW).kind
            for i in range(4)} == {"confirmed"}
    # an organizer's capacity for the one event comes before the series': the first waiting is promoted
    assert rsvp.set_capacity(deps, slot["id"], 3, NOW, by="田中").promoted == 1


def test_raising_the_capacity_promotes_as_many_as_it_frees_each_mailed_once(project: str, db: Any, outbox: Path):
    deps = E.deps(db, outbox, E.events_config(capacity=2))
    slot = E.put_slot(db)
    for rid in [E.pending_rsvp(db, slot["id"], i) for i in range(6)]:
        rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, NOW), NOW)
    changed = rsvp.set_capacity(deps, slot["id"], 5, NOW, by="田中")
    assert changed.promoted == 3
    assert len([n for n in mails(outbox) if ":promoted:" in n]) == 3
    listing = rsvp.attendees(deps, slot["id"])
    assert (len(listing.confirmed), len(listing.waiting), listing.capacity) == (5, 1, 5)
    assert listing.waiting[0].position == 1 and listing.confirmed[0].name == "会員　000"
    # the organizer's capacity stays the event's: the sweep does not put the config's back
    event_mail.sweep(deps, NOW, organizers=())
    assert S.from_doc(deps.log.last(slot["id"])["state"]).capacity == 5  # type: ignore[index]
    assert rsvp.set_capacity(deps, slot["id"], None, NOW).promoted == 1  # unlimited: everyone in


def test_a_move_updates_and_a_cancel_cancels_every_invitation_once(project: str, db: Any, outbox: Path):
    deps = E.deps(db, outbox, E.events_config(capacity=5))
    slot = E.put_slot(db)
    rids = [E.pending_rsvp(db, slot["id"], i) for i in range(3)]
    for rid in rids:
        rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, NOW), NOW)
    event_mail.sweep(deps, NOW, organizers=())
    assert [n for n in mails(outbox) if "rsvp-invite" in n] == []  # nothing changed yet
    moved = START + dt.timedelta(days=1)
    db.collection("slots").document(slot["id"]).update({"start": moved, "end": moved + dt.timedelta(hours=1), "revision": 1})
    for _ in range(2):
        event_mail.sweep(deps, NOW + dt.timedelta(hours=1), organizers=())
    updates = [m for n, m in mails(outbox).items() if "rsvp-invite" in n]
    assert len(updates) == 3 and all("SEQUENCE:1" in ics_of(m) and "METHOD:REQUEST" in ics_of(m) for m in updates)
    assert all("20270319T120000" in ics_of(m) for m in updates)
    def uid(msg: Any) -> str:
        return next(line for line in ics_of(msg).splitlines() if line.startswith("UID:"))

    first = {m["To"]: uid(m) for n, m in mails(outbox).items() if ":confirmed:" in n}
    assert len(set(first.values())) == 3 and {m["To"]: uid(m) for m in updates} == first  # each keeps its UID
    db.collection("slots").document(slot["id"]).update({"status": "cancelled", "revision": 2})
    for _ in range(2):
        event_mail.sweep(deps, NOW + dt.timedelta(hours=2), organizers=())
    cancels = [m for n, m in mails(outbox).items() if "rsvp-invite" in n and "METHOD:CANCEL" in ics_of(m)]
    assert len(cancels) == 3 and all("SEQUENCE:2" in ics_of(m) and "STATUS:CANCELLED" in ics_of(m) for m in cancels)
    assert all("中止" in m["Subject"] for m in cancels)


def test_online_join_links_reach_confirmed_attendees_only(project: str, db: Any, outbox: Path):
    data = E.example_dict()
    data.setdefault("events", {}).setdefault("kinds", {})["speaker_night"] = {"rsvp": "anyone", "capacity": 1}
    deps = E.deps(db, outbox, E.config(data))
    slot = E.put_slot(db, "speaker_night_2027-03-09", kind="speaker_night", online=True,
                      provision={"zoom": {"meeting_id": "85012345678", "join_url": "https://zoom.us/j/85012345678?pwd=secret"}})
    rids = [E.pending_rsvp(db, slot["id"], i) for i in range(2)]
    for rid in rids:
        rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, NOW), NOW)
    seated, waiting = only(outbox, ":confirmed:"), only(outbox, ":waitlisted:")
    assert "zoom.us/j/85012345678" in text_of(seated) and "zoom.us/j/85012345678" in ics_of(seated).replace("\r\n ", "")
    assert "zoom.us" not in waiting.as_string()


def test_reminder_headcount_thanks_and_a_recording_added_later(project: str, db: Any, outbox: Path):
    deps = E.deps(db, outbox, E.events_config(capacity=5))
    slot = E.put_slot(db)
    rids = [E.pending_rsvp(db, slot["id"], i) for i in range(3)]
    db.collection("rsvps").document(rids[0]).update({"notes": "卵アレルギー\n少し遅れます"})
    for rid in rids:
        rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, NOW), NOW)
    orgs = (("tanaka", "田中　太郎", "organizer1@example.com"),)
    two_days = START - dt.timedelta(days=2) + dt.timedelta(minutes=5)
    event_mail.sweep(deps, two_days, organizers=orgs)
    event_mail.sweep(deps, two_days + dt.timedelta(hours=1), organizers=orgs)
    headcount = only(outbox, "rsvp-headcount")
    assert "参加人数 3名" in headcount["Subject"]
    assert "会員　000: 卵アレルギー / 少し遅れます" in text_of(headcount)
    day_before = START - dt.timedelta(hours=20)
    event_mail.sweep(deps, day_before, organizers=orgs)
    event_mail.sweep(deps, day_before + dt.timedelta(hours=1), organizers=orgs)
    assert len([n for n in mails(outbox) if "rsvp-reminder" in n]) == 3
    # the check-in list: two came; the thank-you goes to them, with the survey link
    whos = [rid.rpartition("~")[2] for rid in rids]
    assert rsvp.check_in(deps, slot["id"], whos[0], True, START, by="田中")
    assert rsvp.check_in(deps, slot["id"], whos[1], True, START, by="田中")
    assert rsvp.check_in(deps, slot["id"], whos[2], False, START, by="田中")
    rsvp.set_followup(deps, slot["id"], START, survey_url="https://forms.example.com/s")
    after = slot["end"] + dt.timedelta(hours=4)
    event_mail.sweep(deps, after, organizers=orgs)
    event_mail.sweep(deps, after + dt.timedelta(hours=1), organizers=orgs)
    thanks = [m for n, m in mails(outbox).items() if "rsvp-thanks" in n]
    assert len(thanks) == 2 and all("https://forms.example.com/s" in text_of(m) for m in thanks)
    # the recording arrives two days later: one mail to the same two; the newsletter sees the link
    rsvp.set_followup(deps, slot["id"], after, recording_url="https://www.youtube.com/watch?v=abc", label="録画")
    for _ in range(2):
        event_mail.sweep(deps, after + dt.timedelta(days=2), organizers=orgs)
    assert len([n for n in mails(outbox) if "rsvp-recording" in n]) == 2
    assert db.collection("slots").document(slot["id"]).get().to_dict()["links"] == [
        {"label": "録画", "url": "https://www.youtube.com/watch?v=abc", "kind": "recording"}]
    # attendance for the digest: 3 confirmed, 2 came, one in three did not
    [row] = event_mail.attendance(deps.config, deps.slots, deps.store, deps.log, START - dt.timedelta(days=1),
                                   after + dt.timedelta(days=3))
    assert (row.confirmed, row.attended, row.no_show_rate) == (3, 2, pytest.approx(0.333, abs=0.001))
    with pytest.raises(rsvp.RsvpRefused):
        rsvp.set_followup(deps, slot["id"], after, recording_url="javascript:alert(1)")


def test_announcements_weekly_roundup_with_one_click_unsubscribe(project: str, db: Any, outbox: Path):
    cfg = E.events_config(capacity=5, announcements={"mode": "weekly", "weekday": "mon", "time": "09:00"})
    deps = E.deps(db, outbox, cfg)
    E.put_slot(db)
    E.put_slot(db, "lunch_2027-04-15", start=START + dt.timedelta(days=28))
    for i, consent in enumerate((True, True, False)):
        db.collection("members").document(email_key(E.address(i))).set(
            {"email": E.address(i), "name": f"会員　{i}", "consents": {"announcements": {"value": consent, "at": NOW, "source": "form"}}})
    early = dt.datetime(2027, 2, 28, 23, 0, tzinfo=dt.UTC)  # Monday 08:00 in Tokyo: not due yet
    assert event_mail.announce(deps, early) == 0
    monday = dt.datetime(2027, 3, 1, 1, 0, tzinfo=dt.UTC)  # Monday 10:00 in Tokyo
    assert event_mail.announce(deps, monday) == 2
    assert event_mail.announce(deps, monday + dt.timedelta(hours=1)) == 0  # once
    roundup = only(outbox, f"announce:week-2027-W09:{email_key(E.address(0))[:16]}")
    assert "2件" in roundup["Subject"] and f"{E.BASE}/e/lunch_2027-03-18" in text_of(roundup)
    assert roundup["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe, mailto = (u.strip().strip("<>") for u in roundup["List-Unsubscribe"].split(","))
    assert mailto == "mailto:organizer1@example.com?subject=unsubscribe%20announcements"  # RFC 2369's second way
    assert unsubscribe.startswith(E.BASE + "/u?t=") and unsubscribe in text_of(roundup)
    assert event_mail.withdraw_announcements(deps, token_of(unsubscribe), monday)
    member = db.collection("members").document(email_key(E.address(0))).get().to_dict()
    assert member["consents"]["announcements"]["value"] is False
    assert member["consents"]["announcements"]["source"] == "unsubscribe"
    # a new event next week reaches only the one still opted in
    E.put_slot(db, "lunch_2027-04-22", start=START + dt.timedelta(days=35))
    assert event_mail.announce(deps, monday + dt.timedelta(days=7)) == 1
    with pytest.raises(tokens.TokenError):
        event_mail.withdraw_announcements(deps, token_of(unsubscribe)[:-3] + "AAA", monday)


def test_per_event_announcements_skip_what_was_known_before(project: str, db: Any, outbox: Path):
    cfg = E.events_config(capacity=5, announcements={"mode": "per_event"})
    deps = E.deps(db, outbox, cfg)
    E.put_slot(db)
    db.collection("members").document(email_key(E.address(0))).set(
        {"email": E.address(0), "consents": {"announcements": {"value": True, "at": NOW, "source": "form"}}})
    assert event_mail.announce(deps, NOW) == 0  # the first run: what exists is not news
    E.put_slot(db, "lunch_2027-04-15", start=START + dt.timedelta(days=28))
    assert event_mail.announce(deps, NOW + dt.timedelta(hours=1)) == 1
    assert event_mail.announce(deps, NOW + dt.timedelta(hours=2)) == 0
    msg = only(outbox, "announce:event-lunch_2027-04-15")
    assert "新しいイベント" in msg["Subject"] and msg["List-Unsubscribe"]
    raw = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert raw["To"] == E.address(0)


def test_the_organizer_digest_shows_attendance_and_the_no_show_rate(project: str, db: Any, outbox: Path):
    from shared.usecases import rhythm

    deps = E.deps(db, outbox, E.events_config(capacity=5))
    slot = E.put_slot(db)
    rids = [E.pending_rsvp(db, slot["id"], i) for i in range(4)]
    for rid in rids:
        rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, NOW), NOW)
    for rid, came in zip(rids, (True, True, True, False), strict=True):
        rsvp.check_in(deps, slot["id"], rid.rpartition("~")[2], came, START)
    E.put_slot(db, "speaker_night_x", kind="speaker_night", online=True, start=START + dt.timedelta(days=1),
               title="登壇イベント", provision={"attendance": {"participants": 31, "total": 31}})
    week_later = START + dt.timedelta(days=5)

    def attendance_of(since: dt.datetime, until: dt.datetime) -> list[Any]:
        return event_mail.attendance(deps.config, deps.slots, deps.store, deps.log, since, until)

    rhythm.send_digest(deps.config, deps.slots, deps.store, deps.mailer, week_later, None, attendance_of)
    digest = text_of(next(m for n, m in mails(outbox).items() if n.startswith("digest:")))
    assert "ランチ交流会 3/18: 申込 4名 / 参加 3名(受付) / 欠席率 25%" in digest
    assert "登壇イベント: 申込 0名 / 参加 31名(Zoom)" in digest
    assert "会場開催の欠席率(申込のうち来なかった割合): 25%" in digest
