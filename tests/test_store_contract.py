"""One case's journey through the use cases gives the same outcome on the fake, SQLite and PostgreSQL.

The unit tests of the use cases run on tests/fakes.py; this scenario keeps the fake honest: every
store must show the same to-dos, due times, deadline verdicts, fired alarms, letters and
caseworker changes. PostgreSQL joins when ACTIVATION_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from activation import pauses, services
from activation.adapters.db import make_engine, migrate
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from activation.letters import render_pending_letters
from activation.lifecycle import Verdict, verdict
from activation.ports import Store, TodoFilter
from tests.conftest import PG_ENV, at, pg_schema
from tests.fakes import FakeStore

CASE = "c-contract"
STORES = ["fake", "sqlite", *(["postgresql"] if os.environ.get(PG_ENV) else [])]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each store in turn: the in-memory fake, a SQLite file, a PostgreSQL schema of its own."""
    if request.param == "fake":
        yield FakeStore()
        return
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'contract.db'}")
        migrate(engine)
        yield SqlStore(engine)
        engine.dispose()
        return
    with pg_schema(os.environ[PG_ENV], prefix="contract") as url:
        engine = make_engine(url)
        yield SqlStore(engine)
        engine.dispose()


def _fired(store: Store, now: datetime) -> list[tuple[str, str]]:
    """Sweep at now; return the alarms fired, with whom they told (a batch has no order: sorted by id)."""
    return sorted((a.id, a.recipient) for a in services.sweep(store, now).fired)


def _render(form: str, language: str, context: dict[str, Any]) -> tuple[str, str | None]:
    return f"{form} ({language})", None


def test_every_store_keeps_a_case_alike_from_application_through_pauses_and_reassignments_to_a_missed_deadline(
    store: Store, rules: RuleBook
) -> None:
    # Tuesday 17 Nov 2026 10:00 in Karlskrona: the first meeting is due 48 hours later.
    services.record_application(store, rules, "karlskrona", "ref-contract", at("2026-11-17 10:00"), new_id=lambda: CASE)
    services.advance_cases(store, rules, at("2026-11-17 10:00"))
    with store.transaction() as tx:
        [meeting] = tx.list_todos(TodoFilter(case_id=CASE))
        assert [x.id for x in tx.pending_letters(10)] == [f"{CASE}.0:meeting_invitation"]
    assert (meeting.kind, meeting.assignee, meeting.due_at) == (
        "first_meeting",
        "queue:arbetsmarknad",
        at("2026-11-19 10:00"),
    )

    # Taking the case from the team queue is the first assignment, not a change; the to-do follows.
    taken = services.assign_caseworker(store, rules, CASE, "cw-01", at("2026-11-17 10:05"), "cw-01")
    assert (taken.previous, taken.todos_moved, taken.changes_in_window, taken.alerted) == (None, 1, 0, False)
    assert _fired(store, at("2026-11-18 10:00")) == [(f"{CASE}.0:r1", "cw-01")]

    # Sick from Wednesday 10:00 to Monday 10:00: the 24 hours left count again from Monday.
    sick = pauses.record_pause(
        store, rules, CASE, "sickness", at("2026-11-18 10:00"), at("2026-11-23 10:00"), at("2026-11-18 10:30"),
        new_id=lambda: "p-sick",
    )  # fmt: skip
    assert {r.deadline_id: r.due_after for r in sick.revisions}[f"{CASE}.0"] == at("2026-11-24 10:00")

    # Three changes of caseworker within the window: the third is one too many and alerts the team lead.
    changes = [
        services.assign_caseworker(store, rules, CASE, caseworker, at(f"2026-11-19 {hour}:00"), "lead-01")
        for caseworker, hour in (("cw-02", 10), ("cw-03", 11), ("cw-01", 12))
    ]
    assert [(c.previous, c.changes_in_window, c.alerted) for c in changes] == [
        ("cw-01", 1, False),
        ("cw-02", 2, False),
        ("cw-03", 3, True),
    ]
    # The moved deadline's new reminder fires once, to whoever holds the case now.
    assert _fired(store, at("2026-11-23 10:00")) == [(f"{CASE}.0@2:r1", "cw-01")]

    held = services.complete_todo(store, f"{CASE}.0", "held", at("2026-11-23 14:00"), "cw-01", None, rules)
    assert (held.status, held.verdict()) == ("done", "met")
    services.advance_cases(store, rules, at("2026-11-23 14:05"))

    # A treatment stay of unknown length stops every open clock; ending it moves them on.
    stay = pauses.record_pause(
        store, rules, CASE, "treatment_stay", at("2026-11-24 16:00"), None, at("2026-11-24 16:00"),
        new_id=lambda: "p-stay",
    )  # fmt: skip
    assert {r.due_after for r in stay.revisions} == {None}
    resumed = pauses.end_pause(store, rules, "p-stay", at("2026-12-01 09:00"), at("2026-12-01 09:05"))
    assert {r.deadline_id: r.due_after for r in resumed.revisions} == {
        f"{CASE}.1": at("2026-12-21 16:30"),
        f"{CASE}.ekonomiskt_bistand.offer.0": at("2026-12-28 09:30"),
        f"{CASE}.ekonomiskt_bistand.follow_up_meetings.1": at("2027-01-11 16:30"),
    }

    # Nobody completes the assessment: its reminder, then its escalation to the team lead, fire once each.
    assert _fired(store, at("2026-12-17 09:00")) == [(f"{CASE}.1@3:r1", "cw-01")]
    now = at("2026-12-28 09:00")
    assert _fired(store, now) == [
        (f"{CASE}.1@3:e1", "team_lead:arbetsmarknad"),
        (f"{CASE}.ekonomiskt_bistand.offer.0@4:r1", "cw-01"),
    ]
    assert _fired(store, now) == []

    with store.transaction() as tx:
        todos = tx.list_todos(TodoFilter(case_id=CASE, status=None))
        open_deadlines = tx.open_deadlines([CASE])
        changed_at = tx.caseworker_changes(CASE)
    assert [(x.id, x.kind, x.assignee, x.due_at, x.status, x.outcome) for x in todos] == [
        (f"{CASE}.0", "first_meeting", "cw-01", at("2026-11-24 10:00"), "done", "held"),
        (f"{CASE}.1", "assessment", "cw-01", at("2026-12-21 16:30"), "open", None),
    ]
    assert [verdict(x.verdict() or "open", x.due_at, x.paused_since, now, excused=False) for x in todos] == [
        Verdict.MET,
        Verdict.MISSED,
    ]
    assert {d.id: verdict("open", d.due_at, d.paused_since, now, excused=False) for d in open_deadlines} == {
        f"{CASE}.1": Verdict.MISSED,
        f"{CASE}.ekonomiskt_bistand.offer.0": Verdict.OPEN,
        f"{CASE}.ekonomiskt_bistand.follow_up_meetings.1": Verdict.OPEN,
    }
    assert changed_at == [at("2026-11-19 10:00"), at("2026-11-19 11:00"), at("2026-11-19 12:00")]

    # The letters run renders the invitation whichever store queued it, and none is left waiting.
    assert render_pending_letters(store, _render, now).rendered == 1
    with store.transaction() as tx:
        assert tx.pending_letters(10) == []
