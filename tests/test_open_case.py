"""An application recorded by a person opens its case with the first to-do in one transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from activation import services
from activation.access import User
from activation.adapters import tables as t
from activation.adapters.sql import SqlStore, SqlTransaction
from activation.config import RuleBook
from activation.errors import AccessDenied, ForbiddenError
from activation.ports import TodoFilter
from tests.conftest import at

CW_KARLSKRONA = User("cw-01", "Caseworker", "caseworker", "karlskrona", "arbetsmarknad")
CW_OTHER_TEAM = User("cw-09", "Caseworker", "caseworker", "karlskrona", "another-team")


def _count(store: SqlStore, table: Any, *where: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_the_first_meeting_exists_when_open_case_returns(store: SqlStore, rules: RuleBook) -> None:
    opened = services.open_case(store, rules, "karlskrona", "ref-1", at("2026-11-20 15:00"), at("2026-11-20 15:00"))

    assert opened.created and opened.case.stage == "first_meeting"
    assert [(x.kind, x.due_at) for x in opened.todos] == [("first_meeting", at("2026-11-23 16:30"))]
    with store.transaction() as tx:
        assert [x.id for x in tx.list_todos(TodoFilter(case_id=opened.case_id))] == [f"{opened.case_id}.0"]
        assert [x.form for x in tx.pending_letters(10)] == ["meeting_invitation"]
    assert _count(store, t.alarms, t.alarms.c.deadline_id == f"{opened.case_id}.0") == 4  # 2 reminders, 2 steps up


def test_the_same_citizen_again_writes_nothing_more(store: SqlStore, rules: RuleBook) -> None:
    first = services.open_case(store, rules, "karlskrona", "ref-1", at("2026-11-20 15:00"), at("2026-11-20 15:00"))
    again = services.open_case(store, rules, "karlskrona", "ref-1", at("2026-11-20 15:10"), at("2026-11-20 15:10"))

    assert (again.case_id, again.created, again.todos) == (first.case_id, False, ())
    assert (_count(store, t.cases), _count(store, t.todos), _count(store, t.steps)) == (1, 1, 1)


def test_a_failure_while_creating_the_first_todo_leaves_no_case_behind(
    store: SqlStore, rules: RuleBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: SqlTransaction, progress: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(SqlTransaction, "save_progress", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        services.open_case(store, rules, "karlskrona", "ref-1", at("2026-11-20 15:00"), at("2026-11-20 15:00"))

    assert (_count(store, t.cases), _count(store, t.steps), _count(store, t.todos)) == (0, 0, 0)


def test_a_person_records_only_in_their_own_municipality(store: SqlStore, rules: RuleBook) -> None:
    with pytest.raises(ForbiddenError):
        services.open_case(
            store, rules, "vaxjo", "ref-1", at("2026-11-20 15:00"), at("2026-11-20 15:00"), by=CW_KARLSKRONA
        )
    assert _count(store, t.cases) == 0


def test_another_teams_citizen_is_refused_as_not_found_without_the_case_id(store: SqlStore, rules: RuleBook) -> None:
    theirs = services.open_case(store, rules, "karlskrona", "ref-1", at("2026-11-20 15:00"), at("2026-11-20 15:00"))
    with pytest.raises(AccessDenied) as refused:
        services.open_case(
            store, rules, "karlskrona", "ref-1", at("2026-11-20 16:00"), at("2026-11-20 16:00"), by=CW_OTHER_TEAM
        )
    assert theirs.case_id not in str(refused.value) and refused.value.kind == "not_found"


def test_the_audit_line_of_a_recorded_application_is_written_with_the_case_or_not_at_all(
    store: SqlStore, rules: RuleBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = at("2026-11-20 15:00")
    opened = services.open_case(store, rules, "karlskrona", "ref-1", now, now, by=CW_KARLSKRONA, via="api")
    again = services.open_case(store, rules, "karlskrona", "ref-1", now, now, by=CW_KARLSKRONA, via="api")
    with store.engine.connect() as conn:
        lines = conn.execute(select(t.audit_log.c.username, t.audit_log.c.action, t.audit_log.c.case_id,
                                    t.audit_log.c.via, t.audit_log.c.detail)).all()  # fmt: skip
    assert [tuple(x) for x in lines] == [
        ("cw-01", "record_application", opened.case_id, "api", "created"),
        ("cw-01", "record_application", again.case_id, "api", "already open"),
    ]

    monkeypatch.setattr(SqlTransaction, "save_progress", lambda self, progress: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        services.open_case(store, rules, "karlskrona", "ref-2", now, now, by=CW_KARLSKRONA, via="api")
    assert _count(store, t.audit_log) == 2  # the failed one left neither a case nor an audit line


def test_recording_an_application_over_the_api_takes_the_write_lock_once(tmp_path: Any) -> None:
    from sqlalchemy import event

    from tests.web_support import make_web

    web = make_web(f"sqlite:///{tmp_path / 'web.db'}", at("2026-11-20 15:00"))
    token = web.token("caseworker")
    writes: list[str] = []

    def seen(conn: Any, cursor: Any, sql: str, *rest: Any) -> None:
        if sql.startswith("BEGIN"):
            writes.append(sql)

    event.listen(web.rt.engine, "before_cursor_execute", seen)
    answer = web.client().post(
        "/api/v1/applications",
        json={"municipality": "karlskrona", "citizen_ref": "ref-lock"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201
    # One writer (the case, its to-do and its audit line); the token lookup reads without the lock.
    assert sorted(writes) == ["BEGIN", "BEGIN IMMEDIATE"]
