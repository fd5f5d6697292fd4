"""Members: the directory with each member's opt-ins, found by name, a page at a time; CSV exports
with the CLI's rules (a BOM for Excel, cells that would be formulas neutralised)."""

from __future__ import annotations

from flask import Response

from shared import bootstrap
from shared.domain import members as members_domain
from shared.entrypoints.console import views
from shared.entrypoints.console.registry import page
from shared.entrypoints.web.app import Ctx, HttpError
from shared.usecases import rhythm

PAGE = 50


@page("/members", name="members", label="console.nav.members", order=60)
def members(ctx: Ctx) -> Response:
    store = bootstrap.doc_store()
    q = ctx.request.args.get("q", "").strip()[:60]
    after = ctx.request.args.get("after", "")[:200]
    where = []
    if q:
        where += [("name", ">=", q), ("name", "<", q + "\uf8ff")]
    if after:
        where.append(("name", ">", after))
    found = store.query("members", where, order_by="name", limit=PAGE + 1)
    rows = [{"m": views.with_defaults(m, views.MEMBER_DEFAULTS), "joined": views.local(ctx, m.get("joined_at"), with_time=False),
             "consents": [name for name, yes in members_domain.consents_of(m).items() if yes]} for m in found[:PAGE]]
    next_after = str(found[PAGE - 1].get("name") or "") if len(found) > PAGE else None
    return ctx.render("console/members.html", title=ctx.t("console.members.title"), rows=rows, q=q, next_after=next_after,
                      after=after)


@page("/members/export/<what>", name="members_export", section="members")
def export(ctx: Ctx) -> Response:
    store = bootstrap.doc_store()
    what = ctx.params["what"]
    if what == "directory.csv":
        text = rhythm.export_directory_csv(store, ctx.locale)  # the headers in the page's language
    elif what == "members.csv":
        text = rhythm.export_members_csv(store, bootstrap.config().community.timezone)
    else:
        raise HttpError(404, "web.error.not_found")
    # Excel opens a UTF-8 CSV with Japanese correctly only with a BOM (the CLI writes it the same way).
    return Response(("\ufeff" + text).encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{what}"'})
