"""HTTP side of the ``actions`` function: GET shows a confirmation page, POST performs."""

from __future__ import annotations

import datetime as dt

from flask import Request, Response

from shared.entrypoints import http
from shared.platform import log
from shared.platform.actions import ActionService, Page

FUNCTION = "actions"


def render_page(page: Page, locale: str) -> Response:
    from shared.platform.mail import template

    html = template("action_page.html", locale).render(title=page.title, lines=page.lines, form=page.form, lang=locale,
                                                       locale=locale)
    return Response(html, status=page.status, mimetype="text/html", headers={
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"})


def _service() -> ActionService:
    """Every registered action, over the one document store."""
    from shared import bootstrap
    from shared.entrypoints import action_handlers
    from shared.platform import tokens

    cfg = bootstrap.config()
    action_handlers.load()
    return ActionService(bootstrap.doc_store(), tokens.key_from_env(), cfg.community.locale, cfg.community.timezone)


def sweep(now: dt.datetime) -> dict[str, int]:
    """Finish (or release) the link actions a crash left ``running`` past their lease; run by the
    poller every 30 minutes (shared/entrypoints/jobs_applications.py), so a half-done decision
    nobody clicks again is repaired within the hour."""
    counts = _service().sweep(now)
    if counts:
        log.get(FUNCTION).warning("half-finished actions recovered", **{"outcome": ",".join(f"{k}={v}" for k, v in counts.items())})
    return counts


def handle(request: Request) -> Response:
    from shared import bootstrap
    from shared.config import ConfigError

    if (refused := http.not_configured(FUNCTION)) is not None:
        return refused

    if request.path.rstrip("/") == "/me":  # the member's settings page (docs/members.md)
        from shared.entrypoints import member_page

        return member_page.handle(request)
    logger = log.get(FUNCTION)
    cfg = bootstrap.config()
    locale = cfg.community.locale
    if request.method not in ("GET", "POST", "HEAD"):
        return Response("use GET or POST", status=405)
    service = _service()
    now = dt.datetime.now(dt.UTC)
    if request.method in ("GET", "HEAD"):
        page = service.show(request.args.get("t", ""), now)
    else:
        token = request.form.get("t") or request.args.get("t", "")
        try:
            page = service.perform(token, request.form.get("actor") or None, now)
        except ConfigError as exc:  # e.g. no mail settings on Cloud Functions; the claims were released
            logger.error("invalid community config", error=str(exc))
            page = Page(500, service.t("bad"), (service.t("retry"),), extra={"reason": "config"})
    logger.info("action page", http_status=page.status, reason=page.extra.get("reason"), kind=request.method)
    return render_page(page, locale)
