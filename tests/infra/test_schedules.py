"""Docs and infra say the same: every schedule the README and docs/ put in words is the one
infra/functions.tf (and the community config, for the digest and the prompt) gives Terraform.
And the docs hold no notes to ourselves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools import schedules as sch

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
ABBR = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 0}
PHRASE = re.compile(r"(?i)\b(?:every (?P<every>\d+) ?min\w*|within (?P<within>\d+) ?min\w*|(?P<hourly>hourly)|(?P<daily>daily)"
                    r"|(?P<weekly>weekly)|(?P<day>(?:mon|tues|wednes|thurs|fri|satur|sun)days?|(?:mon|tue|wed|thu|fri|sat|sun)\b))")
TIME = re.compile(r"\b([01]\d|2[0-3]):([0-5]\d)\b")


def disagreements(text: str, plan: dict[str, str], where: str) -> list[str]:
    """Sentences (lines, table rows) that name one cron function and describe its schedule otherwise."""
    found = []
    # a quoted rule ("2nd Tuesday 20:00", perhaps over two lines) is not a schedule: blank it, keep the lines
    text = re.sub(r'"[^"]*"|“[^”]*”|「[^」]*」', lambda m: '""' + "\n" * m.group(0).count("\n"), text)
    for n, line in enumerate(text.splitlines(), 1):
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.lstrip().startswith("|") else [line]
        named = [fn for fn in plan if re.search(rf"(?<![\w-]){fn}(?![\w-])", cells[0])]
        if len(named) != 1:
            continue
        fn, cron = named[0], plan[named[0]]
        minute, hour, _, _, dow = cron.split()
        for m in PHRASE.finditer(line):
            ok = True
            if m["every"] or m["within"]:
                ok = minute == f"*/{m['every'] or m['within']}" or (bool(m["within"]) and hour == "*" and minute.isdigit()
                                                                   and int(m["within"]) >= 60)
            elif m["hourly"]:
                ok = minute.isdigit() and hour == "*"
            elif m["daily"]:
                ok = hour.isdigit() and dow == "*"
            elif m["weekly"]:
                ok = dow.isdigit() or fn == "weekly_prompt"  # the prompt: one per week, the run is daily
            elif m["day"]:
                day = ABBR[m["day"][:3].lower()]
                ok = dow == str(day) or (fn == "weekly_prompt" and "rhythm.prompt" in line)
            if not ok:
                found.append(f"{where}:{n}: {fn} is said to run {m.group(0)!r}, infra says {sch.in_words(cron)} ({cron})")
        for h, mi in TIME.findall(line):
            if hour.isdigit() and minute.isdigit() and (int(h), int(mi)) != (int(hour), int(minute)) and fn in cells[0]:
                found.append(f"{where}:{n}: {fn} is said to run at {h}:{mi}, infra says {sch.in_words(cron)} ({cron})")
    return found


def test_docs_and_readme_put_every_schedule_as_infra_does() -> None:
    plan = sch.schedules(ROOT)
    assert {"cron_dispatch", "generate_slots", "poll_form_responses", "send_digest", "weekly_prompt"} <= set(plan)
    found = [d for path in DOCS for d in disagreements(path.read_text(encoding="utf-8"), plan, path.name)]
    assert found == [], "\n".join(found)


def test_the_readme_schedule_table_is_generated_from_infra() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert sch.BEGIN in text and sch.END in text, "README.md needs the generated schedule table (python -m tools.schedules --write)"
    block = text[text.index(sch.BEGIN): text.index(sch.END) + len(sch.END)]
    assert block == sch.generated_block(ROOT), "run `python -m tools.schedules --write`: the README table differs from infra/"


@pytest.mark.parametrize(("cron", "words"), [
    ("*/5 * * * *", "every 5 minutes"), ("40 * * * *", "hourly at :40"), ("15 4 * * *", "daily at 04:15"),
    ("0 8 * * 1", "Mondays at 08:00"), ("0 9 * * 0", "Sundays at 09:00"), ("0 9 1 * *", "`0 9 1 * *`"),
])
def test_cron_in_words(cron: str, words: str) -> None:
    assert sch.in_words(cron) == words


def test_the_check_catches_the_disagreements_it_is_for() -> None:
    plan = {"poll_form_responses": "*/30 * * * *", "assign_speakers": "0 9 * * *", "send_digest": "0 8 * * 1"}
    text = ("`poll_form_responses` (every 15 min) re-reads the form\n"
            "| `assign_speakers` | Scheduler, hourly | offers dates |\n"
            "`poll_form_responses` picks the response up within 15 minutes.\n"
            "| `send_digest` | Scheduler, Tuesdays at 08:00 | digest |\n"
            "| `send_digest` | Scheduler, Mondays at 09:00 | digest |\n"
            "`poll_form_responses` runs every 30 minutes; `assign_speakers` daily at 09:00.\n")
    found = disagreements(text, plan, "doc")
    assert [f.split(":")[1] for f in found] == ["1", "2", "3", "4", "5"], found


def test_a_schedule_in_the_config_is_what_terraform_uses(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("rhythm:\n  digest: {weekday: fri, time: '07:30'}\n  prompt: {weekday: 2, time: '12:00'}\n", encoding="utf-8")
    assert sch.config_schedules(cfg) == {"send_digest": "30 7 * * 5", "weekly_prompt": "0 12 * * *"}


NOTES = re.compile(r"(?i)\b(?:the|this|that|an?|next|later|of) issue\b|\bissue-\d|\bTODO\b|\bFIXME\b|\bXXX\b|nobody writes|"
                   r"\bnot (?:built|written|done|implemented) yet\b|\bfor now\b")


def test_docs_hold_no_notes_to_ourselves() -> None:
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()[:90]}" for p in DOCS
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if NOTES.search(line)]
    assert found == [], "\n".join(found)
