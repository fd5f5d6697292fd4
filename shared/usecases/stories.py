"""Published interviews as the public pages show them (docs/newsletter.md, "The interview pipeline").

Kept apart from :mod:`shared.usecases.interviews` (which mails the consent requests) so that a page
view of the events site imports no mail code, like :mod:`shared.usecases.rsvp_rules`.

What the public sees of a piece: its title, the member's name, the link and the day it was published.
The member's consent (``consent.value`` true, their own answer to the request mail, which asks
for the piece "for our newsletter and public page") covers the piece with their name; a piece
without it is not shown at all, not even without the name: the piece is about them. Never the
address or the history; the angle (the organizers' pitch in the request mail) only as the title
when the organizers gave none, as ``interviews.add`` does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from shared.ports import DocStore

INTERVIEWS = "interviews"
PUBLISHED = "published"
_WEB_LINK = re.compile(r"https?://\S+", re.IGNORECASE)


def consented(piece: Mapping[str, Any]) -> bool:
    c = piece.get("consent")
    return isinstance(c, Mapping) and c.get("value") is True


def web_link(value: Any) -> str:
    """The link when it is an http(s) address with a host, else "" (a ``javascript:`` link typed
    into the record by hand never becomes a link on the page)."""
    link = str(value or "").strip()
    return link if _WEB_LINK.fullmatch(link) and urlsplit(link).hostname else ""


def published(store: DocStore, limit: int = 50) -> list[dict[str, Any]]:
    """Published pieces for the public pages, newest first: title, member, link, when.

    One query of at most ``limit`` documents ordered by ``published_at`` (set only by the move to
    ``published``; one sort field and no filter: no composite index), so the reads grow with the
    pieces shown, never with the members."""
    found = store.query(INTERVIEWS, [], order_by="published_at", descending=True, limit=limit)
    out = []
    for p in found:
        if p.get("state") != PUBLISHED or not consented(p):
            continue
        at = p.get("published_at")
        out.append({"id": str(p["id"]), "title": str(p.get("title") or p.get("angle") or ""),
                    "member": str(p.get("member_name") or ""), "link": web_link(p.get("link")),
                    "published_at": at if isinstance(at, dt.datetime) else None})
    return out
