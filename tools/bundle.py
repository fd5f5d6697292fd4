"""Build one deployable source bundle per cloud function: `make bundles` (`python -m tools.bundle`).

build/bundles/<fn>/ (and the same files as build/bundles/<fn>.zip, which Terraform uploads) holds:
  main.py                      the function's entry point (functions/<fn>/main.py)
  shared/                      the whole shared package
  config/community.example.yaml, and config/community.yaml when you have one
  requirements.txt             only the pinned lines of requirements.txt that this function imports

The requirements come from the imports the function really makes: its main.py and, transitively,
every shared module it reaches, including imports made lazily inside functions (bootstrap builds
adapters that way). Imports under ``if TYPE_CHECKING:`` are skipped (never run). Each import is
mapped to the installed distribution that owns its file; a distribution that requirements.txt does
not pin directly is covered by the pinned requirement that depends on it.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata as md
import importlib.util
import os
import re
import shutil
import sys
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bundles"
ALWAYS = ("functions-framework",)  # the runtime needs it even if main.py did not import it
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so an unchanged bundle keeps its md5 (no redeploy)


class BundleError(Exception):
    pass


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Closure:
    """What one function runs: its modules (files under the tree) and its third-party imports."""

    files: set[Path] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)  # dotted names of the project modules reached
    external: set[str] = field(default_factory=set)  # dotted names of third-party imports


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def runtime_imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(module, imported names) for every import that can run, at any depth (lazy ones too)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                keep = len(parts) - node.level + (1 if is_package else 0)
                base = ".".join([*parts[:keep], *([base] if base else [])])
            yield base, tuple(a.name for a in node.names)
        stack.extend(ast.iter_child_nodes(node))


@lru_cache(maxsize=4096)
def _imports(text: str, module: str, is_package: bool) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(runtime_imports(ast.parse(text), module, is_package))


def _module_file(root: Path, dotted: str) -> Path | None:
    base = root.joinpath(*dotted.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def closure(root: Path, entry: Path, local_packages: Iterable[str] = ("shared",)) -> Closure:
    """Follow imports from ``entry`` through the project packages under ``root``."""
    local = tuple(local_packages)
    out = Closure()
    todo: list[tuple[Path, str]] = [(entry, "__main__")]
    while todo:
        path, module = todo.pop()
        if path in out.files:
            continue
        out.files.add(path)
        if module != "__main__":
            out.modules.add(module)
        for name, names in _imports(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"):
            top = name.split(".")[0]
            if top not in local:
                if top and top not in sys.stdlib_module_names and top != "__future__":
                    # from google.cloud import firestore -> google.cloud.firestore (namespace packages)
                    out.external.update([f"{name}.{n}" for n in names] if names else [name])
                continue
            parts = name.split(".")
            # importing a.b.c runs a/__init__, a/b/__init__ and a/b/c
            for i in range(1, len(parts) + 1):
                f = _module_file(root, ".".join(parts[:i]))
                if f is None:
                    raise BundleError(f"{path.relative_to(root)} imports {name!r}, which does not exist under {root}")
                todo.append((f, ".".join(parts[:i])))
            for n in names:  # from shared import cron -> shared/entrypoints/cron.py when it is a module
                f = _module_file(root, f"{name}.{n}")
                if f is not None:
                    todo.append((f, f"{name}.{n}"))
    return out


@cache
def _file_owners() -> dict[str, str]:
    """Absolute path of every installed file -> canonical distribution name."""
    owners: dict[str, str] = {}
    for dist in md.distributions():
        name = canonical(dist.metadata["Name"] or "")
        for f in dist.files or ():
            owners[str(Path(str(dist.locate_file(f))).resolve())] = name
    return owners


def distribution_of(module: str) -> str:
    """The installed distribution providing ``module`` (namespace packages like google.* included)."""
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        try:
            spec = importlib.util.find_spec(".".join(parts[:i]))
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
            continue
        owner = _file_owners().get(str(Path(spec.origin).resolve()))
        if owner:
            return owner
    raise BundleError(f"no installed distribution provides {module!r}: install requirements.txt into the venv first")


def pinned_lines(requirements: Path) -> dict[str, str]:
    """canonical name -> the exact line of requirements.txt (only `name==version` pins count)."""
    lines: dict[str, str] = {}
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*\S+", line)
        if m:
            lines[canonical(m.group(1))] = line
    return lines


@cache
def _requires(dist: str) -> frozenset[str]:
    try:
        reqs = md.requires(dist) or []
    except md.PackageNotFoundError:
        return frozenset()
    names = set()
    for r in reqs:
        if "extra ==" in r:
            continue
        m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", r)
        if m:
            names.add(canonical(m.group(1)))
    return frozenset(names)


def dependency_closure(dist: str) -> set[str]:
    seen, todo = set(), [dist]
    while todo:
        d = todo.pop()
        if d not in seen:
            seen.add(d)
            todo.extend(_requires(d))
    return seen


def requirements_for(external: Iterable[str], pins: dict[str, str]) -> list[str]:
    """The pinned lines covering every third-party import (directly, or through a pinned parent)."""
    chosen: set[str] = {canonical(a) for a in ALWAYS}
    for module in sorted(external):
        dist = distribution_of(module)
        if dist in pins:
            chosen.add(dist)
            continue
        parents = sorted(p for p in pins if dist in dependency_closure(p))
        if not parents:
            raise BundleError(f"import {module!r} comes from {dist!r}, which requirements.txt neither pins nor brings in")
        if not chosen.intersection(parents):
            chosen.add(parents[0])
    missing = [d for d in chosen if d not in pins]
    if missing:
        raise BundleError(f"requirements.txt does not pin {', '.join(sorted(missing))}")
    return sorted(pins[d] for d in chosen)


def function_names(root: Path = ROOT) -> list[str]:
    return sorted(p.parent.name for p in (root / "functions").glob("*/main.py"))


@dataclass(frozen=True)
class Bundle:
    function: str
    directory: Path
    archive: Path
    requirements: tuple[str, ...]
    modules: tuple[str, ...]


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".compiled"))


def _write_zip(directory: Path, archive: Path) -> None:
    tmp = archive.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    tmp.replace(archive)


def _compile_templates(directory: Path, pages: bool) -> None:
    """The templates' generated code, kept in the bundle (shared/platform/jinja_kept.py): a cold
    first request reads it instead of compiling. Mail templates for every function that can send
    mail; page templates too for the web functions (shared/entrypoints/web/render.py)."""
    import subprocess

    code = "from shared.entrypoints.web.render import precompile; precompile()" if pages else \
        "from shared.platform.mail import precompile; precompile()"
    subprocess.run([sys.executable, "-c", code], cwd=directory, check=True,
                   env={**os.environ, "PYTHONPATH": str(directory)})


def build(function: str, root: Path = ROOT, out: Path = BUILD) -> Bundle:
    main = root / "functions" / function / "main.py"
    if not main.is_file():
        raise BundleError(f"functions/{function}/main.py does not exist")
    reached = closure(root, main)
    reqs = requirements_for(reached.external, pinned_lines(root / "requirements.txt"))
    directory = out / function
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    shutil.copy2(main, directory / "main.py")
    _copy_tree(root / "shared", directory / "shared")
    if "shared.platform.jinja_kept" in reached.modules:
        _compile_templates(directory, pages="shared.entrypoints.web.render" in reached.modules)
    (directory / "config").mkdir()
    for name in ("community.example.yaml", "community.yaml"):
        if (root / "config" / name).is_file():
            shutil.copy2(root / "config" / name, directory / "config" / name)
    header = f"# {function}: generated by tools/bundle.py from requirements.txt (only what it imports)\n"
    (directory / "requirements.txt").write_text(header + "".join(f"{r}\n" for r in reqs), encoding="utf-8")
    archive = out / f"{function}.zip"
    _write_zip(directory, archive)
    return Bundle(function, directory, archive, tuple(reqs), tuple(sorted(reached.modules)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("functions", nargs="*", help="default: every folder in functions/")
    parser.add_argument("--out", type=Path, default=BUILD)
    args = parser.parse_args(argv)
    names = args.functions or function_names()
    try:
        for name in names:
            b = build(name, out=args.out)
            size = b.archive.stat().st_size
            pkgs = ", ".join(r.split("==")[0] for r in b.requirements)
            print(f"{name:24} {size / 1024:7.1f} KiB  {b.archive.relative_to(ROOT) if b.archive.is_relative_to(ROOT) else b.archive}  [{pkgs}]")
    except BundleError as exc:
        print(f"bundle: {exc}", file=sys.stderr)
        return 1
    if not (ROOT / "config" / "community.yaml").is_file():
        print("note: config/community.yaml does not exist; the bundles carry only the example config "
              "(copy it, edit it and run `make bundles` again before deploying)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
