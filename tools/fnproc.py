"""Run a cloud function as a real functions-framework process on a free port (demo, tests, bench)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import requests

from tools.emulator import ROOT, free_port

FF = Path(sys.executable).parent / "functions-framework"


class FunctionProcess:
    def __init__(self, target: str, source: Path | str | None = None, env: Mapping[str, str] | None = None) -> None:
        self.target = target
        self.source = Path(source) if source else ROOT / "functions" / target / "main.py"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        # Unbuffered: a worker killed on a loaded machine (stop() waits 15 s, then kills) would
        # otherwise take its last log lines with it, and the tests read those lines.
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen(
            [str(FF), "--target", target, "--source", str(self.source), "--port", str(self.port), "--host", "127.0.0.1"],
            cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until the port accepts connections (any HTTP answer counts)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
                raise RuntimeError(f"{self.target} exited with {self.proc.returncode}:\n{out[-2000:]}")
            with contextlib.suppress(requests.ConnectionError, requests.Timeout):  # a loaded machine: a slow first answer
                requests.options(self.url, timeout=2)
                return
            time.sleep(0.02)
        raise TimeoutError(f"{self.target} did not start within {timeout} s")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""


@contextlib.contextmanager
def running(target: str, source: Path | str | None = None, env: Mapping[str, str] | None = None) -> Iterator[FunctionProcess]:
    fp = FunctionProcess(target, source, env)
    try:
        fp.wait_ready()
        yield fp
    finally:
        fp.stop()
