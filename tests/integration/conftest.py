"""The organizer console's fixture, shared by its test modules (test_console_pages.py,
test_console_event_pages.py, test_console_reads.py): ``world``, the console's environment and a
seeded community (the signing key and certs endpoint are in tests/conftest.py). A module with a
fixture of this name of its own (test_host_swaps.py's ``world``) uses that."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.helpers import console as c
from tests.helpers import oidc


@pytest.fixture
def world(project: str, outbox: Any, example_config: Any, certs: oidc.CertsServer,
          monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name, value in c.environment(certs.url, "https://console.example.test/").items():
        monkeypatch.setenv(name, value)
    return c.seed(dt.datetime.now(dt.UTC))
