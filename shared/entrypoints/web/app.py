"""One function, several pages: :class:`WebApp` ties the router, the security headers, CSRF,
signed cookies and rendering together (docs/web.md).

A function's web module builds one app and adds routes::

    app = WebApp("console", key=session_key, locale=community_locale, base_url=console_url)

    @app.route("/schedule", methods=("GET", "POST"))
    def schedule(ctx: Ctx) -> Response:
        if ctx.method == "POST":
            ...                       # the CSRF token was already checked
            return ctx.redirect("schedule")
        return ctx.render("console/schedule.html", slots=...)

``app.handle(request)`` answers every request: 404/405/413 pages, the CSRF check on every POST
(``csrf=False`` on a route turns it off, for a POST that carries its own proof, e.g. Google's
sign-in), more CSP sources for one page (``csp={"script-src": ...}`` on its route, or
``ctx.extra["csp"]``), hooks that run before the handler (``app.before``: e.g. sign-in), the security headers
on every answer, and an error page (never a traceback) for :class:`HttpError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Request, Response

from shared.entrypoints.web import render as rendering
from shared.entrypoints.web import security
from shared.entrypoints.web.router import Route, Router
from shared.platform import log, texts

MAX_BODY = 64 * 1024
BROWSER_COOKIE_AGE = 30 * 24 * 3600
LANG_COOKIE_AGE = 365 * 24 * 3600


class HttpError(Exception):
    """Answer with an error page: ``status``, a text key for the message, and its values."""

    def __init__(self, status: int, key: str, **values: Any) -> None:
        super().__init__(key)
        self.status, self.key, self.values = status, key, values


@dataclass
class Ctx:
    """One request as a page handler sees it."""

    app: WebApp
    request: Request
    route: Route | None
    params: dict[str, str]
    locale: str
    now: dt.datetime
    binding: str | None = None  # what the CSRF token is bound to: the session id, else the browser cookie
    user: Any = None  # set by a hook (e.g. the signed-in person)
    cookies: list[tuple[str, str | None, int | None]] = field(default_factory=list)  # queued for the answer
    extra: dict[str, Any] = field(default_factory=dict)  # for hooks and handlers to share

    @property
    def method(self) -> str:
        return self.request.method

    def t(self, key: str, **values: Any) -> str:
        return texts.t(self.locale, key, **values)

    @property
    def csrf(self) -> str:
        if self.binding is None:
            self.binding = self.app.browser_id(self)
        return security.csrf_token(self.app.key(), self.binding)

    def url(self, name: str, _query: Mapping[str, str] | None = None, **params: str) -> str:
        """The path of a named route (with the public URL's prefix), e.g. ``url("slot", slot_id=...)``."""
        path = self.app.base_path() + self.app.router.lookup(name).build(**params)
        return path + (f"?{urlencode(dict(_query))}" if _query else "")

    def absolute_url(self, name: str, _query: Mapping[str, str] | None = None, **params: str) -> str:
        base = self.app.base_url() or self.request.host_url.rstrip("/")
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(base))
        return origin + self.url(name, _query, **params)

    def form(self, name: str, limit: int = 2000) -> str:
        """A form field, stripped; a value longer than ``limit`` is a 400 (never silently cut)."""
        value = self.request.form.get(name, "")
        if len(value) > limit:
            raise HttpError(400, "web.error.too_long", field=name)
        return value.strip()

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        html = rendering.render(template, self.locale, {"ctx": self, **self.app.defaults(self), **self.app.globals(self),
                                                        **values}, self.url)
        return Response(html, status=status, mimetype="text/html")

    def redirect(self, name: str, _query: Mapping[str, str] | None = None, **params: str) -> Response:
        """303 to a named route: a POST is always answered by a redirect, so a reload never repeats it."""
        return Response("", status=303, headers={"Location": self.url(name, _query, **params)})

    def set_cookie(self, what: str, value: str | None, max_age: int | None = None) -> None:
        self.cookies.append((security.cookie_name(self.app.name, what), value, max_age))

    def cookie(self, what: str) -> str | None:
        return self.request.cookies.get(security.cookie_name(self.app.name, what))


Hook = Callable[[Ctx], Response | None]


