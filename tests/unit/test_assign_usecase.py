"""The offer loop and host rotation through the use case, on the in-memory store, with a
controllable clock. The same scenarios against the Firestore emulator live in
tests/integration/test_assign_concurrency.py."""

from __future__ import annotations

import datetime as dt
import textwrap
import threading
from typing import Any

import yaml

from shared.config import Config, parse_config
from shared.domain import scheduling
from shared.platform.mail import OutgoingMail
from shared.usecases import assign
from shared.usecases.generate_slots import desired_slot
from tests.fakes.docs import MemoryDocs

JST = dt.timezone(dt.timedelta(hours=9))

CONFIG = """
community: {name: テスト会}
organizers:
  tanaka: {name: "田中　太郎", email: t@example.com, zoom: {user: t@example.com, licence: pro}}
  suzuki: {name: "鈴木　花子", email: s@example.com, zoom: {user: s@example.com, licence: business}}
  sato:   {name: "佐藤　一郎", email: sa@example.com}
series:
  speaker_night:
    kind: speaker_night
    title: "登壇イベント {month}月"
    start: "20:00"
    open_end: true
    rule: {type: monthly, nth: 2, weekday: tue}
    on_holiday: next_business_day
people:
  speakers: {lead_time_days: 21, offer_window_days: 5, reminder_after_days: 3, raise_weeks: 4}
"""


def make_config(text: str = CONFIG, **people: Any) -> Config:
    data = yaml.safe_load(textwrap.dedent(text))
    for key, value in people.items():
        data.setdefault("people", {})[key] = value
    return parse_config(data)


class FakeMailer:
    """Behaves like ExactlyOnceMailer: one delivery per intent, whatever the number of callers."""

    def __init__(self) -> None:
        self.sent: dict[str, OutgoingMail] = {}
        self._lock = threading.Lock()

    def send(self, mail: OutgoingMail) -> bool:
        with self._lock:
            if mail.intent in self.sent:
                return False
            self.sent[mail.intent] = mail
            return True

    def intents(self, prefix: str = "") -> list[str]:
        return sorted(i for i in self.sent if i.startswith(prefix))


class FakeLinks:
    def url(self, action: str, subject: str, expires_at: dt.datetime) -> str:
        return f"https://actions.example/{action}/{subject}"


def add_slots(store: Any, cfg: Config, start: dt.date, end: dt.date) -> list[str]:
    cal = scheduling.BusinessCalendar(lambda d: None, cfg.scheduling.blackouts)
    ids = []
    for occ in scheduling.expand(cfg, start, end, cal, {}):
        store.create("slots", occ.slot_id, {**desired_slot(cfg, occ), "speaker": None, "host": None})
        ids.append(occ.slot_id)
    return ids


def deps_for(cfg: Config, store: Any = None) -> assign.Deps:
    return assign.Deps(cfg, store if store is not None else MemoryDocs(), FakeMailer(), FakeLinks())


def propose(deps: assign.Deps, now: dt.datetime, name: str = "山田　花子", **kw: Any) -> str:
    cmd = assign.SpeakerProposal(name=name, email="yamada@example.com", topic="転職と\n学び直し",
                                 series_id="speaker_night", **kw)
    sid, created = assign.propose_speaker(deps, cmd, now)
    assert created
    return sid


def slot_speaker(deps: assign.Deps, slot_id: str) -> Any:
    return (deps.store.get("slots", slot_id) or {}).get("speaker")


NOW = dt.datetime(2027, 1, 1, 9, 0, tzinfo=JST)


