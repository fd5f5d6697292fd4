"""The organizer console: one function, server-rendered pages, no JavaScript needed (docs/console.md).

Pages (each a module of this package, registered in :mod:`.registry`): Today, Schedule, Attendees,
Applications, Speakers, Hosts, Members, Newsletter, Interviews, Referrals, Audit log; sign-in in
:mod:`.auth`. Every change goes through ``shared/usecases/operations.py``, the code path the CLI and
the mail links share.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from flask import Request, Response

from shared import bootstrap
from shared.entrypoints.console import auth, registry
from shared.entrypoints.web.app import Ctx, HttpError, WebApp
from shared.platform import env, texts
from shared.usecases import roster

# The page modules, in the order their routes are added. Adding a page: docs/console.md.
PAGES = ("today", "schedule", "attendees", "applications", "speakers", "hosts", "members", "newsletter", "interviews",
         "referrals", "audit_log")


def _base_url() -> str | None:
    return os.environ.get(env.CONSOLE_URL) or None


def _globals(ctx: Ctx) -> Mapping[str, Any]:
    return {"nav": registry.navigation(ctx), "person": ctx.user, "flashes": ctx.extra.get("flashes", [])}


@cache
def app() -> WebApp:
    web = WebApp("console", key=auth.session_key, locale=lambda: bootstrap.config().community.locale,
                 site_name=lambda: bootstrap.config().community.name, base_url=_base_url, globals=_globals)
    web.before.append(_signed_in)
    _add_sign_in_routes(web)
    _import_pages()
    registry.install(web)
    return web


def _import_pages() -> None:
    # Static imports, not importlib: the bundle builder and the infra check follow imports to find
    # what a function runs (tools/bundle.py). Adding a page: import its module here and in PAGES.
    from shared.entrypoints.console import (
        applications,
        attendees,
        audit_log,
        hosts,
        interviews,
        members,
        newsletter,
        referrals,
        schedule,
        speakers,
        today,
    )

    loaded = {m.__name__.rsplit(".", 1)[1] for m in (today, schedule, attendees, applications, speakers, hosts, members,
                                                      newsletter, interviews, referrals, audit_log)}
    assert loaded == set(PAGES), "PAGES and the imports in _import_pages() must name the same modules"


def handle(request: Request) -> Response:
    return app().handle(request)


def _signed_in(ctx: Ctx) -> Response | None:
    """Every route but sign-in and the built-ins needs a person with one of the route's roles."""
    auth.load_session(ctx)
    assert ctx.route is not None
    if not ctx.route.options.get("auth", True):
        return None
    if ctx.user is None:
        if ctx.method in ("GET", "HEAD"):
            return ctx.redirect("login")
        raise HttpError(401, "console.error.signin")
    roles = ctx.route.options.get("roles", registry.ORGANIZERS)
    if not (roles & ctx.user.roles) or (not ctx.user.is_organizer and not ctx.user.is_host):
        raise HttpError(403, "console.error.organizers_only")
    flash = ctx.request.args.get("done")
    if flash and len(flash) <= 40 and flash.replace("_", "").isalnum():
        key = f"console.flash.{flash}"
        if texts.has(ctx.locale, key):
            ctx.extra["flashes"] = [{"kind": "ok", "text": ctx.t(key)}]
    return None


# ------------------------------------------------------------------ sign-in routes


def _add_sign_in_routes(web: WebApp) -> None:
    web.router.add("/login", login_page, ("GET",), "login", auth=False)
    web.router.add("/login/google", login_google, ("POST",), "login_google", auth=False, csrf=False)
    web.router.add("/login/mail", login_mail, ("POST",), "login_mail", auth=False)
    web.router.add("/login/link", login_link, ("GET", "POST"), "login_link", auth=False)
    web.router.add("/logout", logout, ("POST",), "logout", auth=True, roles=registry.EVERYONE)


def login_page(ctx: Ctx, status: int = 200, message: str | None = None, sent: bool = False) -> Response:
    if ctx.user is not None and message is None:
        return ctx.redirect("today")
    google = auth.client_id()
    if google:
        ctx.extra["csp"] = auth.GSI_CSP
    return ctx.render("console/login.html", status=status, title=ctx.t("console.login.title"), google_client_id=google,
                      login_uri=ctx.absolute_url("login_google"), gsi_script=auth.GSI_SCRIPT, message=message, sent=sent)


def login_google(ctx: Ctx) -> Response:
    try:
        email = auth.verify_google(ctx)
    except auth.SignInRefused as exc:
        auth.logger.warning("sign-in refused", reason=exc.key.rsplit(".", 1)[1])
        return login_page(ctx, 403 if exc.key != "console.login.google_off" else 404, ctx.t(exc.key))
    person = roster.by_email(bootstrap.config(), bootstrap.doc_store(), email)
    if person is None or not (person.is_organizer or person.is_host):
        auth.logger.warning("sign-in refused", reason="not_on_roster")
        return login_page(ctx, 403, ctx.t("console.login.not_allowed"))
    return auth.start_session(ctx, person, "google")


def login_mail(ctx: Ctx) -> Response:
    auth.request_link(ctx, ctx.form("email", 254))
    return login_page(ctx, 200, None, sent=True)


def login_link(ctx: Ctx) -> Response:
    token = ctx.request.args.get("t", "") if ctx.method == "GET" else ctx.form("t", 2048)
    claims, person = auth.check_link(token, ctx.now)
    if ctx.method == "GET":
        return ctx.render("console/login_link.html", title=ctx.t("console.login.link_title"), token=token, name=person.name)
    if not auth.use_link(claims, ctx.now):
        raise HttpError(409, "console.login.link_used")
    return auth.start_session(ctx, person, "mail")


def logout(ctx: Ctx) -> Response:
    auth.end_session(ctx)
    return ctx.redirect("login")
