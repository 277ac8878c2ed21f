"""Faults a production set-up meets: a worker killed mid-sweep, events sent twice, a database connection dropped.

Each test is bounded in time and checks that nothing is lost and nothing happens twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from activation import runtime, services
from activation.adapters import tables as t
from activation.adapters.db import make_engine
from activation.adapters.sql import SqlStore
from activation.obligations import ObligationChanges
from activation.ports import TodoFilter
from bench.sweep_setup import Database, seed
from tests.conftest import PG_ENV, at, pg_schema

ROOT = Path(__file__).resolve().parent.parent
NOW = at("2026-11-23 09:00")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL schema of its own (these faults are PostgreSQL's: locks, killed backends)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set; the fault tests need PostgreSQL")
    with pg_schema(base, "fault") as url:
        try:
            yield url
        finally:
            runtime.reset()  # pooled connections go before the schema does


SWEEPER = """
import sys
from datetime import datetime
from activation import services
from activation.adapters.db import make_engine
from activation.adapters.sql import SqlStore

url, now, batch = sys.argv[1], datetime.fromisoformat(sys.argv[2]), int(sys.argv[3])
report = services.sweep(SqlStore(make_engine(url)), now, batch)
print(report.fired_escalations, flush=True)
"""


def _counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        fired = conn.execute(select(func.count()).select_from(t.alarms).where(t.alarms.c.state == "fired")).scalar()
        notified = conn.execute(select(func.count()).select_from(t.notifications)).scalar()
        outbox = conn.execute(select(func.count()).select_from(t.outbox)).scalar()
    return int(fired or 0), int(notified or 0), int(outbox or 0)


def test_a_sweeper_killed_mid_sweep_of_100000_deadlines_leaves_each_alarm_fired_exactly_once(pg_url: str) -> None:
    total = 100_000
    engine = make_engine(pg_url)
    db = Database(engine, "fault test", engine.dispose)
    seed(db, total, total, NOW)
    args = [sys.executable, "-c", SWEEPER, pg_url, NOW.isoformat(), "2000"]
    first = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _counts(engine)[0] < total // 5:  # let a fifth of the work commit, then kill -9 mid-batch
        assert first.poll() is None, "the sweeper finished before it could be killed; raise the total"
        assert time.monotonic() < deadline, "the sweeper made no progress"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    fired, notified, outbox = _counts(engine)
    # What committed is whole: each fired alarm has its notification and outbox event, nothing more.
    assert 0 < fired < total
    assert fired == notified == outbox

    second = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    assert int(second.stdout.split()[-1]) == total - fired  # the restart fires only what was left
    assert _counts(engine) == (total, total, total)
    assert services.sweep(SqlStore(engine), NOW).total == 0
    with engine.connect() as conn:
        duplicated = conn.execute(
            select(func.count()).select_from(
                select(t.notifications.c.id).group_by(t.notifications.c.id).having(func.count() > 1).subquery()
            )
        ).scalar()
    assert duplicated == 0
    engine.dispose()


def test_the_same_1000_applications_sent_twice_at_once_open_1000_cases_with_one_to_do_each(database_url: str) -> None:
    rt = runtime.get_runtime(database_url)
    refs = [f"synthetic-dup-{n:04d}" for n in range(1000)]
    received = NOW - timedelta(hours=1)
    errors: list[BaseException] = []

    def send_all() -> None:
        try:
            for ref in refs:
                services.record_application(rt.store, rt.rules, "vaxjo", ref, received)
        except BaseException as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)

    def advance_all() -> None:
        try:
            for _ in range(40):
                services.advance_cases(rt.store, rt.rules, NOW, limit=100)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    workers = [threading.Thread(target=send_all), threading.Thread(target=send_all)]
    workers += [threading.Thread(target=advance_all), threading.Thread(target=advance_all)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
    assert not errors, errors[0]
    while services.advance_cases(rt.store, rt.rules, NOW).claimed:
        pass
    with rt.engine.connect() as conn:
        cases = conn.execute(select(func.count()).select_from(t.cases)).scalar()
        steps = conn.execute(select(func.count()).select_from(t.steps)).scalar()
    with rt.store.transaction() as tx:
        todos = tx.list_todos(TodoFilter(municipality="vaxjo", limit=5000))
    assert cases == 1000 and steps == 1000
    assert len(todos) == 1000 and len({x.case_id for x in todos}) == 1000
    runtime.reset()


@pytest.mark.prefect
def test_a_connection_dropped_during_the_intake_flow_writes_nothing_and_the_retry_completes_the_run(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.testing.utilities import prefect_test_harness

    from activation.adapters.sql import SqlTransaction
    from flows.intake import intake

    monkeypatch.setenv("ACTIVATION_DATABASE_URL", pg_url)
    runtime.reset()
    rt = runtime.get_runtime(pg_url)
    case_ids = [
        services.record_application(rt.store, rt.rules, "karlskrona", f"synthetic-drop-{n}", NOW).case_id
        for n in range(20)
    ]
    original = SqlTransaction.save_obligations
    seen_between: list[int] = []
    calls = {"n": 0}

    def drop_once(self: SqlTransaction, changes: ObligationChanges, run_starts: dict[str, datetime | None]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            # The server ends this very connection after the to-dos were written in this transaction.
            self.conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        else:
            with rt.engine.connect() as other:  # what anyone else sees while the retry runs
                seen_between.append(int(other.execute(select(func.count()).select_from(t.todos)).scalar() or 0))
        original(self, changes, run_starts)

    monkeypatch.setattr(SqlTransaction, "save_obligations", drop_once)

    async def run_intake() -> tuple[bool, dict[str, int]]:
        state = await intake(now=NOW, return_state=True)
        flow_run_id = state.state_details.flow_run_id
        assert flow_run_id is not None  # the state of a flow run names its run
        async with get_client() as client:
            runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        return state.is_completed(), {r.name: r.run_count for r in runs}

    with prefect_test_harness(server_startup_timeout=180):
        completed, attempts = asyncio.run(run_intake())
    assert completed
    # The task that writes the to-dos failed on the dropped connection and its retry completed.
    assert [n for name, n in attempts.items() if name.startswith("create-todos")] == [2]
    assert calls["n"] == 2
    assert seen_between == [0]  # the failed attempt left nothing half-written
    with rt.store.transaction() as tx:
        todos = tx.list_todos(TodoFilter(limit=100))
        assert tx.pending_steps(None, 100) == []
    assert sorted(x.case_id for x in todos) == sorted(case_ids)
    runtime.reset()
