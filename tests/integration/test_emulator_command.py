"""`make emulator` (tools/emulator.py): it says it is up only when it is, and a port in use is an error."""

from __future__ import annotations

import socket
import subprocess
import sys

from tests.conftest import ROOT
from tools.emulator import free_port


def test_a_port_in_use_fails_loudly_and_says_what_to_do() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "tools.emulator", str(port)], cwd=ROOT, capture_output=True,
                              text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert f"Port {port} is already in use" in done.stderr and f"PORT={port + 1}" in done.stderr
    assert "Firestore emulator on" not in done.stdout


def test_it_says_it_is_up_once_it_accepts_connections() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tools.emulator", str(port)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"Firestore emulator on 127.0.0.1:{port}")
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    finally:
        proc.terminate()
        proc.wait(timeout=10)
