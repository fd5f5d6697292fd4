"""Mail intents nobody sends again are finished by ``ExactlyOnceMailer.resume`` (the hourly
provision_events run), exactly once, on the Firestore emulator.

The sequence the seeded chaos week found (seed 11): assign_speakers records a host duty, then the
duty mail's delivery fails with a connection error before anything left (the intent stays
``sending``: the mailer cannot tell a timeout before from one after the provider took it). The
next pass sees the slot has its host and never sends that intent again: without ``resume`` the
host is never told.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from shared.adapters.documents import FirestoreDocStore
from shared.adapters.firestore import FirestoreIdempotencyStore
from shared.adapters.mail import OutboxTransport
from shared.adapters.outbox import Outbox
from shared.platform.mail import MAX_ATTEMPTS, DeliveryRefused, ExactlyOnceMailer, OutgoingMail
from shared.usecases import assign
from tests.unit.test_assign_usecase import CONFIG, NOW, FakeLinks, add_slots, make_config

ONLINE = CONFIG.replace("    open_end: true\n", "    open_end: true\n    online: true\n")
SENDER = "テスト会 運営 <organizers@example.jp>"


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class Faulty:
    """The chaos run's faults on the mail transport: ``before`` (nothing left), ``after`` (it left,
    the answer was lost), ``crash`` (it left, the instance died before the ledger was written)."""

    def __init__(self, inner: OutboxTransport) -> None:
        self.inner = inner
        self.plan: dict[str, list[str]] = {}  # intent prefix -> faults, one per delivery
        self.delivered: list[str] = []

    def deliver(self, mail: OutgoingMail) -> str:
        fault = next((f.pop(0) for p, f in self.plan.items() if mail.intent.startswith(p) and f), None)
        if fault == "before":
            raise ConnectionError("injected failure before the call")
        if fault == "refused":
            raise DeliveryRefused("injected refusal")
        result = self.inner.deliver(mail)
        self.delivered.append(mail.intent)
        if fault == "after":
            raise ConnectionError("injected failure after the effect")
        if fault == "crash":
            raise KeyboardInterrupt  # a BaseException: nothing in the mailer catches it
        return result

    def was_sent(self, mail: OutgoingMail) -> bool | None:
        return self.inner.was_sent(mail)


def world(outbox: Path) -> tuple[assign.Deps, ExactlyOnceMailer, Faulty, Clock]:
    clock = Clock(NOW)
    transport = Faulty(OutboxTransport(SENDER, Outbox(outbox)))
    mailer = ExactlyOnceMailer(transport, FirestoreIdempotencyStore(collection="mail_intents"), clock=clock)
    deps = assign.Deps(make_config(ONLINE), FirestoreDocStore(), mailer, FakeLinks())
    add_slots(deps.store, deps.cfg, dt.date(2027, 1, 1), dt.date(2027, 2, 28))
    return deps, mailer, transport, clock


def duties(transport: Faulty) -> list[str]:
    return [i for i in transport.delivered if i.startswith("host:duty:")]


def record(mailer: ExactlyOnceMailer, intent: str) -> dict:
    rec = mailer.store.get(ExactlyOnceMailer.key(intent))
    assert rec is not None
    return rec


def test_host_duty_mail_failing_before_delivery_is_lost_to_the_pass_and_sent_once_by_resume(project, outbox):
    deps, mailer, transport, clock = world(outbox)
    transport.plan["host:duty:"] = ["before"]
    with pytest.raises(ConnectionError):
        assign.assign_pass(deps, NOW)  # the Scheduler run fails (5xx) after the duty was recorded
    slot = next(s for s in deps.store.where("slots", "online", "==", True) if s.get("host"))
    intent = f"host:duty:{slot['host_duty']}"
    rec = record(mailer, intent)
    assert rec["status"] == "sending" and duties(transport) == []
    organizer = deps.cfg.organizers[slot["host"]]
    assert rec["mail"]["to"] == [organizer.email] and organizer.name in rec["mail"]["text"]  # rebuildable

    # Scheduler's retry and the next days' passes: the slot has its host, the intent is never sent again.
    for hours in (0, 1, 24):
        clock.now = NOW + dt.timedelta(hours=hours, minutes=5)
        assign.assign_pass(deps, clock.now)
    assert record(mailer, intent)["status"] == "sending" and intent not in transport.delivered

    clock.now = NOW + dt.timedelta(minutes=1)
    assert mailer.resume() == {}  # within the lease: somebody may still be sending it
    clock.now = NOW + dt.timedelta(days=1, hours=1)
    assert mailer.resume() == {"sent": 1}
    assert transport.delivered.count(intent) == 1
    rec = record(mailer, intent)
    assert rec["status"] == "sent" and rec["mail"] is None and rec["attempts"] == 2  # no personal data kept
    assert (outbox / "mail" / f"{intent}.eml").is_file()
    assert mailer.resume() == {} and transport.delivered.count(intent) == 1  # idempotent


def test_a_mail_that_left_before_the_crash_is_recorded_sent_not_resent(project, outbox):
    deps, mailer, transport, clock = world(outbox)
    transport.plan["host:duty:"] = ["crash"]
    with pytest.raises(KeyboardInterrupt):
        assign.assign_pass(deps, NOW)
    assert len(duties(transport)) == 1
    intent = duties(transport)[0]
    clock.now = NOW + dt.timedelta(hours=1)
    assert mailer.resume() == {"recovered": 1}
    assert duties(transport) == [intent] and record(mailer, intent)["status"] == "sent"


def test_refused_intents_are_retried_a_bounded_number_of_times_then_left_for_the_digest(project, outbox):
    _, mailer, transport, clock = world(outbox)
    mail = OutgoingMail(to=("山田　花子 <hanako@example.jp>",), subject="【確認】入会申請", text="一行目\n二行目",
                        intent="application:app_9:organizers", html="<p>一行目</p>")
    transport.plan["application:"] = ["refused"] * MAX_ATTEMPTS
    with pytest.raises(DeliveryRefused):
        mailer.send(mail)
    for n in range(2, MAX_ATTEMPTS + 1):
        clock.now += dt.timedelta(hours=1)
        assert mailer.resume() == {"refused": 1}
        assert record(mailer, mail.intent)["attempts"] == n
    clock.now += dt.timedelta(hours=1)
    assert mailer.resume() == {} and transport.delivered == []  # out of the query's range
    assert record(mailer, mail.intent)["status"] == "given_up"

    other = OutgoingMail(to=("taro@example.jp",), subject="s", text="t", intent="application:app_10:organizers")
    transport.plan["application:app_10"] = ["after"]
    with pytest.raises(ConnectionError):
        mailer.send(other)  # it left; the answer was lost: the transport is asked, nothing is resent
    clock.now += dt.timedelta(hours=1)
    assert mailer.resume() == {"recovered": 1}
    assert transport.delivered == [other.intent]


def _intents_below(key: str, n: int, prefix: str) -> list[str]:
    """``n`` intent names whose ledger keys sort before ``key`` (Firestore returns an unordered query
    in document-id order, so these come first)."""
    out, i = [], 0
    while len(out) < n:
        name = f"{prefix}{i}"
        if ExactlyOnceMailer.key(name) < key:
            out.append(name)
        i += 1
    return out


def test_spent_intents_leave_the_resume_query_so_newer_ones_are_never_starved(project, outbox):
    """200 intents that used all their attempts used to fill resume()'s one read of 200 every hour."""
    from shared.platform.mail import FAILED

    _, mailer, transport, clock = world(outbox)
    fresh = next(f"application:app_{i}:review" for i in range(1000)
                 if ExactlyOnceMailer.key(f"application:app_{i}:review") > "c")
    spent = _intents_below(ExactlyOnceMailer.key(fresh), 205, "application:old_")
    batch = mailer.store.client.batch()  # type: ignore[attr-defined]
    for name in spent:
        mail = OutgoingMail(to=("taro@example.jp",), subject="s", text="t", intent=name)
        batch.set(mailer.store.col.document(ExactlyOnceMailer.key(name)),
                  mailer._record("t0", mail, MAX_ATTEMPTS) | {"status": FAILED, "lease_until": clock.now})
    batch.commit()
    transport.plan["application:app_"] = ["refused"]
    with pytest.raises(DeliveryRefused):
        mailer.send(OutgoingMail(to=("hanako@example.jp",), subject="s", text="t", intent=fresh))
    assert len(mailer.store.by_status(("sending", "failed"), 200)) == 200  # the spent ones fill a read
    for hour in (1, 2):
        clock.now = NOW + dt.timedelta(hours=hour)
        mailer.resume(limit=200)
    assert transport.delivered == [fresh]  # retried within two hourly runs, whatever the backlog
    assert record(mailer, spent[0])["status"] == "given_up"
    assert all(r["intent"] == fresh or r["status"] != "failed" for r in mailer.store.by_status(("failed",), 300))


