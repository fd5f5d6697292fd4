"""What code one function can run, at the level of single functions (``def``), not whole modules.

``tools/bundle.py`` follows imports from a function's main.py to the modules it reaches: that is the
right unit for a bundle's requirements, but too coarse for settings. ``shared/bootstrap.py`` is in
every function's module closure and reads every adapter's settings, while ``provision_events`` calls
only its mailer, meetings and calendar builders. The settings a function needs are those read by the
code it can reach from its handler, so this follows references from the handler ``def``:

- a name or dotted name that resolves to a project function, class or module-level binding is an
  edge (called or passed on: ``cron.handle(request, "x", jobs.provision_events)`` reaches both);
- a class reaches all its methods (whoever holds an instance may call any of them), ``self.x``
  inside a class its own method ``x``;
- a module-level object reaches the defs registered on it by a decorator (``@app.route(...)``):
  whoever holds a web app runs its routes;
- reaching anything in a module also runs that module's top level, and an ``import`` (lazy ones
  inside functions too, never under ``if TYPE_CHECKING:``) runs the imported module's top level;
- a function a project decorator receives is reached from its module's top level (the decorator
  registers it, and a router calls it later: the console's pages).

Method calls on values of unknown type (``deps.mailer.send(...)``) are not resolved: they are
reached through the place that built the value (which names the class). So the result is an upper
bound of what runs, apart from dynamic lookups (``getattr`` with a computed name), which the
project does not use for code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tools.bundle import _is_type_checking, _module_file

TOP = ""  # the qualified name of a module's top-level code

Unit = tuple[str, str]  # (module, qualified name)


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    is_package: bool
    nodes: dict[str, ast.AST] = field(default_factory=dict)  # qualname -> def/class/assign value
    aliases: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # local name -> (module, attr)


def _import_targets(node: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, str, str | None]]:
    """(local name, module, attribute or None) for one import statement."""
    if isinstance(node, ast.Import):
        for a in node.names:
            if a.asname:
                yield a.asname, a.name, None
            else:
                top = a.name.split(".")[0]
                yield top, top, None
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = module.split(".")
            keep = len(parts) - node.level + (1 if is_package else 0)
            base = ".".join([*parts[:keep], *([base] if base else [])])
        for a in node.names:
            yield a.asname or a.name, base, a.name


def _registered_on(fn: ast.FunctionDef | ast.AsyncFunctionDef, binding: str) -> bool:
    """``@binding.something(...)`` (or ``@binding.something``) among the def's decorators."""
    for dec in fn.decorator_list:
        node = dec.func if isinstance(dec, ast.Call) else dec
        while isinstance(node, ast.Attribute):
            node = node.value
        if isinstance(node, ast.Name) and node.id == binding and not isinstance(dec, ast.Name):
            return True
    return False


def _walk_runtime(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below ``node`` that can run (skips ``if TYPE_CHECKING:`` bodies)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, ast.If) and _is_type_checking(n.test):
            stack.extend(n.orelse)
            continue
        stack.extend(ast.iter_child_nodes(n))