def test_decline_twice_then_confirm_on_the_third_date() -> None:
    deps = deps_for(make_config())
    add_slots(deps.store, deps.cfg, dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    sid = propose(deps, NOW)
    report = assign.assign_pass(deps, NOW)
    # 2027-01-12 is within the 21-day lead time: the first offer is February's 2nd Tuesday.
    assert report.offered == ["speaker_night_2027-02-09"]
    assert slot_speaker(deps, "speaker_night_2027-02-09")["status"] == "offered"

    clock = NOW + dt.timedelta(hours=5)
    assert assign.speaker_answer(deps, f"speaker_night_2027-02-09~{sid}", False, clock).status == "done"
    assert slot_speaker(deps, "speaker_night_2027-02-09") is None
    assert slot_speaker(deps, "speaker_night_2027-03-09")["id"] == sid  # rolled forward at once

    clock += dt.timedelta(days=1)
    assert assign.speaker_answer(deps, f"speaker_night_2027-03-09~{sid}", False, clock).status == "done"
    clock += dt.timedelta(days=1)
    assert assign.speaker_answer(deps, f"speaker_night_2027-04-13~{sid}", True, clock).status == "done"

    assert slot_speaker(deps, "speaker_night_2027-04-13")["status"] == "confirmed"
    doc = deps.store.get("speakers", sid)
    assert doc["status"] == "confirmed" and doc["declined_dates"] == ["2027-02-09", "2027-03-09"]
    # A later pass leaves the confirmed speaker alone; a second click answers "already".
    assign.assign_pass(deps, clock + dt.timedelta(days=1))
    assert assign.speaker_answer(deps, f"speaker_night_2027-04-13~{sid}", False, clock).status == "already"
    assert slot_speaker(deps, "speaker_night_2027-04-13")["status"] == "confirmed"
    assert deps.mailer.intents("speaker:offer:") == sorted(
        f"speaker:offer:speaker_night_{d}~{sid}" for d in ("2027-02-09", "2027-03-09", "2027-04-13"))
    mail = deps.mailer.sent[f"speaker:offer:speaker_night_2027-02-09~{sid}"]
    assert "山田　花子" in mail.text and "speaker_accept" in mail.text and "speaker_decline" in mail.text


def test_silence_gets_one_reminder_then_counts_as_a_decline() -> None:
    deps = deps_for(make_config())
    add_slots(deps.store, deps.cfg, dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    sid = propose(deps, NOW)
    assign.assign_pass(deps, NOW)
    first = f"speaker_night_2027-02-09~{sid}"
    for hours in range(6, 24 * 5, 6):  # a pass every 6 hours, no answer
        report = assign.assign_pass(deps, NOW + dt.timedelta(hours=hours))
        assert not report.expired
    assert deps.mailer.intents("speaker:remind:") == [f"speaker:remind:{first}"]
    report = assign.assign_pass(deps, NOW + dt.timedelta(days=5))
    assert report.expired == ["speaker_night_2027-02-09"]
    assert report.offered == ["speaker_night_2027-03-09"]
    assert deps.store.get("offers", first)["state"] == "expired"
    # A click after the window cannot accept any more.
    late = assign.speaker_answer(deps, first, True, NOW + dt.timedelta(days=5, hours=1))
    assert late.status in ("already", "gone")
    assert slot_speaker(deps, "speaker_night_2027-02-09") is None


def test_impossible_dates_covering_a_whole_month() -> None:
    deps = deps_for(make_config())
    add_slots(deps.store, deps.cfg, dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    feb = [dt.date(2027, 2, 1) + dt.timedelta(days=i) for i in range(28)]
    sid = propose(deps, NOW, impossible_dates=tuple(feb))
    assert assign.assign_pass(deps, NOW).offered == ["speaker_night_2027-03-09"]
    passed = deps.store.get("speakers", sid)["passed"]
    assert {"speaker_night_2027-02-09": "impossible_date"}.items() <= dict(passed).items()
    why = assign.explain(deps.store, "speaker_night_2027-03-09")
    assert why[0]["chosen"] == sid and {"slot_id": "speaker_night_2027-02-09", "reason": "impossible_date"} in why[0]["passed_slots"]


def test_queue_order_priority_and_one_offer_per_speaker() -> None:
    deps = deps_for(make_config())
    add_slots(deps.store, deps.cfg, dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    a = propose(deps, NOW, name="一番　目")
    b = propose(deps, NOW + dt.timedelta(minutes=1), name="二番　目")
    c = propose(deps, NOW + dt.timedelta(minutes=2), name="三番　目")
    assert assign.set_priority(deps, c, 5)
    assign.assign_pass(deps, NOW + dt.timedelta(hours=1))
    assert [slot_speaker(deps, f"speaker_night_2027-{m}")["id"] for m in ("02-09", "03-09", "04-13")] == [c, a, b]
    again = assign.assign_pass(deps, NOW + dt.timedelta(hours=2))
    assert again.offered == []


def test_unconfirmed_slot_is_raised_once() -> None:
    deps = deps_for(make_config())
    add_slots(deps.store, deps.cfg, dt.date(2027, 1, 1), dt.date(2027, 6, 30))
    for day in range(0, 30, 3):
        assign.assign_pass(deps, NOW + dt.timedelta(days=day))
    # 2027-01-12 is within 4 weeks from the start; February's comes within 4 weeks on 01-12.
    assert deps.mailer.intents("speaker:raise:") == ["speaker:raise:speaker_night_2027-01-12",
                                                      "speaker:raise:speaker_night_2027-02-09"]


def test_bad_proposal_is_refused_and_nothing_is_written() -> None:
    deps = deps_for(make_config())
    for kw, field_name in (({"series_id": "lunch"}, "series_id"), ({"email": "not an address"}, "email"),
                           ({"name": "　".strip()}, "name"), ({"talk_minutes": 0}, "talk_minutes")):
        cmd = dict(name="山田　花子", email="yamada@example.com", topic="話題", series_id="speaker_night") | kw
        try:
            assign.propose_speaker(deps, assign.SpeakerProposal(**cmd), NOW)  # type: ignore[arg-type]
        except assign.ProposalError as exc:
            assert exc.field == field_name
        else:
            raise AssertionError(f"{kw} was accepted")
    assert deps.store.where("speakers", "status", "==", "queued") == []
    cmd2 = assign.SpeakerProposal(name="山田　花子", email="y@example.com", topic="話題", series_id="speaker_night",
                                  source_id="resp-1")
    assert assign.propose_speaker(deps, cmd2, NOW)[1] is True
    assert assign.propose_speaker(deps, cmd2, NOW)[1] is False  # a re-delivered form response
