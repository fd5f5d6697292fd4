"""Browser tests: Playwright for Python driving Debian's Chromium (Playwright's own browser download
is not reachable from our machines, so the browser comes from apt: `make install` installs it).

Without Chromium the tests are skipped, and the run says so in a loud line at the end (the root
conftest's terminal summary, which also runs under xdist); nothing else may skip them. Set
``SCREENSHOTS_DIR`` to also write every screenshot there (``make screenshots`` writes the ones
committed under docs/screenshots/).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# As the machine notes say: without the background-networking flags Chromium keeps trying Google's
# hosts, which this closed network refuses; --no-sandbox because the tests run as root.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SKIP_REASON = "Chromium is not installed (apt-get install chromium fonts-noto-cjk): the BROWSER TESTS DID NOT RUN"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """``new_page(viewport=PHONE, locale="ja-JP")``: a page in a fresh context (its own cookies).
    CSP is bypassed only so axe-core can be injected; the pages' own headers are still asserted."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] = DESKTOP, locale: str = "ja-JP", **options: Any) -> Any:
        ctx = browser.new_context(viewport=viewport, locale=locale, bypass_csp=True, **options)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core (npm, pinned in package.json) run inside the page: the violations of these impacts."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in found if v.get("impact") in impacts]


def assert_accessible(page: Any) -> None:
    bad = axe_violations(page)
    assert bad == [], json.dumps(bad, ensure_ascii=False, indent=1)


@pytest.fixture
def shot(tmp_path: Path) -> Callable[[Any, str], Path]:
    """``shot(page, "console-today-ja-phone")``: a full-page PNG in the test's tmp dir, and in
    ``SCREENSHOTS_DIR`` when set."""

    def take(page: Any, name: str) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        target = os.environ.get("SCREENSHOTS_DIR")
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, Path(target) / path.name)
        return path

    return take


@pytest.fixture
def serve(project: str, outbox: Path) -> Iterator[Callable[..., str]]:
    """``serve("actions", env={...})``: the function as a real functions-framework process on a free
    port, on this test's Firestore project, config and outbox; returns its URL."""
    from tools.fnproc import FunctionProcess

    running: list[Any] = []

    def start(target: str, env: dict[str, str] | None = None) -> str:
        proc = FunctionProcess(target, env={**(env or {})})
        running.append(proc)
        proc.wait_ready()
        return str(proc.url)

    yield start
    for proc in running:
        proc.stop()
