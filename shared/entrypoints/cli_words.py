"""The organizer CLI's words: ``cli.*`` of the message catalog in the community's language."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from shared import bootstrap
from shared.config import ConfigError, config_path
from shared.platform import texts


def locale() -> str:
    """The community's locale, read from the config file; a broken file still gives its locale line.
    Not cached here: bootstrap caches the config (and forgets it on reset), so a test that loads
    another community, or a config read again, speaks that community's language."""
    try:
        return bootstrap.config().community.locale
    except ConfigError:
        pass
    with contextlib.suppress(Exception):
        import yaml

        raw = yaml.safe_load(config_path().read_text(encoding="utf-8"))
        return texts.normalise(str(raw["community"]["locale"]))
    return "en" if os.environ.get("LANG", "").startswith("en") else texts.DEFAULT_LOCALE


def say(key: str, **values: Any) -> str:
    return texts.t(locale(), f"cli.{key}", **values)


def header(key: str) -> list[str]:
    return list(texts.t_list(locale(), f"cli.{key}"))


def cli_actor() -> Any:
    """Who runs the CLI, for the audit log: the OS user (the CLI has no sign-in)."""
    import getpass

    from shared.usecases.audit import Actor

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(f"cli:{user}", user, "cli")
