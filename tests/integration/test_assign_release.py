"""The release cases against the Firestore emulator: a slot cancelled or retired after a speaker
and a host were assigned, and a speaker withdrawing after confirming."""

from __future__ import annotations

import datetime as dt

from shared.adapters.documents import FirestoreDocStore
from shared.usecases import assign
from tests.integration.test_assign_concurrency import run_together
from tests.unit.test_assign_usecase import CONFIG, NOW, FakeLinks, FakeMailer, add_slots, make_config, propose

ONLINE = CONFIG.replace("    open_end: true\n", "    open_end: true\n    online: true\n")
FEB, MAR = "speaker_night_2027-02-09", "speaker_night_2027-03-09"


def confirmed_with_host(project: str) -> tuple[assign.Deps, str]:
    deps = assign.Deps(make_config(ONLINE), FirestoreDocStore(), FakeMailer(), FakeLinks())
    add_slots(deps.store, deps.cfg, dt.date(2027, 1, 1), dt.date(2027, 6, 30))
    sid = propose(deps, NOW, name="井上　真理")
    assign.assign_pass(deps, NOW)
    assert assign.speaker_answer(deps, f"{FEB}~{sid}", True, NOW + dt.timedelta(hours=2)).status == "done"
    slot = deps.store.get("slots", FEB)
    assert slot["speaker"]["status"] == "confirmed" and slot["host"] in ("tanaka", "suzuki")
    return deps, sid


def units(deps: assign.Deps, duty_id: str) -> list[dict]:
    return deps.store.where("host_units", "duty_id", "==", duty_id)


def test_cancelled_slot_tells_the_speaker_offers_the_next_date_and_frees_the_host(project):
    deps, sid = confirmed_with_host(project)
    before = deps.store.get("slots", FEB)
    duty_id, host = before["host_duty"], before["host"]
    assert units(deps, duty_id)
    deps.store.update("slots", FEB, {"status": "cancelled"})  # an organizer ran `autopilot cancel`

    later = NOW + dt.timedelta(days=1)
    report = assign.assign_pass(deps, later)
    assert FEB in report.released
    slot = deps.store.get("slots", FEB)
    assert slot["speaker"] is None and slot["host"] is None and slot["speaker_released"]["speaker_id"] == sid
    assert deps.store.get("host_duties", FEB) is None and not units(deps, duty_id)  # licence seats freed
    assert deps.store.get("slots", MAR)["speaker"]["id"] == sid  # the next candidate date, offered at once
    assert deps.store.get("speakers", sid)["status"] == "offered"
    apology = deps.mailer.sent[f"speaker:slotgone:{FEB}~{sid}"]
    assert "井上　真理 様" in apology.text and "取りやめ" in apology.text and "&" not in apology.text
    assert f"speaker:offer:{MAR}~{sid}" in deps.mailer.sent
    assert deps.cfg.organizers[host].email in deps.mailer.sent[f"host:released:{duty_id}"].to

    # a second pass, and a late click on the old offer, change nothing
    mails = set(deps.mailer.sent)
    assign.assign_pass(deps, later + dt.timedelta(hours=1))
    assert set(deps.mailer.sent) == mails
    assert assign.speaker_answer(deps, f"{FEB}~{sid}", True, later).status == "already"
    assert deps.store.get("slots", FEB)["speaker"] is None


def test_retired_slot_with_a_pending_offer_and_two_passes_at_once(project):
    deps = assign.Deps(make_config(ONLINE), FirestoreDocStore(), FakeMailer(), FakeLinks())
    add_slots(deps.store, deps.cfg, dt.date(2027, 1, 1), dt.date(2027, 6, 30))
    sid = propose(deps, NOW, name="Ｅｍｍａ　Ｗａｔｓｏｎ")
    assign.assign_pass(deps, NOW)
    deps.store.update("slots", FEB, {"status": "retired"})
    later = NOW + dt.timedelta(days=1)
    run_together(lambda: assign.assign_pass(deps, later), lambda: assign.assign_pass(deps, later))
    live = [o for o in deps.store.where("offers", "state", "==", "live") if o["speaker_id"] == sid]
    assert [o["slot_id"] for o in live] == [MAR]  # exactly one live offer, on the next date
    assert deps.mailer.intents("speaker:slotgone:") == [f"speaker:slotgone:{FEB}~{sid}"]
    assert assign.speaker_answer(deps, f"{FEB}~{sid}", True, later).status == "already"
    assert deps.store.get("speakers", sid)["status"] == "offered"


