"""The longer fuzz run over every HTTP function (tools/fuzz.py), in-process against
the emulator. Figures: requests tried, 5xx seen, writes and outbox files after refusals (targets 0),
and how deep the requests got (answers 2xx, refusals by kind). The short seeded run is in
``make test`` (tests/fuzz/test_fuzz.py); this one uses more examples and another seed."""

from __future__ import annotations

from tools import fuzz
from tools.bench.core import BenchContext, Figure

TITLE = "Fuzz: every HTTP function, hypothesis-generated requests (5xx and writes after refusals)"
SEED = 8
# over 10,000 requests: 1,000 for each HTTP function with routes (webhooks, pages, links), 400 for each cron
# function (their checks are the same two headers; a valid run repeats as a duplicate)
EXAMPLES = {**{f: 1000 for f in fuzz.WEBHOOKS}, **{f: 400 for f in fuzz.CRON_FUNCTIONS}}


def run(ctx: BenchContext) -> list[Figure]:
    harness, seconds = fuzz.run_all(ctx.emulator_host, ctx.tempdir("fuzz"), EXAMPLES.__getitem__, SEED)
    total = harness.total()
    print(harness.report(), flush=True)
    ok_2xx = sum(n for status, n in total.by_status.items() if 200 <= status < 300)
    kinds = len({reason for s in harness.stats.values() for reason in s.reasons if reason[:1] == "4"})
    note = f"seed {SEED}; {len(harness.stats)} functions"
    return [
        Figure("requests tried", total.tried, "", target=f"= {sum(EXAMPLES.values())}",
               ok=total.tried == sum(EXAMPLES.values()), note=note),
        Figure("answers 5xx", total.server_errors, "", target="= 0", ok=total.server_errors == 0,
               note="; ".join(f"{f.function}: {f.detail or f.request}"[:160] for f in total.findings[:3]
                              if f.kind == "server_error")),
        Figure("writes after a 4xx", total.writes_after_refusal, "", target="= 0", ok=total.writes_after_refusal == 0,
               note="every committed Firestore write during a refused request (a claim created and released is none)"),
        Figure("outbox files after a 4xx", total.outbox_after_refusal, "", target="= 0",
               ok=total.outbox_after_refusal == 0),
        Figure("answers 4xx", total.refusals, "", note=f"{kinds} distinct refusal reasons"),
        Figure("answers 2xx", ok_2xx, "", note="requests that got past every check into the use cases"),
        Figure("throughput", round(total.tried / seconds, 1), "req/s",
               note=f"{seconds:.1f} s incl. a Firestore snapshot after every request"),
    ]
