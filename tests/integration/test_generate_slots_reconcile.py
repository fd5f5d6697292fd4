"""The generate_slots use case against the Firestore emulator and a real outbox.

generate_slots writes slots only; the calendar entries (``calendar/<id>.ics`` in outbox mode) are
provision_events' (one owner per entry), so the tests that look at the files run it after.

Everything runs with a fixed ``today`` (2026-11-28, a Saturday) and the example config: speaker
night on the 2nd Tuesday 20:00 (open end), lunch on the 3rd Thursday 12:00-13:00 and online
co-working 10:00 until the lunch starts, three months ahead.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import icalendar
import pytest

from shared.adapters.firestore import FirestoreIdempotencyStore, FirestoreSlotStore, OpCounter
from shared.adapters.google_calendar import OutboxCalendarEvents
from shared.adapters.outbox import Outbox
from shared.adapters.zoom import OutboxMeetings
from shared.config import Config
from shared.domain.ids import calendar_event_id, slot_id_from_event_id
from shared.usecases.generate_slots import (
    FLAG_EDITED,
    FLAG_NO_LONGER_MATCHES,
    FLAG_RULE_CHANGED,
    Report,
    generate_slots,
)
from shared.usecases.provision import Report as ProvisionReport
from shared.usecases.provision import provision_events
from tests.helpers.configs import config, example_dict

TODAY = dt.date(2026, 11, 28)
NOW = dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.UTC)
SPEAKER = ["speaker_night_2026-12-08", "speaker_night_2027-01-12", "speaker_night_2027-02-09"]
LUNCH = ["lunch_2026-12-17", "lunch_2027-01-21", "lunch_2027-02-18"]
MOKU = ["mokumoku_2026-12-17", "mokumoku_2027-01-21", "mokumoku_2027-02-18"]
ALL = sorted(SPEAKER + LUNCH + MOKU)
SPEAKER_WED = ["speaker_night_2026-12-09", "speaker_night_2027-01-13", "speaker_night_2027-02-10"]
UTC = dt.UTC


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


class Env:
    def __init__(self, db: Any, outbox: Path) -> None:
        self.db = db
        self.outbox = outbox
        self.ops = OpCounter()
        self.store = FirestoreSlotStore(client=db, ops=self.ops)
        self.locks = FirestoreIdempotencyStore(client=db)
        self.meetings = OutboxMeetings(Outbox(outbox))
        self.calendar = OutboxCalendarEvents(Outbox(outbox))

    def run(self, cfg: Config | None = None, today: dt.date = TODAY, now: dt.datetime = NOW) -> Report:
        self.ops.clear()
        return generate_slots(cfg or config(), self.store, today, now, run_key="test-run")

    def provision(self, cfg: Config | None = None, now: dt.datetime = NOW) -> ProvisionReport:
        """The calendar's owner: provision_events in outbox mode (calendar/<id>.ics)."""
        return provision_events(cfg or config(), self.store, self.locks, self.meetings, self.calendar, now=now,
                                run_key="test-provision")

    def slots(self) -> dict[str, dict[str, Any]]:
        return {d.id: d.to_dict() for d in self.db.collection("slots").stream()}

    def snapshots(self) -> dict[str, Any]:
        """Every slot with its server update time: proves a document was not written at all."""
        return {d.id: (d.update_time, d.to_dict()) for d in self.db.collection("slots").stream()}

    def set(self, sid: str, **fields: Any) -> None:
        self.db.collection("slots").document(sid).update(fields)

    def ics_files(self) -> dict[str, tuple[int, bytes]]:
        return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted((self.outbox / "calendar").glob("*.ics"))}


@pytest.fixture
def env(db, outbox):  # type: ignore[no-untyped-def]
    return Env(db, outbox)


def speaker_rule(weekday: str = "tue", start: str = "20:00") -> Config:
    data = example_dict()
    data["series"]["speaker_night"]["rule"]["weekday"] = weekday
    data["series"]["speaker_night"]["start"] = start
    return config(data)


