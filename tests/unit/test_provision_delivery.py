"""provisioning.delivery: the live/outbox decision table, and bootstrap following it."""

from __future__ import annotations

import pytest

from shared.config.provisioning import live_delivery

ZOOM = {"ZOOM_ACCOUNT_ID": "acc", "ZOOM_CLIENT_ID": "cid", "ZOOM_CLIENT_SECRET": "sec"}
ADC = {"GOOGLE_APPLICATION_CREDENTIALS": "/secrets/sa.json"}
CLOUD = {"K_SERVICE": "provision-events", "FUNCTION_TARGET": "provision_events"}
LOCAL_FF = {"FUNCTION_TARGET": "provision_events"}  # functions-framework sets this itself, locally too


@pytest.mark.parametrize(("mode", "environ", "zoom", "calendar"), [
    ("auto", {}, False, False),  # a laptop, a test: the outbox
    ("auto", LOCAL_FF, False, False),  # FUNCTION_TARGET alone proves nothing
    ("auto", CLOUD, True, True),  # Cloud Functions gen2: metadata-server credentials, no key file
    ("auto", {"K_SERVICE": "x"}, True, True),
    ("auto", {"K_SERVICE": ""}, False, False),  # empty is unset
    ("auto", ZOOM, True, False),
    ("auto", {**ZOOM, "ZOOM_CLIENT_SECRET": ""}, False, False),  # all three or nothing
    ("auto", {"ZOOM_ACCOUNT_ID": "acc", "ZOOM_CLIENT_ID": "cid"}, False, False),
    ("auto", ADC, False, True),
    ("auto", {**ZOOM, **ADC}, True, True),
    ("live", {}, True, True),
    ("live", LOCAL_FF, True, True),
    ("outbox", {**CLOUD, **ZOOM, **ADC}, False, False),  # forced: e.g. a staging project
    ("outbox", {}, False, False),
])
def test_the_decision_table(mode, environ, zoom, calendar):
    assert live_delivery(mode, "zoom", environ) is zoom
    assert live_delivery(mode, "calendar", environ) is calendar


@pytest.mark.parametrize(("environ", "live"), [({}, False), ({"K_SERVICE": "provision-events"}, True)])
def test_bootstrap_builds_the_adapters_the_table_says(environ, live, example_config, monkeypatch, tmp_path):
    from shared import bootstrap
    from shared.adapters.google_calendar import GoogleCalendar, OutboxCalendarEvents
    from shared.adapters.zoom import OutboxMeetings, ZoomMeetings

    for name in ("K_SERVICE", "GOOGLE_APPLICATION_CREDENTIALS", *ZOOM):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path))
    bootstrap.reset()
    try:
        assert bootstrap.config().provisioning.delivery == "auto"
        assert isinstance(bootstrap.calendar(), GoogleCalendar if live else OutboxCalendarEvents)
        assert isinstance(bootstrap.meetings(), ZoomMeetings if live else OutboxMeetings)
    finally:
        bootstrap.reset()
