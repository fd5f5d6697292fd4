"""The public ``events`` function: the events pages, RSVP links, the public feed (docs/events.md).

Routes (one web-kit app, docs/web.md): ``/`` upcoming events, ``/e/<id>`` one event (JSON-LD, Open
Graph, the RSVP form; POST = the form), ``/e/<id>/sent``, ``/e/<id>/event.ics``, ``/feed.ics``,
``/r/<confirm|cancel|accept|status>?t=`` the signed links of the RSVP mails (GET shows a button,
POST acts, then 303 to the status page), ``/u?t=`` the one-click unsubscribe (RFC 8058: the POST
carries no cookie, the signed token is the proof), ``/newsletters`` the archive, ``/stories`` the
published interviews, ``/sitemap.xml``, ``/robots.txt``.

Reads per page view: the list reads its events (one query), one head document per event that
takes RSVPs and the latest interviews (one query of at most ``LATEST_STORIES``); an event page
reads its slot and its head; ``/stories`` one query of at most ``STORIES_LIMIT``. Nothing grows with
members or attendees.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Request, Response

from shared import bootstrap
from shared.entrypoints.web.app import Ctx, HttpError, WebApp
from shared.platform import texts

FUNCTION = "events"
LATEST_STORIES = 3  # the newest published interviews on the list page
STORIES_LIMIT = 100  # /stories: the newest this many (docs/events.md)
ACTIONS = ("confirm", "cancel", "accept", "status")
DONE = frozenset({"confirmed", "promoted", "accepted", "waitlisted", "cancelled", "already", "stale", "closed", "too_late"})


def _key() -> bytes:
    from shared.platform import tokens

    # The pages' own key (CSRF, cookies), derived from the link key: one secret, two purposes apart.
    return hmac.new(tokens.key_from_env(), b"events-pages", hashlib.sha256).digest()


def _base_url() -> str | None:
    return bootstrap.events_base_url() if _configured_base() else None


def _configured_base() -> bool:
    import os

    from shared.platform import env

    return bool(os.environ.get(env.EVENTS_BASE_URL))


app = WebApp(FUNCTION, key=_key, locale=lambda: bootstrap.config().community.locale,
             site_name=lambda: bootstrap.config().community.name, base_url=_base_url, private=False)


def handle(request: Request) -> Response:
    return app.handle(request)


# --- views ---------------------------------------------------------------------------------------


def deps(ctx: Ctx) -> Any:
    """The RSVP use cases' dependencies. Without ``EVENTS_BASE_URL`` (a local run) the links in
    mails point where this page was opened."""
    import dataclasses

    found = bootstrap.rsvp_deps()
    if not _configured_base():
        found = dataclasses.replace(found, links=dataclasses.replace(found.links, base_url=ctx.request.host_url.rstrip("/")))
    return found


def _label(kind: str) -> str:
    from shared.config.events import kind_label

    cfg = bootstrap.config()
    return kind_label(cfg.events, cfg.rhythm.event_kinds, kind)


def view(ctx: Ctx, slot: Mapping[str, Any], summary: Any | None) -> dict[str, Any]:
    """The template's values for one event: only what the public may see."""
    from shared.domain.event_pages import public_event
    from shared.usecases.rsvp_rules import kind_rules

    cfg = bootstrap.config()
    rules = kind_rules(cfg, slot)
    ev = public_event(slot, _label(str(slot.get("kind") or "")), members_only=rules.visibility == "members_only",
                      rsvp=rules.rsvp, public_speakers=cfg.events.public_speakers)
    zone = ev.timezone
    capacity = summary.capacity if summary is not None else None
    free = summary.free if summary is not None else None
    return {"id": ev.id, "title": ev.title, "kind_label": ev.kind_label, "online": ev.online,
            "when": texts.fmt_datetime(ctx.locale, ev.start, zone), "until": texts.fmt_time(ctx.locale, ev.local(ev.end)),
            "start_iso": ev.start.astimezone(dt.UTC).isoformat(), "venue_name": ev.venue.name if ev.venue else "",
            "venue_address": ev.venue.address if ev.venue else "", "map_url": ev.venue.map_url if ev.venue else "",
            "description": ev.description, "topic": ev.topic, "speaker": ev.speaker, "cancelled": ev.cancelled,
            "members_only": ev.members_only, "rsvp": ev.rsvp, "capacity": capacity, "free": free,
            "waiting": summary.waiting if summary is not None else 0, "full": capacity is not None and free == 0,
            "ended": slot["end"] <= ctx.now, "url": ctx.url("event", slot_id=ev.id),
            "rescheduled_from": texts.fmt_datetime(ctx.locale, ev.previous_start, zone) if ev.previous_start else "",
            "_public": ev}


