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

from shared import bootstrap
from shared.config import ConfigError, load_config
from shared.platform import env

ROOT = Path(__file__).resolve().parents[2]
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

Speakers and hosts (登壇者・ホスト):
  autopilot speakers                 the speaker queue: order, priority, status (登壇者の順番)
  autopilot propose-speaker --name N --email E --topic T --series S   add a speaker (登壇者を追加)
  autopilot priority SPEAKER N       move a speaker up the queue (higher N goes first) (優先度)
  autopilot withdraw SPEAKER         a speaker cannot speak after all (登壇の取り下げ)
  autopilot why SLOT                 why this speaker / host was chosen, and why not the others (理由)
  autopilot hosts                    how many events each host had recently (ホストの担当回数)

Members and the calendar feed (メンバー・カレンダー):
  autopilot directory --format csv|md [--output FILE]   founders & executives directory (名簿)
  autopilot feed-token rotate        a new secret calendar (ICS) link; the old one stops working
  autopilot members show EMAIL       a member's consents with time and source (同意の状況)
  autopilot members revoke-link EMAIL   end a member's settings links and mail a new one
  autopilot members migrate          rewrite old prompt_opt_in / directory_opt_in records
  autopilot propose-event ...        add a member's event, checked against the guidelines (企画)
  autopilot confirm-proposal ID      confirm an event that waits for an organizer (企画の承認)

SLOT is the id in the first column of `autopilot schedule`, e.g. speaker_night_2027-01-12;
SPEAKER is the id in the first column of `autopilot speakers`.
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


def cli_actor() -> Any:
    """Who runs the CLI, for the audit log: the OS user (the CLI has no sign-in)."""
    import getpass

    from shared.usecases.audit import Actor

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(f"cli:{user}", user, "cli")


def decide(slot_id: str, action: str, date: str | None = None, start: str | None = None, reason: str = "",
           force: bool = False) -> int:
    """move / cancel / restore through the use case the console calls (shared/usecases/operations.py)."""
    from shared.platform import texts
    from shared.usecases import operations

    cfg = bootstrap.config()
    locale = cfg.community.locale
    outcome, decision = operations.schedule_decision(cfg, bootstrap.slot_store(), bootstrap.doc_store(), cli_actor(), slot_id,
                                                     action, dt.datetime.now(dt.UTC), day=date, start=start, reason=reason,
                                                     force=force)
    if outcome.status == "refused":
        hint = " (see the first column of `autopilot schedule`)" if outcome.code == "unknown_slot" else ""
        print(f"{slot_id}: {texts.t(locale, f'console.refusal.{outcome.code}')}{hint}", file=sys.stderr)
        return 2
    for w in decision.warnings:
        print(f"  ! {texts.t(locale, f'console.warning.{w.code}', **w.values)}", file=sys.stderr)
    if outcome.status == "confirm":
        print(f"{slot_id}: not moved; run again with --force to move it anyway", file=sys.stderr)
        return 1
    print(f"{slot_id}: {action} recorded; schedule updated ({len(decision.changed)} slot(s) changed: "
          f"{', '.join(decision.changed) or '-'})")
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
        if name == "move":
            c.add_argument("--force", action="store_true",
                           help="move even onto a holiday, a blackout, a weekend or another event's time (warned first)")
    k = sub.add_parser("check-config", help="validate the community config")
    k.add_argument("path", nargs="?", help="default: $COMMUNITY_CONFIG or config/community.example.yaml")
    add_people_commands(sub)
    from shared.entrypoints import cli_members

    cli_members.add_commands(sub)
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

SPEAKER_STATUS_JA = {"queued": "待ち", "offered": "打診中", "confirmed": "確定", "withdrawn": "取り下げ"}
REASONS_JA = {  # rotation.R_* and speakers.S_*: why someone (or some date) was passed over
    "not_in_rotation": "ローテーション外 (weight 0)", "weekday": "担当できない曜日", "hours": "担当できない時間帯",
    "blackout": "不在の日 (blackout)", "monthly_max": "今月の上限回数に達している",
    "basic_licence_40min": "無料Zoom (40分まで) では足りない", "licence_busy": "同じ時間に Zoom の枠が埋まっている",
    "handed_back": "この回は本人が返上済み", "higher_load_or_more_recent": "担当回数が多い／最近担当した",
    "within_lead_time": "準備期間より近い日程", "before_earliest_date": "本人の希望する最早日より前",
    "impossible_date": "本人の都合の悪い日", "declined_before": "以前に辞退した日", "taken": "他の登壇者が打診中／確定",
    "talk_longer_than_slot": "発表時間が枠より長い", "not_scheduled": "中止・廃止された回",
}


