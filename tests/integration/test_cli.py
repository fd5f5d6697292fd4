"""The organizer CLI against the emulator: run, schedule, move, cancel, restore, check-config."""

from __future__ import annotations

import datetime as dt

import pytest

from shared import bootstrap, cli


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
    assert "not a date" in capsys.readouterr().err
    assert bootstrap.slot_store().exceptions() == {}


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
