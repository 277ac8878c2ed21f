"""Obligations that recur: meetings and offers a target group must get, as deadline rows per period.

"At least 4 job conversations in any 12 months" and "never more than 12 months without an offer"
(LAB § 96, 003's passive periods) become deadlines like any other: with reminders, an escalation
ladder, pauses and history. Each period is its own row, closed as met or missed when the meeting or
offer happens, so timeliness can be counted per period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from activation import journey
from activation.config import CadenceRule, Municipality
from activation.deadlines import alarm_records, plan_alarms
from activation.lifecycle import closing_status
from activation.model import AlarmRecord, Case, DeadlineRecord, OpenDeadline, Step


@dataclass(frozen=True)
class CaseEvent:
    """A meeting held or an offer started, as the obligations count them."""

    case_id: str
    kind: str
    occurred_at: datetime
    step_id: int | None  # the outcome that recorded it; None for one recorded outside the stages


@dataclass(frozen=True)
class RecordedEvent:
    """A job conversation or an offer a caseworker records outside the journey's stages."""

    id: str  # "<case>/<key>": the same submission twice is recorded once
    case_id: str
    kind: str
    occurred_at: datetime
    recorded_by: str
    recorded_at: datetime
    note: str | None = None
    contact_form: str | None = None  # in_person | phone | video | digital (activation/case_events.py)
    held_by: str | None = None  # the person of the municipality who held it (default: who recorded it)


@dataclass
class ObligationChanges:
    """What a batch of steps does to the obligations: events, periods closed and periods opened."""

    events: list[CaseEvent] = field(default_factory=list)
    closed: list[tuple[str, str, datetime]] = field(default_factory=list)  # (deadline id, met|missed|ended, when)
    opened: list[tuple[DeadlineRecord, tuple[AlarmRecord, ...]]] = field(default_factory=list)

    def opened_as_open(self) -> list[OpenDeadline]:
        """Return the new periods in the shape the pause logic takes."""
        return [
            OpenDeadline(d.id, d.case_id, None, d.rule_key, d.started_at, d.due_at, 1, None, "") for d, _ in self.opened
        ]


def period_due(
    municipality: Municipality,
    rule_key: str,
    rule: CadenceRule,
    run_start: datetime,
    events: Sequence[datetime],
    after_group_change: bool = False,
) -> tuple[datetime, datetime, str]:
    """Return (counted from, due, why) for the current period of an obligation."""
    calendar = municipality.calendar(rule.calendar)
    if rule.at_least == 1:
        if events:
            base, length = events[-1], rule.due
            what = f"the next {rule.event} within {length} of the last one"
        elif after_group_change and rule.on_change_due:
            base, length = run_start, rule.on_change_due
            what = f"the first {rule.event} within {length} of the change of target group"
        else:
            base, length = run_start, rule.first_due or rule.due
            what = f"the first {rule.event} within {length}"
    elif rule.window == "first_period":
        # LAB § 31 stk. 3: N events within the first M of the run, counted from its start only.
        base, length = run_start, rule.due
        what = f"at least {rule.at_least} {rule.event}s within the first {length}; {len(events)} so far"
    elif len(events) >= rule.at_least:
        # At least N in any rolling window: the next one is needed before the N-th most recent
        # one drops out of the window.
        base, length = events[-rule.at_least], rule.due
        what = f"at least {rule.at_least} {rule.event}s in any {length}; {len(events)} so far, the next before the oldest of the last {rule.at_least} is {length} old"  # noqa: E501
    else:
        base, length = run_start, rule.due
        what = f"at least {rule.at_least} {rule.event}s within {length}; {len(events)} so far"
    due = calendar.add(base, length, extend_when_closed=rule.extend_when_closed, end_of_day=rule.end_of_day)
    from_text = calendar.local(base).strftime("%a %d %b %Y %H:%M")
    why = f"{rule.label}: {what}, counted from {from_text} on {calendar.name}; rule {rule_key} ({rule.source})"
    return base, due, why


@dataclass
class CaseObligations:
    """One case's obligation state while a batch is applied."""

    run_start: datetime | None  # when the current run of obligations began (intake or re-entry)
    events: list[CaseEvent]
    open_periods: list[OpenDeadline]
    changed_group: bool = False  # the run began with a change of target group


