"""provision_events against the Firestore emulator and local Zoom / Calendar servers (real adapters).

Fault injection: for every step the run crashes right after the external call and before the
Firestore write that records it; the next run (after the lease ran out) must leave exactly one
meeting and one entry per slot, and a run after that must make no write call at all.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from shared.adapters.google_calendar import GoogleCalendar
from shared.adapters.zoom import ZoomMeetings
from shared.domain.ids import calendar_event_id
from shared.usecases.generate_slots import generate_slots
from shared.usecases.provision import provision_events
from tests.fakes.google_calendar import FakeCalendar, google_error
from tests.fakes.zoom import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, FakeZoom

NOW = dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.UTC)
HOSTS = ("organizer1@example.com", "organizer2@example.com")
SPEAKER = {"id": "sp1", "name": "山田　花子", "topic": "アルムナイと\n新規事業", "status": "confirmed"}


class Crash(BaseException):
    """A process dying: not an Exception, so nothing below cleans up."""


@pytest.fixture
def fakes(tmp_path, monkeypatch) -> Iterator[tuple[FakeZoom, FakeCalendar]]:
    with FakeZoom(users=HOSTS) as zoom, FakeCalendar() as cal:
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(cal.write_service_account(tmp_path)))
        yield zoom, cal


@pytest.fixture
def world(project, example_config, fakes):  # type: ignore[no-untyped-def]
    from shared import bootstrap

    cfg = bootstrap.config()
    store, locks = bootstrap.slot_store(), bootstrap.idempotency_store()
    generate_slots(cfg, store, NOW.date(), now=NOW, run_key="seed")
    return cfg, store, locks, fakes[0], fakes[1]


def adapters(zoom: FakeZoom, cal: FakeCalendar, sleeps: list[float] | None = None) -> tuple[ZoomMeetings, GoogleCalendar]:
    def sleep(s: float) -> None:
        if sleeps is not None:
            sleeps.append(s)

    meetings = ZoomMeetings(ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, api_base=zoom.api_base, token_url=zoom.token_url,
                            timeout=1.0, sleep=sleep)
    calendar = GoogleCalendar("primary", endpoint=cal.endpoint, timeout=1.0, sleep=sleep)
    return meetings, calendar


def run(world: Any, clock_minutes: int = 0, after_call: Any = None, **kw: Any) -> Any:
    cfg, store, locks, zoom, cal = world
    meetings, calendar = kw.pop("adapters", None) or adapters(zoom, cal)
    def clock():
        return (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=clock_minutes))
    return provision_events(cfg, store, locks, meetings, calendar, now=NOW, run_key="t", after_call=after_call, clock=clock)


def assign_all(store: Any) -> dict[str, dict[str, Any]]:
    slots = store.slots_from(NOW.date())
    for i, (sid, slot) in enumerate(sorted(slots.items())):
        if slot["online"]:
            changes: dict[str, Any] = {"host": ("tanaka", "suzuki")[i % 2]}
            if slot["kind"] == "speaker_night":
                changes["speaker"] = SPEAKER
            store.update_slot(sid, changes)
    return store.slots_from(NOW.date())


def assert_exactly_one_each(world: Any) -> None:
    _, store, _, zoom, cal = world
    for sid, slot in store.slots_from(NOW.date()).items():
        assert cal.event(calendar_event_id(sid)) is not None, sid
        expected = 1 if slot["online"] and slot.get("host") and slot["status"] == "scheduled" else 0
        assert len(zoom.by_marker(sid)) == expected, (sid, zoom.by_marker(sid))
    assert len(cal.events) == len(store.slots_from(NOW.date()))


def test_save_the_date_first_then_meeting_and_link_then_zero_writes(world):
    _cfg, store, _, zoom, cal = world
    report = run(world)
    assert len(report.events_inserted) == 9 and not report.meetings_created  # nobody assigned yet: no meeting
    first = sorted(store.slots_from(NOW.date()))[0]
    entry = cal.event(calendar_event_id(first))
    # an online slot without a meeting has no LOCATION yet; the in-person lunch has its venue
    venue = "品川オフィス 会議室A, 東京都港区港南1-7-1 (example)" if first.startswith("lunch_") else ""
    assert entry["start"]["timeZone"] == "Asia/Tokyo" and entry["location"] == venue

    slots = assign_all(store)
    report = run(world)
    online = [sid for sid, s in slots.items() if s["online"]]
    assert sorted(report.meetings_created) == sorted(online)
    assert zoom.count("POST", r"/users/.*/meetings") == len(online)
    assert zoom.count("POST", "/oauth/token") == 1  # one token for the whole run
    for sid in online:
        slot = store.get_slot(sid)
        meeting = zoom.by_marker(sid)[0]
        entry = cal.event(calendar_event_id(sid))
        assert entry["location"] == meeting["join_url"] and meeting["join_url"] in entry["description"]
        assert "start_url" not in str(slot) and "zak=" not in str(slot) and "zak=" not in str(entry)
        if slot["kind"] == "speaker_night":
            assert "山田　花子" in entry["summary"] and "新規事業" in entry["description"]
            assert meeting["settings"]["waiting_room"] is True and meeting["settings"]["join_before_host"] is False
            assert meeting["settings"]["alternative_hosts"]  # the other licensed organizer
        assert meeting["timezone"] == "Asia/Tokyo"

    before_zoom, before_cal = len(zoom.calls), cal.writes()
    report = run(world)
    assert zoom.calls[before_zoom:] == [] and cal.writes() == before_cal  # zero write calls (zero calls at all)
    assert report.unchanged == 9


def test_speaker_night_waits_for_a_confirmed_speaker(world):
    _, store, _, zoom, _ = world
    sid = next(s for s, d in store.slots_from(NOW.date()).items() if d["kind"] == "speaker_night")
    store.update_slot(sid, {"host": "tanaka", "speaker": {**SPEAKER, "status": "offered"}})
    run(world)
    assert zoom.by_marker(sid) == []
    store.update_slot(sid, {"speaker": SPEAKER})
    run(world)
    assert len(zoom.by_marker(sid)) == 1


def _setup_for(step: str, world: Any) -> None:
    """Bring the world to the point where the next run performs ``step``."""
    _, store, _, _, _ = world
    slots = assign_all(store)
    if step in ("zoom.create", "calendar.insert"):
        return
    run(world)
    online = sorted(s for s, d in slots.items() if d["online"])
    for sid in online:
        slot = slots[sid]
        if step in ("zoom.update", "calendar.patch"):
            store.update_slot(sid, {"start": slot["start"] + dt.timedelta(hours=1), "end": slot["end"] + dt.timedelta(hours=1)})
        elif step in ("zoom.delete", "calendar.delete"):
            store.update_slot(sid, {"status": "cancelled"})


@pytest.mark.parametrize("step", ["zoom.create", "calendar.insert", "zoom.update", "calendar.patch", "zoom.delete",
                                  "calendar.delete"])
def test_crash_after_each_external_call_then_rerun(world, step):
    _, store, _, zoom, cal = world
    _setup_for(step, world)
    crashed: list[str] = []

    def crash(name: str, sid: str) -> None:
        if name == step and not crashed:
            crashed.append(sid)
            raise Crash(name)

    with pytest.raises(Crash):
        run(world, after_call=crash)
    busy = run(world)  # the dead run still holds its lease on that slot: skipped, not doubled
    assert crashed[0] in busy.busy
    run(world, clock_minutes=10)  # the lease ran out: taken over
    assert_exactly_one_each(world)
    writes = zoom.writes(), cal.writes()
    run(world, clock_minutes=20)
    assert (zoom.writes(), cal.writes()) == writes
    if step in ("zoom.delete", "calendar.delete"):
        assert zoom.live() == []
        assert all(e["status"] == "cancelled" for k, e in cal.events.items()
                   if (store.get_slot(_slot_of(k)) or {}).get("status") == "cancelled")


def _slot_of(key: str) -> str:
    from shared.domain.ids import slot_id_from_event_id

    return slot_id_from_event_id(key.split("/")[-1])


def test_crash_after_create_adopts_from_a_paged_listing(world):
    _, store, _, zoom, _ = world
    zoom.page_size = 1
    assign_all(store)

    def crash(name: str, sid: str) -> None:
        if name == "zoom.create" and len(zoom.live()) == 3:
            raise Crash(name)

    with pytest.raises(Crash):
        run(world, after_call=crash)
    report = run(world, clock_minutes=10)
    assert len(report.meetings_adopted) == 1
    assert_exactly_one_each(world)


def test_duplicate_and_concurrent_runs_make_one_of_each(world):
    _, store, _, zoom, _cal = world
    assign_all(store)
    zoom.fail("POST", "/meetings", 0, times=3, delay=0.3)  # slow creates widen the race
    errors: list[BaseException] = []

    def one() -> None:
        try:
            run(world)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    run(world)  # whatever was busy before is done now
    assert_exactly_one_each(world)


def test_changes_follow_the_slot_time_host_speaker_cancel_restore(world):
    _, store, _, zoom, cal = world
    slots = assign_all(store)
    run(world)
    sid = next(s for s, d in slots.items() if d["kind"] == "speaker_night")
    eid = calendar_event_id(sid)
    first = zoom.by_marker(sid)[0]

    store.update_slot(sid, {"start": slots[sid]["start"] + dt.timedelta(hours=1), "end": slots[sid]["end"] + dt.timedelta(hours=1)})
    run(world)
    moved = zoom.by_marker(sid)[0]
    assert moved["id"] == first["id"] and moved["start_time"].startswith(slots[sid]["start"].replace(hour=12).strftime("%Y-%m-%dT12"))
    patch = [q for m, p, q in cal.calls if m == "PATCH" and p.endswith(eid)][-1]
    assert patch["sendUpdates"] == ["none"]  # subscription mode: nobody to mail

    other = "suzuki" if store.get_slot(sid)["host"] == "tanaka" else "tanaka"
    store.update_slot(sid, {"host": other})
    run(world)
    replaced = zoom.by_marker(sid)
    assert len(replaced) == 1 and replaced[0]["id"] != first["id"]
    assert cal.event(eid)["location"] == replaced[0]["join_url"]

    store.update_slot(sid, {"status": "cancelled"})
    run(world)
    assert zoom.by_marker(sid) == [] and cal.event(eid)["status"] == "cancelled"
    delete = [q for m, p, q in cal.calls if m == "DELETE" and p.endswith(eid)][-1]
    assert delete["sendUpdates"] == ["all"]

    store.update_slot(sid, {"status": "scheduled"})
    run(world)  # the 409-after-delete path: same id, un-cancelled
    assert cal.event(eid)["status"] == "confirmed" and len(zoom.by_marker(sid)) == 1
    assert len(cal.events) == 9


def test_restore_after_state_was_lost_uses_409_then_patch(world):
    _, store, _, _, cal = world
    run(world)
    sid = sorted(store.slots_from(NOW.date()))[0]
    store.update_slot(sid, {"provision": None})  # e.g. restored from an old backup
    mark = len(cal.calls)
    run(world)
    assert len(cal.events) == 9
    assert [m for m, p, _ in cal.calls[mark:] if p != "/token"] == ["POST", "GET"]  # 409 -> get -> equal: no patch


def test_zoom_retry_after_5xx_timeouts_and_token_refresh(world):
    _, store, _, zoom, cal = world
    assign_all(store)
    sleeps: list[float] = []
    zoom.fail("POST", "/meetings", 429, headers={"Retry-After": "2"})
    zoom.fail("POST", "/oauth/token", 503)  # safe to repeat: retried at once
    zoom.fail("POST", "/meetings", 503)  # a create is not: the next run adopts or creates
    cal.fail("POST", "/events", 403, body=google_error(403, "rateLimitExceeded", "Rate Limit Exceeded"))
    cal.fail("POST", "/events", 500)
    run(world, adapters=adapters(zoom, cal, sleeps))
    assert 2.0 in sleeps and all(s <= 60 for s in sleeps)
    run(world, clock_minutes=10)
    assert_exactly_one_each(world)


def test_slow_create_times_out_and_the_next_run_adopts_instead_of_creating_again(world):
    _, store, _, zoom, _ = world
    assign_all(store)
    zoom.fail("POST", "/meetings", 0, delay=1.5)  # slower than the 1 s timeout; Zoom creates it anyway
    first = run(world)
    assert first.errors or first.meetings_adopted
    second = run(world, clock_minutes=10)
    assert len(first.meetings_adopted + second.meetings_adopted) == 1
    assert_exactly_one_each(world)


def test_daily_limit_defers_the_host_until_midnight_utc(world):
    _, store, _, zoom, _ = world
    assign_all(store)
    zoom.daily_limit.add("organizer1@example.com")
    report = run(world)
    assert report.deferred, report
    deferred = store.get_slot(report.deferred[0])["provision"]["deferred"]
    assert deferred["until"] == dt.datetime(2026, 11, 29, tzinfo=dt.UTC) or deferred["until"].hour == 0
    posts = zoom.count("POST", "organizer1")
    assert posts == 1  # the host's other slots wait too
    run(world)
    assert zoom.count("POST", "organizer1") == posts  # still deferred: no call


def test_permanent_errors_are_recorded_for_organizers_and_not_retried(world, write_config):
    _, store, _, zoom, _ = world
    assign_all(store)
    zoom.users.discard("organizer2@example.com")  # the Zoom user left the account
    report = run(world)
    assert report.problems
    problem = store.get_slot(report.problems[0])["provision"]["problems"]["zoom"]
    assert problem["code"] == "1001" and "organizers.suzuki.zoom.user" in problem["message"]
    calls = len(zoom.calls)
    run(world)
    assert len(zoom.calls) == calls


def test_meeting_deleted_by_a_person_is_flagged_not_recreated(world):
    _, store, _, zoom, _ = world
    slots = assign_all(store)
    run(world)
    sid = next(s for s, d in slots.items() if d["kind"] == "speaker_night")
    zoom.delete_by_person(zoom.by_marker(sid)[0]["id"].__str__())
    store.update_slot(sid, {"speaker": {**SPEAKER, "topic": "新テーマ"}})
    run(world)
    slot = store.get_slot(sid)
    assert slot["provision"]["zoom"]["state"] == "deleted_by_person"
    assert slot["provision"]["problems"]["zoom"]["code"] == "3001"
    run(world)
    assert zoom.by_marker(sid) == []


def test_group_invitations_use_one_attendee_and_notify_on_time_changes(world, write_config, fakes):
    from shared import bootstrap
    from shared.config import config_path

    text = (open(config_path(), encoding="utf-8").read()
            .replace("invitations: none ", "invitations: group\n    group_address: members@googlegroups.com\n    #"))
    write_config(text)
    cfg = bootstrap.config()
    assert cfg.provisioning.calendar.invitations == "group"
    w = (cfg, *world[1:])
    run(w)
    _, store, _, _, cal = w
    sid = sorted(store.slots_from(NOW.date()))[0]
    eid = calendar_event_id(sid)
    assert cal.event(eid)["attendees"] == [{"email": "members@googlegroups.com"}]
    slot = store.get_slot(sid)
    store.update_slot(sid, {"start": slot["start"] + dt.timedelta(days=1), "end": slot["end"] + dt.timedelta(days=1)})
    run(w)
    patch = [q for m, p, q in cal.calls if m == "PATCH" and p.endswith(eid)][-1]
    assert patch["sendUpdates"] == ["all"]


def _member(store: Any, email: str, name: str) -> None:
    from shared.domain.applications import email_key

    store.create("members", email_key(email), {"email": email, "name": name, "affiliation": "元　営業部\n東京",
                                               "joined_at": NOW, "approved_by": "田中　太郎"})


def test_member_invitations_read_the_directory_once_then_zero_calls_and_a_new_member_is_one_patch(world, write_config):
    from shared import bootstrap
    from shared.config import config_path
    from shared.entrypoints import jobs

    text = (open(config_path(), encoding="utf-8").read()
            .replace("invitations: none ", "invitations: members\n    max_attendees: 3\n    #"))
    write_config(text)
    cfg = bootstrap.config()
    _, store, locks, zoom, cal = world
    docs = bootstrap.doc_store()
    _member(docs, "Yamada.Hanako@Example.com", "山田　花子")
    _member(docs, "sato@example.jp", "佐藤　一郎")
    meetings, calendar = adapters(zoom, cal)

    def provision() -> Any:
        return provision_events(cfg, store, locks, meetings, calendar, now=NOW, run_key="m", members=jobs.member_invitees())

    first = provision()
    assert len(first.events_inserted) == 9 and first.notices == []
    for sid in store.slots_from(NOW.date()):
        entry = cal.event(calendar_event_id(sid))
        assert entry["attendees"] == [{"email": "sato@example.jp"}, {"email": "yamada.hanako@example.com"}]
        assert "山田" not in str(entry)  # addresses only: names stay in Firestore
    assert {q["sendUpdates"][0] for m, p, q in cal.calls if m == "POST" and p.endswith("/events")} == {"all"}

    mark = len(cal.calls)
    assert provision().unchanged == 9
    assert [c for c in cal.calls[mark:] if c[1] != "/token"] == []  # zero calls, not only zero writes

    _member(docs, "suzuki@example.com", "鈴木　次郎")
    mark = len(cal.calls)
    again = provision()
    calls = [(m, p) for m, p, _ in cal.calls[mark:] if p != "/token"]
    assert sorted(again.events_patched) == sorted(store.slots_from(NOW.date()))
    assert [m for m, _ in calls] == ["PATCH"] * 9 and len({p for _, p in calls}) == 9  # one patch per entry
    assert len(cal.event(calendar_event_id(again.events_patched[0]))["attendees"]) == 3

    _member(docs, "takahashi@example.com", "高橋　三郎")  # a fourth: over max_attendees
    over = provision()
    assert over.notices == ["members_over_max_attendees"] and "members_over_max_attendees" in over.summary()["attention"]
    for sid in store.slots_from(NOW.date()):  # capped: three of the four (the first by document id), never more
        assert len(cal.event(calendar_event_id(sid))["attendees"]) == 3
    assert len(over.events_patched) in (0, 9)
    mark = len(cal.calls)
    assert provision().unchanged == 9 and [c for c in cal.calls[mark:] if c[1] != "/token"] == []  # and it is stable


def test_zoom_token_is_refreshed_early_by_the_injected_clock_never_on_a_401(fakes):
    zoom, _ = fakes
    now = [1_800_000_000.0]
    meetings = ZoomMeetings(ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, api_base=zoom.api_base, token_url=zoom.token_url,
                            timeout=1.0, sleep=lambda s: None, clock=lambda: now[0])
    meetings.list_upcoming(HOSTS[0])
    assert meetings.tokens_fetched == 1
    now[0] += 3599 - 300 - 1  # the fake's token lives 3599 s: one second before the early refresh
    meetings.list_upcoming(HOSTS[0])
    assert meetings.tokens_fetched == 1 and zoom.count("POST", "/oauth/token") == 1
    now[0] += 2  # inside the last five minutes: a new token, although the old one still works
    meetings.list_upcoming(HOSTS[0])
    assert meetings.tokens_fetched == 2 and zoom.count("POST", "/oauth/token") == 2
    assert len(zoom.tokens) == 2  # the old one was never refused: the refresh came first
    assert zoom.count("GET", "/meetings") == 3  # no call was refused and repeated


def test_a_revoked_zoom_token_gets_one_fresh_token_and_the_call_is_repeated_once(world):
    from shared.ports import PermanentError

    _, store, _, zoom, cal = world
    assign_all(store)
    meetings, calendar = adapters(zoom, cal)
    run(world, adapters=(meetings, calendar))
    assert meetings.tokens_fetched == 1
    sid = next(s for s, d in store.slots_from(NOW.date()).items() if d["kind"] == "speaker_night")
    zoom.tokens.clear()  # revoked (or expired early) at Zoom: the next call answers 401 / code 124
    store.update_slot(sid, {"speaker": {**SPEAKER, "topic": "新テーマ　第二部"}})
    patches = zoom.count("PATCH", "/meetings/")
    report = run(world, adapters=(meetings, calendar))
    assert report.meetings_updated == [sid] and not report.problems and not report.errors
    assert meetings.tokens_fetched == 2 and zoom.count("PATCH", "/meetings/") == patches + 2  # refused, then repeated
    assert "新テーマ　第二部" in zoom.by_marker(sid)[0]["agenda"]
    assert_exactly_one_each(world)

    # A fresh token refused again is not a loop: one renewal, then a permanent error for the organizers.
    zoom.fail("GET", "/meetings", 401, times=2, body={"code": 124, "message": "Invalid access token."})
    with pytest.raises(PermanentError) as exc:
        meetings.list_upcoming(HOSTS[0])
    assert exc.value.code == "124" and meetings.tokens_fetched == 3


def test_slow_calendar_answers_time_out_are_retried_and_leave_one_entry(world):
    _, store, _, _, cal = world
    sleeps: list[float] = []
    meetings, calendar = adapters(*world[3:], sleeps=sleeps)
    cal.fail("POST", "/events", 0, delay=1.5)  # slower than the 1 s timeout; Google inserts it anyway
    report = run(world, adapters=(meetings, calendar))
    assert len(report.events_inserted) == 9 and not report.errors
    assert len(cal.events) == 9 and cal.count("POST") == 10  # the retry met 409: get, equal, no patch
    assert cal.count("PATCH") == 0 and sleeps  # backed off before the retry

    sid = sorted(store.slots_from(NOW.date()))[0]
    slot = store.get_slot(sid)
    store.update_slot(sid, {"start": slot["start"] + dt.timedelta(hours=1), "end": slot["end"] + dt.timedelta(hours=1)})
    cal.fail("PATCH", "/events", 0, delay=1.5)  # a slow patch: repeating it is harmless
    report = run(world, adapters=(meetings, calendar))
    assert report.events_patched == [sid] and not report.errors
    assert cal.count("PATCH") == 2 and len(cal.events) == 9
    assert cal.event(calendar_event_id(sid))["start"]["dateTime"].startswith(
        (slot["start"] + dt.timedelta(hours=1)).astimezone(dt.timezone(dt.timedelta(hours=9))).isoformat()[:16])
    before = cal.writes()
    assert run(world, adapters=(meetings, calendar)).unchanged == 9 and cal.writes() == before
