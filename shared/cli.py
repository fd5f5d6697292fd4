"""autopilot: the organizer CLI.

Shows the schedule from Firestore, runs a function locally once, and records an organizer's decision
about one event (move, cancel, restore). ``autopilot --help`` and ``autopilot COMMAND --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shared import bootstrap, env
from shared.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
STATUS_JA = {"scheduled": "予定", "cancelled": "中止", "retired": "廃止"}

HELP = """\
Alumni Autopilot — organizer tool (運営者向けツール)

Everyday use:
  autopilot schedule                 the next 3 months of events, from Firestore (今後の予定)
  autopilot move SLOT --date D       move one event to another day (日程変更)
  autopilot cancel SLOT              cancel one event (中止)
  autopilot restore SLOT             undo a move or cancel (元に戻す)
  autopilot run generate_slots       run a function once, here, now (手動実行)
  autopilot check-config             check the community config and explain any mistake

SLOT is the id in the first column of `autopilot schedule`, e.g. speaker_night_2027-01-12.
Where the data lives: set FIRESTORE_EMULATOR_HOST (local, see `make emulator`) or
GOOGLE_CLOUD_PROJECT with Google credentials (production). The config file is COMMUNITY_CONFIG
(default: config/community.example.yaml).
"""


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """A plain-text table that lines up with Japanese (full-width) text."""
    widths = [max(_width(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(_pad(str(h), w) for h, w in zip(header, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(_pad(str(c), w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _person(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or value.get("id") or "")
    return str(value or "")


def schedule_rows(slots: Sequence[dict[str, Any]], zone: str, include_all: bool = False) -> list[list[str]]:
    rows = []
    for s in slots:
        if s.get("status") != "scheduled" and not include_all:
            continue
        tz = ZoneInfo(str(s.get("timezone") or zone))
        start = s["start"].astimezone(tz)
        end = s["end"].astimezone(tz)
        when = f"{start:%Y-%m-%d} ({'月火水木金土日'[start.weekday()]}) {start:%H:%M}-{'' if s.get('open_end') else f'{end:%H:%M}'}"
        notes = [str(s.get("note") or "")] + [f"⚠ {code}" for code in (s.get("gen_flags") or {})]
        rows.append([s["id"], when, str(s.get("title", "")), "online" if s.get("online") else "会場",
                     STATUS_JA.get(str(s.get("status")), str(s.get("status"))),
                     _person(s.get("speaker")) or "-", _person(s.get("host")) or "-",
                     " ".join(n for n in notes if n)])
    return rows


def print_schedule(months: int = 3, include_all: bool = False, out: Any = None) -> int:
    out = out or sys.stdout
    cfg = bootstrap.config()
    now = dt.datetime.now(dt.UTC)
    slots = bootstrap.slot_store().slots_between(now - dt.timedelta(hours=12), now + dt.timedelta(days=31 * months))
    rows = schedule_rows(slots, cfg.community.timezone, include_all)
    header = ["slot", "when (日時)", "title", "where", "status", "speaker", "host", "notes"]
    print(table(rows, header) if rows else "(no upcoming events: run `autopilot run generate_slots`)", file=out)
    return 0


def run_function(name: str, job: str | None, when: str | None) -> int:
    import functions_framework

    source = ROOT / "functions" / name / "main.py"
    if not source.is_file():
        known = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "main.py").is_file())
        print(f"no function {name!r}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    headers = {}
    if job:
        headers = {"X-CloudScheduler-JobName": job,
                   "X-CloudScheduler-ScheduleTime": when or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()}
    client = functions_framework.create_app(name, str(source)).test_client()  # type: ignore[no-untyped-call]
    res = client.post("/", headers=headers)
    body = res.get_data(as_text=True)
    with contextlib.suppress(ValueError):
        body = json.dumps(json.loads(body), ensure_ascii=False, indent=2)
    print(f"{name}: HTTP {res.status_code}\n{body}")
    return 0 if res.status_code < 400 else 1


def _reconcile_now() -> dict[str, Any]:
    from shared.usecases.generate_slots import generate_slots

    cfg = bootstrap.config()
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(ZoneInfo(cfg.community.timezone)).date()
    return generate_slots(cfg, bootstrap.slot_store(), bootstrap.calendar_publisher(), today, now, "cli").summary()


def decide(slot_id: str, action: str, date: str | None = None, start: str | None = None, reason: str = "") -> int:
    store = bootstrap.slot_store()
    slot = store.get_slot(slot_id)
    if slot is None:
        print(f"no slot {slot_id!r}: see the first column of `autopilot schedule`", file=sys.stderr)
        return 2
    if action == "restore":
        if not store.delete_exception(slot_id):
            print(f"{slot_id} has no move or cancel to undo", file=sys.stderr)
            return 2
    else:
        data: dict[str, Any] = {"action": action, "reason": reason, "at": dt.datetime.now(dt.UTC)}
        try:
            if date:
                data["date"] = dt.date.fromisoformat(date).isoformat()
            if start:
                data["start"] = dt.time.fromisoformat(start).strftime("%H:%M")
        except ValueError as exc:
            print(f"not a date/time: {exc}", file=sys.stderr)
            return 2
        store.put_exception(slot_id, data)
    result = _reconcile_now()
    print(f"{slot_id}: {action} recorded; schedule updated "
          f"({result['updated'] + result['restored']} slot(s) changed, {result['flagged']} flagged)")
    return 0


def check_config(path: str | None) -> int:
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"OK: {cfg.community.name}: {len(cfg.series)} series, {len(cfg.organizers)} organizers")
    return 0


def _need_store() -> None:
    if not (os.environ.get(env.FIRESTORE_EMULATOR_HOST) or os.environ.get(env.GOOGLE_CLOUD_PROJECT)):
        raise SystemExit("Where is the data? Run `make emulator` and `export FIRESTORE_EMULATOR_HOST=127.0.0.1:8681`,\n"
                         "or set GOOGLE_CLOUD_PROJECT (with Google credentials) for production.")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="autopilot", description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    s = sub.add_parser("schedule", help="show upcoming events from Firestore")
    s.add_argument("--months", type=int, default=3, help="how far ahead (default 3)")
    s.add_argument("--all", action="store_true", help="also show cancelled and retired events")
    r = sub.add_parser("run", help="run one function locally, once")
    r.add_argument("function", help="folder name under functions/, e.g. generate_slots")
    r.add_argument("--job", help="act as Cloud Scheduler job NAME (a second run with the same --time is a no-op)")
    r.add_argument("--time", help="the Scheduler's schedule time, RFC 3339 (default: now)")
    for name, text in (("move", "move one event to another day or time"), ("cancel", "cancel one event"),
                       ("restore", "undo an earlier move or cancel")):
        c = sub.add_parser(name, help=text)
        c.add_argument("slot", help="slot id, e.g. speaker_night_2027-01-12")
        if name == "move":
            c.add_argument("--date", required=True, help="new day, YYYY-MM-DD")
            c.add_argument("--start", help="new start time, HH:MM (default: the series' time)")
        if name != "restore":
            c.add_argument("--reason", default="", help="shown to members in the calendar entry")
    k = sub.add_parser("check-config", help="validate the community config")
    k.add_argument("path", nargs="?", help="default: $COMMUNITY_CONFIG or config/community.example.yaml")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault(env.LOG_LEVEL, "WARNING")  # the table, not the JSON logs, is for people
    if args.command is None:
        print(HELP)
        return 0
    if args.command == "check-config":
        return check_config(args.path)
    _need_store()
    try:
        if args.command == "schedule":
            return print_schedule(args.months, args.all)
        if args.command == "run":
            return run_function(args.function, args.job, args.time)
        return decide(args.slot, args.command, getattr(args, "date", None), getattr(args, "start", None),
                      getattr(args, "reason", ""))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
