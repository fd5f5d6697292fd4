"""Audit log: every change made in the console or the CLI, newest first: who, what, when, before, after."""

from __future__ import annotations

from flask import Response

from shared import bootstrap
from shared.entrypoints.console import views
from shared.entrypoints.console.registry import page
from shared.entrypoints.web.app import Ctx
from shared.usecases import audit


@page("/audit", name="audit", label="console.nav.audit", order=90)
def audit_log(ctx: Ctx) -> Response:
    raw = ctx.request.args.get("after", "")
    after = int(raw) if raw.isdigit() and len(raw) <= 14 else None
    entries = audit.page(bootstrap.doc_store(), after, audit.PAGE + 1)
    rows = [{"e": views.with_defaults(e, views.AUDIT_DEFAULTS), "at": views.local(ctx, e.get("at")),
             "before": _pairs(e.get("before")), "after": _pairs(e.get("after"))}
            for e in entries[: audit.PAGE]]
    more = str(entries[audit.PAGE - 1]["seq"]) if len(entries) > audit.PAGE else None
    return ctx.render("console/audit.html", title=ctx.t("console.audit.title"), rows=rows, more=more, first=after is not None)


def _pairs(value: object) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return []
    out = []
    for k, v in sorted(value.items()):
        if isinstance(v, dict):
            v = ", ".join(f"{a}={b}" for a, b in sorted(v.items()) if b not in (None, ""))
        out.append((str(k), "" if v is None else str(v)))
    return out