def _summary(slot: Mapping[str, Any]) -> Any | None:
    from shared.usecases.rsvp_rules import kind_rules, seat_summary

    cfg = bootstrap.config()
    if kind_rules(cfg, slot).rsvp == "none":
        return None
    return seat_summary(cfg, bootstrap.rsvp_log(), slot)


def _visible(slot: Mapping[str, Any]) -> bool:
    from shared.usecases.rsvp_rules import kind_rules

    return kind_rules(bootstrap.config(), slot).visibility != "hidden" and slot.get("status") in ("scheduled", "cancelled")


def _slot(slot_id: str) -> dict[str, Any]:
    slot = bootstrap.slot_store().get_slot(slot_id)
    if slot is None or not _visible(slot):
        raise HttpError(404, "events.error.not_found")
    return slot


# --- pages ---------------------------------------------------------------------------------------


@app.route("/", name="home")
def home(ctx: Ctx) -> Response:
    from shared.domain.event_pages import open_graph

    cfg = bootstrap.config()
    slots = bootstrap.slot_store().slots_between(ctx.now - dt.timedelta(hours=3), ctx.now + dt.timedelta(days=cfg.events.horizon_days))
    events = [view(ctx, s, _summary(s)) for s in slots if _visible(s) and s["end"] > ctx.now]
    intro = ctx.t("events.list.intro")
    canonical = ctx.absolute_url("home")
    og = open_graph(ctx.t("events.list.heading", community=cfg.community.name), canonical, cfg.community.name, intro,
                    cfg.events.image_url, ctx.locale)
    return ctx.render("events/list.html", title=ctx.t("events.list.title"), events=events, intro=intro, canonical=canonical,
                      feed_url=ctx.url("feed"), og=og, stories=_stories(ctx, LATEST_STORIES))


@app.route("/e/<slot_id>", methods=("GET", "POST"), name="event")
def event(ctx: Ctx) -> Response:
    from shared.domain.event_pages import google_calendar_link, json_ld, json_ld_script, open_graph
    from shared.usecases.rsvp_rules import kind_rules

    cfg = bootstrap.config()
    slot = _slot(ctx.params["slot_id"])
    if ctx.method == "POST":
        from shared.usecases import rsvp

        email, name, notes = ctx.form("email", 320), ctx.form("name", 200), ctx.form("notes", 1000)
        try:
            rsvp.request(deps(ctx), slot["id"], email, name, notes, ctx.now, ctx.locale)
        except rsvp.RsvpRefused as exc:
            raise HttpError(exc.status, f"events.error.{exc.reason}") from None
        return ctx.redirect("sent", slot_id=slot["id"])
    summary = _summary(slot)
    ev = view(ctx, slot, summary)
    public = ev.pop("_public")
    rules = kind_rules(cfg, slot)
    canonical = ctx.absolute_url("event", slot_id=slot["id"])
    place = "" if public.online else (public.venue.line() if public.venue else "")
    summary_text = " ".join(p for p in (ev["when"], public.topic, public.description) if p)[:300]
    site = cfg.events.site_url or ctx.absolute_url("home")
    data = None if public.members_only else json_ld(public, canonical, cfg.community.name, site, cfg.events.image_url,
                                                    ev["free"], cfg.events.currency)
    details = "\n".join(p for p in (public.topic, public.description, canonical) if p)
    can_rsvp = rules.rsvp != "none" and not ev["cancelled"] and slot["start"] > ctx.now
    return ctx.render("events/event.html", title=ev["title"] or ev["kind_label"], ev=ev, summary=summary_text,
                      canonical=canonical, og=open_graph(ev["title"] or ev["kind_label"], canonical, cfg.community.name,
                                                         summary_text, cfg.events.image_url, ctx.locale),
                      json_ld=json_ld_script(data) if data else "", google_link=google_calendar_link(public, details, place),
                      ics_url=ctx.url("event_ics", slot_id=slot["id"]), can_rsvp=can_rsvp, ask_notes=rules.ask_notes)


