"""The kept code of templates (shared/platform/jinja_kept.py): read instead of compiling, never stale,
and a deployment whose folder cannot be written still renders."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from shared.platform import jinja_kept


class Env(jinja_kept.KeptEnvironment):
    label = "test"


@pytest.fixture
def kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / ".compiled"
    monkeypatch.setattr(jinja_kept, "COMPILED", folder)
    return folder


def test_the_generated_code_is_kept_and_read_back(kept: Path) -> None:
    source = "こんにちは、{{ name }}さん"
    Env(loader=jinja2.DictLoader({"a.txt": source})).get_template("a.txt")
    path = jinja_kept.compiled_path("test", "a.txt", source)
    assert path.parent == kept and path.is_file() and "name" in path.read_text(encoding="utf-8")
    # A new environment (a cold instance) reads the file: planted code shows it was not compiled again.
    path.write_text(path.read_text(encoding="utf-8").replace("さん", "様"), encoding="utf-8")
    assert Env(loader=jinja2.DictLoader({"a.txt": source})).get_template("a.txt").render(name="花子") == "こんにちは、花子様"


def test_an_edited_template_never_reads_stale_code(kept: Path) -> None:
    Env(loader=jinja2.DictLoader({"a.txt": "old {{ x }}"})).get_template("a.txt")
    fresh = Env(loader=jinja2.DictLoader({"a.txt": "new {{ x }}"})).get_template("a.txt")
    assert fresh.render(x=1) == "new 1"
    assert len(list(kept.glob("t*.py"))) == 2  # one file per (label, name, source)
    assert jinja_kept.compiled_path("test", "a.txt", "x") != jinja_kept.compiled_path("mail", "a.txt", "x")


def test_a_folder_that_cannot_be_written_still_renders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(jinja_kept, "COMPILED", blocker / ".compiled")  # mkdir fails, as on a read-only bundle
    assert Env(loader=jinja2.DictLoader({"a.txt": "{{ 1 + 1 }}"})).get_template("a.txt").render() == "2"
