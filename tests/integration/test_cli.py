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
    cols = {cli._width(r[: r.index("オンライン  ")] if "オンライン  " in r else r[: r.index("会場  ")]) for r in rows}
    assert len(cols) == 1
    assert "日時" in out[0] and "予定" in " ".join(rows)  # headers and status words in the community's language


def test_move_cancel_restore_apply_at_once_and_survive_regeneration(generated, capsys):
    store = generated
    assert cli.main(["move", "speaker_night_2027-01-12", "--date", "2027-01-13", "--start", "19:30", "--reason", "会場の都合"]) == 0
    slot = store.get_slot("speaker_night_2027-01-12")
    assert slot["date"] == "2027-01-13" and slot["note"] == "1月12日(火)から日程を変更しました(理由: 会場の都合)。"
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
    assert cli.main(["move", "lunch_2027-01-21", "--date", "来週の火曜"]) == 2
    assert "日付として読めません" in capsys.readouterr().err
    assert bootstrap.slot_store().exceptions() == {}


def test_a_title_instead_of_an_id_gets_a_sentence_and_the_closest_ids(generated, capsys):
    assert cli.main(["cancel", "ランチ交流会 2/18"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "見つかりません" in err
    assert "lunch_2027-02-18 (ランチ交流会 2/18)" in err.splitlines()[1]
    assert cli.main(["cancel", "lunch_2027-02-17"]) == 2  # a typo in the date
    assert "lunch_2027-02-18" in capsys.readouterr().err
    assert bootstrap.slot_store().exceptions() == {}


def test_move_warns_about_the_past_holidays_and_clashes_and_needs_force(generated, capsys):
    store = generated
    cases = [("2026-01-13", "もう過ぎた日付"), ("2027-01-11", "祝日(成人の日)"), ("2026-12-30", "休止期間(年末年始)")]
    for day, words in cases:
        assert cli.main(["move", "speaker_night_2027-01-12", "--date", day]) == 2
        err = capsys.readouterr().err
        assert words in err and "--force" in err, err
    # the lunch moved onto the speaker night's evening clashes with it
    assert cli.main(["move", "lunch_2027-01-21", "--date", "2027-01-12", "--start", "20:30"]) == 2
    assert "「アルムナイ登壇イベント 1月」" in capsys.readouterr().err
    assert store.exceptions() == {}
    assert cli.main(["move", "speaker_night_2027-01-12", "--date", "2027-01-11", "--force"]) == 0
    assert store.get_slot("speaker_night_2027-01-12")["date"] == "2027-01-11"


def test_cancelling_an_anchor_names_what_changed_and_why(generated, capsys):
    capsys.readouterr()
    assert cli.main(["cancel", "lunch_2027-02-18", "--reason", "講師都合"]) == 0
    out = capsys.readouterr().out
    assert "中止を記録しました" in out and "変わった予定 2 件" in out
    lunch = next(line for line in out.splitlines() if "[lunch_2027-02-18]" in line)
    moku = next(line for line in out.splitlines() if "[mokumoku_2027-02-18]" in line)
    assert "中止" in lunch and "講師都合" in lunch
    assert "「ランチ交流会 2/18」が中止になったため" in moku  # why the co-working went too, in Japanese
    assert "slot(s) changed" not in out


def test_a_move_onto_a_holiday_or_another_event_warns_and_needs_force(generated, capsys, db):
    """The CLI and the console share the use case (shared/usecases/operations.py): the same warnings,
    nothing written until confirmed, and the change in the audit log with the OS user."""
    store = generated
    # 2027-01-11 is 成人の日 (a Monday holiday); the lunch of 2027-01-21 moved onto the mokumoku of 2027-02-18 clashes.
    assert cli.main(["move", "speaker_night_2027-01-12", "--date", "2027-01-11"]) == 2
    err = capsys.readouterr().err
    assert "祝日" in err and "成人の日" in err and "--force" in err
    assert store.exceptions() == {} and list(db.collection("audit").stream()) == []
    assert cli.main(["move", "speaker_night_2027-01-12", "--date", "2027-01-11", "--force"]) == 0
    assert store.get_slot("speaker_night_2027-01-12")["date"] == "2027-01-11"
    (entry,) = [d.to_dict() for d in db.collection("audit").stream()]
    assert entry["action"] == "slot.move" and entry["via"] == "cli" and entry["actor_id"].startswith("cli:")
    assert entry["before"]["speaker_night_2027-01-12"]["date"] == "2027-01-12"

    assert cli.main(["move", "lunch_2027-01-21", "--date", "2027-02-18", "--start", "10:30"]) == 2
    assert "「オンラインもくもく会 2/18」" in capsys.readouterr().err  # the co-working of 2027-02-18, 10:00-12:00
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
                  "--series", "speaker_night", "--not", "いつでも"])
    # An address that cannot be mailed is refused up front, with the reason, and nothing is written.
    assert cli.main(["propose-speaker", "--name", "Ken", "--email", "ken@example", "--topic", "x",
                     "--series", "speaker_night"]) == 2
    err = capsys.readouterr().err
    assert "ken@example" in err and "email" in err and "Traceback" not in err
    assert len(bootstrap.assign_docs().where("speakers", "status", "==", "queued")) == 2
    # Dates as the community writes them are understood.
    assert cli.main(["propose-speaker", "--name", "佐藤　次郎", "--email", "jiro@example.jp", "--topic", "x",
                     "--series", "speaker_night", "--not", "2027年3月9日", "--not", "４/１３"]) == 0
    doc = bootstrap.assign_docs().get("speakers", _said(capsys).split(":")[0])
    assert doc["impossible_dates"] == ["2027-03-09", "2027-04-13"]


