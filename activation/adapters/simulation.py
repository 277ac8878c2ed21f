"""Runs a what-if simulation on a scratch SQLite file and judges its deadlines with the console's report."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from activation.adapters import reports
from activation.adapters.db import make_engine, migrate, reading
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from activation.simulation import Capacity, Cohort, Judge, Progress, SimulationResult, Verdicts, simulate


def judge_with(engine: Engine) -> Judge:
    """Return a judge that tallies the deadlines due in a period the way the manager console does."""

    def judge(municipality: str, since: datetime, until: datetime) -> dict[str, Verdicts]:
        window = reports.Window((), since, until, str(since.tzinfo))
        with reading(engine) as conn:
            report = reports.tally(reports.deadline_facts(conn, municipality, since, until), until, window)
        return {key: Verdicts(t.met, t.missed, t.excused, t.open) for key, t in report.by_stage.items()}

    return judge


def run_on_scratch(
    rules: RuleBook,
    municipality: str,
    version: str | None,
    start: date,
    weeks: int,
    cohort: Cohort,
    capacity: Capacity,
    progress: Progress | None = None,
    directory: Path | None = None,
) -> SimulationResult:
    """Simulate on a fresh SQLite file (in a temporary directory unless one is given), then drop it."""
    with tempfile.TemporaryDirectory(prefix="activation-sim-", dir=directory) as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'simulation.db'}")

        @event.listens_for(engine, "connect")
        def _throwaway(dbapi_connection: Any, _record: Any) -> None:
            # The file is dropped after the run: no need to wait for the disk on every commit.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.close()

        try:
            migrate(engine)
            store = SqlStore(engine)
            return simulate(
                store, rules, municipality, version, start, weeks, cohort, capacity, judge_with(engine), progress
            )
        finally:
            engine.dispose()