@app.route("/e/<slot_id>/sent", name="sent")
def sent(ctx: Ctx) -> Response:
    from shared.usecases.rsvp_rules import kind_rules

    slot = _slot(ctx.params["slot_id"])
    return ctx.render("events/sent.html", title=ctx.t("events.sent.title"), event_id=slot["id"],
                      members=kind_rules(bootstrap.config(), slot).rsvp == "members")


def _public_entry(ctx: Ctx, slot: Mapping[str, Any]) -> Any:
    from shared.domain.event_pages import public_event
    from shared.domain.ids import calendar_event_id
    from shared.ports import CalendarEntry
    from shared.usecases.rsvp_rules import kind_rules

    cfg = bootstrap.config()
    rules = kind_rules(cfg, slot)
    ev = public_event(slot, _label(str(slot.get("kind") or "")), members_only=rules.visibility == "members_only",
                      rsvp=rules.rsvp, public_speakers=cfg.events.public_speakers)
    url = ctx.absolute_url("event", slot_id=ev.id)
    where = ctx.t("events.event.online") if ev.online else (ev.venue.line() if ev.venue else "")
    return CalendarEntry(uid=f"public-{calendar_event_id(ev.id)}", title=ev.title or ev.kind_label, start=ev.start, end=ev.end,
                         timezone=ev.timezone, description="\n".join(p for p in (ev.topic, ev.description, url) if p),
                         location=where, status="cancelled" if ev.cancelled else "confirmed",
                         sequence=int(slot.get("revision") or 0))


def _ics(body: bytes, filename: str) -> Response:
    res = Response(body, status=200, mimetype="text/calendar")
    res.headers["Content-Type"] = "text/calendar; charset=utf-8"
    res.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    res.headers["Cache-Control"] = "public, max-age=900"
    return res


@app.route("/e/<slot_id>/event.ics", name="event_ics")
def event_ics(ctx: Ctx) -> Response:
    from shared.adapters.ics import calendar_ics

    slot = _slot(ctx.params["slot_id"])
    return _ics(calendar_ics([_public_entry(ctx, slot)], name=bootstrap.config().community.name), f"{slot['id']}.ics")


@app.route("/feed.ics", name="feed")
def feed(ctx: Ctx) -> Response:
    from shared.adapters.ics import calendar_ics

    cfg = bootstrap.config()
    slots = bootstrap.slot_store().slots_between(ctx.now - dt.timedelta(days=7), ctx.now + dt.timedelta(days=cfg.events.horizon_days))
    return _ics(calendar_ics([_public_entry(ctx, s) for s in slots if _visible(s)], name=cfg.community.name), "events.ics")


# --- the links of the RSVP mails -----------------------------------------------------------------


def _status_redirect(ctx: Ctx, rid: str, slot: Mapping[str, Any], done: str) -> Response:
    from shared.platform import tokens
    from shared.usecases.rsvp import STATUS

    token = tokens.issue(deps(ctx).links.key, rid, STATUS, ctx.now, max(slot["end"] + dt.timedelta(days=7) - ctx.now,
                                                                      dt.timedelta(days=1)))
    query = {"t": token, **({"done": done} if done in DONE else {})}
    return Response("", status=303, headers={"Location": ctx.url("link", action="status") + "?" + urlencode(query)})


