"""Pages from Jinja templates with the base layout and the one stylesheet (docs/web.md).

Templates live in ``shared/templates/web/`` (the kit's layout and error page) and in one folder per
area (``shared/templates/console/``, ...). They hold structure only: every word comes from the
per-locale catalogs through ``t(...)`` (``shared/platform/texts.py``: the area catalogs
``shared/templates/<locale>/texts/<area>.yaml``). Autoescaping is on
and undefined names are errors.

Compiling a page's templates (layout, page, includes) is most of the rendering time of a cold
first request, so what Jinja generates from each template (Python source text) is kept in
``shared/templates/.compiled/<hash of name and template source>.py``: an edited template gets a new
name, a stale file is never used. ``tools/bundle.py`` fills the folder before zipping (the text is
the same on every machine, so bundles stay reproducible); at run time the folder may be read-only,
and a template missing from it is compiled as usual.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from shared.platform import texts

STATIC = Path(__file__).resolve().parent / "static"
STYLESHEET = STATIC / "site.css"


COMPILED = texts.TEMPLATES / ".compiled"


def compiled_path(name: str, source: str) -> Path:
    digest = hashlib.sha256(name.encode() + b"\0" + source.encode()).hexdigest()[:32]
    return COMPILED / f"t{digest}.py"


@cache
def environment() -> Any:
    import os
    import tempfile

    import jinja2

    class PageEnvironment(jinja2.Environment):  # one method more: the generated code is kept
        def compile(self, source: Any, name: str | None = None, filename: str | None = None, raw: bool = False,
                    defer_init: bool = False) -> Any:
            if raw or defer_init or name is None or not isinstance(source, str):
                return super().compile(source, name, filename, raw, defer_init)  # type: ignore[call-overload]
            path = compiled_path(name, source)
            try:
                generated = path.read_text(encoding="utf-8")
            except OSError:
                generated = super().compile(source, name, filename, raw=True)
                try:  # atomically: another process may read it meanwhile
                    COMPILED.mkdir(exist_ok=True)
                    fd, tmp = tempfile.mkstemp(dir=COMPILED, suffix=".tmp")
                    with os.fdopen(fd, "w", encoding="utf-8") as f:
                        f.write(generated)
                    os.replace(tmp, path)
                except OSError:
                    pass  # a read-only deployment: compiled in memory this time
            return compile(generated, filename or "<template>", "exec")

    env = PageEnvironment(
        loader=jinja2.FileSystemLoader(str(texts.TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def precompile() -> int:
    """Generate :data:`COMPILED` for every page template (``tools/bundle.py``); returns how many."""
    env = environment()
    names = [n for n in env.list_templates(extensions=["html"]) if not n.startswith(("ja/", "en/", "layouts/"))]
    for name in names:
        env.get_template(name)
    return len(names)


@cache
def stylesheet() -> tuple[bytes, str]:
    """The stylesheet's bytes and a short hash of them (its URL changes with its content, so it can
    be cached for a year)."""
    data = STYLESHEET.read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:12]


def render(template: str, locale: str, values: Mapping[str, Any], url: Callable[..., str]) -> str:
    lang = texts.normalise(locale)

    def t(key: str, **kw: Any) -> str:
        return texts.t(lang, key, **kw)

    return str(environment().get_template(template).render(
        **values, t=t, lang=lang, url=url, stylesheet_hash=stylesheet()[1]))