def test_first_run_creates_deterministic_ids_and_a_second_run_writes_nothing(env):
    first = env.run()
    assert sorted(first.created) == ALL
    assert first.window == ("2026-11-28", "2027-02-28")
    assert env.ops["writes"] == 9
    slots = env.slots()
    assert sorted(slots) == ALL
    lunch = slots["lunch_2026-12-17"]
    assert lunch["title"] == "ランチ交流会 12/17" and lunch["kind"] == "lunch" and lunch["online"] is False
    assert (lunch["start"], lunch["end"]) == (utc("2026-12-17T03:00"), utc("2026-12-17T04:00"))
    assert lunch["speaker"] is None and lunch["host"] is None and lunch["revision"] == 0 and lunch["gen_flags"] == {}
    moku = slots["mokumoku_2026-12-17"]
    assert (moku["start"], moku["end"]) == (utc("2026-12-17T01:00"), utc("2026-12-17T03:00"))
    night = slots["speaker_night_2026-12-08"]
    assert night["open_end"] is True and night["end"] - night["start"] == dt.timedelta(minutes=120)
    assert night["title"] == "アルムナイ登壇イベント 12月" and night["timezone"] == "Asia/Tokyo"

    before = env.snapshots()
    second = env.run()
    assert second.created == [] and second.updated == [] and second.unchanged == 9
    assert env.ops["writes"] == 0 and env.ops["deletes"] == 0
    assert env.snapshots() == before
    assert not (env.outbox / "calendar").exists()  # entries are provision_events' alone


def test_organizer_exceptions_survive_every_regeneration(env):
    env.run()
    env.provision()  # the entries exist as soon as the slots do; the cancellation must reach them
    env.set("speaker_night_2027-01-12", speaker={"member_id": "m-001", "name": "山田　花子"})
    env.store.put_exception("lunch_2026-12-17", {"action": "move", "date": "2026-12-18", "start": "12:30",
                                                 "reason": "会場の都合で\n金曜に変更"})
    env.store.put_exception("speaker_night_2027-01-12", {"action": "cancel", "reason": "講師の都合"})

    report = env.run()
    assert sorted(report.updated) == ["lunch_2026-12-17", "mokumoku_2026-12-17", "speaker_night_2027-01-12"]
    slots = env.slots()
    lunch = slots["lunch_2026-12-17"]
    assert lunch["date"] == "2026-12-18" and lunch["key_date"] == "2026-12-17"
    assert (lunch["start"], lunch["end"]) == (utc("2026-12-18T03:30"), utc("2026-12-18T04:30"))
    assert lunch["shifted_from"] == "2026-12-17" and lunch["note"] == "12月17日(木)から日程を変更しました(理由: 会場の都合で\n金曜に変更)。"
    moku = slots["mokumoku_2026-12-17"]  # follows the lunch's actual day and ends when it starts
    assert moku["date"] == "2026-12-18" and (moku["start"], moku["end"]) == (utc("2026-12-18T01:00"), utc("2026-12-18T03:30"))
    cancelled = slots["speaker_night_2027-01-12"]
    assert cancelled["status"] == "cancelled" and cancelled["note"] == "中止になりました(理由: 講師の都合)。"
    assert cancelled["speaker"] == {"member_id": "m-001", "name": "山田　花子"}  # the decision does not drop the person

    assert env.provision().events_cancelled == ["speaker_night_2027-01-12"]
    settled = env.snapshots()
    assert env.run().unchanged == 9 and env.ops["writes"] == 0
    # An unrelated rule change (the lunch title) regenerates the lunches; the exceptions still hold.
    data = example_dict()
    data["series"]["lunch"]["title"] = "ランチ会 {month}/{day}（{weekday}）"
    env.run(config(data))
    slots = env.slots()
    assert slots["lunch_2026-12-17"]["date"] == "2026-12-18" and slots["lunch_2026-12-17"]["start"] == utc("2026-12-18T03:30")
    assert slots["lunch_2026-12-17"]["title"].startswith("ランチ会 12/18")
    assert slots["speaker_night_2027-01-12"]["status"] == "cancelled"
    assert env.snapshots()["speaker_night_2027-01-12"] == settled["speaker_night_2027-01-12"]
    assert env.provision().events_cancelled == []  # cancelled once already: no second notice
    ics = icalendar.Calendar.from_ical((env.outbox / "calendar" / f"{calendar_event_id('speaker_night_2027-01-12')}.ics").read_bytes())
    assert [str(e["STATUS"]) for e in ics.walk("VEVENT")] == ["CANCELLED"]


