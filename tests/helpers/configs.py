"""Config builders for tests: the example config as a dict, changed in place, then validated."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import yaml

from shared.config import Config, parse_config
from tests.conftest import EXAMPLE_CONFIG


@cache
def _example() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def example_dict() -> dict[str, Any]:
    """A fresh, mutable copy of ``config/community.example.yaml``."""
    return copy.deepcopy(_example())


def config(data: dict[str, Any] | None = None) -> Config:
    return parse_config(data if data is not None else example_dict(), "test")


def to_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
