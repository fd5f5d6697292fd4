"""The web kit (shared/entrypoints/web, docs/web.md): routing, headers, CSRF, cookies, stylesheet, texts."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from flask import Flask, Response, request

from shared.entrypoints.web import security
from shared.entrypoints.web.app import Ctx, HttpError, WebApp
from shared.entrypoints.web.router import Router
from shared.platform import texts

KEY = b"k" * 32


def make_app(base_url: str | None = None) -> tuple[WebApp, list[str]]:
    calls: list[str] = []
    app = WebApp("kit", key=lambda: KEY, locale=lambda: "ja", site_name=lambda: "テスト　会", base_url=lambda: base_url)

    @app.route("/", methods=("GET", "POST"), name="home")
    def home(ctx: Ctx) -> Response:
        if ctx.method == "POST":
            calls.append(ctx.form("note"))
            return ctx.redirect("home")
        return ctx.render("web/error.html", title="ホーム", message=f"csrf={ctx.csrf}")

    @app.route("/items/<item_id>", name="item")
    def item(ctx: Ctx) -> Response:
        if ctx.params["item_id"] == "gone":
            raise HttpError(404, "web.error.not_found")
        return Response(ctx.params["item_id"] + " " + ctx.url("item", item_id=ctx.params["item_id"]))

    return app, calls


def client(app: WebApp) -> Any:
    flask_app = Flask("kit")  # like functions-framework's app: its own /static route

    @flask_app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"])
    @flask_app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"])
    def all_paths(path: str) -> Response:
        return app.handle(request)

    return flask_app.test_client()


def token_of(res: Any) -> str:
    found = re.search(r"csrf=([A-Za-z0-9_-]+)", res.get_data(as_text=True))
    assert found
    return found.group(1)


def test_the_router_matches_literal_segments_and_safe_placeholders() -> None:
    r = Router()
    r.add("/a/<x>", lambda ctx: None, ("GET",), "a")
    r.add("/a/<x>", lambda ctx: None, ("POST",), "a_post")
    assert r.resolve("/a/speaker_night_2027-01-12", "GET")[1] == {"x": "speaker_night_2027-01-12"}  # type: ignore[index]
    assert r.resolve("/a/x", "HEAD")[0].name == "a"  # type: ignore[index]
    assert r.resolve("/a/x", "POST")[0].name == "a_post"  # type: ignore[index]
    assert r.resolve("/a/x", "PUT") == 405
    assert r.resolve("/a/..%2f", "GET") == 404 and r.resolve("/a/日本語", "GET") == 404 and r.resolve("/a", "GET") == 404
    assert r.resolve("/a/" + "x" * 201, "GET") == 404
    assert r.lookup("a").build(x="s1") == "/a/s1"
    with pytest.raises(ValueError):
        r.lookup("a").build(x="../etc")
    with pytest.raises(ValueError):
        r.add("/b", lambda ctx: None, ("GET",), "a")  # two routes of one name


def test_every_answer_carries_the_security_headers_and_no_inline_scripts() -> None:
    app, _ = make_app()
    c = client(app)
    for path, status in (("/", 200), ("/nothing", 404), ("/items/gone", 404)):
        res = c.get(path)
        assert res.status_code == status
        csp = res.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert "script-src" not in csp  # no script at all unless a page asks for one
        assert res.headers["X-Content-Type-Options"] == "nosniff"
        assert res.headers["Referrer-Policy"] == "same-origin"
        assert res.headers["Cache-Control"] == "no-store"
        html = res.get_data(as_text=True)
        assert "<script" not in html and "style=" not in html and "<style" not in html
    assert c.put("/").status_code == 405 and c.open("/", method="DELETE").status_code == 405


def test_the_error_page_speaks_the_communitys_language_and_the_chosen_one() -> None:
    app, _ = make_app()
    c = client(app)
    res = c.get("/nothing")
    assert '<html lang="ja">' in res.get_data(as_text=True) and "ページが見つかりません" in res.get_data(as_text=True)
    res = c.get("/lang/en?next=/items/x")
    assert res.status_code == 303 and res.headers["Location"] == "/items/x"
    assert "Page not found" in c.get("/nothing").get_data(as_text=True)
    assert c.get("/lang/fr").status_code == 404


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "items"])
def test_the_language_switch_never_redirects_off_site(target: str) -> None:
    app, _ = make_app()
    res = client(app).get("/lang/en", query_string={"next": target})
    assert res.status_code == 303 and res.headers["Location"] == "/"


def test_a_post_needs_the_token_of_this_browser() -> None:
    app, calls = make_app()
    c = client(app)
    assert c.post("/", data={"note": "no token"}).status_code == 403  # no browser cookie, no token
    token = token_of(c.get("/"))  # sets this browser's cookie
    assert c.post("/", data={"note": "wrong", "csrf": token + "x"}).status_code == 403
    assert c.post("/", data={"note": "other site", "csrf": token}, headers={"Origin": "https://evil.example"}).status_code == 403
    assert c.post("/", data={"note": "hidden origin", "csrf": token}, headers={"Origin": "null"}).status_code == 403
    other = client(app)
    other.get("/")
    assert other.post("/", data={"note": "another browser", "csrf": token}).status_code == 403
    res = c.post("/", data={"note": "山田　花子\n改行", "csrf": token}, headers={"Origin": "http://localhost"})
    assert res.status_code == 303 and res.headers["Location"] == "/"
    assert calls == ["山田　花子\n改行"]


def test_a_field_longer_than_its_limit_is_refused_not_cut() -> None:
    app, calls = make_app()
    c = client(app)
    token = token_of(c.get("/"))
    assert c.post("/", data={"note": "あ" * 2001, "csrf": token}).status_code == 400
    assert c.post("/", data={"note": "a" * 70_000, "csrf": token}).status_code == 413
    assert calls == []


def test_cookies_are_host_only_secure_httponly_lax() -> None:
    app, _ = make_app()
    res = client(app).get("/")
    cookie = res.headers["Set-Cookie"]
    assert cookie.startswith("__Host-kit-b=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain" not in cookie


def test_signed_values_refuse_forgery_tampering_and_age() -> None:
    s = security.SignedValues(KEY, "test")
    value = s.dumps({"sid": "abc"})
    assert s.loads(value, 60) == {"sid": "abc"}
    assert s.loads(value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1], 60) is None
    assert security.SignedValues(b"x" * 32, "test").loads(value, 60) is None
    assert security.SignedValues(KEY, "other").loads(value, 60) is None
    assert s.loads("", 60) is None and s.loads("a" * 5000, 60) is None
    time.sleep(1.1)
    assert s.loads(value, 0) is None


def test_the_stylesheet_is_served_by_its_hash_and_cached() -> None:
    from shared.entrypoints.web import render

    app, _ = make_app(base_url="https://region-p.cloudfunctions.net/kit")
    c = client(app)
    digest = render.stylesheet()[1]
    html = c.get("/").get_data(as_text=True)
    assert f'href="/kit/assets/site-{digest}.css"' in html  # links carry the public URL's prefix
    res = c.get(f"/assets/site-{digest}.css")
    assert res.status_code == 200 and res.mimetype == "text/css"
    assert res.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert c.get("/assets/site-000000000000.css").status_code == 404
    assert client(app).get("/items/s1").get_data(as_text=True) == "s1 /kit/items/s1"


def test_the_kit_reads_its_words_from_the_area_catalog() -> None:
    """texts/web.yaml: keys web.* (every language has every key: tests/unit/test_texts.py)."""
    assert texts.t("ja", "web.skip") == "本文へ移動" and texts.t("en", "web.skip") == "Skip to content"
    assert set(texts.language_catalog("en")) >= {"web.skip", "web.status.404", "actions.page.bad"}
