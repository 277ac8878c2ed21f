"""From `POST /api/v1/applications` to the first-meeting to-do visible in `GET /api/v1/todos`.

Starts the web application (`activation serve --no-flows`, its own port and a fresh database),
creates a caseworker with an API token, then sends applications at a steady rate for a while.
Each application is followed at once by a read of the case's to-dos; the time counted runs from
the moment the POST is sent until a GET lists the to-do. A baseline in the same run: `GET /health`
round trips at the same rate (the server's floor for one request).

    python bench/latency.py                       # SQLite, 50 applications/s for 60 s
    python bench/latency.py --url postgresql://postgres@127.0.0.1:5432/test   # a fresh database there
    python bench/latency.py --rate 20 --seconds 10 --json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    BenchError,
    drop_database,
    free_port,
    fresh_postgres_database,
    machine,
    percentile,
    start_web,
    stop_web,
)


def _fresh_database(url: str | None, scratch: Path) -> tuple[str, str | None]:
    """Return a database URL for the run (and a PostgreSQL database name to drop afterwards)."""
    if url is None:
        return f"sqlite:///{scratch / 'latency.db'}", None
    return fresh_postgres_database(url, "bench_latency")


def _activation(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise BenchError(f"activation {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
    return done.stdout


def _paced(rate: float, seconds: float, job: Any, workers: int) -> list[Any]:
    """Start job(n) at n / rate seconds after the start, for `seconds`; return the results in order."""
    count = int(rate * seconds)
    start = time.perf_counter()
    results: list[Any] = [None] * count
    lock = threading.Lock()

    def run(n: int) -> None:
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        value = job(n)
        with lock:
            results[n] = value

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, range(count)))
    return results


def measure(
    db: str | None,
    rate: float,
    seconds: float,
    workers: int,
    web_workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run the server, the applications and the baseline; return the figures."""
    scratch = Path(tempfile.mkdtemp(prefix="activation-latency-"))
    url, pg_name = _fresh_database(db, scratch)
    port = free_port()
    env = {
        **os.environ,
        "ACTIVATION_DATABASE_URL": url,
        "PREFECT_HOME": str(scratch / "prefect"),
        "DO_NOT_TRACK": "1",
        "ACTIVATION_NEW_PASSWORD": "bench-password-123",
        **(extra_env or {}),
    }
    _activation("init", env=env)
    out = _activation(
        "user", "add", "cw-bench", "--role", "caseworker", "--municipality", "karlskrona",
        "--team", "arbetsmarknad", "--token", env=env,
    )  # fmt: skip
    token = next(w for w in out.split() if w.startswith("act_"))
    try:
        server = start_web(env, port, web_workers=web_workers)
    except BenchError:
        if pg_name and db:
            drop_database(db, pg_name)
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        client = httpx.Client(base_url=base, headers=headers, timeout=30)
        run_id = uuid.uuid4().hex[:6]

        def application(n: int) -> tuple[float, bool]:
            sent = time.perf_counter()
            try:
                return _application(n, sent)
            except httpx.TransportError as exc:  # e.g. a kept-alive connection the server had closed
                print(f"application {n}: {type(exc).__name__} {exc}", file=sys.stderr)
                return time.perf_counter() - sent, False

        def _application(n: int, sent: float) -> tuple[float, bool]:
            posted = client.post(
                "/api/v1/applications", json={"municipality": "karlskrona", "citizen_ref": f"bench-{run_id}-{n}"}
            )
            if posted.status_code != 201:
                return time.perf_counter() - sent, False
            case_id = posted.json()["case_id"]
            listed = client.get("/api/v1/todos", params={"case_id": case_id})
            visible = listed.status_code == 200 and any(x["kind"] == "first_meeting" for x in listed.json()["items"])
            return time.perf_counter() - sent, visible

        def health(n: int) -> tuple[float, bool]:
            sent = time.perf_counter()
            ok = client.get("/health").status_code in (200, 503)
            return time.perf_counter() - sent, ok

        print(f"latency: {rate:g} applications/s for {seconds:g} s on {url.split(':')[0]}...", file=sys.stderr)
        began = time.perf_counter()
        results = _paced(rate, seconds, application, workers)
        elapsed = time.perf_counter() - began
        floor = _paced(rate, min(seconds, 10), health, workers)
        client.close()
    finally:
        stop_web(server)
        if pg_name and db:
            drop_database(db, pg_name)
        shutil.rmtree(scratch, ignore_errors=True)
    times = [t for t, ok in results if ok]
    failed = sum(1 for _, ok in results if not ok)
    if not times:
        raise BenchError("no application reached a visible to-do")
    floor_times = [t for t, ok in floor if ok]
    p50, p99 = percentile(times, 0.50), percentile(times, 0.99)
    h50 = statistics.median(floor_times)
    return {
        "database": url.split(":")[0],
        "web_workers": web_workers,
        "settings": " ".join(f"{k}={v}" for k, v in sorted((extra_env or {}).items())) or "defaults",
        "rate_per_s": rate,
        "seconds": seconds,
        "applications": len(results),
        "failed_or_not_visible": failed,
        "achieved_per_s": round(len(results) / elapsed, 1),
        "p50_ms": round(p50 * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "health_p50_ms": round(h50 * 1000, 2),
        "p50_over_health": round(p50 / h50, 1),
        "target_p99_ms": 1000,
        "met": p99 < 1.0 and failed == 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a PostgreSQL server URL; a fresh database is made there and dropped")
    parser.add_argument("--rate", type=float, default=50.0, help="applications per second (default 50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long (default 60)")
    parser.add_argument("--workers", type=int, default=32, help="client threads (default 32)")
    parser.add_argument("--web-workers", type=int, default=1, help="serve's --web-workers (default 1)")
    parser.add_argument(
        "--no-writer-queue", action="store_true", help="SQLite writers meet only the busy handler (the old way)"
    )
    parser.add_argument("--web-threads", type=int, help="cap request threads per web worker (ACTIVATION_WEB_THREADS)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    extra = {"ACTIVATION_SQLITE_WRITER_QUEUE": "0"} if args.no_writer_queue else {}
    if args.web_threads:
        extra["ACTIVATION_WEB_THREADS"] = str(args.web_threads)
    figures = {
        "machine": machine(),
        **measure(args.url, args.rate, args.seconds, args.workers, args.web_workers, extra),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        if key != "machine":
            print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
