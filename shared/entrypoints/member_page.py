"""HTTP side of the member's settings page, ``/me`` of the ``actions`` function (docs/members.md).

``GET /me?t=<token>`` shows the member's opt-ins and directory entry; ``POST /me`` with the same
token (a hidden field: no session, no cookie) saves, removes the entry or replaces the link, then
redirects to the page (303), so a reload never posts twice. ``GET /me`` without a token (what bulk
mails link to) asks for an address and mails that member their link. A refused token changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import Request, Response

from shared.platform import log

FUNCTION = "actions"
MAX_BODY = 16 * 1024
NOTICES = ("saved", "removed")
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
            "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                       "frame-ancestors 'none'; base-uri 'none'"}


def _render(status: int, locale: str, **context: Any) -> Response:
    from shared.platform import texts
    from shared.platform.mail import _jinja

    context.setdefault("name", "")
    for key in ("notice", "error", "refused", "token"):
        context.setdefault(key, None)
    loc = texts.normalise(locale)
    html = _jinja().get_template("layouts/member_page.html").render(locale=loc, lang=texts.language(loc), **context)
    return Response(html, status=status, mimetype="text/html", headers=_HEADERS)


def handle(request: Request) -> Response:
    from shared import bootstrap
    from shared.domain.members import CONSENTS, EntryError
    from shared.platform import texts
    from shared.usecases import members as uc

    logger = log.get(FUNCTION)
    if request.method not in ("GET", "HEAD", "POST"):
        return Response("use GET or POST", status=405, headers={"Allow": "GET, HEAD, POST"})
    cfg = bootstrap.config()
    deps = bootstrap.member_deps()
    now = dt.datetime.now(dt.UTC)
    community = cfg.community.name
    # Forms post back to the page. On cloudfunctions.net the function sees /me while the browser is at
    # /actions/me, so a root-relative "/me" would miss: the configured URL, else the relative "me".
    action = uc.page_url(deps.base_url) if deps.base_url else "me"
    base: dict[str, Any] = {"community": community, "action": action}

    def request_form(status: int, refused: str | None = None, notice: str | None = None,
                     error: str | None = None) -> Response:
        logger.info("member page", http_status=status, reason=refused or notice or error or "request", kind=request.method)
        return _render(status, cfg.community.locale, mode="request", refused=refused, notice=notice, error=error, **base)

    if request.method == "POST" and (request.content_length or 0) > MAX_BODY:
        return request_form(413, error="bad_form")
    form: Mapping[str, Any] = request.form if request.method == "POST" else {}
    token = str(form.get("t") or "") if request.method == "POST" else request.args.get("t", "")
    op = str(form.get("op") or "") if request.method == "POST" else ""
    if request.method == "POST" and op == "request":
        try:
            uc.request_link(deps, str(form.get("email") or ""), now)
        except ValueError:
            return request_form(400, error="bad_email")
        return request_form(200, notice="requested")
    if not token:
        return request_form(400 if request.method == "POST" else 200, error="bad_form" if request.method == "POST" else None)
    try:
        member_id, member = uc.open_link(deps, token, now)
    except uc.LinkRefused as exc:
        reason = "revoked_link" if exc.kind == "revoked" else exc.kind
        return request_form(exc.status, refused=reason if reason in ("malformed", "tampered", "expired", "revoked_link",
                                                                     "unknown") else "tampered")
    locale = texts.normalise(member.get("locale"), cfg.community.locale)

    def settings(status: int, notice: str | None = None, error: str | None = None,
                 typed: Mapping[str, Any] | None = None) -> Response:
        view = uc.page_view(deps, member_id, member, token)
        if typed is not None:  # show what was typed next to the error, not the stored values
            view["entry"] = {k: str(typed.get(k) or "") for k in ("company", "role", "link", "intro")}
            view["consents"] = {**view["consents"], **{c: c in typed.get("consent", ()) for c in CONSENTS}}
        logger.info("member page", http_status=status, reason=notice or error or "view", kind=request.method)
        return _render(status, view["locale"], mode="settings", notice=notice, error=error, **base,
                       **{k: v for k, v in view.items() if k not in ("community", "locale")})

    if request.method in ("GET", "HEAD"):
        notice = request.args.get("done")
        return settings(200, notice=notice if notice in NOTICES else None)
    if op == "save":
        chosen = set(form.getlist("consent")) if hasattr(form, "getlist") else set()
        if not chosen <= set(CONSENTS):
            return settings(400, error="bad_form")
        wanted = {c: c in chosen for c in CONSENTS}
        entry = {k: str(form.get(k) or "") for k in ("company", "role", "link", "intro")}
        try:
            uc.save_settings(deps, member_id, member, wanted, entry, now)
        except EntryError as exc:
            return settings(400, error=f"entry_{exc.field}", typed={**entry, "consent": chosen})
        return _redirect(action, token, "saved")
    if op == "remove_directory":
        uc.remove_entry(deps, member_id, member, now)
        return _redirect(action, token, "removed")
    if op == "revoke":
        uc.revoke_link(deps, member_id, member, now)
        logger.info("member page", http_status=200, reason="revoked", kind=request.method)
        return _render(200, locale, mode="message", notice="revoked", **base)
    return settings(400, error="bad_form")


def _redirect(path: str, token: str, notice: str) -> Response:
    from urllib.parse import urlencode

    res = Response("", status=303, headers=_HEADERS)
    res.headers["Location"] = f"{path}?{urlencode({'t': token, 'done': notice})}"
    return res
