"""What the benchmarks share: the error that voids a run, the machine, progress, ports, databases, serve."""

from __future__ import annotations

import math
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata as importlib_metadata
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import __version__ as sqlalchemy_version

ROOT = Path(__file__).resolve().parent.parent


class BenchError(RuntimeError):
    """A check failed: the figures would be meaningless."""


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        prefect_version = importlib_metadata.version("prefect")
    except importlib_metadata.PackageNotFoundError:
        prefect_version = None
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy_version,
        "prefect": prefect_version,
    }


@contextmanager
def phase(what: str) -> Iterator[None]:
    """Show progress on stderr, with the time the phase took."""
    print(f"... {what}", file=sys.stderr, flush=True)
    start = perf_counter()
    yield
    print(f"    done in {perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


def free_port() -> int:
    """Return a TCP port on the loopback address that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    """Return the value below which `share` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def _admin(url: str) -> Any:
    from sqlalchemy import create_engine

    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")


def fresh_postgres_database(url: str, prefix: str) -> tuple[str, str]:
    """Create an empty database on the server of `url`; return its URL and name (drop it with drop_database)."""
    from sqlalchemy import text

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}", name


def drop_database(url: str, name: str) -> None:
    """Drop a database made by fresh_postgres_database, even with connections left open."""
    from sqlalchemy import text

    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def start_web(env: dict[str, str], port: int, log: Path | None = None, web_workers: int = 1) -> subprocess.Popen[bytes]:
    """Start `activation serve --no-flows` on a port and wait until /health answers."""
    import httpx

    command = [sys.executable, "-m", "cli", "serve", "--no-flows", "--web-port", str(port)]
    command += ["--web-workers", str(web_workers)]
    out = log.open("ab") if log else subprocess.DEVNULL
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code in (200, 503):
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            stop_web(server)
            raise BenchError("the web application did not start" + (f"; see {log}" if log else ""))
        time.sleep(0.2)


def stop_web(server: subprocess.Popen[bytes]) -> None:
    """Stop serve and every process it started."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
