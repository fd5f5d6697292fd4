"""autopilot: the organizer CLI.

Shows the schedule from Firestore, runs a function locally once, and records an organizer's decision
about one event (move, cancel, restore). ``autopilot --help`` and ``autopilot COMMAND --help``.
Every word it prints comes from ``shared/templates/<locale>/texts/cli.yaml``, in the community's
language (the config's ``community.locale``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import difflib
import json
import os
import socket
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shared import bootstrap
from shared.config import ConfigError, config_path, load_config
from shared.entrypoints.cli_words import cli_actor, header, locale, say
from shared.platform import env, texts

ROOT = Path(__file__).resolve().parents[2]
CONNECT_SECONDS = 3  # how long to wait for the Firestore emulator before explaining how to start it


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def table(rows: Sequence[Sequence[str]], head: Sequence[str]) -> str:
    """A plain-text table that lines up with Japanese (full-width) text."""
    widths = [max(_width(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(_pad(str(h), w) for h, w in zip(head, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(_pad(str(c), w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _person(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or value.get("id") or "")
    return str(value or "")


def _status(value: Any) -> str:
    key = f"cli.status.{value}"
    return texts.t(locale(), key) if texts.has(locale(), key) else str(value)


def _when(slot: dict[str, Any], zone: str) -> str:
    tz = ZoneInfo(str(slot.get("timezone") or zone))
    start, end = slot["start"].astimezone(tz), slot["end"].astimezone(tz)
    loc = locale()
    times = texts.t(loc, "calendar.times_open_end" if slot.get("open_end") else "calendar.times",
                    start=texts.fmt_time(loc, start), end=texts.fmt_time(loc, end))
    return f"{texts.fmt_date(loc, start.date(), 'date_short')} {times}"


def schedule_rows(slots: Sequence[dict[str, Any]], zone: str, include_all: bool = False) -> list[list[str]]:
    rows = []
    for s in slots:
        if s.get("status") != "scheduled" and not include_all:
            continue
        notes = [str(s.get("note") or "").replace("\n", " ")] + [f"⚠ {code}" for code in (s.get("gen_flags") or {})]
        rows.append([s["id"], _when(s, zone), str(s.get("title", "")),
                     say("schedule.online") if s.get("online") else say("schedule.in_person"),
                     _status(s.get("status")), _person(s.get("speaker")) or "-", _person(s.get("host")) or "-",
                     " ".join(n for n in notes if n)])
    return rows


def print_schedule(months: int = 3, include_all: bool = False, out: Any = None) -> int:
    out = out or sys.stdout
    cfg = bootstrap.config()
    now = dt.datetime.now(dt.UTC)
    slots = bootstrap.slot_store().slots_between(now - dt.timedelta(hours=12), now + dt.timedelta(days=31 * months))
    rows = schedule_rows(slots, cfg.community.timezone, include_all)
    print(table(rows, header("schedule.header")) if rows else say("schedule.none"), file=out)
    return 0


def run_function(name: str, job: str | None, when: str | None) -> int:
    import functions_framework

    source = ROOT / "functions" / name / "main.py"
    if not source.is_file():
        known = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "main.py").is_file())
        print(say("errors.no_function", name=name, known=", ".join(known)), file=sys.stderr)
        return 2
    from shared.platform import settings

    missing = settings.problems(name)  # the sentences the function itself would answer with (503)
    if missing:
        for problem in missing:
            print(f"{name}: {problem.sentence}", file=sys.stderr)
        return 1
    headers = {}
    if job:
        headers = {"X-CloudScheduler-JobName": job,
                   "X-CloudScheduler-ScheduleTime": when or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()}
    client = functions_framework.create_app(name, str(source)).test_client()  # type: ignore[no-untyped-call]
    res = client.post("/", headers=headers)
    body = res.get_data(as_text=True)
    with contextlib.suppress(ValueError):
        body = json.dumps(json.loads(body), ensure_ascii=False, indent=2)
    print(f"{say('run.result', name=name, status=res.status_code)}\n{body}")
    return 0 if res.status_code < 400 else 1


def read_day(value: str) -> dt.date:
    """One date as the community writes it (``shared/domain/dates.py``); ValueError otherwise."""
    from shared.domain.dates import read_dates

    cfg_zone = bootstrap.config().community.timezone if _config_ok() else "UTC"
    today = dt.datetime.now(ZoneInfo(cfg_zone)).date()
    got = read_dates(value, texts.date_order(locale()), today)
    if len(got.dates) != 1 or got.not_understood:
        raise ValueError(value)
    return got.dates[0]


def _config_ok() -> bool:
    try:
        bootstrap.config()
    except ConfigError:
        return False
    return True


def _date_arg(value: str) -> dt.date:
    try:
        return read_day(value)
    except ValueError:
        raise argparse.ArgumentTypeError(say("errors.bad_date", value=value)) from None


def closest_ids(wanted: str, candidates: dict[str, str]) -> list[str]:
    """Slot ids like ``wanted``, which may also be (part of) a title: ``candidates`` is id -> title."""
    by_title = [sid for sid, title in candidates.items() if wanted.strip() and wanted.strip() in title]
    near = difflib.get_close_matches(wanted, list(candidates), n=5, cutoff=0.5)
    titled = difflib.get_close_matches(wanted, list(candidates.values()), n=5, cutoff=0.4)
    near += [sid for sid, title in candidates.items() if title in titled]
    return list(dict.fromkeys(by_title + near))[:5]


def _unknown_slot(slot_id: str) -> int:
    print(say("errors.no_slot", slot=slot_id), file=sys.stderr)
    now = dt.datetime.now(dt.UTC)
    known = {str(s["id"]): str(s.get("title") or "")
             for s in bootstrap.slot_store().slots_between(now - dt.timedelta(days=60), now + dt.timedelta(days=400))}
    ids = closest_ids(slot_id, known)
    if ids:
        print(say("errors.closest", ids=", ".join(f"{i} ({known[i]})" for i in ids)), file=sys.stderr)
    return 2


def _print_changes(result: dict[str, Any]) -> None:
    cfg = bootstrap.config()
    changed = [sid for sid in result.get("changed_slots") or ()]
    slots = [s for s in (bootstrap.slot_store().get_slot(sid) for sid in changed) if s is not None]
    flagged = int(result.get("flagged") or 0)
    moved = [s for s in slots if not s.get("gen_flags")]
    if moved:
        print(say("decided.changed", count=len(moved)))
        for s in moved:
            note = str(s.get("note") or "").replace("\n", " ")
            print(say("decided.line", when=_when(s, cfg.community.timezone), title=str(s.get("title") or ""),
                      id=s["id"], status=_status(s.get("status")), note=f" ({note})" if note else ""))
    else:
        print(say("decided.none"))
    if flagged:
        print(say("decided.flagged", count=flagged))
    print(say("decided.calendar"))


def _warning_line(code: str, values: dict[str, Any], day: str | None) -> str:
    shown = {"date": day, **values} if day else dict(values)
    if "date" in shown:
        shown["date"] = texts.fmt_date(locale(), dt.date.fromisoformat(str(shown["date"])))
    return say(f"move.{code}", **shown)


def decide(slot_id: str, action: str, date: str | None = None, start: str | None = None, reason: str = "",
           force: bool = False) -> int:
    """move / cancel / restore through the use case the console calls (shared/usecases/operations.py)."""
    from shared.usecases import operations

    try:
        slot = bootstrap.slot_store().get_slot(slot_id)
    except ValueError:  # not even a document id (a title with "/", ...)
        slot = None
    if slot is None:
        return _unknown_slot(slot_id)
    day = clock = None
    if date:
        try:
            day = read_day(date).isoformat()
        except ValueError:
            print(say("errors.bad_date", value=date), file=sys.stderr)
            return 2
    if start:
        try:
            clock = dt.time.fromisoformat(unicodedata.normalize("NFKC", start).strip()).strftime("%H:%M")
        except ValueError:
            print(say("errors.bad_time", value=start), file=sys.stderr)
            return 2
    cfg = bootstrap.config()
    outcome, decision = operations.schedule_decision(cfg, bootstrap.slot_store(), bootstrap.doc_store(), cli_actor(), slot_id,
                                                     action, dt.datetime.now(dt.UTC), day=day, start=clock, reason=reason,
                                                     force=force)
    if outcome.status == "refused":
        if outcome.code == "unknown_slot":
            return _unknown_slot(slot_id)
        if outcome.code == "nothing_to_restore":
            print(say("errors.nothing_to_restore", slot=slot_id), file=sys.stderr)
        else:
            print(f"{slot_id}: {texts.t(locale(), f'console.refusal.{outcome.code}')}", file=sys.stderr)
        return 2
    for w in decision.warnings:
        print(f"⚠ {_warning_line(w.code, dict(w.values), day)}", file=sys.stderr)
    if outcome.status == "confirm":
        print(say("move.refused"), file=sys.stderr)
        return 2
    if decision.warnings:
        print(say("move.forced"), file=sys.stderr)
    print(say(f"decided.recorded.{action}", slot=slot_id))
    _print_changes({"changed_slots": list(decision.changed)})
    return 0


def check_config(path: str | None) -> int:
    from shared.domain.scheduling import holiday_problems

    try:
        cfg = load_config(path)
        problems = holiday_problems(cfg.community.holiday_country, cfg.community.holiday_region)
        if problems:
            raise ConfigError(problems, str(path or config_path())) from None
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    c = cfg.community
    holidays = f"{c.holiday_country}-{c.holiday_region}" if c.holiday_region else c.holiday_country
    print(texts.t(c.locale, "cli.check.ok", name=c.name, series=len(cfg.series), organizers=len(cfg.organizers),
                  holidays=holidays))
    return 0


def _need_store() -> None:
    host = os.environ.get(env.FIRESTORE_EMULATOR_HOST)
    if not (host or os.environ.get(env.GOOGLE_CLOUD_PROJECT)):
        raise SystemExit(say("errors.no_data"))
    if host:  # the client would retry an absent emulator for minutes: ask the port first
        name, _, port = host.rpartition(":")
        try:
            with socket.create_connection((name.strip("[]") or "127.0.0.1", int(port)), timeout=CONNECT_SECONDS):
                pass
        except (OSError, ValueError):
            raise SystemExit(say("errors.unreachable", host=host, seconds=CONNECT_SECONDS)) from None


def build_parser() -> argparse.ArgumentParser:
    def h(key: str) -> str:
        return say(f"args.{key}").replace("%", "%%")

    p = argparse.ArgumentParser(prog="autopilot", description=say("help"), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=say(f"commands.{name}").replace("%", "%%"))

    s = command("schedule")
    s.add_argument("--months", type=int, default=3, help=h("months"))
    s.add_argument("--all", action="store_true", help=h("all_events"))
    r = command("run")
    r.add_argument("function", help=h("function"))
    r.add_argument("--job", help=h("job"))
    r.add_argument("--time", help=h("time"))
    for name in ("move", "cancel", "restore"):
        c = command(name)
        c.add_argument("slot", help=h("slot"))
        if name == "move":
            c.add_argument("--date", required=True, help=h("date"))
            c.add_argument("--start", help=h("start"))
            c.add_argument("--force", action="store_true", help=h("force"))
        if name != "restore":
            c.add_argument("--reason", default="", help=h("reason"))
    k = command("check-config")
    k.add_argument("path", nargs="?", help=h("config_path"))
    d = command("doctor")
    d.add_argument("checks", nargs="*", help=h("checks"))
    add_people_commands(command, h)
    from shared.entrypoints import cli_members

    cli_members.add_commands(command, h)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault(env.LOG_LEVEL, "WARNING")  # the table, not the JSON logs, is for people
    if args.command is None:
        print(say("help"))
        return 0
    if args.command == "check-config":
        return check_config(args.path)
    if args.command == "doctor":
        from shared.entrypoints import doctor

        return doctor.main(args.checks)
    _need_store()
    try:
        if args.command == "schedule":
            return print_schedule(args.months, args.all)
        if args.command == "run":
            return run_function(args.function, args.job, args.time)
        if args.command in PEOPLE_COMMANDS:
            return int(PEOPLE_COMMANDS[args.command](args))
        from shared.entrypoints import cli_members

        if args.command in cli_members.COMMANDS:
            return int(cli_members.COMMANDS[args.command](args))
        return decide(args.slot, args.command, getattr(args, "date", None), getattr(args, "start", None),
                      getattr(args, "reason", ""), getattr(args, "force", False))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1


# ------------------------------------------------------------ speakers, hosts, members


def _reason(code: Any) -> str:
    if not code:
        return ""
    key = f"cli.reasons.{code}"
    return f"{texts.t(locale(), key) if texts.has(locale(), key) else code} ({code})"


class _NoLinks:
    """For commands that never mail a signed link (proposing, priority, withdrawing)."""

    def url(self, action: str, subject: str, expires_at: dt.datetime) -> str:
        raise RuntimeError(say("errors.no_links"))


def _assign_deps() -> Any:
    from shared.platform import tokens
    from shared.usecases import assign

    try:
        tokens.key_from_env()
    except RuntimeError:
        return assign.Deps(bootstrap.config(), bootstrap.assign_docs(), bootstrap.mailer(), _NoLinks())
    return bootstrap.assign_deps()


def _local_time(value: Any, zone: str) -> str:
    return f"{value.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}" if hasattr(value, "astimezone") else str(value or "-")


def _first_line(text: Any, limit: int = 28) -> str:
    line = str(text or "").strip().splitlines()[0] if str(text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _speaker_status(doc: dict[str, Any]) -> str:
    status = texts.t(locale(), f"cli.speaker_status.{doc.get('status')}") \
        if texts.has(locale(), f"cli.speaker_status.{doc.get('status')}") else str(doc.get("status"))
    return f"{status} ⚠ {say('speaker_status.no_address')}" if doc.get("email_problem") else status


def cmd_speakers(args: argparse.Namespace, out: Any = None) -> int:
    from shared.domain import speakers as sp

    out = out or sys.stdout
    store = bootstrap.assign_docs()
    cfg = bootstrap.config()
    statuses = [sp.QUEUED, sp.OFFERED, sp.CONFIRMED] + ([sp.WITHDRAWN] if args.all else [])
    docs = {d["id"]: d for status in statuses for d in store.where("speakers", "status", "==", status)}
    queued = sp.queue_order([sp.Speaker.from_doc(d) for d in docs.values() if d.get("status") == sp.QUEUED])
    rows = []
    for n, s in enumerate(queued, 1):
        d = docs[s.id]
        rows.append([str(n), s.id, s.name, s.series_id, str(s.priority), _speaker_status(d), "-",
                     _first_line(d.get("topic")), _local_time(d.get("proposed_at"), cfg.community.timezone)[:10]])
    others = sorted((d for d in docs.values() if d.get("status") != sp.QUEUED),
                    key=lambda d: (statuses.index(d["status"]), str(d.get("confirmed_slot") or d.get("current_offer") or "")))
    for d in others:
        slot = d.get("confirmed_slot") or str(d.get("current_offer") or "").partition("~")[0] or "-"
        rows.append(["-", d["id"], str(d.get("name", "")), str(d.get("series_id", "")), str(d.get("priority") or 0),
                     _speaker_status(d), slot,
                     _first_line(d.get("topic")), _local_time(d.get("proposed_at"), cfg.community.timezone)[:10]])
    print(table(rows, header("speakers.header")) if rows else say("speakers.none"), file=out)
    return 0


def cmd_propose_speaker(args: argparse.Namespace) -> int:
    from shared.usecases import assign, operations

    cmd = assign.SpeakerProposal(name=args.name, email=args.email, topic=args.topic, series_id=args.series,
                                 earliest=args.earliest, impossible_dates=tuple(args.not_dates or ()),
                                 talk_minutes=args.minutes, locale=args.locale)
    outcome = operations.add_speaker(_assign_deps(), cli_actor(), cmd, dt.datetime.now(dt.UTC))
    if outcome.status == "refused":
        print(say("errors.not_added", reason=outcome.message), file=sys.stderr)
        return 2
    print(say("speakers.added", speaker=outcome.code, name=args.name))
    return 0


def cmd_priority(args: argparse.Namespace) -> int:
    from shared.usecases import operations

    outcome = operations.set_priority(_assign_deps(), cli_actor(), args.speaker, args.priority, dt.datetime.now(dt.UTC))
    if outcome.code == "unknown_speaker":
        print(say("errors.no_speaker", speaker=args.speaker), file=sys.stderr)
        return 2
    if not outcome.ok:
        print(say("errors.priority_range"), file=sys.stderr)
        return 2
    print(say("speakers.priority", speaker=args.speaker, priority=args.priority))
    return 0


def cmd_withdraw(args: argparse.Namespace) -> int:
    from shared.usecases import operations

    outcome = operations.withdraw_speaker(_assign_deps(), cli_actor(), args.speaker, dt.datetime.now(dt.UTC))
    if outcome.code == "unknown_speaker":
        print(say("errors.no_speaker_all", speaker=args.speaker), file=sys.stderr)
        return 2
    print(say("speakers.withdrawn" if outcome.ok else "speakers.already_withdrawn", speaker=args.speaker))
    return 0 if outcome.ok else 1


def _who(cfg: Any, host_id: Any) -> str:
    from shared.usecases import roster

    org = roster.person(cfg, bootstrap.assign_docs(), str(host_id)) if host_id else None
    return f"{org.name} ({host_id})" if org else str(host_id or "-")


def cmd_why(args: argparse.Namespace, out: Any = None) -> int:
    from shared.usecases import assign

    out = out or sys.stdout
    cfg = bootstrap.config()
    zone = cfg.community.timezone
    decisions = assign.explain(bootstrap.assign_docs(), args.slot)
    if not decisions:
        print(say("why.nothing", slot=args.slot), file=out)
        return 0
    for e in decisions:
        when = _local_time(e.get("at"), zone)
        if e.get("role") == "host":
            chosen = _who(cfg, e.get("chosen")) if e.get("chosen") else say("why.nobody")
            print(say("why.host", when=when, chosen=chosen), file=out)
            rows = [[_who(cfg, c.get("host_id")), say("why.chosen") if c.get("chosen") else _reason(c.get("reason")),
                     f"{float(c.get('load') or 0):.2f}", str(c.get("count", 0)), str(c.get("last") or "-")[:10]]
                    for c in e.get("considered") or []]
            print(table(rows, header("why.host_header")), file=out)
            print(say("why.host_rule"), file=out)
        else:
            doc = bootstrap.assign_docs().get("speakers", str(e.get("chosen"))) or {}
            print(say("why.speaker", when=when, name=doc.get("name", ""), speaker=e.get("chosen")), file=out)
            rows = [[str(p.get("slot_id")), _reason(p.get("reason"))] for p in e.get("passed_slots") or []]
            if rows:
                print(table(rows, header("why.speaker_header")), file=out)
            else:
                print(say("why.earliest"), file=out)
        print("", file=out)
    return 0


def cmd_hosts(args: argparse.Namespace, out: Any = None) -> int:
    from shared.usecases import assign

    out = out or sys.stdout
    cfg = bootstrap.config()
    now = dt.datetime.now(dt.UTC)
    days = args.days or cfg.people.host_rotation.window_days
    since = now - dt.timedelta(days=days)
    duties = [d for d in bootstrap.assign_docs().where("host_duties", "start", ">=", since) if d.get("host_id")]
    rows = []
    for host in assign.host_pool(cfg, bootstrap.assign_docs()):
        mine = [d for d in duties if d["host_id"] == host.id]
        past = [d for d in mine if d["start"] < now]
        weight = host.availability.weight
        last = max((d["start"] for d in past), default=None)
        rows.append([_who(cfg, host.id), host.licence, f"{weight:g}", str(len(past)), str(len(mine) - len(past)),
                     f"{len(mine) / weight:.2f}" if weight else "-", _local_time(last, cfg.community.timezone)[:10]
                     if last else "-"])
    print(say("hosts.since", since=_local_time(since, cfg.community.timezone)[:10], days=days), file=out)
    print(table(rows, header("hosts.header")) if rows else say("hosts.none"), file=out)
    return 0


def cmd_directory(args: argparse.Namespace) -> int:
    from shared.usecases import rhythm

    store = bootstrap.rhythm_store()
    loc = locale()
    text = rhythm.export_directory_csv(store, loc) if args.format == "csv" else rhythm.export_directory_markdown(store, loc)
    if args.output:
        # Excel opens a UTF-8 CSV with Japanese correctly only with a BOM.
        Path(args.output).write_text(text, encoding="utf-8-sig" if args.format == "csv" else "utf-8", newline="")
        print(say("directory.wrote", path=args.output, count=len(rhythm.directory_entries(store))))
    else:
        sys.stdout.write(text)
    return 0


def deployed_name(function: str) -> str:
    """The name Terraform deploys a function under (infra/main.tf: replace(each.key, "_", "-"))."""
    return function.replace("_", "-")


def cmd_feed_token(args: argparse.Namespace) -> int:
    from shared.usecases import rhythm

    token = rhythm.rotate_feed_token(bootstrap.rhythm_store(), dt.datetime.now(dt.UTC))
    print(say("feed.rotated"))
    print(f"  /{token}")
    print(say("feed.give"))
    print(f"  https://REGION-PROJECT.cloudfunctions.net/{deployed_name('ics_feed')}/{token}")
    print(say("feed.url_hint"))
    return 0


def cmd_propose_event(args: argparse.Namespace) -> int:
    from shared.entrypoints.jobs_rhythm import proposal_deps
    from shared.usecases import proposals

    if args.json:
        text = sys.stdin.read() if args.json == "-" else Path(args.json).read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except ValueError as exc:
            print(say("errors.not_json", path=args.json, error=exc), file=sys.stderr)
            return 2
    else:
        missing = [f"--{n.replace('_', '-')}" for n in ("kind", "date", "start", "minutes", "name", "email")
                   if getattr(args, n) in (None, "")]
        if missing:
            print(say("errors.missing_args", args=", ".join(missing)), file=sys.stderr)
            return 2
        data = {"title": args.title, "kind": args.kind, "date": args.date.isoformat(), "start": args.start,
                "duration_minutes": args.minutes, "online": args.online, "description": args.description,
                "location": args.location, "address": args.address, "map_url": args.map_url,
                "co_organizer": args.co_organizer,
                "proposer": {"name": args.name, "email": args.email, **({"locale": args.locale} if args.locale else {})}}
        if args.venue:
            data["venue"] = args.venue
        if args.online:
            data["zoom"] = args.zoom
            if args.join_url:
                data["join_url"] = args.join_url
    try:
        outcome = proposals.propose_event(proposal_deps(), proposals.parse_proposal(data), dt.datetime.now(dt.UTC))
    except proposals.ProposalError as exc:
        print(say("errors.not_proposal", reason=str(exc)), file=sys.stderr)
        return 2
    return _print_outcome(outcome)


def _print_outcome(outcome: Any) -> int:
    from shared.usecases import proposals

    text = {proposals.SCHEDULED: say("proposal.scheduled"),
            proposals.PENDING: say("proposal.pending", proposal=outcome.proposal_id),
            proposals.DECLINED: say("proposal.declined")}
    print(f"{outcome.proposal_id}: {text.get(outcome.status, outcome.status)}"
          + (say("proposal.slot", slot=outcome.slot_id) if outcome.slot_id else ""))
    for reason in outcome.reasons:
        print(f"  - {reason}")
    return 1 if outcome.status == proposals.DECLINED else 0


def cmd_confirm_proposal(args: argparse.Namespace) -> int:
    from shared.entrypoints.jobs_rhythm import proposal_deps
    from shared.usecases import proposals

    try:
        outcome = proposals.confirm_proposal(proposal_deps(), args.proposal, dt.datetime.now(dt.UTC), by=args.by)
    except LookupError:
        print(say("errors.no_proposal", proposal=args.proposal), file=sys.stderr)
        return 2
    return _print_outcome(outcome)


PEOPLE_COMMANDS: dict[str, Any] = {
    "speakers": cmd_speakers, "propose-speaker": cmd_propose_speaker, "priority": cmd_priority,
    "withdraw": cmd_withdraw, "why": cmd_why, "hosts": cmd_hosts, "directory": cmd_directory,
    "feed-token": cmd_feed_token, "propose-event": cmd_propose_event, "confirm-proposal": cmd_confirm_proposal,
}


def add_people_commands(command: Any, h: Any) -> None:
    c = command("speakers")
    c.add_argument("--all", action="store_true", help=h("all_speakers"))
    c = command("propose-speaker")
    c.add_argument("--name", required=True, help=h("name"))
    c.add_argument("--email", required=True, help=h("email"))
    c.add_argument("--topic", required=True, help=h("topic"))
    c.add_argument("--series", required=True, help=h("series"))
    c.add_argument("--earliest", type=_date_arg, metavar="D", help=h("earliest"))
    c.add_argument("--not", dest="not_dates", type=_date_arg, action="append", metavar="D", help=h("not_date"))
    c.add_argument("--minutes", type=int, metavar="N", help=h("minutes"))
    c.add_argument("--locale", choices=texts.LOCALES, help=h("locale"))
    c = command("priority")
    c.add_argument("speaker", help=h("speaker"))
    c.add_argument("priority", type=int, help=h("priority"))
    c = command("withdraw")
    c.add_argument("speaker", help=h("speaker"))
    c = command("why")
    c.add_argument("slot", help=h("slot"))
    c = command("hosts")
    c.add_argument("--days", type=int, help=h("days"))
    c = command("directory")
    c.add_argument("--format", choices=("csv", "md"), default="csv", help=h("format"))
    c.add_argument("--output", metavar="FILE", help=h("output"))
    c = command("feed-token")
    c.add_argument("action", choices=("rotate",), help=h("feed_action"))
    c = command("propose-event")
    c.add_argument("--json", metavar="FILE", help=h("json"))
    c.add_argument("--title", default="", help=h("title"))
    c.add_argument("--kind", help=h("kind"))
    c.add_argument("--date", type=_date_arg, help=h("event_date"))
    c.add_argument("--start", help=h("event_start"))
    c.add_argument("--minutes", type=int, help=h("event_minutes"))
    c.add_argument("--online", action="store_true", help=h("online"))
    c.add_argument("--zoom", choices=("own", "pool"), default="pool", help=h("zoom"))
    c.add_argument("--join-url", help=h("join_url"))
    c.add_argument("--location", default="", help=h("location"))
    c.add_argument("--address", default="", help=h("address"))
    c.add_argument("--map-url", default="", help=h("map_url"))
    c.add_argument("--venue", help=h("venue"))
    c.add_argument("--description", default="", help=h("description"))
    c.add_argument("--co-organizer", default="", help=h("co_organizer"))
    c.add_argument("--name", help=h("proposer_name"))
    c.add_argument("--email", help=h("proposer_email"))
    c.add_argument("--locale", choices=texts.LOCALES, help=h("proposer_locale"))
    c = command("confirm-proposal")
    c.add_argument("proposal", help=h("proposal"))
    c.add_argument("--by", help=h("by"))


if __name__ == "__main__":
    sys.exit(main())
