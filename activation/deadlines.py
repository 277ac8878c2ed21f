"""Deadlines: when a to-do is due, when to remind, whom to escalate to and when."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from activation.config import Municipality
from activation.model import AlarmRecord, Case, Pause, recipient_for


@dataclass(frozen=True)
class Alarm:
    """A reminder before a deadline or an escalation step after it; fires exactly once."""

    kind: str  # "reminder" | "escalation"
    step: int  # 1, 2, ... in the order they fire
    fires_at: datetime
    offset: str  # e.g. "24 hours", as configured
    notify_role: str  # reminders go to the assignee ("caseworker"), escalations up the ladder


@dataclass(frozen=True)
class DeadlinePlan:
    """A computed deadline with its reminders and escalation ladder, and why it is due then."""

    rule_key: str
    config_version: str
    calendar: str
    started_at: datetime
    start_event: str
    due_at: datetime
    alarms: tuple[Alarm, ...]
    explanation: str


def plan_deadline(
    municipality: Municipality,
    config_version: str,
    rule_key: str,
    started_at: datetime,
    start_event: str,
) -> DeadlinePlan:
    """Compute a deadline from its rule, counted on the rule's business calendar."""
    rule = municipality.rule(rule_key)
    calendar = municipality.calendar(rule.calendar)
    due_at = calendar.add(started_at, rule.due, extend_when_closed=rule.extend_when_closed, end_of_day=rule.end_of_day)
    alarms = plan_alarms(municipality, rule_key, due_at, not_before=started_at)
    raw_due = calendar.add(started_at, rule.due, end_of_day=rule.end_of_day)
    extended = "; to the end of that day" if rule.end_of_day else ""
    if raw_due != due_at:
        to = "the end of the next day it opens" if rule.end_of_day else "the end of the next opening"
        extended += f"; {raw_due:%a %d %b %H:%M} falls while the office is closed, so it moves to {to}"
    explanation = (
        f"{rule.due} from {start_event} at {calendar.local(started_at):%a %d %b %Y %H:%M}"
        f" counted on {calendar.describe()}{extended}; rule {rule_key} ({rule.source})"
        f"; config {config_version}"
    )
    return DeadlinePlan(
        rule_key=rule_key,
        config_version=config_version,
        calendar=calendar.name,
        started_at=started_at,
        start_event=start_event,
        due_at=due_at,
        alarms=alarms,
        explanation=explanation,
    )


def plan_alarms(municipality: Municipality, rule_key: str, due_at: datetime, not_before: datetime) -> tuple[Alarm, ...]:
    """Return the reminders before a due time and the escalation ladder after it."""
    rule = municipality.rule(rule_key)
    calendar = municipality.calendar(rule.calendar)
    alarms: list[Alarm] = []
    for step, before in enumerate(sorted(rule.remind_before, key=lambda d: -d.nominal_hours), start=1):
        fires_at = calendar.subtract(due_at, before)
        # A reminder never fires before the clock (re)started (short deadline, long reminder).
        alarms.append(Alarm("reminder", step, max(fires_at, not_before), str(before), "caseworker"))
    for step, escalation in enumerate(rule.escalate_after, start=1):
        fires_at = calendar.add(due_at, escalation.after)
        alarms.append(Alarm("escalation", step, fires_at, str(escalation.after), escalation.notify))
    return tuple(alarms)


def due_after_pause(
    municipality: Municipality, rule_key: str, due_at: datetime, paused_at: datetime, resumed_at: datetime
) -> tuple[datetime, str]:
    """Return when a deadline paused at `paused_at` is due once the clock resumes, and why.

    The clock resumes with the time that was left when it stopped (opening time for rules counted
    in working units), unless the rule restarts it (LAB § 91a: one month after the ground ends).
    """
    rule = municipality.rule(rule_key)
    calendar = municipality.calendar(rule.calendar)
    if rule.restart_after_pause:
        new_due = calendar.add(
            resumed_at, rule.restart_after_pause, extend_when_closed=rule.extend_when_closed, end_of_day=rule.end_of_day
        )
        return new_due, f"restarted: {rule.restart_after_pause} from the end of the pause ({rule.restart_source})"
    if rule.due.unit.counts_open_time_only:
        left = calendar.open_time_between(paused_at, due_at)
        new_due = calendar.add_open_time(resumed_at, left)
        return new_due, f"resumed with the {_hours(left)} of opening time that was left"
    left = due_at - paused_at
    new_due = resumed_at + left
    if rule.end_of_day:
        # The time left runs to a new day; the deadline lasts to that day's end, as before the pause.
        end = calendar.local(new_due).replace(hour=23, minute=59, second=59, microsecond=0)
        new_due = calendar.end_of_open_day(new_due) if rule.extend_when_closed else end
    elif rule.extend_when_closed:
        new_due = calendar.end_of_next_opening(new_due)
    return new_due, f"resumed with the {_hours(left)} that were left"


def replay_pauses(
    municipality: Municipality, rule_key: str, started_at: datetime, due_at: datetime, pauses: Sequence[Pause]
) -> datetime:
    """Return when a deadline due at `due_at` is due after the case's ended pauses, oldest first.

    Each pause moves the deadline as it did when it happened (README, Pauses): one already missed
    when the pause starts stays missed, one whose clock starts after the pause is not touched, and
    the rest resume with the time that was left, on the rule's calendar. A pause still running is
    left to `end_pause`.
    """
    for pause in sorted(pauses, key=lambda p: p.starts_at):
        if pause.ends_at is None or due_at <= pause.starts_at or started_at >= pause.ends_at:
            continue
        due_at, _ = due_after_pause(municipality, rule_key, due_at, max(pause.starts_at, started_at), pause.ends_at)
    return due_at


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def alarm_records(
    id_prefix: str, deadline_id: str, case: Case, assignee: str, alarms: tuple[Alarm, ...], due_at: datetime
) -> tuple[AlarmRecord, ...]:
    """Turn planned alarms into rows: ids "<prefix>:r1", "<prefix>:e2", each to its recipient."""
    return tuple(
        AlarmRecord(
            id=f"{id_prefix}:{alarm.kind[0]}{alarm.step}",
            deadline_id=deadline_id,
            case_id=case.id,
            kind=alarm.kind,
            step=alarm.step,
            offset=alarm.offset,
            notify_role=alarm.notify_role,
            recipient=recipient_for(alarm.notify_role, assignee, case),
            fires_at=alarm.fires_at,
            deadline_due_at=due_at,
        )
        for alarm in alarms
    )
