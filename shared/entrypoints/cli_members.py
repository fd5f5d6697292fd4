"""``autopilot members ...``: the organizer side of the members' own settings (docs/members.md)."""

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


COMMANDS: dict[str, Any] = {"members": cmd_members}


def add_commands(command: Any, h: Any) -> None:
    """``command(name)`` adds a subcommand with its help from the catalog; ``h(key)`` is ``cli.args.<key>``."""
    c = command("members")
    c.add_argument("action", choices=("show", "link", "revoke-link", "migrate"), help=h("members_action"))
    c.add_argument("email", nargs="?", help=h("members_email"))
    c.add_argument("--no-mail", action="store_true", help=h("members_no_mail"))
