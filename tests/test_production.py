"""The production set-up on one machine: deploy/production.sh on PostgreSQL, two workers, work done.

Starts the whole set-up against two fresh, uniquely named databases on the PostgreSQL server of
ACTIVATION_TEST_DATABASE_URL (Prefect's own and the project's), records applications and waits for their
first-meeting to-dos, then checks in Prefect's API that intake ran on the work pool's workers and that two
workers are online. Everything is stopped and both databases dropped at the end, whatever happened.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import URL, make_url, text

from activation import config, services
from activation.adapters.db import make_engine
from activation.adapters.sql import SqlStore
from bench.production_setup import drop_databases

pytestmark = [pytest.mark.postgres, pytest.mark.prefect]

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "deploy" / "production.sh"
PG_ENV = "ACTIVATION_TEST_DATABASE_URL"
OVERALL_SECONDS = 300  # a hard stop; it takes ~1-2 min on 2 cores


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _overall_timeout(seconds: int) -> Iterator[None]:
    """Raise TimeoutError in the test if it runs longer than `seconds` (the finally blocks still run)."""

    def expire(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"the production test took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _server_url(url: str) -> str:
    """The PostgreSQL server of a database URL, without database or query: postgresql://user@host:port."""
    parsed = make_url(url)
    server = URL.create("postgresql", parsed.username, parsed.password, parsed.host, parsed.port)
    return server.render_as_string(hide_password=False)


def _kill_leftovers(run_dir: Path) -> None:
    # The script's stop should have done it; if it could not run, kill the process groups it recorded.
    for pid_file in run_dir.glob("*.pid"):
        with suppress(ValueError, ProcessLookupError, PermissionError):
            os.killpg(int(pid_file.read_text().strip()), signal.SIGKILL)


