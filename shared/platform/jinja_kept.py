"""Jinja environments that keep the Python source Jinja generates from each template.

Compiling templates is most of a cold first request's rendering time (a mail with its layout, a
page with its includes), so what Jinja generates from a template (Python source text, the same on
every machine) is kept in ``shared/templates/.compiled/t<hash>.py``. The hash covers the
environment's label (its settings change the generated code), the template's name and its source:
an edited template gets a new file, a stale one is never read. ``tools/bundle.py`` fills the folder
before zipping; at run time the folder may be read-only, and a template missing from it is
compiled as usual (docs/benchmarks.md, cold starts).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import jinja2

from shared.platform.texts import TEMPLATES

COMPILED = TEMPLATES / ".compiled"


def compiled_path(label: str, name: str, source: str) -> Path:
    digest = hashlib.sha256(f"{label}\0{name}\0".encode() + source.encode()).hexdigest()[:32]
    return COMPILED / f"t{digest}.py"


class KeptEnvironment(jinja2.Environment):
    """A ``jinja2.Environment`` whose generated code is kept on disk under ``label``."""

    label = "env"

    def compile(self, source: Any, name: str | None = None, filename: str | None = None, raw: bool = False,
                defer_init: bool = False) -> Any:
        if raw or defer_init or name is None or not isinstance(source, str):
            return super().compile(source, name, filename, raw, defer_init)  # type: ignore[call-overload]
        path = compiled_path(self.label, name, source)
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
