"""Shared fixtures: one Firestore emulator per test process, a fresh project per test.

The emulator keeps data per project id, so giving every test its own project means tests never
share data by accident, even when they run in parallel.
"""

from __future__ import annotations

import os
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools import emulator as emulator_tools  # noqa: E402

EXAMPLE_CONFIG = ROOT / "config" / "community.example.yaml"


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    """Missing composite indexes (tests/helpers/query_shapes.py); and the browser tests skip only
    without Chromium: say so where nobody can miss it."""
    import shutil

    from tests.helpers import query_shapes

    query_shapes.terminal_summary(terminalreporter, config)

    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        line = "!!! Chromium is not installed (apt-get install chromium fonts-noto-cjk): the BROWSER TESTS DID NOT RUN"
        terminalreporter.write_line("!" * len(line), red=True, bold=True)
        terminalreporter.write_line(line, red=True, bold=True)
        terminalreporter.write_line("!" * len(line), red=True, bold=True)


MAIL_ROUND_TRIP_PROBLEMS: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Every Firestore query's shape is recorded (tests/helpers/query_shapes.py), and every mail
    delivered through the outbox is parsed back (tests/helpers/mail_check.py)."""
    from shared.adapters.mail import OutboxTransport
    from tests.helpers import query_shapes

    query_shapes.install()
    from tests.helpers.mail_check import round_trip_problems

    deliver = OutboxTransport.deliver
    if getattr(deliver, "checked", False):
        return

    def checked_deliver(self: OutboxTransport, mail):  # type: ignore[no-untyped-def]
        result = deliver(self, mail)
        MAIL_ROUND_TRIP_PROBLEMS.extend(round_trip_problems(mail, self.path(mail).read_bytes(), self.sender))
        return result

    checked_deliver.checked = True  # type: ignore[attr-defined]
    OutboxTransport.deliver = checked_deliver  # type: ignore[method-assign]


def pytest_configure_node(node) -> None:  # type: ignore[no-untyped-def]  # pytest-xdist: one folder per run
    from tests.helpers import query_shapes

    query_shapes.configure_node(node)


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests.helpers import query_shapes

    query_shapes.session_finish(session)


@pytest.fixture(autouse=True)
def _log_level_stays_put() -> Iterator[None]:
    """``autopilot`` (cli.main) sets LOG_LEVEL in os.environ with setdefault, as a command should;
    in a test run that would leak into every later test's function processes (which then log
    nothing a test can read)."""
    before = os.environ.get("LOG_LEVEL")
    yield
    if before is None:
        os.environ.pop("LOG_LEVEL", None)
    else:
        os.environ["LOG_LEVEL"] = before


@pytest.fixture(autouse=True)
def _outbox_mails_read_back_as_meant() -> Iterator[None]:
    MAIL_ROUND_TRIP_PROBLEMS.clear()
    yield
    problems, MAIL_ROUND_TRIP_PROBLEMS[:] = list(MAIL_ROUND_TRIP_PROBLEMS), []
    assert problems == [], "\n".join(problems)


@pytest.fixture(scope="session")
def emulator_host() -> Iterator[str]:
    emu = emulator_tools.start()
    os.environ["FIRESTORE_EMULATOR_HOST"] = emu.host
    try:
        yield emu.host
    finally:
        emu.stop()


@pytest.fixture
def project(emulator_host: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A project id of this test's own; the bootstrap caches start empty and end empty."""
    from shared import bootstrap

    name = f"test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", name)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator_host)
    bootstrap.reset()
    yield name
    bootstrap.reset()


@pytest.fixture
def db(project: str):  # type: ignore[no-untyped-def]
    from google.cloud import firestore

    return firestore.Client(project=project)


@pytest.fixture
def outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "outbox"
    monkeypatch.setenv("OUTBOX_DIR", str(path))
    return path


@pytest.fixture
def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Write a YAML config (text) and point COMMUNITY_CONFIG at it."""
    from shared import bootstrap

    def write(text: str) -> Path:
        path = tmp_path / f"community-{uuid.uuid4().hex[:6]}.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        monkeypatch.setenv("COMMUNITY_CONFIG", str(path))
        bootstrap.config.cache_clear()
        return path

    return write


@pytest.fixture
def example_config(monkeypatch: pytest.MonkeyPatch) -> Path:
    from shared import bootstrap

    monkeypatch.setenv("COMMUNITY_CONFIG", str(EXAMPLE_CONFIG))
    bootstrap.config.cache_clear()
    return EXAMPLE_CONFIG


@pytest.fixture(scope="module")
def key():  # type: ignore[no-untyped-def]
    """A signing key for Google ID tokens (console sign-in) and Scheduler OIDC tokens."""
    from tests.helpers import oidc

    return oidc.make_key("k-test")


@pytest.fixture(scope="module")
def certs(key):  # type: ignore[no-untyped-def]
    """The local certs endpoint serving ``key``, as Google's does (a module's own ``certs`` wins)."""
    from tests.helpers import oidc

    with oidc.certs_server(key) as server:
        yield server
