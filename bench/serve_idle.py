"""Benchmark `activation serve` on the demo database: start-up, idle CPU and memory of its process tree, stop.

Run from the repository root:

    python bench/serve_idle.py                   # this serve, the old one (--old-rev), a bare `import prefect`
    python bench/serve_idle.py --old-rev ''      # without the old serve (~4 min)
    python bench/serve_idle.py --idle-seconds 60 --interval 60

Set-up, per serve: `activation demo` (Karlskrona's quarter, 60 cases, seed 7) on a fresh SQLite file in a
scratch directory, by that serve's own code (so each migrates its own schema); it leaves the database
and the Prefect home (`./.prefect`) there, as it does for anyone who follows its advice to `serve` next.
One application is recorded, then `activation serve --interval N` starts there on ports of its own, in
a session of its own. Measured:

  first flow run   seconds from start to the first flow run COMPLETED after the start (Prefect's API)
  first to-do      seconds from start to the new application's first-meeting to-do (read from the file)
  idle CPU         CPU seconds of serve's process tree (its session and its descendants, reaped children
                   included) over --idle-seconds, from 5 s after both of the above, per wall second, in %
                   of one core
  RSS              the sum over the tree, sampled every second: mean and peak
  processes        the most processes in the tree at one sample
  stop             seconds from SIGTERM to serve's main process (as `kill` or systemd send it) until no
                   process of the tree is left; after 90 s the tree is killed and the figure says so
  locked           "database is locked" in serve's output and in .prefect/server.log
  tick             seconds `activation tick` takes on the demo directory before serve starts (no server up),
                   and, for this serve only, while it runs (after the idle window)

The old serve is the code at --old-rev (default fb22b7b: one deployment per flow, a subprocess per run,
a `prefect server start` child), extracted with `git archive` and run with the same interpreter. The
baseline is `python -c "import prefect"` kept idle: the floor of any process that runs a Prefect flow.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BenchError, machine, phase

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
STOP_LIMIT = 90.0
SETTLE = 5.0


# -- the process tree ---------------------------------------------------------------------------


def _processes() -> dict[int, list[str]]:
    """Every process's /proc/<pid>/stat fields after the command name."""
    found: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            found[int(entry)] = stat[stat.rindex(")") + 2 :].split()
    return found


def tree(root: int) -> dict[int, list[str]]:
    """The live processes of root's session and root's descendants, zombies left out."""
    every = _processes()
    children: dict[int, list[int]] = {}
    for pid, fields in every.items():
        children.setdefault(int(fields[1]), []).append(pid)
    members = {pid for pid, fields in every.items() if int(fields[3]) == root}
    todo = [root]
    while todo:
        pid = todo.pop()
        members.add(pid)
        todo += children.get(pid, [])
    return {pid: every[pid] for pid in members if pid in every and every[pid][0] != "Z"}


def cpu_seconds(procs: dict[int, list[str]]) -> float:
    """User + system time of the processes and of the children they reaped."""
    return sum(sum(int(x) for x in f[11:15]) for f in procs.values()) / TICK


def rss_mib(procs: dict[int, list[str]]) -> float:
    return sum(int(f[21]) for f in procs.values()) * PAGE / 2**20


@dataclass
class Idle:
    """CPU and memory of a process tree over a window."""

    cpu_percent: float
    rss_mean: float
    rss_peak: float
    processes: int


def measure_idle(root: int, seconds: float) -> Idle:
    """Sample root's tree every second for `seconds`."""
    start_cpu, start = cpu_seconds(tree(root)), time.monotonic()
    samples: list[float] = []
    most = 0
    while time.monotonic() - start < seconds:
        time.sleep(1)
        procs = tree(root)
        samples.append(rss_mib(procs))
        most = max(most, len(procs))
    cpu = cpu_seconds(tree(root)) - start_cpu
    return Idle(100 * cpu / (time.monotonic() - start), sum(samples) / len(samples), max(samples), most)


