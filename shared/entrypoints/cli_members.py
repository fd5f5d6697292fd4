"""``autopilot members ...`` and ``autopilot interviews ...``: the organizer side of the members' own
settings (docs/members.md) and of the interview pipeline (docs/newsletter.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from shared import bootstrap
from shared.entrypoints.cli_words import say


def cmd_members(args: argparse.Namespace) -> int:
    from shared.domain import members as dm
    from shared.domain.applications import email_key
    from shared.usecases import members as uc

    now = dt.datetime.now(dt.UTC)
    if args.action == "migrate":
        n = uc.migrate_legacy(bootstrap.doc_store(), now)
        print(say("members.migrated", count=n))
        return 0
    if not args.email:
        print(say("members.needs_email", action=args.action), file=sys.stderr)
        return 2
    member_id = email_key(args.email)
    deps = bootstrap.member_deps()
    member = deps.store.get(uc.MEMBERS, member_id)
    if member is None:
        print(say("members.no_member"), file=sys.stderr)
        return 2
    if args.action == "show":
        for name, value in dm.consents_of(member).items():
            rec = (member.get("consents") or {}).get(name) or {}
            at = rec.get("at")
            print(f"{name:16} {say('members.yes') if value else say('members.no'):4} {rec.get('source', '-'):13} "
                  f"{at.isoformat(timespec='minutes') if isinstance(at, dt.datetime) else '-'}")
        print(say("members.link_version", version=int(member.get("link_version") or 0)))
        return 0
    if args.action == "link":
        print(uc.member_link(deps, member_id, member, now))
        return 0
    version = uc.revoke_link(deps, member_id, member, now, mail=not args.no_mail)
    print(say("members.revoked", version=version) + ("" if args.no_mail else say("members.mailed")))
    return 0


def cmd_interviews(args: argparse.Namespace) -> int:
    # The console's Interviews page calls the same use cases (shared/usecases/operations.py): one
    # code path, one audit entry per change.
    from shared.domain.applications import email_key
    from shared.entrypoints.cli_words import cli_actor
    from shared.entrypoints.jobs_newsletter import interview_deps
    from shared.usecases import interviews as iv
    from shared.usecases import operations

    deps = interview_deps()
    now = dt.datetime.now(dt.UTC)
    actor = cli_actor()
    if args.by:
        actor = type(actor)(actor.id, args.by, actor.via)
    if args.action == "add":
        if not (args.email and args.angle):
            print(say("interviews.add_needs"), file=sys.stderr)
            return 2
        out = operations.add_interview(deps.store, actor, email_key(args.email), args.angle, now, title=args.title or "")
        if not out.ok:
            print(out.message, file=sys.stderr)
            return 2
        print(out.values["id"])
        return 0
    if args.action == "move":
        if not (args.id and args.state):
            print(say("interviews.move_needs"), file=sys.stderr)
            return 2
        out = operations.move_interview(deps, actor, args.id, args.state, now, link=args.link or "")
        if out.status == "refused":
            print(out.message or out.code, file=sys.stderr)
            return 2
        state = say(f"interviews.state.{args.state}")
        print(say("interviews.moved_asked" if args.state == "asked" else "interviews.moved", id=args.id, state=state))
        return 0
    for p in iv.pipeline(deps.store):
        consent = p.get("consent") or {}
        state = say(f"interviews.state.{p.get('state') or 'idea'}")
        agreed = say("interviews.consent", answer=say("members.yes") if consent.get("value") else say("members.no"))
        print(f"{p['id']}  {state:9}  {p.get('member_name', '')}  {p.get('angle', '')}"
              + (f"  {agreed}" if consent else "") + (f"  {p['link']}" if p.get("link") else ""))
    return 0


COMMANDS: dict[str, Any] = {"members": cmd_members, "interviews": cmd_interviews}


def add_commands(command: Any, h: Any) -> None:
    """``command(name)`` adds a subcommand with its help from the catalog; ``h(key)`` is ``cli.args.<key>``."""
    c = command("members")
    c.add_argument("action", choices=("show", "link", "revoke-link", "migrate"), help=h("members_action"))
    c.add_argument("email", nargs="?", help=h("members_email"))
    c.add_argument("--no-mail", action="store_true", help=h("members_no_mail"))
    c = command("interviews")
    c.add_argument("action", nargs="?", choices=("list", "add", "move"), default="list", help=h("interviews_action"))
    c.add_argument("id", nargs="?", help=h("interview_id"))
    c.add_argument("state", nargs="?", help=h("interview_state"))
    c.add_argument("--email", help=h("interview_email"))
    c.add_argument("--angle", help=h("interview_angle"))
    c.add_argument("--title", help=h("interview_title"))
    c.add_argument("--link", help=h("interview_link"))
    c.add_argument("--by", help=h("interview_by"))
