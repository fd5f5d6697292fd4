"""Pure speaker rules: queue order, candidates and the offer timeline."""

from __future__ import annotations

import datetime as dt

from shared.config.people import SpeakerSettings
from shared.domain import speakers

UTC = dt.UTC
NOW = dt.datetime(2027, 1, 1, tzinfo=UTC)


def slot(day: str, **kw: object) -> dict[str, object]:
    start = dt.datetime.fromisoformat(f"{day}T11:00:00+00:00")
    return {"id": f"sn_{day}", "series_id": "sn", "status": "scheduled", "date": day, "start": start,
            "end": start + dt.timedelta(hours=2), "open_end": False, "speaker": None} | kw


def test_queue_order_is_priority_then_proposal_order() -> None:
    mk = lambda i, p, m: speakers.Speaker(i, i, "sn", NOW + dt.timedelta(minutes=m), priority=p)  # noqa: E731
    order = speakers.queue_order([mk("late", 0, 5), mk("early", 0, 1), mk("vip", 2, 9)])
    assert [s.id for s in order] == ["vip", "early", "late"]


def test_candidates_skip_lead_time_impossible_declined_taken_and_short_slots() -> None:
    sp = speakers.Speaker("x", "山田", "sn", NOW, earliest=dt.date(2027, 1, 20),
                          impossible=frozenset({dt.date(2027, 2, 3)}), declined=frozenset({dt.date(2027, 2, 10)}),
                          talk_minutes=150)
    slots = [slot("2027-01-15"), slot("2027-01-19"), slot("2027-01-27", status="cancelled"), slot("2027-02-03"),
             slot("2027-02-10"), slot("2027-02-17", speaker={"id": "y"}), slot("2027-02-24"),
             slot("2027-03-03", open_end=True), slot("2027-03-10", series_id="other")]
    ok, passed = speakers.candidates(sp, slots, NOW, SpeakerSettings(lead_time_days=21))
    assert [s["id"] for s in ok] == ["sn_2027-03-03"]
    assert dict(passed) == {"sn_2027-01-15": "within_lead_time", "sn_2027-01-19": "within_lead_time",
                            "sn_2027-01-27": "not_scheduled", "sn_2027-02-03": "impossible_date",
                            "sn_2027-02-10": "declined_before", "sn_2027-02-17": "taken",
                            "sn_2027-02-24": "talk_longer_than_slot"}


def test_offer_timeline_reminds_once_then_expires() -> None:
    settings = SpeakerSettings(offer_window_days=5, reminder_after_days=3)
    t = speakers.offer_timeline(NOW, settings)
    offer = {"remind_at": t.remind_at, "expires_at": t.expires_at, "reminded_at": None}
    assert speakers.offer_step(offer, NOW + dt.timedelta(days=2)) == "wait"
    assert speakers.offer_step(offer, NOW + dt.timedelta(days=3)) == "remind"
    assert speakers.offer_step(offer | {"reminded_at": NOW}, NOW + dt.timedelta(days=4)) == "wait"
    assert speakers.offer_step(offer | {"reminded_at": NOW}, NOW + dt.timedelta(days=5)) == "expire"
    assert speakers.offer_timeline(NOW, SpeakerSettings(reminder_after_days=None)).remind_at is None


def test_config_section_errors_name_the_field() -> None:
    import pytest

    from shared.config import ConfigError, parse_config

    base = {"community": {"name": "会"}, "organizers": {"sato": {"name": "佐藤　一郎", "email": "s@example.com"}}}
    with pytest.raises(ConfigError) as err:
        parse_config(base | {"people": {"hosts": {"sato": {"weight": 1}, "nobody": {}}}})
    text = str(err.value)
    assert "people.hosts.sato: organizer 'sato' has no zoom account" in text and "people.hosts.nobody" in text
    with pytest.raises(ConfigError) as err:
        parse_config(base | {"people": {"speakers": {"offer_window_days": 3, "reminder_after_days": 3}}})
    assert "people.speakers.reminder_after_days" in str(err.value)
    with pytest.raises(ConfigError) as err:
        parse_config(base | {"people": {"hosts": {}, "speakers": {"lead_days": 3}}})
    assert "people.speakers.lead_days: unknown key" in str(err.value)
