"""Community rhythm at scale: the digest for 10,000 members and 200 upcoming events, the prompt to
10,000 opted-in members (in-process, against the emulator, outbox mail)."""

from __future__ import annotations

import datetime as dt
import time

from shared.domain.members import consent_records
from tools.bench.core import ROOT, BenchContext, Figure

TITLE = "Community rhythm: digest and weekly prompt at 10,000 members"
MEMBERS, EVENTS = 10_000, 200


def _seed(now: dt.datetime) -> None:
    from shared.adapters.firestore import default_client

    db = default_client()
    for start in range(0, MEMBERS, 500):
        batch = db.batch()
        for i in range(start, min(start + 500, MEMBERS)):
            batch.set(db.collection("members").document(f"m{i:05d}"),
                      {"name": f"会員　{i}", "email": f"member{i}@example.com", "joined_at": now - dt.timedelta(days=i % 400),
                       "consents": consent_records({"weekly_prompt": True, "directory": i % 20 == 0}, now, "form")})
        batch.commit()
    batch = db.batch()
    for i in range(EVENTS):
        start = now + dt.timedelta(hours=4 + i * 5)  # 200 events within the next six weeks
        batch.set(db.collection("slots").document(f"member_event_{i:03d}"),
                  {"series_id": "member_event", "kind": "member_event", "title": f"イベント {i}", "online": i % 2 == 0,
                   "timezone": "Asia/Tokyo", "key_date": start.date().isoformat(), "start": start, "end": start + dt.timedelta(hours=1),
                   "status": "scheduled", "speaker": None, "host": None, "gen_flags": {"rule_changed": {}} if i % 50 == 0 else {}})
    batch.commit()
    for i in range(40):
        db.collection("applications").document(f"a{i}").set({"status": "needs_review" if i % 2 else "incomplete",
                                                             "received_at": now - dt.timedelta(hours=i), "fields": {"name": f"申請 {i}"}})


def run(ctx: BenchContext) -> list[Figure]:
    from shared import bootstrap
    from shared.usecases.rhythm import send_digest, weekly_prompt

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with ctx.environ(GOOGLE_CLOUD_PROJECT=ctx.new_project("rhythm"), FIRESTORE_EMULATOR_HOST=ctx.emulator_host,
                     OUTBOX_DIR=str(ctx.tempdir("outbox")), COMMUNITY_CONFIG=str(ROOT / "config/community.example.yaml")):
        bootstrap.reset()
        _seed(now)
        bootstrap.reset()
        cfg, ops = bootstrap.config(), bootstrap.ops()
        began = time.perf_counter()
        report = send_digest(cfg, bootstrap.slot_store(), bootstrap.rhythm_store(), bootstrap.mailer(), now)
        digest_s = time.perf_counter() - began
        content_reads = ops["reads"]
        organizers = len(cfg.organizers)
        bootstrap.reset()
        ops = bootstrap.ops()
        began = time.perf_counter()
        prompt = weekly_prompt(cfg, bootstrap.rhythm_store(), bootstrap.mailer(), bootstrap.chat(), now)
        prompt_s = time.perf_counter() - began
        prompt_reads = ops["reads"]
        bootstrap.reset()
    pc = cfg.rhythm.prompt
    bound = EVENTS + 7 * 24 // 5 + 2 * cfg.rhythm.digest.max_items + 20
    return [
        Figure(f"digest wall time ({MEMBERS:,} members, {EVENTS} events)", round(digest_s, 3), "s", note=f"{report.sent} organizer mails"),
        Figure("digest Firestore reads", content_reads, "reads", "members", MEMBERS, target=f"<= {bound} (events shown + counts)",
               ok=content_reads <= bound, note="does not grow with members: counts are aggregations"),
        Figure("prompt: recipients mailed today", prompt.recipients, "recipients", "daily_limit", pc.daily_limit,
               target=f"<= {pc.daily_limit}", ok=prompt.recipients <= pc.daily_limit,
               note=f"a message per member, {prompt.sent} batches of {pc.batch_size}; {prompt.deferred} of {prompt.batches} batches left for later days"),
        Figure(f"prompt wall time (plan {MEMBERS:,} + today's batches)", round(prompt_s, 3), "s",
               note=f"{prompt_reads} reads (the week's plan reads the opted-in members once)"),
        Figure("organizers", organizers, "mails"),
    ]
