"""One form id everywhere: the id of the form's edit URL (Forms API ``formId``, Apps Script
``form.getId()``), never the published ``1FAIpQL...`` id of the link people fill in."""

from __future__ import annotations

import pytest
import yaml

from shared.config.applications import form_id_problem
from shared.entrypoints import cli
from tests.conftest import EXAMPLE_CONFIG

EDIT_ID = "1Xb2exampleMembershipForm0123456789AbCdEfGh"


@pytest.fixture(autouse=True)
def _cli_environment(monkeypatch):
    """cli.main sets LOG_LEVEL in os.environ; this keeps it from leaking into later tests' processes."""
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
PUBLISHED = "1FAIpQLSexampleFormId0123456789"


@pytest.mark.parametrize(("value", "words"), [
    (PUBLISHED, ["published form's id", "https://docs.google.com/forms/d/<this part>/edit", "form.getId()"]),
    (f"https://docs.google.com/forms/d/e/{PUBLISHED}/viewform", ["link people fill in", "/d/<this part>/edit"]),
    ("https://forms.gle/AbCdEf123", ["short link", "/d/<this part>/edit"]),
    (f"https://docs.google.com/forms/d/{EDIT_ID}/edit", [f"copy only the id, {EDIT_ID!r}"]),
    ("my form", ["is not a form id"]),
])
def test_a_wrong_form_id_says_what_to_copy(value, words):
    problem = form_id_problem(value)
    assert problem and all(w in problem for w in words), problem


def test_an_edit_url_id_is_a_form_id():
    assert form_id_problem(EDIT_ID) is None


@pytest.mark.parametrize("path", [("applications", "form_id"), ("people", "speakers", "form", "form_id")])
def test_check_config_recognises_a_published_id(path, tmp_path, capsys):
    doc = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = PUBLISHED
    cfg = tmp_path / "community.yaml"
    cfg.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert cli.main(["check-config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert f"{'.'.join(path)}: '{PUBLISHED}' is the published form's id" in err
    assert "copy the id from its URL instead: https://docs.google.com/forms/d/<this part>/edit" in err


def test_the_example_uses_edit_ids(capsys):
    assert cli.main(["check-config", str(EXAMPLE_CONFIG)]) == 0
