"""`make demo`'s whole flow on each example community (config/community.example.yaml, Japanese; and
config/examples/*.yaml, English), as a separate process the way a newcomer runs it.

For an English community, no Japanese character may reach anyone: not the CLI output, not a mail
(headers, plain text, HTML), a calendar entry, the ICS feed, a Zoom meeting, a Slack post or a page.
"""

from __future__ import annotations

import email
import json
import os
import re
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_CONFIG, ROOT

JAPANESE = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
EXAMPLES = sorted((ROOT / "config" / "examples").glob("*.yaml"))


def run_demo(config: Path, outbox: Path, emulator_host: str, project: str) -> str:
    env = {**os.environ, "COMMUNITY_CONFIG": str(config), "OUTBOX_DIR": str(outbox), "FIRESTORE_EMULATOR_HOST": emulator_host,
           "GOOGLE_CLOUD_PROJECT": project, "PYTHONPATH": str(ROOT)}
    for name in ("FORM_WEBHOOK_SECRET", "ACTION_LINK_KEY", "ACTIONS_BASE_URL", "SLACK_WEBHOOK_URL", "ICS_FEED_TOKEN"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-m", "tools.demo"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def everything_people_read(outbox: Path) -> dict[str, str]:
    """Every file of the outbox as the text a person (or their calendar app) sees."""
    out: dict[str, str] = {}
    for path in sorted(p for p in outbox.rglob("*") if p.is_file() and not p.name.startswith(".")):
        raw = path.read_bytes()
        if path.suffix == ".eml":
            msg = email.message_from_bytes(raw, policy=policy.default)
            headers = " ".join(f"{k}: {v}" for k, v in msg.items())
            parts = [part.get_content() for part in msg.walk() if part.get_content_maintype() == "text"]
            out[str(path)] = headers + "\n" + "\n".join(parts)
        elif path.suffix == ".ics":
            import icalendar

            cal = icalendar.Calendar.from_ical(raw)
            out[str(path)] = "\n".join(f"{k}: {v}" for c in cal.walk() for k, v in c.items())
        elif path.suffix == ".json":
            out[str(path)] = json.dumps(json.loads(raw), ensure_ascii=False)
        else:
            out[str(path)] = raw.decode("utf-8")
    return out


def test_there_is_an_english_example_community() -> None:
    assert EXAMPLES, "config/examples/ holds a second community"
    import yaml

    locales = {yaml.safe_load(p.read_text(encoding="utf-8"))["community"]["locale"] for p in EXAMPLES}
    assert any(loc.startswith("en") for loc in locales)


@pytest.mark.slow
@pytest.mark.parametrize("config", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_an_english_community_hears_no_japanese(config: Path, emulator_host, project, tmp_path) -> None:
    outbox = tmp_path / "outbox"
    said = run_demo(config, outbox, emulator_host, project)
    read = everything_people_read(outbox)
    kinds = {Path(name).parent.name for name in read}
    assert {"mail", "calendar", "slack", "zoom", "pages"} <= kinds, kinds
    assert sum(1 for name in read if name.endswith(".eml")) >= 8
    found = [f"CLI: {line}" for line in said.splitlines() if JAPANESE.search(line)]
    found += [f"{Path(name).relative_to(outbox)}: {JAPANESE.findall(text)[:8]}" for name, text in read.items()
              if JAPANESE.search(text)]
    assert found == []
    assert "scheduled" in said and "Approved" in said  # the CLI table and the action page, in English


@pytest.mark.slow
def test_the_japanese_community_runs_the_same_flow(emulator_host, project, tmp_path) -> None:
    outbox = tmp_path / "outbox"
    said = run_demo(EXAMPLE_CONFIG, outbox, emulator_host, project)
    read = everything_people_read(outbox)
    assert {"mail", "calendar", "slack", "zoom", "pages"} <= {Path(name).parent.name for name in read}
    assert "予定" in said and "承認しました" in said
    mails = [text for name, text in read.items() if name.endswith(".eml")]
    assert mails and all(JAPANESE.search(text) for text in mails)
    assert any("会場: 品川オフィス 会議室A" in text for name, text in read.items() if name.endswith(".ics"))