@app.route("/r/<action>", methods=("GET", "POST"), name="link")
def link(ctx: Ctx) -> Response:
    from shared.platform import tokens
    from shared.usecases import rsvp

    action = ctx.params["action"]
    if action not in ACTIONS or (action == "status" and ctx.method == "POST"):
        raise HttpError(404, "events.error.not_found")
    token = (ctx.form("t", 2100) if ctx.method == "POST" else ctx.request.args.get("t", ""))[:2100]
    try:
        if action == "status":
            return _status_page(ctx, rsvp.status(deps(ctx), token, ctx.now))
        name = {"confirm": rsvp.CONFIRM, "cancel": rsvp.CANCEL, "accept": rsvp.ACCEPT}[action]
        claims = tokens.verify(deps(ctx).links.key, token, ctx.now, name)
        rid = claims.subject.partition("|")[0]
        event_id, _ = rsvp.split_rsvp_id(rid)
        slot = _slot(event_id)
        if ctx.method == "GET":
            return _button_page(ctx, action, token, slot)
        outcome = {"confirm": rsvp.confirm, "cancel": rsvp.cancel, "accept": rsvp.accept}[action](deps(ctx), token, ctx.now)
    except (tokens.TokenError, ValueError):
        raise HttpError(400, "events.error.bad_link") from None
    except rsvp.RsvpRefused as exc:
        raise HttpError(exc.status, f"events.error.{exc.reason}") from None
    except rsvp.RsvpBusy:
        raise HttpError(503, "events.error.busy") from None
    return _status_redirect(ctx, rid, slot, outcome.kind)


def _button_page(ctx: Ctx, action: str, token: str, slot: Mapping[str, Any]) -> Response:
    """GET of a link: one button (mail scanners and link previews only GET, so they never act)."""
    title = ctx.t(f"events.link.{action}_title")
    return ctx.render("events/link.html", title=title, event_title=str(slot.get("title") or ""),
                      event_when=texts.fmt_datetime(ctx.locale, slot["start"], str(slot.get("timezone") or "UTC")),
                      note=ctx.t("events.link.cancel_text") if action == "cancel" else "",
                      action=ctx.url("link", action=action), token=token, button=ctx.t(f"events.link.{action}_button"),
                      kind="danger" if action == "cancel" else "")


def _status_page(ctx: Ctx, status: Any) -> Response:
    slot = _slot(status.event_id)
    done = ctx.request.args.get("done", "")
    flashes = [{"kind": "ok" if done in ("confirmed", "promoted", "accepted", "cancelled") else "warn",
                "text": ctx.t(f"events.status.done.{done}")}] if done in DONE else []
    zone = str(slot.get("timezone") or "UTC")
    return ctx.render("events/status.html", title=ctx.t("events.status.title"), flashes=flashes, name=status.name,
                      event_id=slot["id"], event_title=str(slot.get("title") or ""),
                      event_when=texts.fmt_datetime(ctx.locale, slot["start"], zone), place=status.place,
                      position=status.position, waiting=status.waiting,
                      until=texts.fmt_datetime(ctx.locale, status.until, zone) if status.until else "",
                      cancel_url=status.links.get("cancel_url", "") if slot["end"] > ctx.now else "",
                      accept_url=status.links.get("accept_url", "") if status.place == "offered" else "")


