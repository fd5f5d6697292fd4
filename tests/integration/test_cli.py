"""The organizer CLI against the emulator: run, schedule, move, cancel, restore, check-config."""

from __future__ import annotations

import datetime as dt

import pytest

from shared import bootstrap
from shared.entrypoints import cli
from tests.helpers.members import consents


@pytest.fixture(autouse=True)
def _log_level_does_not_leak(monkeypatch):
    # cli.main() sets LOG_LEVEL=WARNING with setdefault, for good, in this process; if the logging
    # is first configured here, later tests that read INFO logs (test_logging_no_pii) saw nothing.
    monkeypatch.setenv("LOG_LEVEL", "INFO")


@pytest.fixture
def generated(project, outbox, example_config, capsys):
    assert cli.main(["run", "generate_slots", "--job", "cli-test", "--time", "2026-11-28T00:00:00Z"]) == 0
    capsys.readouterr()
    return bootstrap.slot_store()


def test_schedule_lines_up_japanese_titles(generated, capsys, monkeypatch):
    # Freeze "now" so the 3-month window covers the generated slots whatever the real date.
    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(2026, 11, 28, tzinfo=dt.UTC)

    monkeypatch.setattr(cli.dt, "datetime", Frozen)
    assert cli.main(["schedule"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line for line in out if line.startswith(("speaker_night_", "lunch_", "mokumoku_"))]
    assert len(rows) == 9
    # Every row's "where" column starts at the same display column despite full-width titles.
    cols = {cli._width(r[: r.index("online")] if "online" in r else r[: r.index("会場")]) for r in rows}
    assert len(cols) == 1


def test_move_cancel_restore_apply_at_once_and_survive_regeneration(generated, capsys):
    store = generated
    assert cli.main(["move", "speaker_night_2027-01-12", "--date", "2027-01-13", "--start", "19:30", "--reason", "会場の都合"]) == 0
    slot = store.get_slot("speaker_night_2027-01-12")
    assert slot["date"] == "2027-01-13" and slot["note"] == "会場の都合"
    assert slot["start"].astimezone(dt.timezone(dt.timedelta(hours=9))).strftime("%H:%M") == "19:30"

    assert cli.main(["cancel", "lunch_2027-02-18", "--reason", "講師都合"]) == 0
    assert store.get_slot("lunch_2027-02-18")["status"] == "cancelled"
    assert store.get_slot("mokumoku_2027-02-18")["status"] == "cancelled"  # follows its anchor

    # A later Scheduler run keeps both decisions.
    assert cli.main(["run", "generate_slots", "--job", "cli-test", "--time", "2026-11-29T00:00:00Z"]) == 0
    assert store.get_slot("speaker_night_2027-01-12")["date"] == "2027-01-13"
    assert store.get_slot("lunch_2027-02-18")["status"] == "cancelled"

    assert cli.main(["restore", "lunch_2027-02-18"]) == 0
    assert store.get_slot("lunch_2027-02-18")["status"] == "scheduled"
    assert store.get_slot("mokumoku_2027-02-18")["status"] == "scheduled"


def test_unknown_slot_and_bad_date_are_refused_without_writes(generated, capsys):
    assert cli.main(["cancel", "lunch_2099-01-01"]) == 2
    assert cli.main(["move", "lunch_2027-01-21", "--date", "21/01/2027"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert bootstrap.slot_store().exceptions() == {}


def test_a_move_onto_a_holiday_or_another_event_warns_and_needs_force(generated, capsys, db):
    """The CLI and the console share the use case (shared/usecases/operations.py): the same warnings,
    nothing written until confirmed, and the change in the audit log with the OS user."""
    store = generated
    # 2027-01-11 is 成人の日 (a Monday holiday); the lunch of 2027-01-21 moved onto the mokumoku of 2027-02-18 clashes.
    assert cli.main(["move", "speaker_night_2027-01-12", "--date", "2027-01-11"]) == 1
    err = capsys.readouterr().err
    assert "祝日" in err and "成人の日" in err and "--force" in err
    assert store.exceptions() == {} and list(db.collection("audit").stream()) == []
    assert cli.main(["move", "speaker_night_2027-01-12", "--date", "2027-01-11", "--force"]) == 0
    assert store.get_slot("speaker_night_2027-01-12")["date"] == "2027-01-11"
    (entry,) = [d.to_dict() for d in db.collection("audit").stream()]
    assert entry["action"] == "slot.move" and entry["via"] == "cli" and entry["actor_id"].startswith("cli:")
    assert entry["before"]["speaker_night_2027-01-12"]["date"] == "2027-01-12"

    assert cli.main(["move", "lunch_2027-01-21", "--date", "2027-02-18", "--start", "10:30"]) == 1
    assert "重なります" in capsys.readouterr().err  # the co-working of 2027-02-18, 10:00-12:00
    assert "lunch_2027-01-21" not in store.exceptions()


def test_check_config_explains_the_mistake(write_config, capsys):
    path = write_config("""
        community: {name: テスト}
        series:
          lunch:
            kind: lunch
            title: ランチ
            start: "12:00"
            duration_minutes: 60
            rule: {type: monthly, nth: 3, weekday: "Thu "}
    """)
    assert cli.main(["check-config", str(path)]) == 1
    assert "series.lunch.rule.weekday: 'Thu ' is not a weekday (mon..sun)" in capsys.readouterr().err


def test_help_speaks_to_volunteers(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in ("schedule", "move", "cancel", "restore", "run", "check-config"):
        assert command in out


# ---------------------------------------------------------------- speakers, hosts, members

ACTION_KEY = "cli-test-action-link-key-0123456789"


class _Frozen(dt.datetime):
    """2026-11-28 09:00 UTC, one second later at every call (so proposal order is well defined)."""

    calls = 0

    @classmethod
    def now(cls, tz=None):
        cls.calls += 1
        return dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=cls.calls)


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(cli.dt, "datetime", _Frozen)


def _said(capsys) -> str:
    """The CLI's own last line (JSON log lines of earlier tests' log setup may precede it)."""
    return [line for line in capsys.readouterr().out.splitlines() if not line.startswith("{")][-1]


def _rows(out: str, prefix: str) -> list[str]:
    return [line for line in out.splitlines() if prefix in line]


def test_propose_speaker_queue_priority_and_refusals(generated, capsys, frozen):
    assert cli.main(["propose-speaker", "--name", "山田　花子", "--email", "hanako@example.jp",
                     "--topic", "転職と学び直し", "--series", "speaker_night", "--not", "2027-01-12",
                     "--not", "2027-02-09", "--minutes", "45", "--earliest", "2027-01-01"]) == 0
    first = _said(capsys).split(":")[0]
    assert cli.main(["propose-speaker", "--name", "Ｊｏｈｎ　Ｓｍｉｔｈ", "--email", "john@example.com",
                     "--topic", "海外で働く", "--series", "speaker_night"]) == 0
    second = _said(capsys).split(":")[0]
    doc = bootstrap.assign_docs().get("speakers", first)
    assert doc["impossible_dates"] == ["2027-01-12", "2027-02-09"] and doc["talk_minutes"] == 45
    assert doc["earliest"] == "2027-01-01"

    assert cli.main(["speakers"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if first in line or second in line]
    assert rows[0].startswith("1 ") and first in rows[0] and rows[1].startswith("2 ") and second in rows[1]
    assert cli._width(rows[0][: rows[0].index("speaker_night")]) == cli._width(rows[1][: rows[1].index("speaker_night")])

    assert cli.main(["priority", second, "5"]) == 0
    capsys.readouterr()
    assert cli.main(["speakers"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if first in line or second in line]
    assert rows[0].startswith("1 ") and second in rows[0] and " 5 " in rows[0]

    assert cli.main(["priority", "nobody", "1"]) == 2
    assert cli.main(["propose-speaker", "--name", "佐藤", "--email", "sato@example.jp", "--topic", "x",
                     "--series", "lunch"]) == 2
    assert "series_id" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["propose-speaker", "--name", "佐藤", "--email", "sato@example.jp", "--topic", "x",
                  "--series", "speaker_night", "--not", "2027/01/12"])
    assert len(bootstrap.assign_docs().where("speakers", "status", "==", "queued")) == 2


def test_why_hosts_and_withdraw_after_an_assignment_run(generated, capsys, frozen, monkeypatch):
    monkeypatch.setenv("ACTION_LINK_KEY", ACTION_KEY)
    assert cli.main(["propose-speaker", "--name", "高橋　美咲", "--email", "misaki@example.jp",
                     "--topic", "副業の始め方", "--series", "speaker_night"]) == 0
    sid = _said(capsys).split(":")[0]
    assert cli.main(["run", "assign_speakers", "--job", "cli-assign", "--time", "2026-11-28T09:00:00Z"]) == 0
    capsys.readouterr()

    assert cli.main(["why", "speaker_night_2027-01-12"]) == 0
    out = capsys.readouterr().out
    assert "speaker (登壇者): 高橋　美咲" in out
    assert "host (ホスト):" in out and "✔ chosen" in out
    host_rows = [r for r in out.splitlines() if r.startswith(("田中　太郎 (tanaka)", "鈴木　花子 (suzuki)"))]
    assert len(host_rows) == 2 and "host (ホスト):" in out
    # the two rows' second column starts at the same display column (full-width names)
    starts = {cli._width(r[: r.index(")") + 1]) for r in host_rows}
    assert len(starts) == 1
    assert "(sato)" not in out  # no Zoom account: never considered

    assert cli.main(["why", "lunch_2099-01-01"]) == 0
    assert "no speaker or host" in capsys.readouterr().out

    assert cli.main(["hosts"]) == 0
    out = capsys.readouterr().out
    hosted = {r.split("(")[1].split(")")[0]: r.split() for r in _rows(out, "(tanaka)") + _rows(out, "(suzuki)")}
    duties = bootstrap.assign_docs().where("host_duties", "state", "==", "active")
    assert sum(int(cols[-3]) for cols in hosted.values()) == len(duties) > 0  # "upcoming" column

    assert cli.main(["withdraw", sid]) == 0
    assert bootstrap.assign_docs().get("speakers", sid)["status"] == "withdrawn"
    assert bootstrap.slot_store().get_slot("speaker_night_2027-01-12")["speaker"] is None
    assert cli.main(["withdraw", sid]) == 1 and "すでに取り下げられています" in capsys.readouterr().out
    assert cli.main(["withdraw", "nobody"]) == 2


def test_directory_export_csv_and_markdown(project, outbox, example_config, db, tmp_path, capsys):
    db.collection("members").document("m1").set({"name": "中村　健", "consents": consents(directory=True), "directory": {
        "company": "株式会社ナカムラ", "role": "代表取締役", "link": "https://example.jp", "intro": "=1+1 と|改行\nあり"}})
    db.collection("members").document("m2").set({"name": "非公開　太郎", "consents": consents(directory=False)})
    target = tmp_path / "名簿.csv"
    assert cli.main(["directory", "--format", "csv", "--output", str(target)]) == 0
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Japanese correctly
    text = raw.decode("utf-8-sig")
    assert "中村　健" in text and "'=1+1" in text and "非公開" not in text
    assert "(1 entries)" in capsys.readouterr().out
    assert cli.main(["directory", "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert "| 中村　健 | 株式会社ナカムラ | 代表取締役 | <https://example.jp> | =1+1 と\\|改行 あり |" in out


def test_feed_token_rotate_prints_the_new_path_once(project, outbox, example_config, capsys):
    from shared.usecases import rhythm

    assert cli.main(["feed-token", "rotate"]) == 0
    first = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("  /")).strip().lstrip("/")
    assert cli.main(["feed-token", "rotate"]) == 0
    second = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("  /")).strip().lstrip("/")
    store = bootstrap.rhythm_store()
    assert first != second and rhythm.feed_token_ok(store, second) and not rhythm.feed_token_ok(store, first)


def test_propose_event_and_confirm_proposal(project, outbox, example_config, capsys):
    day = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    args = ["propose-event", "--title", "ソニーOB×現役 交流会", "--kind", "company_collab", "--date", day,
            "--start", "15:00", "--minutes", "90", "--location", "品川", "--description", "現役社員との\n交流",
            "--co-organizer", "人事部", "--name", "伊藤　直子", "--email", "naoko@example.jp"]
    assert cli.main(args) == 0
    out = _said(capsys)
    assert "confirm-proposal" in out
    pid = out.split(":")[0]
    assert cli.main(["confirm-proposal", pid, "--by", "田中　太郎"]) == 0
    out = _said(capsys)
    assert "scheduled" in out and "-> slot member_event_" in out
    slot_id = out.split("-> slot ")[1].split()[0]
    assert bootstrap.slot_store().get_slot(slot_id)["status"] == "scheduled"

    assert cli.main(["propose-event", "--kind", "member_event", "--date", day]) == 2
    assert "--start" in capsys.readouterr().err
    assert cli.main(["confirm-proposal", "nope"]) == 2
    bad = args[:]
    bad[bad.index("--minutes") + 1] = "600"
    bad[bad.index("--kind") + 1] = "member_event"
    assert cli.main(bad) == 1
    assert "not scheduled" in capsys.readouterr().out


def test_help_lists_the_people_commands(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in ("speakers", "propose-speaker", "priority", "withdraw", "why", "hosts", "directory",
                    "feed-token rotate", "propose-event", "confirm-proposal"):
        assert command in out
