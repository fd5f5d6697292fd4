"""The tree is the architecture: these rules are checked on every import in shared/ and functions/.

Layers (README.md, "Architecture"): ``domain`` pure rules; ``config`` the community's rules as values;
``ports`` the interfaces; ``platform`` cross-cutting building blocks; ``usecases`` the application;
``adapters`` one per vendor; ``entrypoints`` everything that reads a request or writes a response;
``bootstrap`` the one place that wires adapters. Every import counts, also the lazy ones inside
functions and those under ``if TYPE_CHECKING:`` (a cycle there is still a cycle in the design).
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Third-party packages the core may import: pure computation, no I/O, no vendor service (calendars
# and recurrence for the scheduling rules, msgspec for the typed values the config is made of).
PURE_LIBRARIES = {"dateutil", "holidays", "jpholiday", "msgspec"}
RULES: dict[str, dict[str, set[str]]] = {
    # layer: {"shared": project packages it may import, "third_party": libraries it may import}
    "shared.domain": {"shared": {"shared.domain", "shared.config"}, "third_party": PURE_LIBRARIES},
    "shared.config": {"shared": {"shared.config", "shared.platform.env", "shared.platform.texts"}, "third_party": {"msgspec", "yaml"}},
    "shared.ports": {"shared": {"shared.ports"}, "third_party": set()},
    "shared.platform": {"shared": {"shared.platform", "shared.ports", "shared.config", "shared.domain"},
                        "third_party": {"jinja2", "msgspec", "yaml"}},
    "shared.usecases": {"shared": {"shared.usecases", "shared.domain", "shared.config", "shared.ports", "shared.platform"},
                        "third_party": PURE_LIBRARIES},
    "shared.adapters": {"shared": {"shared.adapters", "shared.ports", "shared.platform", "shared.config", "shared.domain"},
                        "third_party": {"*"}},
    "shared.bootstrap": {"shared": {"shared.bootstrap", "shared.config", "shared.ports", "shared.platform", "shared.domain",
                                    "shared.usecases", "shared.adapters"}, "third_party": set()},
    "shared.entrypoints": {"shared": {"shared"}, "third_party": {"*"}},
}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports(path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the file, at any depth, relative ones resolved."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:  # from shared import log -> shared.log when that is a module
                candidate = f"{base}.{alias.name}"
                yield (candidate if _is_module(candidate) else base), node.lineno


def _is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def shared_files() -> list[Path]:
    return sorted(p for p in (ROOT / "shared").rglob("*.py") if "__pycache__" not in p.parts and ".compiled" not in p.parts)


def layer_of(module: str) -> str | None:
    for layer in sorted(RULES, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def within(module: str, allowed: set[str]) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed)


def violations(files: list[Path]) -> list[str]:
    found = []
    for path in files:
        me = module_name(path)
        layer = layer_of(me)
        if layer is None:
            if me != "shared":
                found.append(f"{me}: is in no layer (put it into one of {', '.join(sorted(RULES))})")
            continue
        rule = RULES[layer]
        for target, line in imports(path):
            top = target.split(".")[0]
            where = f"{path.relative_to(ROOT)}:{line}"
            if top == "shared":
                if target != "shared" and not within(target, rule["shared"]):
                    found.append(f"{where}: {layer} may not import {target}")
            elif top in sys.stdlib_module_names or top == "__future__":
                continue
            elif "*" not in rule["third_party"] and top not in rule["third_party"]:
                found.append(f"{where}: {layer} may not import the library {target}")
    return found


def cycles(files: list[Path]) -> list[list[str]]:
    graph: dict[str, set[str]] = {}
    for path in files:
        me = module_name(path)
        graph.setdefault(me, set()).update(t for t, _ in imports(path) if t.startswith("shared.") and t != me)
    found, state = [], {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_every_module_keeps_to_its_layer() -> None:
    assert violations(shared_files()) == []


def test_shared_has_no_import_cycle() -> None:
    assert cycles(shared_files()) == []


def test_function_entry_points_stay_thin() -> None:
    for main in sorted((ROOT / "functions").glob("*/main.py")):
        code = [line for line in main.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert len(code) <= 12, f"{main.relative_to(ROOT)} has {len(code)} lines: move the logic into shared/"
        for target, line in imports(main):
            assert target.split(".")[0] in ("functions_framework", "flask") or target.startswith("shared.entrypoints"), \
                f"{main.relative_to(ROOT)}:{line} imports {target}: entry points call shared.entrypoints only"


# -- the checks themselves can fail ---------------------------------------------------------------


def _write(tmp: Path, rel: str, text: str) -> Path:
    path = tmp / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def fake_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    for pkg in ("shared", "shared/domain", "shared/usecases", "shared/adapters"):
        _write(tmp_path, f"{pkg}/__init__.py", "")
    return tmp_path


def test_a_domain_module_reaching_for_io_is_caught(fake_root: Path) -> None:
    bad = _write(fake_root, "shared/domain/rules.py", "import requests\nfrom shared.adapters import zoom\n")
    _write(fake_root, "shared/adapters/zoom.py", "")
    found = violations([bad])
    assert any("may not import the library requests" in f for f in found)
    assert any("may not import shared.adapters.zoom" in f for f in found)


def test_a_use_case_importing_flask_lazily_is_caught(fake_root: Path) -> None:
    bad = _write(fake_root, "shared/usecases/x.py", "def f():\n    from flask import Response\n    return Response\n")
    assert violations([bad]) == ["shared/usecases/x.py:2: shared.usecases may not import the library flask"]


def test_a_cycle_through_a_lazy_import_is_caught(fake_root: Path) -> None:
    a = _write(fake_root, "shared/usecases/a.py", "from shared.usecases import b\n")
    b = _write(fake_root, "shared/usecases/b.py", "def f():\n    from shared.usecases import a\n")
    assert cycles([a, b]) == [["shared.usecases.a", "shared.usecases.b", "shared.usecases.a"]]


def test_no_text_points_at_an_issue_number() -> None:
    """Comments say why and point to docs/; an issue number means nothing to a reader of the repo."""
    pattern = re.compile(r"\b[Ii]ssues? ?#?[0-9]+")
    found = []
    for top in ("shared", "functions", "tools", "tests", "infra", "docs", "config"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix not in SOURCE_SUFFIXES or "__pycache__" in path.parts or path == Path(__file__):
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:80]}")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found += [f"README.md: {m.group(0)}" for m in pattern.finditer(readme)]
    assert found == []


SOURCE_SUFFIXES = {".py", ".md", ".tf", ".yaml", ".gs", ".js", ".txt", ".html", ".json"}
