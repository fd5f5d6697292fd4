"""``autopilot members ...`` and ``autopilot interviews ...``: the organizer side of the members' own
settings (docs/members.md) and of the interview pipeline (docs/newsletter.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from shared import bootstrap


def cmd_members(args: argparse.Namespace) -> int:
    from shared.domain import members as dm
    from shared.domain.applications import email_key
    from shared.usecases import members as uc

    now = dt.datetime.now(dt.UTC)
    if args.action == "migrate":
        n = uc.migrate_legacy(bootstrap.doc_store(), now)
        print(f"{n} member record(s) rewritten to consents (prompt_opt_in / directory_opt_in emptied)")
        return 0
    if not args.email:
        print(f"`autopilot members {args.action}` needs the member's e-mail address", file=sys.stderr)
        return 2
    member_id = email_key(args.email)
    deps = bootstrap.member_deps()
    member = deps.store.get(uc.MEMBERS, member_id)
    if member is None:
        print("no member with that address (members are created when an application is approved)", file=sys.stderr)
        return 2
    if args.action == "show":
        for name, value in dm.consents_of(member).items():
            rec = (member.get("consents") or {}).get(name) or {}
            at = rec.get("at")
            print(f"{name:16} {'yes' if value else 'no ':4} {rec.get('source', '-'):13} "
                  f"{at.isoformat(timespec='minutes') if isinstance(at, dt.datetime) else '-'}")
        print(f"link version     {int(member.get('link_version') or 0)}")
        return 0
    if args.action == "link":
        print(uc.member_link(deps, member_id, member, now))
        return 0
    version = uc.revoke_link(deps, member_id, member, now, mail=not args.no_mail)
    print(f"every earlier settings link of this member is refused now (link version {version})"
          + ("" if args.no_mail else "; the new link was mailed to the member"))
    return 0


def cmd_interviews(args: argparse.Namespace) -> int:
    from shared.domain.applications import email_key
    from shared.entrypoints.jobs_newsletter import interview_deps
    from shared.usecases import interviews as iv

    deps = interview_deps()
    now = dt.datetime.now(dt.UTC)
    try:
        if args.action == "add":
            if not (args.email and args.angle):
                print("`autopilot interviews add` needs --email and --angle", file=sys.stderr)
                return 2
            print(iv.add(deps.store, email_key(args.email), args.angle, now, title=args.title or "", by=args.by))
            return 0
        if args.action == "move":
            if not (args.id and args.state):
                print("`autopilot interviews move` needs ID and STATE", file=sys.stderr)
                return 2
            piece = iv.move(deps, args.id, args.state, now, by=args.by, link=args.link or "")
            print(f"{args.id}: {piece['state']}" + (" (the request mail is on its way)" if piece["state"] == "asked" else ""))
            return 0
    except iv.InterviewError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    for p in iv.pipeline(deps.store):
        consent = p.get("consent") or {}
        print(f"{p['id']}  {p.get('state', ''):9}  {p.get('member_name', '')}  {p.get('angle', '')}"
              + (f"  consent: {'yes' if consent.get('value') else 'no'}" if consent else "")
              + (f"  {p['link']}" if p.get("link") else ""))
    return 0


COMMANDS: dict[str, Any] = {"members": cmd_members, "interviews": cmd_interviews}


def add_commands(sub: Any) -> None:
    c = sub.add_parser("members", help="members' consents and settings links (メンバーの設定)")
    c.add_argument("action", choices=("show", "link", "revoke-link", "migrate"),
                   help="show: consents with time and source; link: print a fresh settings link; revoke-link: end "
                        "every earlier link and mail a new one; migrate: rewrite prompt_opt_in/directory_opt_in "
                        "records into consents")
    c.add_argument("email", nargs="?", help="the member's address (show, link, revoke-link)")
    c.add_argument("--no-mail", action="store_true", help="revoke-link: do not mail the new link")
    c = sub.add_parser("interviews", help="the interview pipeline: idea -> asked -> agreed -> drafted -> published (取材)")
    c.add_argument("action", nargs="?", choices=("list", "add", "move"), default="list",
                   help="list (default); add --email --angle; move ID STATE (asked mails the consent request)")
    c.add_argument("id", nargs="?", help="move: the interview id (first column of the list)")
    c.add_argument("state", nargs="?", help="move: the next state (asked, drafted, published)")
    c.add_argument("--email", help="add: the member's address")
    c.add_argument("--angle", help="add: what the piece is about")
    c.add_argument("--title", help="add: the title (default: the angle)")
    c.add_argument("--link", help="move ... published: the link to the piece")
    c.add_argument("--by", help="your name, kept in the piece's history")
