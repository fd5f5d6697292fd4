"""The organizer console's fixtures, shared by its test modules (test_console_pages.py,
test_console_event_pages.py, test_console_reads.py): a signing key and the local certs endpoint that
serves it, as Google's would, for the Google sign-in (tests/helpers/console.py), and ``world``, the
console's environment and a seeded community. A module with fixtures of these names of its own
(test_console_auth.py's ``certs``, test_host_swaps.py's ``world``) uses those."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import console as c
from tests.helpers import oidc


@pytest.fixture(scope="module")
def key() -> oidc.KeyPair:
    return oidc.make_key("k-console")


@pytest.fixture(scope="module")
def certs(key: oidc.KeyPair) -> Iterator[oidc.CertsServer]:
    with oidc.certs_server(key) as server:
        yield server


@pytest.fixture
def world(project: str, outbox: Any, example_config: Any, certs: oidc.CertsServer,
          monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name, value in c.environment(certs.url, "https://console.example.test/").items():
        monkeypatch.setenv(name, value)
    return c.seed(dt.datetime.now(dt.UTC))
