"""The monthly newsletter at 10,000 members (in-process, against the emulator, outbox mail): the
Firestore reads of assembling an issue (flat in members: counts are aggregations) and how many days
each delivery mode needs to reach everyone within the daily sending limit."""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from shared.domain.members import consent_records, directory_pick
from tools.bench.core import ROOT, BenchContext, Figure

TITLE = "Newsletter: assembly reads and days to reach everyone at 10,000 members"
SMALL, LARGE = 400, 10_000
NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def _seed(n: int) -> None:
    from shared.adapters.firestore import default_client

    db = default_client()
    joined = NOW - dt.timedelta(days=20)
    for start in range(0, n, 500):
        batch = db.batch()
        for i in range(start, min(start + 500, n)):
            directory = i % 20 == 0
            batch.set(db.collection("members").document(f"m{i:05d}"), {
                "name": f"会員　{i}", "email": f"member{i}@example.com", "joined_at": joined - dt.timedelta(days=i % 90),
                "consents": consent_records({"newsletter": i % 10 != 9, "directory": directory}, joined, "form"),
                "directory": {"company": f"会社{i}", "role": "代表", "link": "", "intro": "紹介"} if directory else None,
                "directory_pick": directory_pick(f"m{i:05d}") if directory else None})
        batch.commit()
    batch = db.batch()
    for i in range(16):  # eight events last month, eight this month
        start = NOW + dt.timedelta(days=-28 + i * 3.5)
        batch.set(db.collection("slots").document(f"member_event_{i:02d}"), {
            "series_id": "member_event", "kind": "member_event", "title": f"イベント {i}", "online": True,
            "timezone": "Asia/Tokyo", "key_date": start.date().isoformat(), "start": start, "end": start + dt.timedelta(hours=1),
            "status": "scheduled", "speaker": None, "host": None, "gen_flags": {}, "attendance": {"participants": 30 + i}})
    batch.commit()


def _issue(ctx: BenchContext, n: int, project: str = "", when: dt.datetime = NOW, **newsletter: object) -> dict[str, object]:
    """Seed ``n`` members (unless ``project`` already holds them), assemble the issue of ``when``'s
    month, then run the hourly job day after day until it is sent."""
    import yaml

    from shared import bootstrap
    from shared.entrypoints import jobs_newsletter
    from shared.usecases import newsletter as nl

    data = yaml.safe_load((ROOT / "config/community.example.yaml").read_text(encoding="utf-8"))
    data["newsletter"] = {"auto_send_after_days": 0, **newsletter}
    path = ctx.tempdir("config") / "community.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    seeded = bool(project)
    project = project or ctx.new_project("newsletter")
    with ctx.environ(GOOGLE_CLOUD_PROJECT=project, FIRESTORE_EMULATOR_HOST=ctx.emulator_host,
                     OUTBOX_DIR=str(ctx.tempdir("outbox")), COMMUNITY_CONFIG=str(path),
                     ACTION_LINK_KEY="bench-action-link-key-0123456789"):
        bootstrap.reset()
        if not seeded:
            _seed(n)
        bootstrap.reset()
        deps = jobs_newsletter.deps()
        ops = bootstrap.ops()
        _, issue, _ = nl.assemble(deps, when)
        assembly_reads = ops["reads"]
        assert issue is not None
        days, messages, recipients = 0, 0, 0
        while days < 400:
            report = nl.run(deps, when + dt.timedelta(days=days, hours=1))
            days += 1
            messages, recipients = messages + report.sent, recipients + report.recipients
            if report.status == nl.SENT:
                break
        delivery_reads = ops["reads"] - assembly_reads
        bootstrap.reset()
    return {"assembly_reads": assembly_reads, "days": days, "messages": messages, "recipients": recipients,
            "delivery_reads": delivery_reads, "project": project}


def run(ctx: BenchContext) -> list[Figure]:
    limit = 300
    small = _issue(ctx, SMALL)
    large = _issue(ctx, LARGE, daily_limit=limit)
    # the same 10,000 members, April's issue, to a mailing list
    listed = _issue(ctx, LARGE, str(large["project"]), NOW.replace(month=4), mailing_list="alumni-all@googlegroups.com")
    opted = sum(1 for i in range(LARGE) if i % 10 != 9)
    need = math.ceil(opted / limit)
    return [
        Figure(f"assembly Firestore reads ({LARGE:,} members)", large["assembly_reads"], "reads",
               f"assembly reads ({SMALL} members)", small["assembly_reads"], target="<= 1.10",
               ok=int(large["assembly_reads"]) <= 1.10 * int(small["assembly_reads"]),
               note="flat in members: new members counted by aggregation, featured entries one range query"),
        Figure(f"a message per member: days to reach {opted:,} opted-in members", large["days"], "days",
               f"ceil(recipients / daily_limit {limit})", need, target=f"= {need}", ok=large["days"] == need,
               note=f"{large['recipients']:,} messages, in {large['messages']} batches of 50"),
        Figure("a message per member: Firestore reads to deliver", large["delivery_reads"], "reads", "opted-in members", opted,
               note="the plan reads each opted-in address once per issue; the daily runs read only their batches"),
        Figure("mailing list: days to reach everyone", listed["days"], "days", target="= 1", ok=listed["days"] == 1,
               note=f"{listed['messages']} message to the group address; the group delivers it"),
        Figure("mailing list: Firestore reads to deliver", listed["delivery_reads"], "reads",
               note="no member is read: the list holds the addresses"),
    ]