def _reason(code: Any) -> str:
    return f"{REASONS_JA.get(str(code), str(code))} ({code})" if code else ""


class _NoLinks:
    """For commands that never mail a signed link (proposing, priority, withdrawing)."""

    def url(self, action: str, subject: str, expires_at: dt.datetime) -> str:
        raise RuntimeError("ACTION_LINK_KEY is not set: signed links cannot be made")


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
        rows.append([str(n), s.id, s.name, s.series_id, str(s.priority), SPEAKER_STATUS_JA[sp.QUEUED], "-",
                     _first_line(d.get("topic")), _local_time(d.get("proposed_at"), cfg.community.timezone)[:10]])
    others = sorted((d for d in docs.values() if d.get("status") != sp.QUEUED),
                    key=lambda d: (statuses.index(d["status"]), str(d.get("confirmed_slot") or d.get("current_offer") or "")))
    for d in others:
        slot = d.get("confirmed_slot") or str(d.get("current_offer") or "").partition("~")[0] or "-"
        rows.append(["-", d["id"], str(d.get("name", "")), str(d.get("series_id", "")), str(d.get("priority") or 0),
                     SPEAKER_STATUS_JA.get(str(d.get("status")), str(d.get("status"))), slot,
                     _first_line(d.get("topic")), _local_time(d.get("proposed_at"), cfg.community.timezone)[:10]])
    header = ["order", "speaker", "name", "series", "priority", "status", "slot", "topic", "proposed"]
    print(table(rows, header) if rows else "(no speakers yet: `autopilot propose-speaker --help`)", file=out)
    return 0


