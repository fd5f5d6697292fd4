"""Each function's bundle installs into a clean virtualenv and its entry point imports there.

The venv gets exactly the bundle's requirements.txt plus their dependencies at the versions the
project venv runs (pip --no-deps of that pinned closure: fast, no resolver), then `pip check`
proves the set is complete. Venvs are cached per requirement set under build/bundle-venvs/.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata as md
import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from tools import bundle

ROOT = Path(__file__).resolve().parents[2]
VENVS = ROOT / "build" / "bundle-venvs"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bundle.Bundle]:
    out = tmp_path_factory.mktemp("bundles")
    return {name: bundle.build(name, out=out) for name in bundle.function_names()}


def pinned_closure(requirements: tuple[str, ...]) -> list[str]:
    names: set[str] = set()
    for line in requirements:
        names |= bundle.dependency_closure(bundle.canonical(line.split("==")[0]))
    pins = []
    for n in sorted(names):
        try:
            pins.append(f"{n}=={md.version(n)}")
        except md.PackageNotFoundError:  # an optional/platform dependency the project venv lacks
            continue
    return pins


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}


def venv_for(requirements: tuple[str, ...]) -> Path:
    pins = pinned_closure(requirements)
    key = hashlib.sha256("\n".join(pins).encode()).hexdigest()[:16]
    path = VENVS / key
    VENVS.mkdir(parents=True, exist_ok=True)
    with open(VENVS / f".{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (path / ".installed").is_file():
            shutil.rmtree(path, ignore_errors=True)
            venv.create(path, with_pip=True)
            py = path / "bin" / "python"
            subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", *pins],
                           check=True, env=clean_env())
            subprocess.run([py, "-m", "pip", "check"], check=True, env=clean_env())
            (path / ".installed").write_text("\n".join(pins))
    return path


def test_every_function_has_a_bundle(bundles: dict[str, bundle.Bundle]) -> None:
    assert set(bundles) == {p.parent.name for p in (ROOT / "functions").glob("*/main.py")}
    for b in bundles.values():
        assert b.archive.is_file() and (b.directory / "main.py").is_file()
        assert (b.directory / "shared" / "__init__.py").is_file()
        assert (b.directory / "config" / "community.example.yaml").is_file()
        assert not list(b.directory.rglob("__pycache__"))


def test_requirements_are_exact_lines_of_requirements_txt(bundles: dict[str, bundle.Bundle]) -> None:
    pins = set(bundle.pinned_lines(ROOT / "requirements.txt").values())
    for b in bundles.values():
        lines = [ln for ln in (b.directory / "requirements.txt").read_text().splitlines() if ln and not ln.startswith("#")]
        assert lines and set(lines) <= pins, b.function
        assert any(ln.startswith("functions-framework==") for ln in lines)


def test_zip_is_reproducible(bundles: dict[str, bundle.Bundle], tmp_path: Path) -> None:
    name = next(iter(bundles))
    again = bundle.build(name, out=tmp_path)
    assert again.archive.read_bytes() == bundles[name].archive.read_bytes()


def test_unused_distributions_stay_out(tmp_path: Path) -> None:
    """A function importing only functions_framework gets only that pin (the analysis is not 'everything')."""
    (tmp_path / "functions" / "hello").mkdir(parents=True)
    (tmp_path / "functions" / "hello" / "main.py").write_text(
        "import functions_framework\n\n\n@functions_framework.http\ndef hello(request):\n"
        "    import yaml  # lazily imported: still counted\n    return 'ok'\n", encoding="utf-8")
    shutil.copytree(ROOT / "shared", tmp_path / "shared", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copy(ROOT / "requirements.txt", tmp_path / "requirements.txt")
    b = bundle.build("hello", root=tmp_path, out=tmp_path / "out")
    assert [r.split("==")[0] for r in b.requirements] == ["PyYAML", "functions-framework"]


def test_each_bundle_imports_in_a_clean_venv(bundles: dict[str, bundle.Bundle]) -> None:
    for name, b in sorted(bundles.items()):
        env = venv_for(b.requirements)
        probe = (f"import sys; sys.path.insert(0, '.'); import main; "
                 f"assert callable(main.{name}); import shared; assert shared.__file__.startswith({str(b.directory)!r})")
        proc = subprocess.run([env / "bin" / "python", "-c", probe], cwd=b.directory, env=clean_env(),
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{name}: {proc.stderr[-3000:]}"


def test_every_bundle_that_renders_mail_keeps_the_generated_template_code(bundles: dict[str, bundle.Bundle]) -> None:
    """A deployed cold start reads what Jinja generated at bundle time (shared/platform/jinja_kept.py)
    instead of compiling: the bench measures the functions from the repo, where the code is kept,
    so a bundle without it would start slower than the figure says."""
    from shared.platform import jinja_kept, mail

    env = mail._jinja()
    names = [n for n in env.list_templates() if n.split("/", 1)[0] in ("ja", "en") and not n.endswith(".yaml")]
    assert names
    for name, b in bundles.items():
        if "shared.platform.mail" not in b.modules:
            continue
        kept = b.directory / "shared" / "templates" / ".compiled"
        for template in names:
            source = env.loader.get_source(env, template)[0]  # type: ignore[union-attr]
            path = jinja_kept.compiled_path(env.label, template, source)
            assert (kept / path.name).is_file(), f"{name}: no kept code for {template}"
