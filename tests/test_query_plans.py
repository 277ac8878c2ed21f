"""The statements that move one case on find their rows by index, on a fresh database and an analysed one."""

from __future__ import annotations

import pytest

from activation import services
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from tests.conftest import at
from tests.query_plans import full_scans, statements_sent


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

    with statements_sent(store) as statements:
        services.complete_and_move_on(store, rules, todos[0], "held", at("2026-11-17 10:00"), "cw-01")

    assert statements
    assert full_scans(store, statements) == []
