"""An in-memory Store for unit tests of the use cases: the same port, no database."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from activation.lifecycle import MAX_STEP_FAILURES, AlarmState, closing_status, firing_state
from activation.model import (
    AuditEntry,
    Case,
    DeadlineRevision,
    FiredAlarm,
    LetterRequest,
    OpenDeadline,
    Pause,
    Progress,
    SideWork,
    Step,
    SweepReport,
    TodoView,
    recipient_for,
)
from activation.obligations import CaseEvent, CaseObligations, ObligationChanges, RecordedEvent
from activation.ports import Store, TodoFilter, Transaction
from activation.reads import OpenDeadlineOfRule, RuleChangeRecord


@dataclass
class _State:
    cases: dict[str, Case] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    applied: set[int] = field(default_factory=set)
    failures: dict[int, tuple[int, str]] = field(default_factory=dict)
    todos: dict[str, TodoView] = field(default_factory=dict)
    deadlines: dict[str, dict[str, Any]] = field(default_factory=dict)
    alarms: dict[str, dict[str, Any]] = field(default_factory=dict)
    notifications: dict[str, FiredAlarm] = field(default_factory=dict)
    letters: dict[str, dict[str, Any]] = field(default_factory=dict)
    pauses: dict[str, Pause] = field(default_factory=dict)
    events: list[CaseEvent] = field(default_factory=list)
    recorded_events: dict[str, RecordedEvent] = field(default_factory=dict)
    history: list[DeadlineRevision] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)  # to-do id -> the role that works it
    caseworker_changes: list[tuple[str, str | None, datetime]] = field(default_factory=list)
    rule_changes: list[RuleChangeRecord] = field(default_factory=list)
    audit: list[tuple[AuditEntry, datetime]] = field(default_factory=list)


class FakeStore:
    """Keeps everything in dictionaries; a failed unit of work leaves no trace."""

    def __init__(self) -> None:
        self.state = _State()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        saved = copy.deepcopy(self.state)
        try:
            yield FakeTransaction(self.state)
        except BaseException:
            self.state.__dict__.update(saved.__dict__)
            raise


class FakeTransaction:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add_case(self, case: Case, received_at: datetime) -> tuple[str, bool]:
        for existing in self.s.cases.values():
            if (existing.municipality, existing.citizen_ref) == (case.municipality, case.citizen_ref):
                return existing.id, False
        self.s.cases[case.id] = replace(case, opened_at=received_at)  # as the store's created_at
        self.s.steps.append(Step(len(self.s.steps) + 1, case.id, 0, "application", "received", received_at))
        return case.id, True

    def pending_steps(self, from_stages: Sequence[str] | None, limit: int) -> list[Step]:
        pending = [
            s
            for s in self.s.steps
            if s.id not in self.s.applied and self.s.failures.get(s.id, (0, ""))[0] < MAX_STEP_FAILURES
        ]
        return [s for s in pending if not from_stages or s.from_stage in from_stages][:limit]

    def claim_pending_steps(
        self, from_stages: Sequence[str] | None, limit: int, now: datetime, case_ids: Sequence[str] | None = None
    ) -> list[Step]:
        steps = self.pending_steps(from_stages, 10**9)
        if case_ids is not None:
            steps = [s for s in steps if s.case_id in case_ids]
        steps = steps[:limit]
        self.s.applied.update(s.id for s in steps)
        return steps

    def record_access(self, entries: Sequence[AuditEntry], now: datetime) -> None:
        self.s.audit.extend((e, now) for e in entries)

    def release_failed_steps(self, failed: Sequence[tuple[int, str]]) -> None:
        for step_id, error in failed:
            self.s.applied.discard(step_id)
            self.s.failures[step_id] = (self.s.failures.get(step_id, (0, ""))[0] + 1, error)

    def parked_steps(self, limit: int) -> list[Step]:
        parked = [s for s in self.s.steps if s.id not in self.s.applied and s.id in self.s.failures]
        return [s for s in parked if self.s.failures[s.id][0] >= MAX_STEP_FAILURES][:limit]

    def unpark_steps(self) -> int:
        parked = self.parked_steps(10**9)
        for step in parked:
            del self.s.failures[step.id]
        return len(parked)

    def cases(self, ids: Sequence[str]) -> dict[str, Case]:
        return {i: self.s.cases[i] for i in ids if i in self.s.cases}

    def save_progress(self, progress: Sequence[Progress]) -> None:
        for p in progress:
            self.s.cases[p.case_id] = replace(
                self.s.cases[p.case_id],
                stage=p.new_stage,
                stage_entered_at=p.stage_entered_at,
                status="closed" if p.closed else "open",
                group=p.new_group or self.s.cases[p.case_id].group,
            )
            work = [SideWork(p.todo, p.deadline, p.alarms)] if p.todo and p.deadline else []
            self.add_work(work + list(p.also))
            for letter in p.letters:
                self.s.letters.setdefault(letter.id, {"id": letter.id, "letter": letter, "body": None})

    def last_step_id(self, case_id: str) -> int:
        return max(s.id for s in self.s.steps if s.case_id == case_id)

    def add_work(self, works: Sequence[SideWork]) -> None:
        for w in works:
            x, d = w.todo, w.deadline
            self.s.todos.setdefault(
                x.id,
                TodoView(
                    x.id, x.case_id, self.s.cases[x.case_id].municipality, x.kind, x.title, x.stage, x.assignee,
                    x.team, "open", x.outcomes, None, x.due_at, x.created_at, None, d.id, d.rule_key,
                    d.config_version, d.explanation, None, x.side, x.step_id,
                ),
            )  # fmt: skip
            self.s.deadlines.setdefault(
                d.id,
                {
                    "todo_id": x.id, "status": "open", "due_at": d.due_at, "started_at": d.started_at,
                    "rule_key": d.rule_key, "case_id": d.case_id, "revision": 1, "paused_since": None,
                    "config_version": d.config_version, "start_event": d.start_event,
                },
            )  # fmt: skip
            self.s.roles.setdefault(x.id, x.role)
            for a in w.alarms:
                self.s.alarms.setdefault(a.id, {"alarm": a, "state": "pending", "rule_key": d.rule_key})

    def todo(self, todo_id: str) -> TodoView | None:
        return self.s.todos.get(todo_id)

    def list_todos(self, query: TodoFilter) -> list[TodoView]:
        found = [
            x
            for x in self.s.todos.values()
            if (not query.case_id or x.case_id == query.case_id)
            and (not query.assignee or x.assignee == query.assignee)
            and (not query.municipality or x.municipality == query.municipality)
            and (not query.status or x.status == query.status)
            and (not query.overdue_at or x.overdue(query.overdue_at))
            and (query.assignees is None or x.assignee in query.assignees)
            and (not query.team or x.team == query.team)
            and (not query.due_before or x.due_at < query.due_before)
        ]
        return sorted(found, key=lambda x: (x.due_at, x.id))[: query.limit]

    def complete_todo(
        self, todo: TodoView, outcome: str, now: datetime, by: str, data: dict[str, Any] | None = None
    ) -> int:
        self.s.todos[todo.id] = replace(todo, status="done", outcome=outcome, completed_at=now)
        deadline = self.s.deadlines[todo.id]
        deadline["status"] = closing_status(deadline["due_at"], deadline["paused_since"], now).value
        for row in self.s.alarms.values():
            if row["alarm"].deadline_id == todo.id and row["state"] in ("pending", "suspended"):
                row["state"] = "cancelled"
        if todo.side:
            return 0
        seq = max(s.seq for s in self.s.steps if s.case_id == todo.case_id) + 1
        self.s.steps.append(
            Step(len(self.s.steps) + 1, todo.case_id, seq, todo.stage, outcome, now, todo.id, data=data)
        )
        return len(self.s.steps)

    def _due(self, now: datetime, limit: int, kind: str | None = None) -> list[dict[str, Any]]:
        rows = [
            r
            for r in self.s.alarms.values()
            if r["state"] == "pending" and r["alarm"].fires_at <= now and (kind is None or r["alarm"].kind == kind)
        ]
        return sorted(rows, key=lambda r: r["alarm"].fires_at)[:limit]

    def fire_due_alarms(self, now: datetime, limit: int, kind: str | None = None) -> SweepReport:
        report = SweepReport(batches=1)
        for row in self._due(now, limit, kind):
            a = row["alarm"]
            if firing_state(a.kind, a.deadline_due_at, now) == AlarmState.SKIPPED:
                row["state"] = "skipped"
                report.skipped_reminders += 1
                continue
            row["state"] = "fired"
            fired = _fired(row)
            self.s.notifications[a.id] = fired
            report.fired.append(fired)
            if a.kind == "reminder":
                report.fired_reminders += 1
            else:
                report.fired_escalations += 1
        return report

    def due_alarms(self, now: datetime, limit: int) -> list[FiredAlarm]:
        return [_fired(r) for r in self._due(now, limit)]

    def pauses(self, case_id: str) -> list[Pause]:
        return sorted((p for p in self.s.pauses.values() if p.case_id == case_id), key=lambda p: p.starts_at)

    def pauses_of(self, case_ids: Sequence[str]) -> dict[str, list[Pause]]:
        found = {case_id: self.pauses(case_id) for case_id in case_ids}
        return {case_id: pauses for case_id, pauses in found.items() if pauses}

    def pause(self, pause_id: str) -> Pause | None:
        return self.s.pauses.get(pause_id)

    def add_pause(self, pause: Pause, now: datetime) -> None:
        self.s.pauses[pause.id] = pause

    def set_pause_end(self, pause_id: str, ends_at: datetime) -> None:
        self.s.pauses[pause_id] = replace(self.s.pauses[pause_id], ends_at=ends_at)

    def active_pauses(self, case_ids: Sequence[str], now: datetime) -> dict[str, Pause]:
        return {p.case_id: p for p in self.s.pauses.values() if p.case_id in case_ids and p.active_at(now)}

    def obligation_states(self, case_ids: Sequence[str]) -> dict[str, CaseObligations]:
        periods = [d for d in self.open_deadlines(case_ids) if d.todo_id is None]
        return {
            i: CaseObligations(
                self.s.cases[i].obligations_since,
                [e for e in self.s.events if e.case_id == i],
                [p for p in periods if p.case_id == i],
            )
            for i in case_ids
        }

    def save_obligations(self, changes: ObligationChanges, run_starts: dict[str, datetime | None]) -> None:
        self.s.events += [e for e in changes.events if e not in self.s.events]
        for deadline_id, status, _ in changes.closed:
            self.s.deadlines[deadline_id]["status"] = status
            for row in self.s.alarms.values():
                if row["alarm"].deadline_id == deadline_id and row["state"] in ("pending", "suspended"):
                    row["state"] = "cancelled"
        for d, alarms in changes.opened:
            self.s.deadlines.setdefault(
                d.id,
                {
                    "todo_id": None,
                    "status": "open",
                    "due_at": d.due_at,
                    "started_at": d.started_at,
                    "rule_key": d.rule_key,
                    "case_id": d.case_id,
                    "revision": 1,
                    "paused_since": None,
                    "config_version": d.config_version,
                    "start_event": d.start_event,
                },
            )
            for a in alarms:
                self.s.alarms.setdefault(a.id, {"alarm": a, "state": "pending", "rule_key": d.rule_key})
        for case_id, since in run_starts.items():
            self.s.cases[case_id] = replace(self.s.cases[case_id], obligations_since=since)

    def add_recorded_event(self, event: RecordedEvent) -> int | None:
        if event.id in self.s.recorded_events:
            return None
        self.s.recorded_events[event.id] = event
        self.s.events = sorted(
            [*self.s.events, CaseEvent(event.case_id, event.kind, event.occurred_at, None)], key=lambda e: e.occurred_at
        )
        return len(self.s.recorded_events)

    def recorded_event(self, event_id: str) -> RecordedEvent | None:
        return self.s.recorded_events.get(event_id)

    def open_deadlines(self, case_ids: Sequence[str]) -> list[OpenDeadline]:
        return sorted(
            (
                OpenDeadline(
                    i,
                    d["case_id"],
                    d["todo_id"],
                    d["rule_key"],
                    d["started_at"],
                    d["due_at"],
                    d["revision"],
                    d["paused_since"],
                    self.s.todos[i].assignee if d["todo_id"] else "",
                )
                for i, d in self.s.deadlines.items()
                if d["case_id"] in case_ids and d["status"] == "open"
            ),
            key=lambda d: d.due_at,
        )

    def suspend_deadlines(self, revisions: Sequence[DeadlineRevision], now: datetime) -> None:
        for r in revisions:
            self.s.deadlines[r.deadline_id].update(revision=r.revision, paused_since=r.paused_since)
            if r.deadline_id in self.s.todos:
                self.s.todos[r.deadline_id] = replace(self.s.todos[r.deadline_id], paused_since=r.paused_since)
            for row in self.s.alarms.values():
                if row["alarm"].deadline_id == r.deadline_id and row["state"] == "pending":
                    row["state"] = "suspended"
            self.s.history.append(r)

    def revise_deadlines(self, revisions: Sequence[DeadlineRevision], now: datetime) -> None:
        for r in revisions:
            # Only a suspension leaves due_after empty; a revision always moves the deadline somewhere.
            assert r.due_after is not None, r
            deadline = self.s.deadlines[r.deadline_id]
            deadline.update(due_at=r.due_after, revision=r.revision, paused_since=None)
            if r.config_version:
                deadline["config_version"] = r.config_version
            if r.deadline_id in self.s.todos:
                todo = self.s.todos[r.deadline_id]
                version = r.config_version or todo.config_version
                self.s.todos[r.deadline_id] = replace(
                    todo, due_at=r.due_after, paused_since=None, config_version=version
                )
            for row in self.s.alarms.values():
                if row["alarm"].deadline_id == r.deadline_id and row["state"] in ("pending", "suspended"):
                    row["state"] = "superseded"
            for a in r.alarms:
                self.s.alarms.setdefault(a.id, {"alarm": a, "state": "pending", "rule_key": deadline["rule_key"]})
            self.s.history.append(r)

    def pending_letters(self, limit: int) -> list[LetterRequest]:
        return [r["letter"] for r in self.s.letters.values() if r["body"] is None][:limit]

    def save_rendered(self, rendered: Sequence[tuple[str, str, str | None]], now: datetime) -> None:
        for letter_id, body, _attachment in rendered:
            self.s.letters[letter_id]["body"] = body

    def meeting_letters(self, todo_id: str) -> list[LetterRequest]:
        forms = ("meeting_booked", "meeting_cancelled")
        letters = [r["letter"] for r in self.s.letters.values()]
        return [x for x in letters if x.todo_id == todo_id and x.form in forms]

    def add_letters(self, letters: Sequence[LetterRequest], now: datetime) -> None:
        for letter in letters:
            self.s.letters.setdefault(letter.id, {"id": letter.id, "letter": letter, "body": None})

    def open_deadlines_of_rules(self, municipality: str, rule_keys: Sequence[str]) -> list[OpenDeadlineOfRule]:
        found = []
        for i, d in self.s.deadlines.items():
            case = self.s.cases[d["case_id"]]
            if case.municipality != municipality or d["status"] != "open" or d["rule_key"] not in rule_keys:
                continue
            todo = self.s.todos.get(d["todo_id"]) if d["todo_id"] else None
            fired = frozenset(
                f"{r['alarm'].kind[0]}{r['alarm'].step}"
                for r in self.s.alarms.values()
                if r["alarm"].deadline_id == i and r["state"] in ("fired", "skipped")
            )
            found.append(
                OpenDeadlineOfRule(
                    i, d["case_id"], d["rule_key"], d["config_version"], d["start_event"], d["started_at"],
                    d["due_at"], d["revision"], d["paused_since"], todo.assignee if todo else None,
                    todo.stage if todo else None, case.team, case.caseworker, case.opened_at or d["started_at"], fired,
                )
            )  # fmt: skip
        return sorted(found, key=lambda d: (d.due_at, d.id))

    def record_rule_change(self, change: RuleChangeRecord) -> None:
        self.s.rule_changes.append(change)

    def assign_caseworker(self, case_: Case, caseworker: str, now: datetime, by: str) -> int:
        old_assignee = case_.assignee
        self.s.cases[case_.id] = replace(self.s.cases[case_.id], caseworker=caseworker)
        self.s.caseworker_changes.append((case_.id, case_.caseworker, now))
        moved = [
            x
            for x in self.s.todos.values()
            if x.case_id == case_.id
            and x.status == "open"
            and self.s.roles[x.id] == "caseworker"
            and x.assignee == old_assignee
        ]
        for x in moved:
            self.s.todos[x.id] = replace(x, assignee=caseworker)
        for row in self.s.alarms.values():
            a = row["alarm"]
            if a.case_id == case_.id and a.recipient == old_assignee and row["state"] in ("pending", "suspended"):
                row["alarm"] = replace(a, recipient=caseworker)
        return len(moved)

    def caseworker_changes(self, case_id: str) -> list[datetime]:
        return sorted(at for i, previous, at in self.s.caseworker_changes if i == case_id and previous is not None)

    def add_alert(self, alert_id: str, case_: Case, role: str, rule_key: str, now: datetime) -> None:
        recipient = recipient_for(role, case_.assignee, case_)
        self.s.notifications.setdefault(
            alert_id, FiredAlarm(alert_id, case_.id, "alert", 1, role, recipient, now, now, rule_key)
        )


def _fired(row: dict[str, Any]) -> FiredAlarm:
    a = row["alarm"]
    return FiredAlarm(
        a.id, a.case_id, a.kind, a.step, a.notify_role, a.recipient, a.fires_at, a.deadline_due_at, row["rule_key"]
    )


# The fake keeps to the port: mypy fails here if a Transaction method is missing or mistyped.
_: Store = FakeStore()
