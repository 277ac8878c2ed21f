"""A to-do's record checked before it is saved: the form its outcome needs, the catalogue, placement lengths."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from activation import journey, records
from activation.config import Municipality, RuleBook
from activation.errors import InputError
from activation.model import TodoView


def checked_record(
    todo: TodoView, outcome: str, data: dict[str, Any] | None, rules: RuleBook | None
) -> dict[str, Any] | None:
    """Return the to-do's record validated for this outcome (None when the outcome records no form)."""
    go = journey.transition(todo.stage, outcome)
    record = go.record
    if record is None:
        if data:
            raise InputError(f"outcome {outcome!r} of {todo.kind} records no form; leave the data out")
        return None
    if not data:
        raise InputError(f"outcome {outcome!r} of {todo.kind} needs the {record} form filled in")
    try:
        stored = records.validate(record, data)
    except records.RecordError as exc:
        raise InputError(str(exc), exc.fields) from None
    if rules is not None:
        municipality = rules.municipality(todo.municipality)
        group, intervention = stored.get("group"), stored.get("intervention")
        if group and group not in municipality.groups:
            problem = f"unknown target group {group!r}; groups: {', '.join(municipality.groups)}"
            raise InputError(f"{record}: group: {problem}", {"group": problem})
        if intervention and intervention not in municipality.interventions:
            problem = f"{intervention!r} is not in the catalogue; choose from {', '.join(municipality.interventions)}"
            raise InputError(f"{record}: intervention: {problem}", {"intervention": problem})
        if go.starts_placement and intervention:
            _check_length(municipality, intervention, stored)
    return stored


def _check_length(municipality: Municipality, intervention: str, placement: dict[str, Any]) -> None:
    rule = municipality.interventions[intervention]
    calendar = municipality.calendar(rule.calendar)
    starts = datetime.combine(date.fromisoformat(placement["starts_on"]), time(0, 0), tzinfo=calendar.tz)
    ends = datetime.combine(date.fromisoformat(placement["ends_on"]), time(0, 0), tzinfo=calendar.tz)
    days = (ends - starts).days
    if rule.max_length and ends > calendar.add(starts, rule.max_length):
        problem = f"{rule.name} may run at most {rule.max_length} ({rule.max_length_source}); this one runs {days} days"
        raise InputError(f"placement: ends_on: {problem}", {"ends_on": problem})
    if rule.min_length and ends < calendar.add(starts, rule.min_length):
        problem = f"{rule.name} runs at least {rule.min_length} ({rule.min_length_source}); this one runs {days} days"
        raise InputError(f"placement: ends_on: {problem}", {"ends_on": problem})
