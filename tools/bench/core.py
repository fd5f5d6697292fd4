"""The building blocks every benchmark module uses: ``Figure`` and ``BenchContext``.

A benchmark module (``tools/bench/bench_<name>.py``) exposes ``TITLE: str`` and
``run(ctx: BenchContext) -> list[Figure]``. Every figure carries the baseline it is measured
against *in the same run*, so a reader compares like with like on whatever machine printed it.
"""

from __future__ import annotations

import http.client
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tools.emulator import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
HELLO_SOURCE = Path(__file__).resolve().parent / "hello" / "main.py"
POLL_SECONDS = 0.003  # how often a starting process is polled for its first response
START_TIMEOUT = 60.0

# A per-run value: the same for every run, or computed from the run's index (0, 1, ...).
PerRun = Mapping[str, str] | Callable[[int], Mapping[str, str]] | None


@dataclass
class Figure:
    """One measured number, next to the baseline it is compared with (measured in the same run).

    ``ratio`` defaults to value / baseline_value. ``target`` is the human-readable goal ("<= 1.00",
    "= 0"); ``ok`` says whether this run met it (None: informational, no target).
    """

    name: str
    value: float | int | None
    unit: str = ""
    baseline_name: str = ""
    baseline_value: float | int | None = None
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.ratio is None and self.value is not None and self.baseline_value:
            self.ratio = float(self.value) / float(self.baseline_value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Subject:
    """One thing to cold-start: ``functions-framework --target T --source S`` and its first request."""

    target: str
    source: Path
    method: str = "POST"
    headers: PerRun = None
    body: bytes | None = None
    env: PerRun = None
    path: str = "/"
    accept: tuple[int, int] = (200, 300)  # statuses [lo, hi) that count as the first successful response
    warm: bool = False  # answer the request a second time, warm (cold_penalty)

    def resolve(self, value: PerRun, i: int) -> dict[str, str]:
        if value is None:
            return {}
        return dict(value(i) if callable(value) else value)


HELLO = Subject("hello", HELLO_SOURCE, "GET")


@dataclass
class BenchContext:
    """What a benchmark module gets: the repo root, the running emulator and measuring helpers.

    Child processes run with a private bytecode cache (``PYTHONPYCACHEPREFIX`` in a temp dir) and
    one discarded warm-up each, so cold-start and import figures measure Python's work (imports,
    first request), the same for the baseline and the subject, not disk or compile noise.
    """

    root: Path
    emulator_host: str
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-")))
    samples: dict[str, list[float]] = field(default_factory=dict)  # every timing taken, by name

    # ------------------------------------------------------------------ helpers
    def new_project(self, prefix: str = "bench") -> str:
        """A project id nobody else uses on the running emulator (data is kept per project)."""
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    def tempdir(self, prefix: str = "tmp") -> Path:
        """A fresh directory under this run's work dir (removed when the run ends)."""
        return Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=self.workdir))

    def child_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.workdir / "pycache")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(self.root), env.get("PYTHONPATH", "")) if p)
        env["FIRESTORE_EMULATOR_HOST"] = self.emulator_host
        env.setdefault("GOOGLE_CLOUD_PROJECT", "bench-default")
        env.update(extra or {})
        return env

    @contextmanager
    def environ(self, **values: str) -> Iterator[None]:
        """Set environment variables in this process for the block (for in-process measurements)."""
        from tools.emulator import environ

        with environ(values):
            yield

    # ------------------------------------------------------------ cold starts
    def cold_start(self, target: str, source: str | Path, method: str = "POST", headers: PerRun = None,
                   body: bytes | None = None, env: PerRun = None, path: str = "/", runs: int = 5,
                   with_hello: bool = True, with_imports: Sequence[str] = (), label: str = "",
                   accept: tuple[int, int] = (200, 300), warm: bool = False) -> float:
        """Median seconds over ``runs`` fresh processes from ``Popen`` to the first 2xx response.

        ``warm``: the same process then answers the request once more (headers of another run index,
        so a Scheduler request is a new run, not a duplicate); its time goes to ``warm:<key>``, and
        ``cold_penalty(key)`` is the median of first minus warm: what being cold costs, without the
        request's own work (the digest's queries, the feed's events).

        ``headers`` and ``env`` may be mappings or functions of the run index (a new
        ``X-CloudScheduler-ScheduleTime`` per run, a new project per run, ...). A non-2xx answer
        raises: it is not a start. To keep machine drift out of the comparison, every round also
        starts the hello-world (``with_hello``; feeds ``hello_cold_start()``) and times the imports
        of ``with_imports`` next to a bare interpreter (feeds ``import_time()``), in rotating order.
        The samples are kept in ``self.samples`` (``cold:<label or target>``, ``cold:hello``,
        ``import:<module>``, ``python``).
        """
        subject = Subject(target, Path(source), method, headers, body, env, path, accept, warm)
        key = f"cold:{label or target}"
        samplers: dict[str, Callable[[int], float]] = {key: lambda i: self._start_once(subject, i, key)}
        if with_hello:
            samplers["cold:hello"] = lambda i: self._start_once(HELLO, i, "cold:hello")
        for module in with_imports:
            samplers.update(self._import_samplers(module))
        self.interleave(samplers, runs)
        return statistics.median(self.samples[key][-runs:])

    def interleave(self, samplers: Mapping[str, Callable[[int], float]], runs: int) -> None:
        """One discarded warm-up of each sampler (bytecode and file caches), then ``runs`` rounds
        of all of them, the order rotated every round; samples are appended to ``self.samples``."""
        names = list(samplers)
        for name in names:
            samplers[name](-1)
        for i in range(runs):
            shift = i % len(names)
            for name in names[shift:] + names[:shift]:
                self.samples.setdefault(name, []).append(samplers[name](i))

    def hello_cold_start(self, runs: int = 5) -> float:
        """Median cold start of the bare hello-world over every sample taken so far in this run
        (``cold_start`` interleaves them); measured on its own if there are none yet."""
        if not self.samples.get("cold:hello"):
            self.interleave({"cold:hello": lambda i: self._start_once(HELLO, i, "cold:hello")}, runs)
        return statistics.median(self.samples["cold:hello"])

    def cold_penalty(self, key: str) -> float:
        """Median over runs of (first answer - the same request answered warm) for ``cold:<key>``."""
        firsts, warms = self.samples[f"first:cold:{key}"], self.samples[f"warm:cold:{key}"]
        return statistics.median(f - w for f, w in zip(firsts, warms, strict=True))

    def spread(self, name: str) -> str:
        """``min..max (n)`` of a sample series, for a figure's note."""
        values = self.samples.get(name) or [float("nan")]
        return f"{min(values) * 1000:.0f}..{max(values) * 1000:.0f} ms over {len(values)}"

    def cpu(self, name: str) -> float:
        """Median CPU seconds (user + system, the process and its children) of a sample series:
        ``cpu("cold:hello")``, ``cpu("import:google.cloud.firestore")``. Much less sensitive than
        wall time to other work on the machine; the import series is already net of ``python``."""
        values = self.samples[f"cpu:{name}"]
        if name.startswith("import:"):
            return max(0.0, statistics.median(values) - statistics.median(self.samples["cpu:python"]))
        return statistics.median(values)

    def _start_once(self, s: Subject, i: int, key: str = "") -> float:
        port = free_port()
        log_path = self.workdir / f"ff-{s.target}-{uuid.uuid4().hex[:6]}.log"
        cmd = [str(Path(sys.executable).parent / "functions-framework"), "--target", s.target,
               "--source", str(s.source), "--host", "127.0.0.1", "--port", str(port)]
        headers = s.resolve(s.headers, i)
        env = self.child_env(s.resolve(s.env, i))
        with open(log_path, "wb") as log:
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                status, answer = self._first_response(proc, port, s, headers)
                elapsed = time.perf_counter() - started
                cpu = _group_cpu_seconds(proc.pid)
                if s.warm and key and i >= 0:
                    again = time.perf_counter()
                    self._first_response(proc, port, s, s.resolve(s.headers, i + 10_000))
                    self.samples.setdefault(f"warm:{key}", []).append(time.perf_counter() - again)
                    self.samples.setdefault(f"first:{key}", []).append(elapsed)
            finally:
                _kill_group(proc)
        if not s.accept[0] <= status < s.accept[1]:
            raise RuntimeError(f"{s.target}: HTTP {status} on its first request: {answer[:300]!r}\n"
                               f"{log_path.read_text(errors='replace')[-1500:]}")
        if key and i >= 0:  # not for warm-ups
            self.samples.setdefault(f"cpu:{key}", []).append(cpu)
        return elapsed

    def _first_response(self, proc: subprocess.Popen[bytes], port: int, s: Subject,
                        headers: Mapping[str, str]) -> tuple[int, bytes]:
        deadline = time.perf_counter() + START_TIMEOUT
        while time.perf_counter() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=START_TIMEOUT)
            try:
                conn.request(s.method, s.path, body=s.body, headers=dict(headers))
                res = conn.getresponse()
                return res.status, res.read()
            except (ConnectionRefusedError, ConnectionResetError):
                if proc.poll() is not None:
                    raise RuntimeError(f"{s.target}: functions-framework exited with {proc.returncode} "
                                       "before answering (see its log above)") from None
                time.sleep(POLL_SECONDS)
            finally:
                conn.close()
        raise RuntimeError(f"{s.target}: no answer within {START_TIMEOUT:.0f} s")

    # ---------------------------------------------------------------- imports
    def import_time(self, module: str, runs: int = 7) -> float:
        """Median seconds of ``python -c "import X"`` minus the median of a bare ``python -c pass``,
        over fresh processes (interleaved); pooled with the samples ``cold_start(with_imports=...)``
        took, measured on its own if there are none yet."""
        if not self.samples.get(f"import:{module}"):
            self.interleave(self._import_samplers(module), runs)
        return max(0.0, statistics.median(self.samples[f"import:{module}"]) - statistics.median(self.samples["python"]))

    def _import_samplers(self, module: str) -> dict[str, Callable[[int], float]]:
        subject = [sys.executable, "-c", f"import {module}"]
        bare = [sys.executable, "-c", "pass"]
        return {f"import:{module}": lambda i: self._time_process(subject, f"import:{module}" if i >= 0 else ""),
                "python": lambda i: self._time_process(bare, "python" if i >= 0 else "")}

    def _time_process(self, cmd: list[str], key: str = "") -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(cmd, cwd=self.root, env=self.child_env(), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if key:
            cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            self.samples.setdefault(f"cpu:{key}", []).append(cpu)
        return elapsed

    def import_profile(self, code: str, top: int = 12) -> list[tuple[str, float]]:
        """``python -X importtime -c code``: the ``top`` costliest imports, cumulative seconds,
        top-level packages only (the nesting python prints is folded into its first level)."""
        self._time_process([sys.executable, "-c", code])  # warm-up
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=self.root,
                              env=self.child_env(), check=True, capture_output=True, text=True)
        costs = importtime_by_phase(proc.stderr).get("", {})
        return sorted(costs.items(), key=lambda kv: -kv[1])[:top]

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def importtime_by_phase(stderr: str) -> dict[str, dict[str, float]]:
    """Parse ``-X importtime`` output into {phase: {top-level module: cumulative seconds}}.

    Nested imports are folded into their top-level parent. A program may print ``=== NAME`` lines
    on stderr to split its imports into phases (the imports before the first marker: phase "").
    """
    out: dict[str, dict[str, float]] = {}
    phase = ""
    for line in stderr.splitlines():
        if line.startswith("=== "):
            phase = line[4:].strip()
            continue
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative_us, name = line.split(":", 1)[1].split("|", 2)
        if name.startswith("  "):
            continue
        costs = out.setdefault(phase, {})
        costs[name.strip()] = costs.get(name.strip(), 0.0) + int(cumulative_us) / 1e6
    return out


def _group_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its live descendants (Linux /proc;
    0 where /proc is missing). Clock-tick resolution (usually 10 ms)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, todo, seen = 0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total / ticks


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the process we started and its children (gunicorn forks a worker): its own group."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def median_seconds(fn: Callable[[], object], runs: int = 3) -> float:
    """Median wall time of ``fn()`` in this process."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