def test_why_hosts_and_withdraw_after_an_assignment_run(generated, capsys, frozen, monkeypatch):
    monkeypatch.setenv("ACTION_LINK_KEY", ACTION_KEY)
    assert cli.main(["propose-speaker", "--name", "高橋　美咲", "--email", "misaki@example.jp",
                     "--topic", "副業の始め方", "--series", "speaker_night"]) == 0
    sid = _said(capsys).split(":")[0]
    assert cli.main(["run", "assign_speakers", "--job", "cli-assign", "--time", "2026-11-28T09:00:00Z"]) == 0
    capsys.readouterr()

    assert cli.main(["why", "speaker_night_2027-01-12"]) == 0
    out = capsys.readouterr().out
    assert "登壇者: 高橋　美咲" in out
    assert "ホスト:" in out and "✔ 担当" in out
    host_rows = [r for r in out.splitlines() if r.startswith(("田中　太郎 (tanaka)", "鈴木　花子 (suzuki)"))]
    assert len(host_rows) == 2
    # Each host passed over is told the rule that decided against them: a higher load only when the
    # load is higher; with the same numbers, the tie-break (last duty, then the id order).
    ties = 0
    for slot in ("mokumoku_2026-12-17", "speaker_night_2027-01-12", "mokumoku_2027-01-21", "speaker_night_2027-02-09"):
        assert cli.main(["why", slot]) == 0
        rows = [r.split("  ") for r in capsys.readouterr().out.splitlines() if r.startswith(("田中", "鈴木"))]
        rows = [[c.strip() for c in r if c.strip()] for r in rows]
        chosen = next(r for r in rows if "✔" in r[1])
        for r in rows:
            if r is chosen:
                continue
            if r[2] == chosen[2]:
                ties += 1
                assert ("負荷は同じで、担当者より最近担当した" if r[4] != chosen[4] else "運営IDの順") in r[1], r
            else:
                assert "負荷が担当者より高い" in r[1], r
    assert ties > 0
    # the two rows' second column starts at the same display column (full-width names)
    starts = {cli._width(r[: r.index(")") + 1]) for r in host_rows}
    assert len(starts) == 1
    assert "(sato)" not in out  # no Zoom account: never considered

    assert cli.main(["why", "lunch_2099-01-01"]) == 0
    assert "まだツールが登壇者・ホストを決めていません" in capsys.readouterr().out

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
    assert "(1件)" in capsys.readouterr().out
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