class CodeGraph:
    """The project's modules under ``root`` (packages ``local``), parsed once, with def-level edges."""

    def __init__(self, root: Path, local: Iterable[str] = ("shared",)) -> None:
        self.root = root
        self.local = tuple(local)
        self.modules: dict[str, Module] = {}
        self._edges: dict[Unit, frozenset[Unit]] = {}

    # ---------------------------------------------------------------- modules

    def module(self, name: str, path: Path | None = None) -> Module | None:
        if name in self.modules:
            return self.modules[name]
        if path is None:
            if name.split(".")[0] not in self.local:
                return None
            path = _module_file(self.root, name)
            if path is None:
                return None
        tree = ast.parse(path.read_text(encoding="utf-8"))
        mod = Module(name, path, tree, path.name == "__init__.py")
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                mod.nodes[stmt.name] = stmt
            elif isinstance(stmt, ast.ClassDef):
                mod.nodes[stmt.name] = stmt
                for sub in stmt.body:
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        mod.nodes[f"{stmt.name}.{sub.name}"] = sub
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        mod.nodes[t.id] = stmt.value
        for n in _walk_runtime(tree):
            for alias, target, attr in _import_targets(n, name, mod.is_package):
                mod.aliases.setdefault(alias, (target, attr))
        self.modules[name] = mod
        return mod

    def _is_module(self, name: str) -> bool:
        return name.split(".")[0] in self.local and _module_file(self.root, name) is not None

    # ---------------------------------------------------------------- resolution

    def _resolve_in(self, module: str, name: str, depth: int = 0) -> Unit | None:
        """``module.name`` as a unit: a def/class/binding there, a re-export, or a submodule."""
        mod = self.module(module)
        if mod is None or depth > 10:
            return None
        if name in mod.nodes:
            return module, name
        if name in mod.aliases:
            target, attr = mod.aliases[name]
            return self._resolve_alias(target, attr, depth + 1)
        if self._is_module(f"{module}.{name}"):
            return f"{module}.{name}", TOP
        return None

    def _resolve_alias(self, target: str, attr: str | None, depth: int = 0) -> Unit | None:
        if attr is None:
            return (target, TOP) if self._is_module(target) else None
        if self._is_module(f"{target}.{attr}"):
            return f"{target}.{attr}", TOP
        if self._is_module(target):
            return self._resolve_in(target, attr, depth)
        return None

    def _resolve_expr(self, mod: Module, node: ast.AST, cls: str | None) -> Unit | None:
        chain: list[str] = []
        while isinstance(node, ast.Attribute):
            chain.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        chain.reverse()
        if node.id in ("self", "cls") and cls and chain:
            q = f"{cls}.{chain[0]}"
            return (mod.name, q) if q in mod.nodes else None
        if node.id in mod.nodes:
            unit: Unit | None = (mod.name, node.id)
        elif node.id in mod.aliases:
            unit = self._resolve_alias(*mod.aliases[node.id])
        else:
            return None
        for attr in chain:  # a.b.c: keep going while we stand on a module
            if unit is None or unit[1] != TOP:
                break
            nxt = self._resolve_in(unit[0], attr)
            if nxt is None:
                break
            unit = nxt
        return unit

    # ---------------------------------------------------------------- edges

    def body(self, unit: Unit) -> list[ast.AST]:
        """The nodes that run for a unit (a module's top level: everything but def and class bodies)."""
        mod = self.module(unit[0])
        if mod is None:
            return []
        if unit[1] == TOP:
            out: list[ast.AST] = []
            for stmt in mod.tree.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out.extend([*stmt.decorator_list, *stmt.args.defaults, *(d for d in stmt.args.kw_defaults if d)])
                elif isinstance(stmt, ast.ClassDef):
                    out.extend([*stmt.decorator_list, *stmt.bases])
                else:
                    out.append(stmt)
            return out
        node = mod.nodes.get(unit[1])
        return [node] if node is not None else []

    def edges(self, unit: Unit) -> frozenset[Unit]:
        if unit not in self._edges:
            self._edges[unit] = self._find_edges(unit)
        return self._edges[unit]

    def _find_edges(self, unit: Unit) -> frozenset[Unit]:
        mod = self.module(unit[0])
        if mod is None:
            return frozenset()
        cls = unit[1].split(".")[0] if unit[1] and (unit[1].split(".")[0] in mod.nodes
                                                    and isinstance(mod.nodes[unit[1].split(".")[0]], ast.ClassDef)) else None
        out: set[Unit] = set()
        if unit[1] != TOP:
            out.add((mod.name, TOP))
            node = mod.nodes.get(unit[1])
            if isinstance(node, ast.ClassDef):
                out.update((mod.name, q) for q in mod.nodes if q.startswith(f"{unit[1]}."))
            elif node is not None and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.update((mod.name, q) for q, d in mod.nodes.items()
                           if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef)) and _registered_on(d, unit[1]))
        if unit[1] == TOP:
            out.update(self._registered(mod))
        for top in self.body(unit):
            for n in _walk_runtime(top):
                if isinstance(n, (ast.Import, ast.ImportFrom)):
                    for _alias, target, attr in _import_targets(n, mod.name, mod.is_package):
                        parts = target.split(".")
                        out.update((".".join(parts[:i]), TOP) for i in range(1, len(parts) + 1)
                                   if self._is_module(".".join(parts[:i])))
                        if attr is not None:
                            r = self._resolve_alias(target, attr)
                            if r is not None and r[1] == TOP:
                                out.add(r)
                elif isinstance(n, (ast.Name, ast.Attribute)) and isinstance(getattr(n, "ctx", None), ast.Load):
                    r = self._resolve_expr(mod, n, cls)
                    if r is not None and r != unit:
                        out.add(r)
        return frozenset(out)

    def _registered(self, mod: Module) -> set[Unit]:
        """Functions a project decorator receives when the module runs (``@page("/x")`` puts the
        handler into a registry that calls it later): reached from the module's top level."""
        out: set[Unit] = set()
        for stmt in mod.tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for deco in stmt.decorator_list:
                    target = deco.func if isinstance(deco, ast.Call) else deco
                    if self._resolve_expr(mod, target, None) is not None:
                        out.add((mod.name, stmt.name))
        return out

    def reach(self, start: Iterable[Unit]) -> set[Unit]:
        seen: set[Unit] = set()
        todo = list(start)
        while todo:
            u = todo.pop()
            if u in seen:
                continue
            seen.add(u)
            todo.extend(self.edges(u) - seen)
        return seen

    def handler(self, main: Path, name: str) -> set[Unit]:
        """Everything the function ``name`` defined in ``main`` (a functions/<fn>/main.py) can run."""
        mod_name = f"__main__{name}"
        self.module(mod_name, main)
        return self.reach([(mod_name, name), (mod_name, TOP)])
