"""Outbox delivery: what would be sent is written under ``OUTBOX_DIR`` in standard formats.

``calendar/*.ics`` (iCalendar, one file per entry, named by its stable id, written by the
provisioning Calendar adapter), ``mail/*.eml``, ``zoom/*.json`` and ``slack/*.json``. Files are written atomically; writing the same content again
changes nothing, so a repeated run leaves the outbox as it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from shared.platform import env


def outbox_dir() -> Path:
    return Path(os.environ.get(env.OUTBOX_DIR) or "outbox")


class Outbox:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else outbox_dir()

    def write(self, category: str, name: str, data: bytes, same: bytes | None = None) -> bool:
        """Write ``category/name`` atomically; False when the file already holds ``same or data``."""
        folder = self.root / category
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        try:
            if _normalise(target.read_bytes()) == _normalise(same if same is not None else data):
                return False
        except FileNotFoundError:
            pass
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
        return True

    def has_line(self, category: str, name: str, line: bytes) -> bool:
        """Whether ``category/name`` exists and holds exactly this line."""
        try:
            return line in (self.root / category / name).read_bytes().splitlines()
        except FileNotFoundError:
            return False


def _normalise(data: bytes) -> bytes:
    # DTSTAMP is the time of writing; it does not make two entries different.
    return b"\n".join(line for line in data.splitlines() if not line.startswith(b"DTSTAMP"))

