"""No personal data in logs: the captured stdout/stderr of real runs holds no e-mail address, and
``shared.platform.log`` drops unknown keys and scrubs e-mail addresses and URL query strings."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator

import functions_framework
import pytest

from shared.adapters.firestore import FirestoreIdempotencyStore
from shared.platform import log
from shared.platform.idempotency import Idempotency
from tests.conftest import ROOT
from tests.helpers.configs import example_dict, to_yaml

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
SOURCE = str(ROOT / "functions/generate_slots/main.py")
HEADERS = {"X-CloudScheduler-JobName": "generate-slots-daily", "X-CloudScheduler-ScheduleTime": "2026-11-28T00:00:00Z"}
ADDRESSES = {"tanaka": "taro.tanaka+alumni@example.co.jp", "suzuki": "hanako_suzuki@mail.example.jp"}


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """Everything written to stdout/stderr during the test, the JSON log lines included (the log
    handler writes to whatever sys.stdout is at the moment, so pytest's capture sees it)."""
    log.setup()
    assert logging.getLogger("autopilot").handlers, "shared.platform.log no longer has a handler"
    yield lambda: "".join(capsys.readouterr())


def config_with_people() -> dict:  # type: ignore[type-arg]
    data = example_dict()  # every organizer (田中　太郎, 鈴木　花子, ...) has an address; make them realistic
    for key, address in ADDRESSES.items():
        data["organizers"][key]["email"] = address
        data["organizers"][key]["zoom"]["user"] = address
    assert all(o["email"] for o in data["organizers"].values())
    data["cron_auth"] = {"mode": "platform", "service_account": "scheduler@demo-project.iam.gserviceaccount.com"}
    return data


def json_lines(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_real_run_logs_no_email_address(project, db, outbox, write_config, captured):
    data = config_with_people()
    write_config(to_yaml(data))
    app = functions_framework.create_app("generate_slots", SOURCE).test_client()
    assert app.post("/", headers=HEADERS).status_code == 200
    assert app.post("/", headers=HEADERS).get_json()["duplicate"] is True

    idem = Idempotency(FirestoreIdempotencyStore(client=db), "apply_speaker")
    payload = {"email": "yamada.hanako@example.ne.jp", "name": "山田　花子", "answer": "自己紹介です。\nよろしく"}
    idem.run({"response_id": "r-1"}, lambda: {"notified": payload["email"]}, payload=payload)
    idem.run({"response_id": "r-1"}, lambda: {}, payload=payload)

    out = captured()
    lines = json_lines(out)
    # The capture is real: the use case and the cron wrapper both logged.
    assert {"slots reconciled", "cron run done"} <= {line["message"] for line in lines}
    assert all(line["severity"] in {"DEBUG", "INFO", "WARNING", "ERROR"} for line in lines)
    assert not EMAIL.search(out), EMAIL.search(out)
    for person in [o["name"] for o in data["organizers"].values()] + [payload["name"]]:
        assert person.split("　")[0] not in out  # not even the family name


def test_a_config_error_quoting_an_address_is_scrubbed_in_the_log(project, db, outbox, write_config, captured):
    data = config_with_people()
    data["organizers"]["tanaka"]["zoom"]["licence"] = "taro.tanaka+alumni@example.co.jp"  # a paste in the wrong field
    write_config(to_yaml(data))
    res = functions_framework.create_app("generate_slots", SOURCE).test_client().post("/", headers=HEADERS)
    assert res.status_code == 500
    assert "organizers.tanaka.zoom.licence" in res.get_json()["error"]
    lines = json_lines(captured())
    (logged,) = [line for line in lines if line["message"] == "invalid community config"]
    assert logged["severity"] == "ERROR" and "organizers.tanaka.zoom.licence" in logged["error"]
    assert "<email>" in logged["error"] and not EMAIL.search(json.dumps(lines, ensure_ascii=False))


def test_the_logger_drops_unknown_keys_and_scrubs_values(captured):
    logger = log.get("test_logging")
    logger.info(
        "mail to yamada.hanako@example.ne.jp sent; join https://us02web.zoom.us/j/8512345678?pwd=Secr3t&uname=x",
        email="yamada.hanako@example.ne.jp", name="山田　花子", answer="秘密\nです",
        slot_id="lunch_2026-12-17", count=3, reason="bounced for hanako@example.jp",
        path="https://hooks.slack.com/services/T000/B000?token=xoxb-123#frag",
    )
    (line,) = json_lines(captured())
    assert set(line) == {"severity", "message", "logger", "slot_id", "count", "reason", "path"}
    assert line["message"] == "mail to <email> sent; join https://us02web.zoom.us/j/8512345678?<redacted>"
    assert line["reason"] == "bounced for <email>"
    assert line["path"] == "https://hooks.slack.com/services/T000/B000?<redacted>"
    assert (line["slot_id"], line["count"], line["logger"]) == ("lunch_2026-12-17", 3, "autopilot.test_logging")


def test_an_exception_is_logged_as_type_and_scrubbed_message_only(captured):
    logger = log.get("test_logging")
    try:
        raise ValueError("could not send to hanako@example.jp via https://zoom.us/s/1?zak=abc")
    except ValueError:
        logger.error("delivery failed", exc=True, application_id="app-1")
    (line,) = json_lines(captured())
    assert line["error_type"] == "ValueError"
    assert line["error"] == "could not send to <email> via https://zoom.us/s/1?<redacted>"
    assert "Traceback" not in json.dumps(line)