@app.route("/u", methods=("GET", "POST"), name="unsubscribe", csrf=False)
def unsubscribe(ctx: Ctx) -> Response:
    """RFC 8058: a mail client POSTs ``List-Unsubscribe=One-Click`` to this URL, without cookies;
    the signed token in the URL is the proof. A person's GET sees a button first."""
    from shared.platform import tokens
    from shared.usecases import members

    token = ctx.request.args.get("t", "")[:2100]
    try:
        _claims, consent = members.unsubscribe_claims(deps(ctx).links.key, token, ctx.now)
        texts_of = f"events.unsubscribe.{consent}"
        if ctx.method == "GET":
            return ctx.render("events/unsubscribe.html", title=ctx.t(f"{texts_of}.title"), done="", list=texts_of,
                              action=ctx.url("unsubscribe") + "?" + urlencode({"t": token}))
        found, _ = members.unsubscribe(deps(ctx).store, deps(ctx).links.key, token, ctx.now)
    except tokens.TokenError:
        raise HttpError(400, "events.error.bad_link") from None
    return ctx.render("events/unsubscribe.html", title=ctx.t(f"{texts_of}.title"), done="done" if found else "gone",
                      action="", list=texts_of)


# --- the newsletter archive, and what search engines read ----------------------------------------


@app.route("/newsletters", name="newsletters")
def newsletters(ctx: Ctx) -> Response:
    from shared.usecases.newsletter import archive

    issues = [{"month": str(i.get("month") or i["id"])} for i in archive(bootstrap.doc_store())]
    return ctx.render("events/newsletters.html", title=ctx.t("events.newsletters.title"), issues=issues)


@app.route("/newsletters/<month>", name="newsletter")
def newsletter(ctx: Ctx) -> Response:
    from shared.usecases.newsletter import NEWSLETTERS, SENT, render_issue

    issue = bootstrap.doc_store().get(NEWSLETTERS, ctx.params["month"])
    if issue is None or issue.get("status") != SENT or not isinstance(issue.get("content"), Mapping):
        raise HttpError(404, "web.error.not_found")
    # The public copy leaves out the featured members (their consent covers the members' mail, not the web).
    content = {**issue["content"], "featured": []}
    text = render_issue(bootstrap.config(), content, "", ctx.locale).text
    return ctx.render("events/newsletter.html", title=ctx.t("events.newsletters.issue", month=issue["month"]),
                      month=str(issue["month"]), text=text)


# --- the published interviews --------------------------------------------------------------------


def _stories(ctx: Ctx, limit: int) -> list[dict[str, str]]:
    """The newest published pieces the member agreed to, as the templates show them (docs/events.md)."""
    from zoneinfo import ZoneInfo

    from shared.usecases.stories import published

    zone = ZoneInfo(bootstrap.config().community.timezone)
    out = []
    for p in published(bootstrap.doc_store(), limit=limit):
        day = p["published_at"].astimezone(zone).date() if p["published_at"] else None
        out.append({"title": p["title"], "member": p["member"], "link": p["link"],
                    "date": texts.fmt_date(ctx.locale, day) if day else "", "date_iso": day.isoformat() if day else ""})
    return out


@app.route("/stories", name="stories")
def stories(ctx: Ctx) -> Response:
    return ctx.render("events/stories.html", title=ctx.t("events.stories.title"), stories=_stories(ctx, STORIES_LIMIT),
                      canonical=ctx.absolute_url("stories"))


@app.route("/robots.txt", name="robots")
def robots(ctx: Ctx) -> Response:
    body = f"User-agent: *\nDisallow: {ctx.url('link', action='status')}\nDisallow: {ctx.url('unsubscribe')}\n" \
           f"Sitemap: {ctx.absolute_url('sitemap')}\n"
    return Response(body, mimetype="text/plain")


@app.route("/sitemap.xml", name="sitemap")
def sitemap(ctx: Ctx) -> Response:
    from xml.sax.saxutils import escape

    cfg = bootstrap.config()
    slots = bootstrap.slot_store().slots_between(ctx.now, ctx.now + dt.timedelta(days=cfg.events.horizon_days))
    urls = [ctx.absolute_url("home")] + [ctx.absolute_url("event", slot_id=s["id"]) for s in slots if _visible(s)]
    body = '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + \
        "".join(f"<url><loc>{escape(u)}</loc></url>\n" for u in urls) + "</urlset>\n"
    return Response(body, mimetype="application/xml")
