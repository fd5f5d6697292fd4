"""Start the local Firestore emulator for the demo, the tests and the benchmarks.

An existing ``FIRESTORE_EMULATOR_HOST`` (for example Google's own emulator) is
honoured: nothing is started then. Otherwise the npm emulator pinned in
``package.json`` is started on a free port, and stopped when the context ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = ROOT / "tools" / "firestore-emulator.js"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Emulator:
    def __init__(self, host: str, process: subprocess.Popen[bytes] | None) -> None:
        self.host = host
        self.process = process

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start(attempts: int = 5) -> Emulator:
    existing = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if existing:
        return Emulator(existing, None)
    if not (ROOT / "node_modules" / "@firestore-emulator" / "server").is_dir():
        raise RuntimeError("the Firestore emulator is not installed: run `npm ci` (make does it for you)")
    last = ""
    for _ in range(attempts):
        port = free_port()
        proc = subprocess.Popen(
            ["node", str(LAUNCHER), str(port)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()
        if line.startswith("READY"):
            _wait_for_port(port)
            return Emulator(f"127.0.0.1:{port}", proc)
        last = proc.stderr.read().decode() if proc.stderr else ""
        proc.kill()
    raise RuntimeError(f"could not start the Firestore emulator: {last.strip()}")


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"the Firestore emulator did not open port {port}")


@contextlib.contextmanager
def running() -> Iterator[Emulator]:
    emulator = start()
    try:
        yield emulator
    finally:
        emulator.stop()


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def foreground(port: int) -> int:
    """`make emulator`: the emulator in the foreground for the organizer CLI. Says it is up only once
    it accepts connections; a port in use or an emulator that stops is an error with the fix."""
    if not port_free(port):
        print(f"Port {port} is already in use (another `make emulator`? see `lsof -i :{port}`).\n"
              f"Stop that one, or start on another port: make emulator PORT={port + 1}", file=sys.stderr)
        return 1
    proc = subprocess.Popen(["node", str(LAUNCHER), str(port)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None

    def stop(*_: object) -> None:  # a terminated `make emulator` takes its emulator along
        proc.terminate()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("READY"):
        code = proc.wait()
        print(f"The Firestore emulator did not start (exit {code}). Run `npm ci` (make does it) and try again.",
              file=sys.stderr)
        return code or 1
    try:
        _wait_for_port(port)
    except RuntimeError as exc:
        proc.kill()
        print(exc, file=sys.stderr)
        return 1
    print(f"Firestore emulator on 127.0.0.1:{port}. In another terminal:\n"
          f"  export FIRESTORE_EMULATOR_HOST=127.0.0.1:{port}\nCtrl-C stops it (its data is kept in memory only).",
          flush=True)
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return 0
    print(f"The Firestore emulator stopped (exit {code}).", file=sys.stderr)
    return code or 1


if __name__ == "__main__":
    sys.exit(foreground(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else 8681))


@contextlib.contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables in this process for the block, then restore what was there."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