def test_exceptions_written_before_the_first_run_apply_at_creation(env):
    env.store.put_exception("lunch_2027-01-21", {"action": "cancel", "reason": "新年会に統合"})
    env.run()
    slots = env.slots()
    assert slots["lunch_2027-01-21"]["status"] == "cancelled"
    assert slots["mokumoku_2027-01-21"]["status"] == "cancelled"  # its anchor is cancelled
    assert env.run().unchanged == 9 and env.ops["writes"] == 0


def test_an_assigned_slot_is_never_overwritten_and_is_flagged_instead(env):
    env.run()
    person = {"member_id": "m-002", "name": "佐々木　次郎", "talk": "転職して\n見えたこと"}
    env.set("speaker_night_2026-12-08", speaker=person)
    before = env.slots()["speaker_night_2026-12-08"]

    report = env.run(speaker_rule(start="19:00"))
    assert report.flagged == ["speaker_night_2026-12-08"]
    assert sorted(report.updated) == SPEAKER[1:]
    after = env.slots()["speaker_night_2026-12-08"]
    assert after["speaker"] == person and after["start"] == before["start"] == utc("2026-12-08T11:00")
    assert after["revision"] == 0
    flag = after["gen_flags"][FLAG_RULE_CHANGED]["proposed"]
    assert flag == {"start": "2026-12-08T10:00:00+00:00", "end": "2026-12-08T12:00:00+00:00"}
    assert env.slots()["speaker_night_2027-01-12"]["start"] == utc("2027-01-12T10:00")
    # Flagging again changes nothing; the organizers' decision is pending.
    assert env.run(speaker_rule(start="19:00")).flagged == [] and env.ops["writes"] == 0


def test_a_rule_change_retires_unassigned_slots_flags_assigned_ones_and_reverting_restores(env):
    env.run()
    assert len(env.provision().events_inserted) == 9
    env.set("speaker_night_2027-01-12", speaker={"member_id": "m-003", "name": "高橋　三郎"})

    changed = env.run(speaker_rule(weekday="wed"))
    assert sorted(changed.created) == SPEAKER_WED
    assert sorted(changed.retired) == ["speaker_night_2026-12-08", "speaker_night_2027-02-09"]
    assert changed.flagged == ["speaker_night_2027-01-12"]
    slots = env.slots()
    assert len(slots) == 12  # retired, not deleted
    for sid in ("speaker_night_2026-12-08", "speaker_night_2027-02-09"):
        assert slots[sid]["status"] == "retired" and slots[sid]["revision"] == 1
        assert slots[sid]["note"] == "開催ルールの変更により、この回はなくなりました。"
    kept = slots["speaker_night_2027-01-12"]
    assert kept["status"] == "scheduled" and kept["start"] == utc("2027-01-12T11:00")
    assert set(kept["gen_flags"]) == {FLAG_NO_LONGER_MATCHES}
    provisioned = env.provision()
    assert sorted(provisioned.events_cancelled) == ["speaker_night_2026-12-08", "speaker_night_2027-02-09"]
    assert sorted(provisioned.events_inserted) == SPEAKER_WED
    ics = icalendar.Calendar.from_ical((env.outbox / "calendar" / f"{calendar_event_id('speaker_night_2026-12-08')}.ics").read_bytes())
    (event,) = ics.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 2  # inserted as 1
    assert env.run(speaker_rule(weekday="wed")).retired == [] and env.ops["writes"] == 0

    reverted = env.run(speaker_rule(weekday="tue"))
    assert sorted(reverted.restored) == ["speaker_night_2026-12-08", "speaker_night_2027-02-09"]
    assert sorted(reverted.retired) == SPEAKER_WED
    assert reverted.updated == ["speaker_night_2027-01-12"]  # its flag is cleared
    slots = env.slots()
    for sid in ("speaker_night_2026-12-08", "speaker_night_2027-02-09"):
        assert slots[sid]["status"] == "scheduled" and slots[sid]["note"] == "" and slots[sid]["revision"] == 2
    assert slots["speaker_night_2027-01-12"]["gen_flags"] == {}
    assert all(slots[s]["status"] == "retired" for s in SPEAKER_WED)
    assert env.run().unchanged == 9 and env.ops["writes"] == 0  # retired slots are left alone
    provisioned = env.provision()  # the same entries come back (409 -> get -> patch), the others go
    assert sorted(provisioned.events_patched) == ["speaker_night_2026-12-08", "speaker_night_2027-02-09"]
    assert sorted(provisioned.events_cancelled) == SPEAKER_WED
    ics = icalendar.Calendar.from_ical((env.outbox / "calendar" / f"{calendar_event_id('speaker_night_2026-12-08')}.ics").read_bytes())
    (event,) = ics.walk("VEVENT")
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 3