@pytest.mark.skipif(
    not os.environ.get(PG_ENV),
    reason=f"needs PostgreSQL: set {PG_ENV} (CI sets it), e.g. postgresql://postgres@127.0.0.1:5432/test",
)
def test_the_production_script_runs_intake_on_two_workers_until_the_todos_appear(tmp_path: Path) -> None:
    server = _server_url(os.environ[PG_ENV])
    tag = uuid.uuid4().hex[:8]
    prefect_db, project_db = f"test_prod_{tag}_prefect", f"test_prod_{tag}_activation"
    port = _free_port()
    run_dir = tmp_path / "run"
    api = f"http://127.0.0.1:{port}/api"
    project_url = f"{server}/{project_db}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ACTIVATION_"))}
    env.update(
        {
            "PG_URL": server,
            "PREFECT_DB": prefect_db,
            "PROJECT_DB": project_db,
            "PREFECT_PORT": str(port),
            "RUN_DIR": str(run_dir),
            "PYTHON": sys.executable,
            "WORKERS": "2",
            "WORKER_LIMIT": "2",
            # Intake often, the rest rarely: two cores, and another suite may be running beside this one.
            "INTERVAL": "5",
            "STAGE_INTERVAL": "600",
            "SWEEP_INTERVAL": "600",
            "PREFECT_WORKER_QUERY_SECONDS": "2",
            "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
            "PREFECT_LOGGING_LEVEL": "INFO",
        }
    )

    def script(command: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPT), command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )

    def logs() -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-2500:]}" for log in sorted(run_dir.glob("*.log"))
        )

    engine = None
    passed = False
    try:
        with _overall_timeout(OVERALL_SECONDS):
            started = script("start", 200)
            assert started.returncode == 0, started.stdout + started.stderr + logs()
            pids = {p.name: p.read_text() for p in run_dir.glob("*.pid")}
            assert set(pids) == {"server.pid", "worker-1.pid", "worker-2.pid"}

            # The project's database was migrated by the script; applications are recorded as usual.
            cli_env = {**env, "ACTIVATION_DATABASE_URL": project_url}
            applied = subprocess.run(
                [sys.executable, "-m", "cli", "apply", "vaxjo", "ext-prod-1", "--json"],
                cwd=tmp_path,
                env=cli_env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert applied.returncode == 0, applied.stderr
            case_ids = {json.loads(applied.stdout)["case_id"]}
            engine = make_engine(project_url)
            store, rules = SqlStore(engine), config.load()
            for i in range(5):
                received = dt.datetime.now(dt.UTC)
                recorded = services.record_application(store, rules, "karlskrona", f"ext-prod-{i + 2}", received)
                case_ids.add(recorded.case_id)

            # Wait until every first-meeting to-do is visible: intake ran on a worker against this database.
            deadline = time.monotonic() + 150
            seen: set[str] = set()
            while time.monotonic() < deadline and seen != case_ids:
                time.sleep(2)
                with engine.connect() as conn:
                    rows = conn.execute(text("SELECT case_id FROM todos WHERE kind = 'first_meeting'"))
                    seen = {r[0] for r in rows}
            assert seen == case_ids, f"to-dos for {len(seen)} of {len(case_ids)} applications\n{logs()}"

            client = httpx.Client(base_url=api, timeout=15)

            def completed_intake_runs() -> list[dict[str, Any]]:
                response = client.post(
                    "/flow_runs/filter",
                    json={
                        "flows": {"name": {"any_": ["intake"]}},
                        "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
                        "limit": 100,
                    },
                )
                response.raise_for_status()
                return list(response.json())

            def workers_of(run_ids: set[str]) -> dict[str, str]:
                # Each worker records "executed-flow-run" events naming itself and the run it executed.
                since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
                response = client.post(
                    "/events/filter",
                    json={
                        "filter": {
                            "event": {"name": ["prefect.worker.executed-flow-run"]},
                            "any_resource": {"id": [f"prefect.flow-run.{run_id}" for run_id in run_ids]},
                            "occurred": {"since": since},
                        },
                        "limit": 50,
                    },
                )
                response.raise_for_status()
                found = {}
                for event in response.json()["events"]:
                    for related in event["related"]:
                        run_id = related["prefect.resource.id"].removeprefix("prefect.flow-run.")
                        if related.get("prefect.resource.role") == "flow-run" and run_id in run_ids:
                            found[run_id] = event["resource"]["prefect.resource.name"]
                return found

            # The to-do is visible when the task commits; the run completes and its event arrives a moment later.
            runs: list[dict[str, Any]] = []
            executed_by: dict[str, str] = {}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not executed_by:
                runs = completed_intake_runs()
                executed_by = workers_of({r["id"] for r in runs}) if runs else {}
                if not executed_by:
                    time.sleep(2)
            assert runs, "no COMPLETED intake run\n" + logs()
            assert {r["work_pool_name"] for r in runs} == {"activation"}
            assert executed_by, "no worker reported executing an intake run\n" + logs()
            assert set(executed_by.values()) <= {"worker-1", "worker-2"}
            assert all(str(r["name"]).startswith("intake ") for r in runs)

            response = client.post("/work_pools/activation/workers/filter", json={})
            response.raise_for_status()
            online = {w["name"] for w in response.json() if w["status"] == "ONLINE"}
            assert online == {"worker-1", "worker-2"}

            every_run = client.post("/flow_runs/filter", json={"limit": 200}).json()
            lost = [
                r["name"] for r in every_run if "lost during provisioning" in str((r["state"] or {}).get("message"))
            ]
            assert not lost, f"runs cancelled for a lost concurrency slot: {lost}"
            # No personal data in Prefect: flow-run names and parameters carry no citizen reference.
            assert all("ext-prod" not in json.dumps(r["parameters"]) + str(r["name"]) for r in every_run)

            # Starting again changes nothing that runs: same processes, deployments updated in place.
            again = script("start", 120)
            assert again.returncode == 0, again.stdout + again.stderr
            assert "already running" in again.stderr
            assert {p.name: p.read_text() for p in run_dir.glob("*.pid")} == pids
            deployments = client.post("/deployments/filter", json={"limit": 50}).json()
            names = sorted(f"{d['name']}" for d in deployments)
            assert names.count("intake") == 1 and "deadline-sweep" in names and "first-meeting" in names
            assert all(d["work_pool_name"] == "activation" for d in deployments)
            client.close()
            passed = True
    finally:
        if engine is not None:
            engine.dispose()
        stopped = None
        try:
            if run_dir.exists():
                stopped = script("stop", 120)
        finally:
            _kill_leftovers(run_dir)
            drop_databases(server, [project_db, prefect_db])
        # Only when the test passed: a failing stop must not hide why the test failed.
        if passed and stopped is not None:
            assert stopped.returncode == 0, stopped.stderr
            assert not list(run_dir.glob("*.pid")), "stop left PID files behind"