def apply_step(
    municipality: Municipality,
    config_version: str,
    case: Case,
    step: Step,
    state: CaseObligations,
    changes: ObligationChanges,
    group_changed: bool = False,
) -> None:
    """Apply one step to a case's obligations: record its events, close and open periods."""
    go = journey.transition(step.from_stage, step.outcome)
    source, target = journey.stage(step.from_stage), journey.stage(go.to)
    at = step.occurred_at
    recorded = set(go.records)
    for kind in go.records:
        event = CaseEvent(case.id, kind, at, step.id)
        state.events.append(event)
        changes.events.append(event)
    if not target.obligations:
        # Exit, after-exit check or closed: the obligations end with the active part of the journey.
        changes.closed += [(p.id, "ended", at) for p in state.open_periods]
        state.open_periods, state.run_start = [], None
        return
    if not source.obligations or state.run_start is None or group_changed:
        changes.closed += [(p.id, "ended", at) for p in state.open_periods]
        # A new run: intake, re-entry after exit, or a change of target group.
        state.open_periods, state.run_start = [], at
        state.changed_group = group_changed
        recorded = {rule.event for rule in municipality.cadences(case.group).values()}
    renew_periods(municipality, config_version, case, state, changes, recorded, at, Origin.of(step))


@dataclass(frozen=True)
class Origin:
    """What opens an obligation's next period: a stage's outcome, or an event recorded outside the stages."""

    suffix: str  # makes the period's id unique: the step's number, or "e<n>" for a recorded event
    start_event: str  # what the period says it counts from
    at: datetime  # no reminder of the new period fires before this

    @classmethod
    def of(cls, step: Step) -> Origin:
        """Return the origin of periods a step opens."""
        return cls(str(step.seq), f"{step.from_stage}: {step.outcome}", step.occurred_at)


def renew_periods(
    municipality: Municipality,
    config_version: str,
    case: Case,
    state: CaseObligations,
    changes: ObligationChanges,
    recorded: set[str],
    at: datetime,
    origin: Origin,
) -> None:
    """Close each open period whose event just happened (met if in time) and open the next one."""
    run_start = state.run_start
    assert run_start is not None, "periods are renewed only while the obligations run"
    still_open = [p for p in state.open_periods if p.rule_key not in municipality.cadences(case.group)]
    for rule_key, rule in municipality.cadences(case.group).items():
        current = next((p for p in state.open_periods if p.rule_key == rule_key), None)
        if current is not None and rule.event not in recorded:
            still_open.append(current)
            continue
        counted = [e.occurred_at for e in state.events if e.kind == rule.event and e.occurred_at >= run_start]
        if rule.window == "first_period" and len(counted) >= rule.at_least:
            # The first period is owed once per run: met (or late) with the N-th event, no next period
            # (LAB § 32: after the first 6 months the contact course is agreed case by case).
            if current is not None:
                status = closing_status(current.due_at, current.paused_since, at)
                changes.closed.append((current.id, status.value, at))
            continue
        # Events of the step that started the run (the meeting that changed the group) count.
        base, due, why = period_due(municipality, rule_key, rule, run_start, counted, state.changed_group)
        if current is not None and current.due_at == due:
            still_open.append(current)  # e.g. the 2nd of 4 meetings: the period still ends when it did
            continue
        if current is not None:
            # The period closes like a to-do's deadline: in time by its due time or while paused.
            status = closing_status(current.due_at, current.paused_since, at)
            changes.closed.append((current.id, status.value, at))
        record, alarms = _period(municipality, config_version, case, origin, rule_key, base, due, why)
        changes.opened.append((record, alarms))
        still_open.append(OpenDeadline(record.id, case.id, None, rule_key, base, due, 1, None, case.assignee))
    state.open_periods = still_open


def _period(
    municipality: Municipality,
    config_version: str,
    case: Case,
    origin: Origin,
    rule_key: str,
    base: datetime,
    due: datetime,
    why: str,
) -> tuple[DeadlineRecord, tuple[AlarmRecord, ...]]:
    deadline_id = f"{case.id}.{rule_key}.{origin.suffix}"
    record = DeadlineRecord(
        id=deadline_id,
        case_id=case.id,
        todo_id=None,
        rule_key=rule_key,
        config_version=config_version,
        calendar=municipality.calendar(municipality.rule(rule_key).calendar).name,
        start_event=origin.start_event,
        started_at=base,
        due_at=due,
        explanation=why,
    )
    planned = plan_alarms(municipality, rule_key, due, not_before=origin.at)
    alarms = alarm_records(deadline_id, deadline_id, case, case.assignee, planned, due)
    return record, alarms
