"""The statements that move one case on find their rows by index, on a fresh database and an analysed one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from activation import services
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from tests.conftest import at

# Tables that grow with the caseload: reading one whole to move one case on is a plan that
# depends on luck (issue 16). Small tables (users, rule versions) may be scanned.
CASELOAD = ("cases", "todos", "deadlines", "alarms", "steps", "letters", "notifications", "outbox",
            "case_events", "pauses", "placements", "deadline_changes", "caseworker_changes", "form_drafts")  # fmt: skip


@contextmanager
def _statements(store: SqlStore) -> Iterator[list[tuple[str, object]]]:
    """Collect every statement the store sends, with its parameters."""
    seen: list[tuple[str, object]] = []

    def remember(conn: object, cursor: object, statement: str, params: object, *rest: object) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")):
            seen.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", remember)


def _full_scans(store: SqlStore, statements: list[tuple[str, object]]) -> list[str]:
    """Return 'table: statement' for each caseload table a statement would read whole."""
    found = []
    with store.engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            # Told to avoid table scans, PostgreSQL still scans where no index can serve.
            conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, params in statements:
            if not postgres and statement.startswith("INSERT") and " SELECT " not in statement:
                # SQLite lists the child tables a foreign key would check when a parent row comes
                # back after a deferred violation; no constraint here is deferred, so nothing is read.
                continue
            if isinstance(params, list | tuple) and params and isinstance(params[0], dict | tuple | list):
                params = params[0]  # executemany: one row's parameters plan the same
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = "\n".join(str(r[-1]) for r in conn.exec_driver_sql(explain + statement, params).all())  # type: ignore[arg-type]
            pattern = r"Seq Scan on (\w+)" if postgres else r"\bSCAN (\w+)(?! USING)"
            found += [f"{table}: {statement[:200]}" for table in re.findall(pattern, plan) if table in CASELOAD]
        conn.rollback()
    return found


def _caseload(store: SqlStore, rules: RuleBook, n: int) -> list[str]:
    """Open n Karlskrona cases, their first meetings waiting; return the to-do ids."""
    todos = []
    for i in range(n):
        opened = services.open_case(
            store, rules, "karlskrona", f"ref-plan-{i}", at("2026-11-16 09:00"), at("2026-11-16 09:00")
        )
        todos += [todo.id for todo in opened.todos]
    return todos


def _analyse_as_a_large_database(store: SqlStore, rows: int = 1_000_000) -> None:
    """ANALYZE, then tell SQLite's planner each table is `rows` long with the same distribution.

    Statistics of a 60-case database make a table scan the right plan; what matters is the plan a
    long-running database gets, where a scan of the caseload is the wrong one.
    """
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
        if conn.dialect.name == "postgresql":
            return
        scaled = []
        for tbl, idx, stat in conn.exec_driver_sql("SELECT tbl, idx, stat FROM sqlite_stat1").all():
            total, *per_key = (int(x) for x in stat.split() if x.isdigit())  # "N a b ... [unordered]"
            # A key that covered every row (one value, e.g. all NULL) still does; the rest keep their spread.
            per_key = [rows if n >= total else n for n in per_key]
            scaled.append({"stat": " ".join(map(str, [rows, *per_key])), "tbl": tbl, "idx": idx})
        conn.exec_driver_sql("UPDATE sqlite_stat1 SET stat = :stat WHERE tbl = :tbl AND idx IS :idx", scaled)
        conn.exec_driver_sql("ANALYZE sqlite_schema")  # reload the statistics


@pytest.mark.parametrize("statistics", ["fresh", "analysed as a large database"])
def test_moving_one_case_on_reads_no_caseload_table_whole(store: SqlStore, rules: RuleBook, statistics: str) -> None:
    todos = _caseload(store, rules, 60)
    if statistics != "fresh":
        _analyse_as_a_large_database(store)

    with _statements(store) as statements:
        services.complete_and_move_on(store, rules, todos[0], "held", at("2026-11-17 10:00"), "cw-01")

    assert statements
    assert _full_scans(store, statements) == []