class WebApp:
    def __init__(self, name: str, *, key: Callable[[], bytes], locale: Callable[[], str], site_name: Callable[[], str],
                 base_url: Callable[[], str | None] = lambda: None, private: bool = True,
                 globals: Callable[[Ctx], Mapping[str, Any]] | None = None) -> None:
        self.name, self.key, self.default_locale, self.base_url = name, key, locale, base_url
        self.site_name = site_name
        self.private = private
        self.router = Router()
        self.before: list[Hook] = []
        self._globals = globals
        self.logger = log.get(name)
        # not /static: functions-framework's Flask app answers /static/... itself (its static folder)
        self.router.add("/assets/<asset>", self._static, ("GET",), "static", csrf=False, auth=False)
        self.router.add("/lang/<code>", self._lang, ("GET",), "lang", csrf=False, auth=False)

    # ------------------------------------------------------------ registration

    def route(self, pattern: str, methods: Iterable[str] = ("GET",), name: str | None = None,
              **options: Any) -> Callable[[Callable[[Ctx], Response]], Callable[[Ctx], Response]]:
        return self.router.route(pattern, methods, name, **options)

    def globals(self, ctx: Ctx) -> Mapping[str, Any]:
        return self._globals(ctx) if self._globals else {}

    def defaults(self, ctx: Ctx) -> dict[str, Any]:
        """What the base layout needs, before the app's own globals and the page's values."""
        return {"site_name": self.site_name(), "nav": [], "flashes": [], "title": "",
                "languages": [(code, texts.t(code, "web.language_name")) for code in self.languages()],
                "here": self.base_path() + ctx.request.path}

    def languages(self) -> list[str]:
        """The languages a visitor may switch the pages to: the community's own, then English, the
        common second language of an international alumni network. An English community's pages
        offer no other language (no Japanese reaches its people); a Japanese one's offer English."""
        first = texts.language(self.default_locale())
        return [first] + [code for code in ("en",) if code != first and code in texts.LANGUAGES]

    def base_path(self) -> str:
        return urlsplit(self.base_url() or "").path.rstrip("/")

    def browser_id(self, ctx: Ctx) -> str:
        """A random id of this browser (signed cookie), for CSRF tokens on forms before sign-in."""
        signer = security.SignedValues(self.key(), f"{self.name}:browser")
        value = signer.loads(ctx.cookie("b"), BROWSER_COOKIE_AGE)
        if isinstance(value, str):
            return value
        value = security.random_id()
        ctx.set_cookie("b", signer.dumps(value), BROWSER_COOKIE_AGE)
        return value

    def locale_of(self, request: Request) -> str:
        chosen = request.cookies.get(security.cookie_name(self.name, "lang"))
        return chosen if chosen in self.languages() else texts.normalise(self.default_locale())

    # ------------------------------------------------------------ built-in routes

    def _static(self, ctx: Ctx) -> Response:
        data, digest = rendering.stylesheet()
        if ctx.params["asset"] != f"site-{digest}.css":
            raise HttpError(404, "web.error.not_found")
        return Response(data, mimetype="text/css", headers={"Cache-Control": "public, max-age=31536000, immutable"})

    def _lang(self, ctx: Ctx) -> Response:
        code = ctx.params["code"]
        if code not in self.languages():
            raise HttpError(404, "web.error.not_found")
        ctx.set_cookie("lang", code, LANG_COOKIE_AGE)
        back = ctx.request.args.get("next", "")
        # only a path of ours: never an open redirect to another site
        if not back.startswith(self.base_path() + "/") or back.startswith("//") or "\\" in back or len(back) > 500:
            back = self.base_path() + "/"
        return Response("", status=303, headers={"Location": back})

    # ------------------------------------------------------------ answering

    def handle(self, request: Request) -> Response:
        now = dt.datetime.now(dt.UTC)
        ctx = Ctx(self, request, None, {}, self.locale_of(request), now)
        try:
            response = self._answer(ctx)
        except HttpError as exc:
            response = self.error_page(ctx, exc)
        for name, value, max_age in ctx.cookies:
            if value is None:
                security.clear_cookie(response, name)
            else:
                security.set_cookie(response, name, value, max_age)
        is_static = ctx.route is not None and ctx.route.name == "static" and response.status_code == 200
        extra = ctx.extra.get("csp") or (ctx.route.options.get("csp") if ctx.route else None)
        security.apply_headers(response, private=self.private and not is_static, csp_extra=extra)
        if is_static:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        if request.method == "HEAD":
            response.set_data(b"")
        self.logger.info("page", http_status=response.status_code, kind=request.method,
                         outcome=ctx.route.name if ctx.route else "none")
        return response

    def _answer(self, ctx: Ctx) -> Response:
        request = ctx.request
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise HttpError(413, "web.error.too_large")
        if request.method not in ("GET", "HEAD", "POST"):
            raise HttpError(405, "web.error.method")
        self._check_settings()
        found = self.router.resolve(request.path, request.method)
        if isinstance(found, int):
            raise HttpError(found, "web.error.not_found" if found == 404 else "web.error.method")
        ctx.route, ctx.params = found
        for hook in self.before:
            early = hook(ctx)
            if early is not None:
                return early
        if request.method == "POST" and ctx.route.options.get("csrf", True):
            self.check_csrf(ctx)
        return ctx.route.handler(ctx)  # type: ignore[no-any-return]

    def _check_settings(self) -> None:
        """A 503 naming each setting this function cannot run without, and its fix, as the JSON
        functions answer (shared/platform/settings.py): never a traceback from deep inside a page."""
        from shared.platform import settings

        found = settings.problems(self.name)
        if found:
            for problem in found:
                self.logger.error("not configured", reason=problem.sentence)
            raise HttpError(503, "web.error.not_configured", fix=" ".join(p.sentence for p in found))

    def check_csrf(self, ctx: Ctx) -> None:
        base = urlsplit(self.base_url() or "").netloc
        if not security.same_origin(ctx.request, (base,) if base else ()):
            raise HttpError(403, "web.error.csrf")
        try:
            given = ctx.request.form.get("csrf")
        except Exception:  # an unreadable body is a refusal, not a crash
            raise HttpError(400, "web.error.bad_form") from None
        binding = ctx.binding if ctx.binding is not None else self._existing_browser_id(ctx)
        if not security.csrf_ok(self.key(), binding, given):
            raise HttpError(403, "web.error.csrf")

    def _existing_browser_id(self, ctx: Ctx) -> str | None:
        value = security.SignedValues(self.key(), f"{self.name}:browser").loads(ctx.cookie("b"), BROWSER_COOKIE_AGE)
        return value if isinstance(value, str) else None

    def error_page(self, ctx: Ctx, exc: HttpError) -> Response:
        try:
            message = ctx.t(exc.key, **exc.values)
        except (KeyError, IndexError, ValueError):
            message = ctx.t("web.error.generic")
        title = ctx.t(f"web.status.{exc.status}") if texts.has(ctx.locale, f"web.status.{exc.status}") \
            else ctx.t("web.status.other")
        return ctx.render("web/error.html", status=exc.status, title=title, message=message)