def _date_arg(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def cmd_propose_speaker(args: argparse.Namespace) -> int:
    from shared.usecases import assign, operations

    cmd = assign.SpeakerProposal(name=args.name, email=args.email, topic=args.topic, series_id=args.series,
                                 earliest=args.earliest, impossible_dates=tuple(args.not_dates or ()),
                                 talk_minutes=args.minutes, locale=args.locale)
    outcome = operations.add_speaker(_assign_deps(), cli_actor(), cmd, dt.datetime.now(dt.UTC))
    if outcome.status == "refused":
        print(f"not added: {outcome.message}", file=sys.stderr)
        return 2
    print(f"{outcome.code}: {args.name} is in the queue (see `autopilot speakers`; offers go out with assign_speakers)")
    return 0


def cmd_priority(args: argparse.Namespace) -> int:
    from shared.usecases import operations

    outcome = operations.set_priority(_assign_deps(), cli_actor(), args.speaker, args.priority, dt.datetime.now(dt.UTC))
    if outcome.code == "unknown_speaker":
        print(f"no speaker {args.speaker!r}: see the first column of `autopilot speakers`", file=sys.stderr)
        return 2
    if not outcome.ok:
        print("the priority must be between -1000 and 1000", file=sys.stderr)
        return 2
    print(f"{args.speaker}: priority {args.priority} (higher goes first; 0 = proposal order)")
    return 0


def cmd_withdraw(args: argparse.Namespace) -> int:
    from shared.usecases import operations

    outcome = operations.withdraw_speaker(_assign_deps(), cli_actor(), args.speaker, dt.datetime.now(dt.UTC))
    if outcome.code == "unknown_speaker":
        print(f"no speaker {args.speaker!r}: see the first column of `autopilot speakers --all`", file=sys.stderr)
        return 2
    locale = bootstrap.config().community.locale
    print(f"{args.speaker}: {outcome.message or texts_t(locale, 'actions.outcome.speaker_withdrawn')}")
    return 0 if outcome.ok else 1


def texts_t(locale: str, key: str) -> str:
    from shared.platform import texts

    return texts.t(locale, key)


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
        print(f"{args.slot}: no speaker or host was assigned by the tool yet (or no such slot: see `autopilot schedule`)",
              file=out)
        return 0
    for e in decisions:
        when = _local_time(e.get("at"), zone)
        if e.get("role") == "host":
            chosen = _who(cfg, e.get("chosen")) if e.get("chosen") else "nobody could host (ホスト不在)"
            print(f"{when}  host (ホスト): {chosen}", file=out)
            rows = [[_who(cfg, c.get("host_id")), "✔ chosen (担当)" if c.get("chosen") else _reason(c.get("reason")),
                     f"{float(c.get('load') or 0):.2f}", str(c.get("count", 0)), str(c.get("last") or "-")[:10]]
                    for c in e.get("considered") or []]
            print(table(rows, ["considered", "why (理由)", "load", "hosted", "last hosted"]), file=out)
            print("load = events hosted in the fairness window / weight; the lowest load hosts, "
                  "ties go to whoever hosted least recently.", file=out)
        else:
            doc = bootstrap.assign_docs().get("speakers", str(e.get("chosen"))) or {}
            print(f"{when}  speaker (登壇者): {doc.get('name', '')} ({e.get('chosen')}) was offered this date", file=out)
            rows = [[str(p.get("slot_id")), _reason(p.get("reason"))] for p in e.get("passed_slots") or []]
            if rows:
                print(table(rows, ["earlier dates passed over", "why (理由)"]), file=out)
            else:
                print("  it was the earliest date of the series that fit", file=out)
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
    print(f"host duties from {_local_time(since, cfg.community.timezone)[:10]} (the last {days} days) and ahead:", file=out)
    print(table(rows, ["host", "zoom", "weight", "hosted", "upcoming", "load", "last hosted"]) if rows
          else "(no organizer has a zoom: account in the config)", file=out)
    return 0


def cmd_directory(args: argparse.Namespace) -> int:
    from shared.usecases import rhythm

    store = bootstrap.rhythm_store()
    text = rhythm.export_directory_csv(store) if args.format == "csv" else rhythm.export_directory_markdown(store)
    if args.output:
        # Excel opens a UTF-8 CSV with Japanese correctly only with a BOM.
        Path(args.output).write_text(text, encoding="utf-8-sig" if args.format == "csv" else "utf-8", newline="")
        print(f"wrote {args.output} ({len(rhythm.directory_entries(store))} entries)")
    else:
        sys.stdout.write(text)
    return 0


def cmd_feed_token(args: argparse.Namespace) -> int:
    from shared.usecases import rhythm

    token = rhythm.rotate_feed_token(bootstrap.rhythm_store(), dt.datetime.now(dt.UTC))
    print("New calendar feed path (shown only this once; the old link stops working now):")
    print(f"  /{token}")
    print("Give members the ics_feed function URL followed by it, e.g.\n"
          f"  https://REGION-PROJECT.cloudfunctions.net/ics_feed/{token}")
    return 0


def cmd_propose_event(args: argparse.Namespace) -> int:
    from shared.entrypoints.jobs_rhythm import proposal_deps
    from shared.usecases import proposals

    if args.json:
        text = sys.stdin.read() if args.json == "-" else Path(args.json).read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except ValueError as exc:
            print(f"{args.json}: not JSON ({exc})", file=sys.stderr)
            return 2
    else:
        missing = [f"--{n.replace('_', '-')}" for n in ("kind", "date", "start", "minutes", "name", "email")
                   if getattr(args, n) in (None, "")]
        if missing:
            print(f"missing: {', '.join(missing)} (or give --json FILE)", file=sys.stderr)
            return 2
        data = {"title": args.title, "kind": args.kind, "date": args.date, "start": args.start,
                "duration_minutes": args.minutes, "online": args.online, "description": args.description,
                "location": args.location, "co_organizer": args.co_organizer,
                "proposer": {"name": args.name, "email": args.email, "locale": args.locale or "ja"}}
        if args.online:
            data["zoom"] = args.zoom
            if args.join_url:
                data["join_url"] = args.join_url
    try:
        outcome = proposals.propose_event(proposal_deps(), proposals.parse_proposal(data), dt.datetime.now(dt.UTC))
    except proposals.ProposalError as exc:
        print(f"not a proposal: {exc}", file=sys.stderr)
        return 2
    return _print_outcome(outcome)


def _print_outcome(outcome: Any) -> int:
    from shared.usecases import proposals

    text = {proposals.SCHEDULED: "scheduled (登録しました)",
            proposals.PENDING: f"waits for an organizer: `autopilot confirm-proposal {outcome.proposal_id}` (運営の承認待ち)",
            proposals.DECLINED: "not scheduled (ガイドラインに合いません)"}
    print(f"{outcome.proposal_id}: {text.get(outcome.status, outcome.status)}"
          + (f" -> slot {outcome.slot_id}" if outcome.slot_id else ""))
    for reason in outcome.reasons:
        print(f"  - {reason}")
    return 1 if outcome.status == proposals.DECLINED else 0


def cmd_confirm_proposal(args: argparse.Namespace) -> int:
    from shared.entrypoints.jobs_rhythm import proposal_deps
    from shared.usecases import proposals

    try:
        outcome = proposals.confirm_proposal(proposal_deps(), args.proposal, dt.datetime.now(dt.UTC), by=args.by)
    except LookupError:
        print(f"no proposal {args.proposal!r} (the id is in the organizer mail and in the propose-event output)",
              file=sys.stderr)
        return 2
    return _print_outcome(outcome)


PEOPLE_COMMANDS: dict[str, Any] = {
    "speakers": cmd_speakers, "propose-speaker": cmd_propose_speaker, "priority": cmd_priority,
    "withdraw": cmd_withdraw, "why": cmd_why, "hosts": cmd_hosts, "directory": cmd_directory,
    "feed-token": cmd_feed_token, "propose-event": cmd_propose_event, "confirm-proposal": cmd_confirm_proposal,
}


def add_people_commands(sub: Any) -> None:
    c = sub.add_parser("speakers", help="the speaker queue: who is next, who was offered which date, who confirmed")
    c.add_argument("--all", action="store_true", help="also show speakers who withdrew")
    c = sub.add_parser("propose-speaker", help="add a speaker to the queue (they get offers by mail)")
    c.add_argument("--name", required=True, help="as it should appear, e.g. '山田　花子'")
    c.add_argument("--email", required=True, help="where the offers go")
    c.add_argument("--topic", required=True, help="the talk's title or theme")
    c.add_argument("--series", required=True, help="which event series, e.g. speaker_night (see the config)")
    c.add_argument("--earliest", type=_date_arg, metavar="D", help="no date before this, YYYY-MM-DD")
    c.add_argument("--not", dest="not_dates", type=_date_arg, action="append", metavar="D",
                   help="a date that does not work, YYYY-MM-DD (repeat for more)")
    c.add_argument("--minutes", type=int, metavar="N", help="talk length in minutes (slots shorter than this are skipped)")
    c.add_argument("--locale", choices=("ja", "en"), help="language of the speaker's mails (default: the community's)")
    c = sub.add_parser("priority", help="move a speaker up (or down) the queue")
    c.add_argument("speaker", help="speaker id, first column of `autopilot speakers`")
    c.add_argument("priority", type=int, help="higher goes first; 0 = proposal order; negative = later")
    c = sub.add_parser("withdraw", help="a speaker cannot speak after all: free their date for the next speaker")
    c.add_argument("speaker", help="speaker id, first column of `autopilot speakers`")
    c = sub.add_parser("why", help='why this speaker or host was chosen and the others not ("why me again?")')
    c.add_argument("slot", help="slot id, e.g. speaker_night_2027-01-12")
    c = sub.add_parser("hosts", help="how many events each Zoom host had and has coming (fairness)")
    c.add_argument("--days", type=int, help="look back this many days (default: people.host_rotation.window_days)")
    c = sub.add_parser("directory", help="export the founders & executives directory (members who opted in)")
    c.add_argument("--format", choices=("csv", "md"), default="csv", help="csv (Excel, Sheets) or md (Markdown)")
    c.add_argument("--output", metavar="FILE", help="write to FILE (default: print)")
    c = sub.add_parser("feed-token", help="the secret link of the calendar (ICS) feed")
    c.add_argument("action", choices=("rotate",), help="rotate: make a new link; the old one stops working at once")
    c = sub.add_parser("propose-event", help="add a member's own event; the guidelines of its kind are checked")
    c.add_argument("--json", metavar="FILE", help="the proposal as JSON (the propose_event body; - = stdin)")
    c.add_argument("--title", default="", help="event title")
    c.add_argument("--kind", help="a kind from rhythm.event_kinds in the config, e.g. member_event")
    c.add_argument("--date", help="YYYY-MM-DD")
    c.add_argument("--start", help="HH:MM, local time")
    c.add_argument("--minutes", type=int, help="length in minutes")
    c.add_argument("--online", action="store_true", help="an online event (default: on site)")
    c.add_argument("--zoom", choices=("own", "pool"), default="pool",
                   help="online: own = the proposer's Zoom link (--join-url), pool = a host from the organizers")
    c.add_argument("--join-url", help="https:// link of the proposer's own meeting")
    c.add_argument("--location", default="", help="where, for an on-site event")
    c.add_argument("--description", default="", help="what it is about")
    c.add_argument("--co-organizer", default="", help="partner group or company, if any")
    c.add_argument("--name", help="the proposer's name")
    c.add_argument("--email", help="the proposer's e-mail (the answer goes there)")
    c.add_argument("--locale", choices=("ja", "en"), help="language of the proposer's mail")
    c = sub.add_parser("confirm-proposal", help="confirm a member event that waits for an organizer")
    c.add_argument("proposal", help="proposal id, from the organizer mail or the propose-event output")
    c.add_argument("--by", help="your name, recorded with the decision")


if __name__ == "__main__":
    sys.exit(main())
