"""Pages from Jinja templates with the base layout and the one stylesheet (docs/web.md).

Templates live in ``shared/templates/web/`` (the kit's layout and error page) and in one folder per
area (``shared/templates/console/``, ...). They hold structure only: every word comes from the
per-locale catalogs through ``t(...)`` (``shared/platform/texts.py``: the area catalogs
``shared/templates/<locale>/texts/<area>.yaml``). Autoescaping is on
and undefined names are errors.

What Jinja generates from each template is kept on disk (``shared/platform/jinja_kept.py``), so a
cold first request reads it instead of compiling; ``tools/bundle.py`` fills it before zipping.
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


@cache
def environment() -> Any:
    import jinja2

    from shared.platform.jinja_kept import KeptEnvironment

    class PageEnvironment(KeptEnvironment):
        label = "pages"

    env = PageEnvironment(
        loader=jinja2.FileSystemLoader(str(texts.TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def precompile() -> int:
    """Generate the kept code of every page and mail template (``tools/bundle.py``); returns how many."""
    from shared.platform import mail

    env = environment()
    names = [n for n in env.list_templates(extensions=["html"]) if not n.startswith(("ja/", "en/", "layouts/"))]
    for name in names:
        env.get_template(name)
    return len(names) + mail.precompile()


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
