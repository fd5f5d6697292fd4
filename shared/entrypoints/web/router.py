"""A tiny router for one function that serves several paths (docs/web.md).

Patterns are literal segments and ``<name>`` placeholders; a placeholder matches one segment of
letters, digits and ``_ - . ~ :`` (the ids this project makes), at most 200 characters, so an id
taken from a path is already safe to look up. Nothing else (no regular expressions in patterns,
no converters): a path either matches exactly one route or is a 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SEGMENT = re.compile(r"^[A-Za-z0-9_.~:-]{1,200}$")
_PLACEHOLDER = re.compile(r"^<([a-z_][a-z0-9_]*)>$")
MAX_PATH = 1024


@dataclass(frozen=True)
class Route:
    pattern: str
    handler: Callable[..., Any]
    methods: frozenset[str]
    name: str
    options: Mapping[str, Any] = field(default_factory=dict)  # e.g. {"csrf": False, "auth": False}

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(p for p in self.pattern.split("/") if p)

    def match(self, parts: tuple[str, ...]) -> dict[str, str] | None:
        mine = self.parts
        if len(mine) != len(parts):
            return None
        params: dict[str, str] = {}
        for want, got in zip(mine, parts, strict=True):
            placeholder = _PLACEHOLDER.match(want)
            if placeholder:
                if not SEGMENT.match(got):
                    return None
                params[placeholder.group(1)] = got
            elif want != got:
                return None
        return params

    def build(self, **params: str) -> str:
        out = []
        for part in self.parts:
            placeholder = _PLACEHOLDER.match(part)
            if placeholder:
                value = str(params[placeholder.group(1)])
                if not SEGMENT.match(value):
                    raise ValueError(f"{value!r} cannot be a path segment of {self.pattern}")
                out.append(value)
            else:
                out.append(part)
        return "/" + "/".join(out)


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._names: dict[str, Route] = {}

    def add(self, pattern: str, handler: Callable[..., Any], methods: Iterable[str] = ("GET",), name: str | None = None,
            **options: Any) -> Route:
        route = Route(pattern, handler, frozenset(m.upper() for m in methods), name or handler.__name__, dict(options))
        for part in route.parts:
            if not (_PLACEHOLDER.match(part) or SEGMENT.match(part)):
                raise ValueError(f"{pattern}: {part!r} is neither a literal segment nor <name>")
        if route.name in self._names:
            raise ValueError(f"two routes are named {route.name!r}")
        self.routes.append(route)
        self._names[route.name] = route
        return route

    def route(self, pattern: str, methods: Iterable[str] = ("GET",), name: str | None = None,
              **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of :meth:`add`."""
        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            self.add(pattern, handler, methods, name, **options)
            return handler
        return register

    def resolve(self, path: str, method: str) -> tuple[Route, dict[str, str]] | int:
        """The route for ``method`` on ``path`` and its parameters; 405 when routes exist on the
        path but none takes the method; 404 when nothing matches. HEAD is served by GET routes."""
        if len(path) > MAX_PATH:
            return 404
        parts = tuple(p for p in path.split("/") if p)
        wanted = "GET" if method == "HEAD" else method
        found = False
        for route in self.routes:
            params = route.match(parts)
            if params is None:
                continue
            found = True
            if wanted in route.methods:
                return route, params
        return 405 if found else 404

    def lookup(self, name: str) -> Route:
        return self._names[name]