# -- one serve ----------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    first_run: float | None = None
    first_todo: float | None = None
    idle: Idle | None = None
    stop: float | None = None
    stop_killed: bool = False
    tick_alone: float | None = None
    tick_joined: float | None = None
    locked: int = 0
    notes: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(source: Path | None, directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ACTIVATION_"))}
    env.update(
        {
            "PREFECT_HOME": str(directory / ".prefect"),
            "DO_NOT_TRACK": "1",
            "ACTIVATION_DATABASE_URL": f"sqlite:///{directory / 'demo.db'}",
        }
    )
    env["PYTHONPATH"] = str(source or ROOT)
    return env


def _cli(env: dict[str, str], cwd: Path, *args: str, timeout: float = 600) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        raise BenchError(f"`activation {' '.join(args)}` failed: {done.stderr[-2000:]}")
    return done.stdout


def _completed_since(port: int, since: datetime) -> bool:
    try:
        response = httpx.post(
            f"http://127.0.0.1:{port}/api/flow_runs/filter",
            json={
                "flow_runs": {
                    "state": {"type": {"any_": ["COMPLETED"]}},
                    "start_time": {"after_": since.isoformat()},
                },
                "limit": 1,
            },
            timeout=2,
        )
        return response.status_code == 200 and bool(response.json())
    except httpx.HTTPError:
        return False


def _has_todo(db: Path, reference_case: str) -> bool:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return bool(conn.execute("SELECT count(*) FROM todos WHERE case_id = ?", (reference_case,)).fetchone()[0])
    except sqlite3.Error:
        return False


def _timed_tick(env: dict[str, str], directory: Path) -> float:
    start = time.monotonic()
    _cli(env, directory, "tick", "--json")
    return time.monotonic() - start


def run_serve(
    name: str, slug: str, source: Path | None, scratch: Path, interval: int, idle_seconds: float, joins: bool
) -> Result:
    """Demo, one application, serve; measure start-up, idle and stop."""
    result = Result(name)
    directory = scratch / slug
    directory.mkdir()
    env = _env(source, directory)
    with phase(f"{name}: `activation demo` on a fresh database"):
        _cli(env, directory, "demo", "--demo-db", f"sqlite:///{directory / 'demo.db'}", "--json")
    with phase(f"{name}: `activation tick` with no serve running"):
        result.tick_alone = _timed_tick(env, directory)
    case_id = json.loads(_cli(env, directory, "apply", "karlskrona", "ext-bench-serve", "--json"))["case_id"]
    port, web = _free_port(), ["--web-port", str(_free_port())]
    log = directory / "serve.log"
    started_at = datetime.now(UTC)
    start = time.monotonic()
    serve = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--interval", str(interval), "--port", str(port), *web],
        cwd=directory,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        with phase(f"{name}: waiting for the first completed flow run and the first to-do"):
            while result.first_run is None or result.first_todo is None:
                if serve.poll() is not None:
                    raise BenchError(f"{name}: serve exited with {serve.returncode}: {log.read_text()[-2000:]}")
                if time.monotonic() - start > 600:
                    raise BenchError(f"{name}: nothing done within 600 s")
                if result.first_todo is None and _has_todo(directory / "demo.db", case_id):
                    result.first_todo = time.monotonic() - start
                if result.first_run is None and _completed_since(port, started_at):
                    result.first_run = time.monotonic() - start
                time.sleep(0.2)
        time.sleep(SETTLE)
        with phase(f"{name}: idle for {idle_seconds:.0f} s"):
            result.idle = measure_idle(serve.pid, idle_seconds)
        if joins:
            with phase(f"{name}: `activation tick` while serve runs"):
                result.tick_joined = _timed_tick(env, directory)
        with phase(f"{name}: SIGTERM"):
            stop = time.monotonic()
            serve.send_signal(signal.SIGTERM)
            while serve.poll() is None or tree(serve.pid):
                if time.monotonic() - stop > STOP_LIMIT:
                    result.stop_killed = True
                    break
                time.sleep(0.1)
            result.stop = time.monotonic() - stop
    finally:
        for pid in tree(serve.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        serve.wait()
    logs = [log, directory / ".prefect" / "server.log"]  # the old serve's server logged to the latter
    result.locked = sum(f.read_text(errors="replace").count("database is locked") for f in logs if f.exists())
    if serve.returncode not in (0, None) and not result.stop_killed:
        result.notes.append(f"exit code {serve.returncode} after SIGTERM")
    return result


def run_baseline(seconds: float) -> Idle:
    """An idle `python -c "import prefect"`: what any process running a Prefect flow costs at least."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import prefect, time; time.sleep(3600)"], env={**os.environ, "DO_NOT_TRACK": "1"}
    )
    try:
        time.sleep(SETTLE)
        return measure_idle(process.pid, seconds)
    finally:
        process.kill()
        process.wait()


def extract(rev: str, into: Path) -> Path:
    """The project's files at a git revision, in a directory of their own."""
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    check = subprocess.run(
        [sys.executable, "-c", "import flows.serve; print(flows.serve.__file__)"],
        env={**os.environ, "PYTHONPATH": str(into)},
        cwd=into.parent,
        capture_output=True,
        text=True,
    )
    if not check.stdout.strip().startswith(str(into)):
        raise BenchError(f"the code at {rev} does not load from {into}: {check.stdout}{check.stderr}")
    return into


# -- report -------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ratio(old: float | None, new: float | None) -> str:
    return "-" if not old or not new else f"{old / new:.1f}x"


def report(new: Result, old: Result | None, baseline: Idle, args: argparse.Namespace) -> None:
    m = machine()
    print(f"# serve idle: {m['cores']} cores, {m['cpu']}, Python {m['python']}, Prefect {m['prefect']}")
    print(f"interval {args.interval} s, idle window {args.idle_seconds:.0f} s, demo database (60 cases)\n")
    results = [new] + ([old] if old else [])
    print("| | " + " | ".join(r.name for r in results) + (" | old / new |" if old else " |"))
    print("|---" * (len(results) + 1 + (1 if old else 0)) + "|")

    def row(label: str, pick: Callable[[Result], float | None], digits: int = 1) -> None:
        values = [pick(r) for r in results]
        cells = [_fmt(v, digits) for v in values]
        print(f"| {label} | " + " | ".join(cells) + (f" | {_ratio(values[1], values[0])} |" if old else " |"))

    row("first flow run completed (s)", lambda r: r.first_run)
    row("first to-do (s)", lambda r: r.first_todo)
    row("idle CPU (% of one core)", lambda r: r.idle.cpu_percent if r.idle else None)
    row("RSS of the tree, mean (MiB)", lambda r: r.idle.rss_mean if r.idle else None, 0)
    row("RSS of the tree, peak (MiB)", lambda r: r.idle.rss_peak if r.idle else None, 0)
    row("processes in the tree (most)", lambda r: r.idle.processes if r.idle else None, 0)
    row("stop after SIGTERM (s)", lambda r: r.stop)
    row('"database is locked" in the logs', lambda r: r.locked, 0)
    row("`activation tick`, no serve running (s)", lambda r: r.tick_alone)
    row("`activation tick` while serve runs (s)", lambda r: r.tick_joined)
    for r in results:
        if r.stop_killed:
            print(f"\n{r.name}: still running {STOP_LIMIT:.0f} s after SIGTERM; killed")
        for note in r.notes:
            print(f"\n{r.name}: {note}")
    print(
        f'\nbaseline `python -c "import prefect"` idle: {baseline.cpu_percent:.1f} % CPU, {baseline.rss_mean:.0f} MiB;'
        f" {new.name} = {_ratio(new.idle.rss_mean if new.idle else None, baseline.rss_mean)} its RSS"
    )
    idle = new.idle
    assert idle is not None
    checks = {
        "idle CPU < 10 % of one core": idle.cpu_percent < 10,
        "RSS < 400 MiB": idle.rss_peak < 400,
        "first to-do < 10 s": (new.first_todo or 1e9) < 10,
        "stop < 10 s": (new.stop or 1e9) < 10 and not new.stop_killed,
    }
    print("targets: " + ", ".join(f"{k}: {'yes' if ok else 'NO'}" for k, ok in checks.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interval", type=int, default=60, help="serve --interval (seconds)")
    parser.add_argument("--idle-seconds", type=float, default=120, help="length of the idle window")
    parser.add_argument("--old-rev", default="fb22b7b", help="git revision of the old serve; '' to skip it")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    try:
        new = run_serve("serve (flows in process)", "new", None, scratch, args.interval, args.idle_seconds, True)
        old = None
        if args.old_rev:
            source = extract(args.old_rev, scratch / "old-source")
            name = f"old serve ({args.old_rev}: deployments)"
            # The old tick beside the old serve would start the hidden second server: not measured.
            old = run_serve(name, "old", source, scratch, args.interval, args.idle_seconds, False)
        with phase("baseline: idle `import prefect`"):
            baseline = run_baseline(min(args.idle_seconds, 30))
        report(new, old, baseline, args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