def test_withdrawal_after_confirming_opens_the_slot_for_the_next_speaker(project):
    deps, sid = confirmed_with_host(project)
    confirmed = deps.mailer.sent[f"speaker:confirmed:{FEB}~{sid}"]
    assert f"speaker_withdraw/{sid}" in confirmed.text  # the action link in the confirmation mail
    other = propose(deps, NOW + dt.timedelta(hours=3), name="木村　翔")
    assign.assign_pass(deps, NOW + dt.timedelta(hours=4))  # 木村 gets March; February is taken
    assert deps.store.get("slots", MAR)["speaker"]["id"] == other

    when = NOW + dt.timedelta(days=2)
    results = run_together(lambda: assign.withdraw_speaker(deps, sid, when),
                           lambda: assign.withdraw_speaker(deps, sid, when))
    assert sorted(r.status for r in results) == ["already", "done"]
    assert deps.store.get("speakers", sid)["status"] == "withdrawn"
    slot = deps.store.get("slots", FEB)
    assert slot["speaker"] is None and slot["host"]  # the host stays: the event still happens
    assert deps.mailer.intents("speaker:withdrawn:") == [f"speaker:withdrawn:{sid}", f"speaker:withdrawn:{sid}:organizers"]
    assert "木村" not in deps.mailer.sent[f"speaker:withdrawn:{sid}:organizers"].text

    # the freed date goes to the next queued speaker; the withdrawn one is never offered again
    third = propose(deps, when, name="林　さくら")
    assign.assign_pass(deps, when + dt.timedelta(hours=1))
    assert deps.store.get("slots", FEB)["speaker"]["id"] == third
    assert not [i for i in deps.mailer.intents("speaker:offer:") if i.endswith(sid) and FEB not in i]
    assert assign.withdraw_speaker(deps, sid, when).status == "already"


def test_a_date_cancelled_and_restored_is_a_new_offer_with_its_own_mail(project):
    """The offer's identity includes its round: the old round's slot_gone outcome must not decide the
    new offer, and the new offer must be mailed."""
    deps = assign.Deps(make_config(ONLINE), FirestoreDocStore(), FakeMailer(), FakeLinks())
    add_slots(deps.store, deps.cfg, dt.date(2027, 2, 1), dt.date(2027, 2, 28))  # one speaker date only: FEB
    sid = propose(deps, NOW, name="井上　真理")
    assign.assign_pass(deps, NOW)
    first = deps.store.get("slots", FEB)["speaker"]["offer_id"]
    assert f"speaker:offer:{first}" in deps.mailer.sent
    deps.store.update("slots", FEB, {"status": "cancelled"})  # `autopilot cancel`
    assign.assign_pass(deps, NOW + dt.timedelta(hours=1))
    assert deps.store.get("speakers", sid)["status"] == "queued" and deps.store.get("slots", FEB)["speaker"] is None
    deps.store.update("slots", FEB, {"status": "scheduled"})  # `autopilot restore`
    assign.assign_pass(deps, NOW + dt.timedelta(hours=2))
    again = deps.store.get("slots", FEB)["speaker"]["offer_id"]
    assert again != first and again.startswith(f"{FEB}~{sid}~")
    assert f"speaker:offer:{again}" in deps.mailer.sent  # the restored date is offered, by mail
    assign.assign_pass(deps, NOW + dt.timedelta(hours=3))  # the old round's slot_gone decides nothing now
    assert deps.store.get("slots", FEB)["speaker"]["offer_id"] == again
    assert FEB.rsplit("_", 1)[-1] not in (deps.store.get("speakers", sid).get("declined_dates") or [])
    assert assign.speaker_answer(deps, again, True, NOW + dt.timedelta(hours=4)).status == "done"
    assert deps.store.get("slots", FEB)["speaker"]["status"] == "confirmed"
    assert assign.speaker_answer(deps, first, True, NOW + dt.timedelta(hours=5)).status == "already"
