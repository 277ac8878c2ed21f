"""Read the plans of the statements a use case sends: which caseload tables would be read whole."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from activation.adapters.sql import SqlStore

# Tables that grow with the caseload: reading one whole to move one case on is a plan that
# depends on luck (issue 16). Small tables (users, rule versions) may be scanned.
CASELOAD = ("cases", "todos", "deadlines", "alarms", "steps", "letters", "notifications", "outbox",
            "case_events", "pauses", "placements", "deadline_changes", "caseworker_changes", "form_drafts")  # fmt: skip


@contextmanager
def statements_sent(store: SqlStore) -> Iterator[list[tuple[str, object]]]:
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


def full_scans(store: SqlStore, statements: list[tuple[str, object]]) -> list[str]:
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
