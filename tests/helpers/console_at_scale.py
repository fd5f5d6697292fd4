"""A console community at scale and the pages to open in it: what
``tests/integration/test_console_reads.py`` (2,000 members) and ``make bench``
(``tools/bench/bench_console.py``, 10,000 members) both seed and measure (docs/console.md, "Performance").

The pages come from the console's registry: a route registered for GET that :data:`PAGES` does not
open makes both fail (:func:`unmeasured`), so a new page cannot be left out of the counts.
What a page shows is marked ``data-doc="<collection>/<id>"`` in its HTML (each document counts
once); a CSV export shows one document a row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BEYOND = 10  # reads a page may make beyond what it shows (session, person, counts): docs/console.md

# Every page a GET shows, by route name (shared/entrypoints/console/registry.py): (label, path) pairs,
# the path filled from what :func:`build` returns.
PAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "today": (("today", "/"),),
    "schedule": (("schedule", "/schedule"), ("schedule (all)", "/schedule?all=1")),
    "slot": (("event", "/schedule/{slot}"),),
    "attendees": (("attendees", "/attendees"),),
    "event_attendees": (("attendees of an event", "/attendees/{lunch}"),),
    "applications": (("applications", "/applications"),),
    "application": (("application", "/applications/{application}"),),
    "speakers": (("speakers", "/speakers"),),
    "hosts": (("hosts", "/hosts"),),
    "members": (("members", "/members"), ("members (a later page)", "/members?after={middle}"),
                ("members (search)", "/members?q={prefix}")),
    "members_export": (("members.csv", "/members/export/members.csv"), ("directory.csv", "/members/export/directory.csv")),
    "newsletter": (("newsletter", "/newsletter"),),
    "interviews": (("interviews", "/interviews"),),
    "referrals": (("referrals", "/referrals"),),
    "audit": (("audit log", "/audit"),),
}
DOWNLOADS = frozenset({"members_export"})  # files, not pages: they read every row they hold by design


@dataclass(frozen=True)
class Scale:
    members: int
    applications: int = 120  # waiting for review (the page lists 50)
    speakers: int = 40  # queued
    audit: int = 300
    attendees: int = 40  # RSVPs for one lunch in person ...
    seats: int = 30  # ... that has this many seats: the rest wait
    interviews: int = 30
    referrals: int = 30  # this month's
    shown_every: int = 3  # one referrer in this many agreed to be shown (consent referral_shown); the default is no


def unmeasured(registered: Mapping[str, str] | None = None) -> list[str]:
    """What is wrong with :data:`PAGES` against the registry: routes a GET shows that it does not
    open, and names in it that are no route (empty when every page is measured)."""
    if registered is None:
        from shared.entrypoints import console
        from shared.entrypoints.console import registry

        console.app()  # imports every page module, which registers its routes
        registered = registry.get_pages()
    missing = [f"{name} ({pattern}) is not measured" for name, pattern in sorted(registered.items()) if name not in PAGES]
    stale = [f"{name} is no console page" for name in sorted(set(PAGES) - set(registered))]
    return missing + stale


def check_every_page_measured() -> None:
    problems = unmeasured()
    if problems:
        raise AssertionError("console pages registered for GET and the pages measured differ: " + "; ".join(problems)
                             + " (add it to PAGES in tests/helpers/console_at_scale.py)")


def paths(ids: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(route name, label, path) of every page to open."""
    return [(name, label, path.format(**ids)) for name, pages in PAGES.items() for label, path in pages]


