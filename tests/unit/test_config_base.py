"""shared/config/base.py: the converter's problem reports, beyond the config file's own cases
(tests/unit/test_config_errors.py): nesting, unions, constraints, and the webhook contracts that
share it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest

from shared.config import parse_config
from shared.config.base import ConfigError, convert, dec_hook, problems
from shared.config.people import HostAvailability, People
from shared.domain.applications import SubmissionError, parse_submission
from shared.usecases.proposals import ProposalError, parse_proposal


def config_problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config({"community": {"name": "テスト　会"}, **data})
    return [f"{p}: {m}" for p, m in info.value.problems]


def test_problems_deep_in_lists_and_mappings_are_all_reported():
    assert config_problems({
        "scheduling": {"blackouts": [{"from": "12-29", "to": "01-03"}, {"from": "13-01"}, {"from": "02-30", "label": 3}]},
        "people": {"hosts": {"tanaka": {"weekdays": ["火曜"], "weight": -1}}},
    }) == [
        "scheduling.blackouts.1.from: '13-01' is not a date (YYYY-MM-DD) or a yearly day (MM-DD)",
        "scheduling.blackouts.2.from: '02-30' is not a date (YYYY-MM-DD) or a yearly day (MM-DD)",
        "scheduling.blackouts.2.label: 3 is not a text",
        "people.hosts.tanaka.weekdays: '火曜' is not a weekday (mon..sun)",
        "people.hosts.tanaka.weight: -1.0 is not a weight (0..100; 0 = not in the rotation)",
    ]


def test_a_check_runs_once_every_field_is_fine_and_names_its_field():
    assert config_problems({"people": {"hosts": {"tanaka": {"hours": {"from": "21:00", "to": "09:00"}}}}}) == [
        "people.hosts.tanaka.hours.to: 09:00 must be after from: 21:00"]


def test_shorthands_become_the_full_form():
    people = convert({"hosts": {"tanaka": {"blackouts": ["2027-01-12", {"from": dt.date(2027, 2, 1), "to": "2027-02-03"}],
                                           "weekdays": "tue"}}}, People)
    host = people.hosts["tanaka"]
    assert host.weekdays == (1,)
    assert host.blacked_out(dt.date(2027, 1, 12)) and host.blacked_out(dt.date(2027, 2, 2))
    assert not host.blacked_out(dt.date(2027, 1, 13))


def test_a_valid_value_converts_the_same_way_on_both_paths():
    data = {"weekdays": ["mon", "wed"], "hours": {"from": "09:00", "to": "24:00"}, "monthly_max": 2}
    assert problems(HostAvailability, data) == []
    assert convert(data, HostAvailability) == msgspec.convert(data, HostAvailability, dec_hook=dec_hook)


def test_replace_checks_again():
    host = convert({"monthly_max": 2}, HostAvailability)
    with pytest.raises(ValueError, match="monthly_max: 40 is not a monthly maximum"):
        msgspec.structs.replace(host, monthly_max=40)


SUBMISSION = {"formId": "f1", "responseId": "r1", "submittedAt": "2026-11-28T09:15:00.123456789+09:00",
              "respondentEmail": None, "answers": [{"questionId": "q", "title": "お名前", "answer": "山田　花子"}]}


@pytest.mark.parametrize(("change", "message"), [
    ({"responseId": 12}, "responseId: 12 is not a text"),
    ({"formId": ""}, "formId: must not be empty"),
    ({"formId": "a b"}, "formId: 'a b' has characters that are not allowed here"),
    ({"admin": True}, "admin: unknown key 'admin' (not a field of this contract)"),
    ({"answers": [{"questionId": "q" * 201, "title": "t", "answer": "x"}]}, "answers.0.questionId: is longer than 200 characters"),
    ({"answers": [{"questionId": "q", "title": "t", "answer": ["x"] * 101}]}, "answers.0.answer: has more than 100 items"),
    ({"answers": [{"questionId": "q", "title": "t", "answer": 3}]}, "answers.0.answer: 3 is not a text or a list"),
    ({"answers": [{"questionId": "q", "title": "t", "answer": ["x", 3]}]}, "answers.0.answer.1: 3 is not a text"),
    ({"answers": {}}, "answers: {} is not a list"),
    ({"submittedAt": "2026-11-28T09:15:00"}, "submittedAt: must be an RFC 3339 time with a zone"),
])
def test_submission_refusals_name_the_field_in_words(change: dict[str, Any], message: str):
    with pytest.raises(SubmissionError) as info:
        parse_submission({**SUBMISSION, **change})
    assert str(info.value).startswith(message), str(info.value)


def test_a_submission_time_is_held_in_utc():
    assert parse_submission(SUBMISSION).submittedAt == dt.datetime(2026, 11, 28, 0, 15, 0, 123456, tzinfo=dt.UTC)


PROPOSAL = {"kind": "member_event", "title": "読書会", "date": "2026-12-20", "start": "19:00", "duration_minutes": 90,
            "online": True, "zoom": "pool", "proposer": {"name": "山田　花子", "email": "Hanako <hanako@example.jp>"}}


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"duration_minutes": "90"}, "duration_minutes", "'90' is not a whole number"),
    ({"duration_minutes": 0}, "duration_minutes", "0 must be >= 1"),
    ({"title": "あ" * 121}, "title", "is longer than 120 characters"),
    ({"date": "2026-02-30"}, "date", "'2026-02-30' is not a date (YYYY-MM-DD)"),
    ({"start": "25:00"}, "start", "'25:00' is not a time of day"),
    ({"zoom": "mine"}, "zoom", "'mine' is not one of 'own' or 'pool'"),
    ({"proposer": {"name": "", "email": "a@example.jp"}}, "proposer.name", "must not be empty"),
    ({"proposer": {"name": "x", "email": "a@example.jp", "phone": "1"}}, "proposer.phone", "unknown key 'phone'"),
])
def test_proposal_refusals_name_the_field_in_words(change: dict[str, Any], field: str, words: str):
    with pytest.raises(ProposalError) as info:
        parse_proposal({**PROPOSAL, **change})
    assert info.value.field == field and words in str(info.value), str(info.value)


def test_a_proposer_address_is_normalised():
    assert parse_proposal(PROPOSAL).proposer.email == "hanako@example.jp"
