"""Referrals: members who joined through a referral, per month (count aggregations), and for the
chosen month who brought whom, only for referrers who agreed to be shown (docs/members.md)."""

from __future__ import annotations

import re

from flask import Response

from shared import bootstrap
from shared.entrypoints.console.registry import page
from shared.entrypoints.web.app import Ctx

MONTHS = 6  # counts shown, one aggregation each
CAP = 50  # referrals of the chosen month read for the list
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@page("/referrals", name="referrals", label="console.nav.referrals", order=80)
def referrals_page(ctx: Ctx) -> Response:
    from shared.usecases import referrals

    cfg, store = bootstrap.config(), bootstrap.doc_store()
    months = referrals.months(ctx.now, cfg.community.timezone, MONTHS)
    asked = ctx.request.args.get("month", "")
    month = asked if MONTH.fullmatch(asked) else months[0]
    chosen = referrals.month_summary(cfg, store, month, CAP, with_ids=True)
    counts = [{"month": m, "count": chosen["count"] if m == month else store.count(referrals.REFERRALS, [("month", "==", m)])}
              for m in months]
    listed = min(int(chosen["count"]), CAP)
    return ctx.render("console/referrals.html", title=ctx.t("console.referrals.title"), counts=counts, month=month,
                      chosen=chosen, hidden=max(0, listed - len(chosen["shown"])), beyond=max(0, int(chosen["count"]) - CAP))
