"""The short seeded fuzz run (docs/proof.md): every HTTP function, in-process, against the emulator.

Figures asserted: requests tried, 5xx seen (0), writes after refusals (0: for every 4xx answer no
document in any collection changed), outbox files after refusals (0). The longer run:
``python -m tools.fuzz --examples 300`` or ``make bench`` (tools/bench/bench_fuzz.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools import fuzz
from tools.fuzz import FuzzRequest

SEED = 20261128
EXAMPLES = {**{f: 36 for f in fuzz.WEBHOOKS}, **{f: 12 for f in fuzz.CRON_FUNCTIONS}}


@pytest.fixture
def harness(project: str, db: Any, outbox: Path, example_config: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[fuzz.Harness, fuzz.Context]]:
    for name, value in fuzz.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    with fuzz.fake_forms() as url:
        monkeypatch.setenv("FORMS_API_ENDPOINT", url)
        with fuzz.fuzzing(db, outbox) as pair:
            yield pair


def test_every_http_function_answers_fuzz_without_5xx_or_writes_after_refusals(harness) -> None:  # type: ignore[no-untyped-def]
    h, ctx = harness
    total = fuzz.fuzz(h, ctx, fuzz.FUNCTIONS, EXAMPLES.__getitem__, SEED)
    print("\n" + h.report())
    print(f"requests tried {total.tried}, 5xx {total.server_errors}, writes after refusals {total.writes_after_refusal}, "
          f"outbox files after refusals {total.outbox_after_refusal}")
    assert total.tried == sum(EXAMPLES.values())
    assert set(h.stats) == set(fuzz.FUNCTIONS)
    assert total.server_errors == 0, h.report()
    assert total.writes_after_refusal == 0, h.report()
    assert total.outbox_after_refusal == 0, h.report()
    # Honest fuzzing: signed requests got past the signature checks into the schema and the use cases,
    # and refusals were many and of many kinds.
    assert total.refusals >= total.tried // 2
    for function in ("form_webhook", "zoom_webhook", "actions", "ics_feed", *fuzz.CRON_FUNCTIONS):
        assert h.stats[function].by_status.get(200, 0) >= 1, (function, h.stats[function].by_status)
    schema = [r for r, _ in h.reasons("propose_event", 50) + h.reasons("form_webhook", 50)
              if r.startswith("400: ") and "Content-Type" not in r and "UTF-8" not in r]
    assert len(schema) >= 3, schema  # field-level refusals: the body was verified, then read


def _zoom(body: bytes) -> FuzzRequest:
    import hashlib
    import hmac

    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(fuzz.ZOOM_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return FuzzRequest("POST", "/", {}, {"x-zm-request-timestamp": ts, "x-zm-signature": sig,
                                         "Content-Type": "application/json"}, body)


@pytest.mark.parametrize("body", [
    b'{"event": "endpoint.url_validation", "payload": "x"}',  # was AttributeError -> 500
    b'{"event": "endpoint.url_validation", "payload": [1, 2]}',  # was AttributeError -> 500
    b'{"event": "meeting.ended", "payload": ' + b"[" * 5000 + b"]" * 5000 + b"}",  # was RecursionError -> 500
], ids=["payload-string", "payload-list", "deeply-nested"])
def test_signed_zoom_bodies_of_the_wrong_shape_are_a_400_and_write_nothing(harness, body: bytes) -> None:  # type: ignore[no-untyped-def]
    h, _ = harness
    assert h.send("zoom_webhook", _zoom(body)) == 400
    stats = h.stats["zoom_webhook"]
    assert stats.server_errors == 0 and stats.writes_after_refusal == 0 and stats.outbox_after_refusal == 0, stats


def test_the_harness_sees_a_write_after_a_refusal(harness, db, outbox) -> None:  # type: ignore[no-untyped-def]
    """The measuring stick itself: a 4xx that did write is counted (so 0 above means something)."""
    h, _ = harness
    from flask import Response

    def leaky(request: Any) -> Response:
        db.collection("applications").document("leak").set({"fields": {"name": "漏れ　太郎"}})
        (outbox / "mail").mkdir(parents=True, exist_ok=True)
        (outbox / "mail" / "leak.eml").write_text("Subject: leak\n\n漏れ\n", encoding="utf-8")
        return Response("no", status=400)

    class Client:
        def open(self, **_: Any) -> Response:
            return leaky(None)

    h.apps["leaky"] = Client()
    assert h.send("leaky", FuzzRequest()) == 400
    assert h.stats["leaky"].writes_after_refusal == 1 and h.stats["leaky"].outbox_after_refusal == 1
    assert "applications/leak" in h.stats["leaky"].findings[0].detail


def test_the_members_page_answers_fuzz_without_5xx_or_writes_after_refusals(harness) -> None:  # type: ignore[no-untyped-def]
    """``/me`` of the actions function (docs/members.md): good, forged, cut, expired, revoked and foreign
    tokens, every form operation, odd texts; a refusal never changes a document or mails."""
    h, ctx = harness
    fuzz._runner(h, "actions", fuzz.member_page_request(ctx.subjects), 40, SEED)()
    stats = h.stats["actions"]
    assert stats.tried == 40 and stats.server_errors == 0, h.report()
    assert stats.writes_after_refusal == 0 and stats.outbox_after_refusal == 0, h.report()
    assert stats.by_status.get(200, 0) >= 1 and stats.refusals >= 12, stats.by_status
    assert stats.by_status.get(303, 0) >= 1, stats.by_status  # a good token got through to a save
