"""The join link of a slot reaches the feed, the digest and the reminders: the community's Zoom
meeting (stored by provisioning under ``provision.zoom``) and a member event's own link.

The defect: the feed, the digest and the reminders read ``provision.join_url`` while provisioning
stores ``provision.zoom.join_url``, so no member ever saw the community's Zoom links there.
"""

from __future__ import annotations

import datetime as dt

from shared import bootstrap
from shared.domain.slots import join_link
from tests.integration.test_rhythm import CONFIG, JST, UTC, cron, mails, slot

ZOOM = "https://zoom.us/j/81234567890?pwd=abc"
OWN = "https://meet.example.org/book-club"
PROVISIONED = {"zoom": {"state": "created", "meeting_id": "81234567890", "host_user": "tanaka@example.com",
                        "join_url": ZOOM, "spec_hash": "x"}}


def test_one_accessor_for_the_join_link():
    assert join_link({"online": True, "provision": PROVISIONED}) == ZOOM
    assert join_link({"online": True, "zoom_mode": "own", "join_url": OWN}) == OWN
    assert join_link({"online": True, "provision": {"zoom": {**PROVISIONED["zoom"], "state": "creating"}}}) == ""
    assert join_link({"online": True, "provision": {"zoom": {"state": "deleted", "previous_id": "1"}}}) == ""
    assert join_link({"online": False, "join_url": OWN}) == ""
    assert join_link({"online": True}) == ""


def test_feed_digest_and_reminders_show_the_provisioned_zoom_link(project, outbox, write_config, monkeypatch, db):
    from shared.usecases.rhythm import digest_content, feed_entries

    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("MAIL_FROM", "コミュニティ <community@example.com>")
    write_config(CONFIG)
    cfg = bootstrap.config()
    store = bootstrap.slot_store()
    sid = "speaker_night_2026-12-08"
    store.create_slot(sid, slot(sid, dt.datetime(2026, 12, 7, 20, tzinfo=JST), host="tanaka", provision=PROVISIONED))
    member = "member_event_2026-12-09_abcdef12"
    store.create_slot(member, slot(member, dt.datetime(2026, 12, 9, 20, tzinfo=JST), kind="member_event", zoom_mode="own",
                                   join_url=OWN, title="読書会"))
    now = dt.datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    from shared.domain.ids import calendar_event_id

    entries = {e.uid: e for e in feed_entries(cfg, store, now)}
    for key, url in ((sid, ZOOM), (member, OWN)):
        entry = entries[calendar_event_id(key)]
        assert entry.location == url and url in entry.description
    upcoming = {e["id"]: e for e in digest_content(cfg, store, bootstrap.rhythm_store(), now)["upcoming"]}
    assert upcoming[sid]["join_url"] == ZOOM and upcoming[member]["join_url"] == OWN
    client, headers = cron("send_reminders", "2026-12-01T00:00:00Z")  # 7 days before: the host's reminder
    assert client.post("/", headers=headers).status_code == 200
    texts = [m.get_body(("plain",)).get_content() for m in mails(outbox)]
    assert texts and all(ZOOM in t for t in texts if "登壇イベント" in t)


def test_a_member_events_own_link_reaches_its_calendar_entry(project, outbox, write_config, monkeypatch):
    from shared.adapters.google_calendar import OutboxCalendarEvents
    from shared.adapters.zoom import OutboxMeetings
    from shared.domain.ids import calendar_event_id
    from shared.usecases.provision import provision_events

    write_config(CONFIG)
    cfg = bootstrap.config()
    store = bootstrap.slot_store()
    member = "member_event_2026-12-09_abcdef12"
    store.create_slot(member, slot(member, dt.datetime(2026, 12, 9, 20, tzinfo=JST), kind="member_event", zoom_mode="own",
                                   join_url=OWN, title="読書会"))
    provision_events(cfg, store, bootstrap.idempotency_store(), OutboxMeetings(), OutboxCalendarEvents(),
                     now=dt.datetime(2026, 12, 1, tzinfo=UTC))
    ics = (outbox / "calendar" / f"{calendar_event_id(member)}.ics").read_text(encoding="utf-8")
    assert OWN in ics.replace("\r\n ", "")