def test_the_last_refused_attempt_gives_up_at_once(project, outbox):
    _, mailer, transport, clock = world(outbox)
    mail = OutgoingMail(to=("hanako@example.jp",), subject="s", text="t", intent="application:app_1:review")
    transport.plan["application:"] = ["refused"] * MAX_ATTEMPTS
    with pytest.raises(DeliveryRefused):
        mailer.send(mail)
    for _ in range(MAX_ATTEMPTS - 1):
        clock.now += dt.timedelta(hours=1)
        mailer.resume()
    rec = record(mailer, mail.intent)
    assert rec["status"] == "given_up" and rec["attempts"] == MAX_ATTEMPTS and rec["mail"]["subject"] == "s"
    assert mailer.store.by_status(("sending", "failed"), 10) == []
    # A use case sending the same intent again (a person re-triggered it) still may, once more.
    clock.now += dt.timedelta(hours=1)
    assert mailer.send(mail) is True and transport.delivered == [mail.intent]


def test_held_mails_waiting_for_a_base_url_never_starve_failed_ones(project, outbox, monkeypatch):
    """The first week before ACTIONS_BASE_URL is set: the weekly prompt to every member is held.
    Those held intents used to share resume()'s one read of 200 with the failed ones and, sorted
    first, keep a refused review mail from ever being retried."""
    from shared.platform import links
    from shared.platform.mail import HELD

    for name in links.BASES:
        monkeypatch.delenv(name, raising=False)
    _, mailer, transport, clock = world(outbox)
    fresh = next(f"application:app_{i}:review" for i in range(1000)
                 if ExactlyOnceMailer.key(f"application:app_{i}:review") > "c")
    waiting = _intents_below(ExactlyOnceMailer.key(fresh), 205, "prompt:2026-W49:member_")
    link = links.placeholder("ACTIONS_BASE_URL") + "/u?t=x"
    batch = mailer.store.client.batch()  # type: ignore[attr-defined]
    for name in waiting:
        mail = OutgoingMail(to=("taro@example.jp",), subject="s", text=f"配信停止: {link}", intent=name)
        batch.set(mailer.store.col.document(ExactlyOnceMailer.key(name)),
                  mailer._record("t0", mail, 0) | {"status": HELD, "waiting_for": ["ACTIONS_BASE_URL"],
                                                    "lease_until": clock.now})
    batch.commit()
    transport.plan["application:app_"] = ["refused"]
    with pytest.raises(DeliveryRefused):
        mailer.send(OutgoingMail(to=("hanako@example.jp",), subject="s", text="t", intent=fresh))
    clock.now = NOW + dt.timedelta(hours=1)
    mailer.resume(limit=200)
    assert transport.delivered == [fresh]  # retried at the next hourly run, whatever waits for a base URL
    assert record(mailer, waiting[0])["status"] == HELD
    monkeypatch.setenv("ACTIONS_BASE_URL", "https://actions.example.jp/")
    clock.now = NOW + dt.timedelta(hours=2)
    mailer.resume(limit=200)  # now the held ones go, a read of 200 at a time
    assert len(transport.delivered) == 1 + 200
    assert all(record(mailer, n)["status"] in ("sent", HELD) for n in waiting)