def test_a_slot_edited_by_hand_is_flagged_not_overwritten(env):
    env.run()
    title = "アルムナイ登壇イベント　年末特別回\n（会場：渋谷）"
    env.set("speaker_night_2026-12-08", title=title, online=False)

    report = env.run()
    assert report.flagged == ["speaker_night_2026-12-08"]
    slot = env.slots()["speaker_night_2026-12-08"]
    assert slot["title"] == title and slot["online"] is False and slot["revision"] == 0
    assert slot["gen_flags"] == {FLAG_EDITED: {"proposed": {"title": "アルムナイ登壇イベント 12月", "online": True}}}
    assert env.run().flagged == [] and env.ops["writes"] == 0

    # Even when the rule later drops that day, the hand-edited slot is flagged, not retired.
    env.run(speaker_rule(weekday="wed"))
    slot = env.slots()["speaker_night_2026-12-08"]
    assert slot["status"] == "scheduled" and slot["title"] == title
    assert FLAG_NO_LONGER_MATCHES in slot["gen_flags"]


def test_past_slots_are_never_touched(env):
    env.run()
    before = env.snapshots()
    later_today, later_now = dt.date(2027, 1, 1), dt.datetime(2027, 1, 1, tzinfo=UTC)

    report = env.run(speaker_rule(weekday="wed", start="19:00"), today=later_today, now=later_now)
    after = env.snapshots()
    past = [sid for sid in before if before[sid][1]["key_date"] < "2027-01-01"]
    assert sorted(past) == ["lunch_2026-12-17", "mokumoku_2026-12-17", "speaker_night_2026-12-08"]
    for sid in past:
        assert after[sid] == before[sid], sid
    assert "speaker_night_2026-12-09" not in after  # the new rule does not reach back either
    assert sorted(report.retired) == ["speaker_night_2027-01-12", "speaker_night_2027-02-09"]
    assert sorted(report.created) == ["lunch_2027-03-18", "mokumoku_2027-03-18", "speaker_night_2027-01-13",
                                      "speaker_night_2027-02-10", "speaker_night_2027-03-10"]


def test_one_ics_per_generated_slot_after_provisioning_and_a_rerun_writes_no_file(env):
    assert len(env.run().created) == 9
    assert len(env.provision().events_inserted) == 9
    files = env.ics_files()
    assert sorted(files) == sorted(f"{calendar_event_id(s)}.ics" for s in ALL)
    slots = env.slots()
    for name, (_, data) in files.items():
        eid = name.removesuffix(".ics")
        sid = slot_id_from_event_id(eid)
        cal = icalendar.Calendar.from_ical(data)
        (event,) = cal.walk("VEVENT")
        assert str(event["UID"]) == f"{eid}@alumni-autopilot"
        tba = "｜登壇者未定" if slots[sid]["kind"] == "speaker_night" else ""  # the example's title template
        assert str(event["SUMMARY"]) == slots[sid]["title"] + tba
        if slots[sid]["online"]:
            assert "LOCATION" not in event  # no link yet
        else:  # the lunch's venue (config venues:) is its LOCATION, the map link in its description
            assert str(event["LOCATION"]) == "品川オフィス 会議室A, 東京都港区港南1-7-1 (example)"
            assert "https://www.openstreetmap.org/search?query=Shinagawa%20Station" in str(event["DESCRIPTION"])
        assert "日程の確保をお願いします" in str(event["DESCRIPTION"]) or slots[sid]["kind"] == "speaker_night"
        assert event.decoded("DTSTART") == slots[sid]["start"]
        assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 1
        assert 5 <= len(eid) <= 1024 and set(eid) <= set("0123456789abcdefghijklmnopqrstuv")

    assert env.run().unchanged == 9
    assert env.provision().unchanged == 9
    assert env.ics_files() == files  # same bytes and same mtime: not rewritten
    assert not [p for p in (env.outbox / "calendar").iterdir() if p.name.startswith(".tmp-")]
