"""The console's pages and its navigation, in one registry (docs/console.md, "Adding a page").

A page is a module in this package that registers its routes with :func:`page`; the ones with a
``label`` appear in the navigation, in ``order``, for the roles that may open them::

    from shared.entrypoints.console.registry import ORGANIZERS, page

    @page("/venues", name="venues", label="console.nav.venues", order=65, roles=ORGANIZERS)
    def venues(ctx: Ctx) -> Response:
        return ctx.render("console/venues.html", title=ctx.t("console.venues.title"), ...)

then its module name goes into ``PAGES`` in ``shared/entrypoints/console/__init__.py``. The sign-in
check, the role check and CSRF are done before the handler runs. Every page a GET shows is
measured for its reads and times (:func:`get_pages`, ``tests/helpers/console_at_scale.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Response

from shared.entrypoints.web.app import Ctx, WebApp
from shared.usecases import roster

ORGANIZERS = frozenset({roster.ORGANIZER})
EVERYONE = frozenset({roster.ORGANIZER, roster.HOST})  # organizers and hosts


@dataclass(frozen=True)
class NavEntry:
    route: str
    label: str  # text key
    order: int
    roles: frozenset[str]


NAV: list[NavEntry] = []
_ROUTES: list[tuple[str, Callable[[Ctx], Response], tuple[str, ...], str, dict[str, Any]]] = []


def page(pattern: str, *, name: str, methods: Iterable[str] = ("GET",), label: str | None = None, order: int = 100,
         roles: frozenset[str] = ORGANIZERS, **options: Any) -> Callable[[Callable[[Ctx], Response]], Callable[[Ctx], Response]]:
    """Register a console route (and, with ``label``, its navigation entry)."""
    def register(handler: Callable[[Ctx], Response]) -> Callable[[Ctx], Response]:
        _ROUTES.append((pattern, handler, tuple(methods), name, {"roles": roles, **options}))
        if label is not None:
            NAV.append(NavEntry(name, label, order, roles))
        return handler
    return register


def get_pages() -> dict[str, str]:
    """Every registered route a GET shows, by name: its pattern (the page modules must be imported,
    as ``console.app()`` does)."""
    return {name: pattern for pattern, _, methods, name, _ in _ROUTES if "GET" in methods}


def install(app: WebApp) -> None:
    for pattern, handler, methods, name, options in _ROUTES:
        app.router.add(pattern, handler, methods, name, **options)


def navigation(ctx: Ctx) -> list[dict[str, Any]]:
    person = ctx.user
    if person is None:
        return []
    current = ctx.route.name if ctx.route else ""
    section = ctx.route.options.get("section", current) if ctx.route else ""
    out = []
    for entry in sorted(NAV, key=lambda e: (e.order, e.route)):
        if entry.roles & person.roles:
            out.append({"url": ctx.url(entry.route), "label": ctx.t(entry.label), "current": entry.route in (current, section),
                        "badge": None})
    return out