def build(now: dt.datetime, scale: Scale) -> dict[str, Any]:
    """The community of ``tests.helpers.console.seed`` grown to ``scale``; returns what the paths and
    the checks need."""
    from shared import bootstrap
    from shared.adapters.firestore import default_client
    from shared.domain.members import consent_records
    from shared.entrypoints.jobs_newsletter import deps
    from shared.usecases import audit, interviews, newsletter, referrals
    from tests.helpers import console as c

    world = c.seed(now)
    db = default_client()
    for start in range(0, scale.members, 500):
        batch = db.batch()
        for i in range(start, min(start + 500, scale.members)):
            batch.set(db.collection("members").document(_member(i)), {
                "name": _name(i), "email": f"m{i}@example.jp", "joined_at": now - dt.timedelta(days=1 + i % 700),
                "consents": consent_records({"weekly_prompt": i % 2 == 0, "directory": i % 10 == 0,
                                             "referral_shown": i < scale.referrals and i % scale.shown_every == 0}, now, "form")})
        batch.commit()
    batch = db.batch()
    for i in range(scale.applications):
        batch.set(db.collection("applications").document(f"big-app-{i:03d}"), {
            "status": "needs_review", "received_at": now - dt.timedelta(minutes=i), "fields": {"name": f"申込者　{i}"},
            "answers": [{"title": "お名前", "answer": f"申込者　{i}"}], "missing": [], "hints": [], "relation_ok": True,
            "matched_company": "ソニー株式会社"})
    for i in range(scale.speakers):
        batch.set(db.collection("speakers").document(f"big-sp-{i:02d}"), {
            "name": f"登壇者　{i}", "email": f"s{i}@example.jp", "topic": "テーマ", "series_id": "speaker_night", "priority": 0,
            "status": "queued", "proposed_at": now - dt.timedelta(days=i), "current_offer": None, "impossible_dates": [],
            "declined_dates": []})
    batch.commit()
    store = bootstrap.doc_store()
    for i in range(scale.audit):
        audit.record(store, audit.Actor("tanaka", "田中　太郎"), "host.unavailable", "hosts/tanaka",
                     {"unavailable": []}, {"unavailable": [f"2099-01-{1 + i % 28:02d}"]}, now - dt.timedelta(seconds=i))
    lunch = c.in_person_slot()["id"]
    c.rsvps(lunch, scale.attendees, now, capacity=scale.seats)
    newsletter.run(deps(), now)  # this month's issue, in preview
    month = referrals.months(now, bootstrap.config().community.timezone, 1)[0]
    batch = db.batch()
    for i in range(scale.referrals):
        newcomer = _member(scale.members - 1 - i)
        batch.set(db.collection("referrals").document(newcomer), {
            "referrer": _member(i), "member": newcomer, "how": "code", "month": month, "at": now})
    batch.commit()
    for i in range(scale.interviews):
        interviews.add(store, _member(i), f"切り口　{i}", now)
    return {"slot": world["duties"][0]["slot_id"], "lunch": lunch, "application": "big-app-000",
            "middle": _name(scale.members // 2), "prefix": _name(scale.members // 2)[:-2], "referrals": scale.referrals}


def _member(i: int) -> str:
    return f"big{i:05d}"


def _name(i: int) -> str:
    return f"会員　{i:05d}"


def shown(res: Any) -> int:
    """The documents an answer shows: each ``data-doc`` once; a CSV's rows."""
    if res.mimetype == "text/csv":
        return max(0, len(res.get_data().decode("utf-8-sig").strip().splitlines()) - 1)
    return len(set(re.findall(r'data-doc="([^"]+)"', res.get_data(as_text=True))))


def allowed_beyond(name: str, res: Any, ids: Mapping[str, Any]) -> int:
    """Reads a page may make beyond what it shows. Referrals reads each listed referral's referrer to
    check the consent to be shown: a referral whose referrer did not agree costs two reads and shows
    nothing (docs/console.md, "Performance")."""
    if name != "referrals":
        return BEYOND
    from shared.entrypoints.console.referrals import CAP

    listed = min(int(ids["referrals"]), CAP)
    pairs = len(set(re.findall(r'data-doc="(referrals/[^"]+)"', res.get_data(as_text=True))))
    return BEYOND + 2 * (listed - pairs)