def test_feed_token_names_the_function_as_terraform_deploys_it(project, outbox, example_config, capsys):
    import re

    from tests.conftest import ROOT

    assert cli.main(["feed-token", "rotate"]) == 0
    url = next(ln for ln in capsys.readouterr().out.splitlines() if "cloudfunctions.net" in ln).strip()
    main_tf = (ROOT / "infra" / "main.tf").read_text(encoding="utf-8")
    assert re.search(r'name\s*=\s*replace\(each\.key, "_", "-"\)', main_tf)  # how infra/ names every function
    assert "ics_feed = {" in (ROOT / "infra" / "functions.tf").read_text(encoding="utf-8")
    assert f"/{'ics_feed'.replace('_', '-')}/" in url and "ics_feed" not in url


def test_no_emulator_fails_in_seconds_with_the_fix(monkeypatch, capsys):
    import socket
    import time

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{port}")
    began = time.monotonic()
    with pytest.raises(SystemExit) as info:
        cli.main(["schedule"])
    assert time.monotonic() - began < cli.CONNECT_SECONDS + 2
    assert "make emulator" in str(info.value) and f"127.0.0.1:{port}" in str(info.value)


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
    assert "登録しました" in out and "-> 予定 member_event_" in out
    slot_id = out.split("-> 予定 ")[1].split()[0]
    assert bootstrap.slot_store().get_slot(slot_id)["status"] == "scheduled"

    assert cli.main(["propose-event", "--kind", "member_event", "--date", day]) == 2
    assert "--start" in capsys.readouterr().err
    assert cli.main(["confirm-proposal", "nope"]) == 2
    bad = args[:]
    bad[bad.index("--minutes") + 1] = "600"
    bad[bad.index("--kind") + 1] = "member_event"
    assert cli.main(bad) == 1
    assert "ガイドラインに合いません" in capsys.readouterr().out


def test_help_lists_the_people_commands(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in ("speakers", "propose-speaker", "priority", "withdraw", "why", "hosts", "directory",
                    "feed-token rotate", "propose-event", "confirm-proposal"):
        assert command in out


def test_a_stored_address_that_cannot_be_mailed_leaves_no_half_state(generated, capsys, frozen, monkeypatch):
    """A speaker stored before addresses were checked (ken@example): the assignment run goes on
    without offering them, and withdrawing them is a sentence, not a traceback."""
    monkeypatch.setenv("ACTION_LINK_KEY", ACTION_KEY)
    docs = bootstrap.assign_docs()
    docs.create("speakers", "legacy1", {"name": "Ken", "email": "ken@example", "topic": "x", "series_id": "speaker_night",
                                        "status": "queued", "priority": 0, "proposed_at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                                        "impossible_dates": [], "declined_dates": [], "current_offer": None})
    assert cli.main(["run", "assign_speakers", "--job", "cli-assign", "--time", "2026-11-28T09:00:00Z"]) == 0
    doc = docs.get("speakers", "legacy1")
    assert doc["status"] == "queued" and doc.get("email_problem") and not doc.get("current_offer")
    assert all((s.get("speaker") or {}).get("id") != "legacy1"
               for s in bootstrap.slot_store().slots_between(dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                                                               dt.datetime(2027, 6, 1, tzinfo=dt.UTC)))
    capsys.readouterr()
    assert cli.main(["speakers"]) == 0
    assert "アドレス不備" in capsys.readouterr().out
    assert cli.main(["withdraw", "legacy1"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err and docs.get("speakers", "legacy1")["status"] == "withdrawn"
