"""zoom_webhook through the framework's test client: signature, replay window, events on slots."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time

import functions_framework
import pytest

from shared.adapters.zoom import sign
from tests.conftest import ROOT

SECRET = "whsec-テスト".encode().hex()


@pytest.fixture
def client(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ZOOM_WEBHOOK_SECRET", SECRET)
    app = functions_framework.create_app("zoom_webhook", str(ROOT / "functions/zoom_webhook/main.py"))
    return app.test_client()


def post(client, body: bytes, ts: str | None = None, signature: str | None = None):  # type: ignore[no-untyped-def]
    ts = ts or str(int(time.time()))
    headers = {"x-zm-request-timestamp": ts, "x-zm-signature": signature or sign(SECRET, ts, body),
               "Content-Type": "application/json"}
    return client.post("/", data=body, headers=headers)


def test_url_validation_answers_the_encrypted_token(client):
    body = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"},
                       "event_ts": 1}).encode()
    res = post(client, body)
    assert res.status_code == 200
    expected = hmac.new(SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert res.get_json() == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}


def test_millisecond_timestamps_are_accepted(client):
    body = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "abc"}}).encode()
    assert post(client, body, ts=str(int(time.time() * 1000))).status_code == 200


@pytest.mark.parametrize("case", ["forged", "replayed", "future", "unsigned", "not_a_number", "body_changed"])
def test_refused_requests(client, case):
    body = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "abc"}}).encode()
    now = str(int(time.time()))
    if case == "forged":
        res = post(client, body, signature="v0=" + "0" * 64)
    elif case == "replayed":
        old = str(int(time.time()) - 600)
        res = post(client, body, ts=old, signature=sign(SECRET, old, body))
    elif case == "future":
        later = str(int(time.time()) + 600)
        res = post(client, body, ts=later, signature=sign(SECRET, later, body))
    elif case == "unsigned":
        res = client.post("/", data=body)
    elif case == "not_a_number":
        res = post(client, body, ts="12:00", signature=sign(SECRET, "12:00", body))
    else:
        res = post(client, body + b" ", ts=now, signature=sign(SECRET, now, body))
    assert res.status_code == 401
    assert "plainToken" not in res.get_data(as_text=True)


def test_malformed_and_oversized(client):
    assert post(client, b"{not json").status_code == 400
    assert post(client, json.dumps({"no_event": 1}).encode()).status_code == 400
    big = json.dumps({"event": "x", "pad": "あ" * 40000}).encode()
    assert post(client, big).status_code == 413


def test_wrong_method(client):
    assert client.get("/").status_code == 405


def _slot_with_meeting(db, meeting_id: str) -> str:
    start = dt.datetime(2026, 12, 8, 11, 0, tzinfo=dt.UTC)
    sid = "speaker_night_2026-12-08"
    db.collection("slots").document(sid).set({
        "series_id": "speaker_night", "kind": "speaker_night", "key_date": "2026-12-08", "start": start,
        "end": start + dt.timedelta(hours=2), "status": "scheduled", "online": True,
        "provision": {"zoom": {"state": "created", "meeting_id": meeting_id, "join_url": "https://zoom.us/j/1"}},
    })
    return sid


def test_meeting_events_are_recorded_as_counts_and_flags(client, db, example_config):
    sid = _slot_with_meeting(db, "85746065432")
    obj = {"id": 85746065432, "uuid": "4444AAAiAAAAAiAiAiiAii==", "host_id": "x", "topic": "t",
           "start_time": "2026-12-08T11:00:00Z"}
    for who in ("p1", "p2", "p1"):  # p1 twice: one participant; the same delivery twice: one join
        ev = {"event": "meeting.participant_joined", "event_ts": 1,
              "payload": {"object": {**obj, "participant": {"user_id": who, "user_name": "山田　花子",
                                                             "email": "x@example.com", "join_time": "2026-12-08T11:01:00Z"}}}}
        assert post(client, json.dumps(ev).encode()).status_code == 200
    # p1 rejoins later (a second join, same participant); leaves are counted, a redelivered leave once.
    rejoin = {"event": "meeting.participant_joined",
              "payload": {"object": {**obj, "participant": {"user_id": "p1", "user_name": "山田　花子",
                                                             "join_time": "2026-12-08T11:30:00Z"}}}}
    assert post(client, json.dumps(rejoin).encode()).get_json()["outcome"] == "counted"
    for who, when in (("p1", "2026-12-08T11:20:00Z"), ("p1", "2026-12-08T11:20:00Z"), ("p2", "2026-12-08T12:00:00Z")):
        left = {"event": "meeting.participant_left",
                "payload": {"object": {**obj, "participant": {"user_id": who, "user_name": "佐藤　一郎",
                                                               "email": "y@example.com", "leave_time": when,
                                                               "leave_reason": "left the meeting"}}}}
        assert post(client, json.dumps(left).encode()).status_code == 200
    anonymous = {"event": "meeting.participant_left", "payload": {"object": {**obj, "participant": {"user_name": "匿名"}}}}
    assert post(client, json.dumps(anonymous).encode()).get_json()["outcome"] == "ignored"  # nothing to dedupe on
    ended = {"event": "meeting.ended", "payload": {"object": {**obj, "end_time": "2026-12-08T13:00:00Z"}}}
    assert post(client, json.dumps(ended).encode()).get_json()["outcome"] == "ended"
    assert post(client, json.dumps(ended).encode()).get_json()["outcome"] == "ended"  # redelivered: same values
    slot = db.collection("slots").document(sid).get().to_dict()
    attendance = slot["provision"]["attendance"]
    assert attendance["participants"] == 2 and attendance["joins"] == 3 and attendance["leaves"] == 2
    assert attendance["total"] == 2 and attendance["ended_at"]
    assert set(attendance) == {"participants", "joins", "leaves", "total", "ended_at", "meeting_uuid"}
    assert "佐藤" not in json.dumps(slot, default=str) and "p1" not in json.dumps(slot, default=str)
    assert "山田" not in json.dumps(slot, default=str) and "example.com" not in json.dumps(slot, default=str)

    deleted = {"event": "meeting.deleted", "payload": {"operator": "someone@example.com", "object": obj}}
    assert post(client, json.dumps(deleted).encode()).get_json()["outcome"] == "flagged"
    slot = db.collection("slots").document(sid).get().to_dict()
    assert slot["provision"]["zoom"]["state"] == "deleted_by_person"


def test_unknown_meeting_is_ignored(client, db, example_config):
    ev = {"event": "meeting.ended", "payload": {"object": {"id": 1, "uuid": "u", "start_time": "2026-12-08T11:00:00Z"}}}
    res = post(client, json.dumps(ev).encode())
    assert res.status_code == 200 and res.get_json()["outcome"] == "unknown_meeting"
