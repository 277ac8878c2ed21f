"""Plan what applying one journey step writes: the next stage, its to-do, deadline, alarms and letters.

Pure functions of the rules, the case and the step; the use cases in services.py write the result.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from activation import journey
from activation.config import RuleBook
from activation.deadlines import alarm_records, plan_deadline
from activation.model import (
    Case,
    DeadlineRecord,
    LetterRequest,
    OpenDeadline,
    Progress,
    SideWork,
    Step,
    TodoRecord,
    TodoView,
)


def plan_progress(rules: RuleBook, case: Case, step: Step) -> Progress:
    """Work out what applying one step writes: the next stage, its to-do, deadline and alarms."""
    # The act a letter cites is the one of the case: the rules of the day it was opened (SoL 2025:400
    # for Swedish cases from 1 July 2025, SoL 2001:453 before).
    legal_basis = rules.as_of(case.opened_at or step.occurred_at).municipality(case.municipality).legal_basis
    # The rules in force when the step happened: a later version applies from its effective date.
    rules = rules.as_of(step.occurred_at)
    target, todo, rule_key = journey.next_step(step.from_stage, step.outcome)
    go = journey.transition(step.from_stage, step.outcome)
    municipality = rules.municipality(case.municipality)
    data = step.data or {}
    new_group = data.get("group") if go.changes_group else None
    new_group = new_group if new_group and new_group != case.group and new_group in municipality.groups else None
    placement = {**data, "municipality": case.municipality} if go.starts_placement else None
    also = tuple(side_work(rules, case, step, extra, data) for extra in go.also)
    common = {
        "case_id": case.id,
        "municipality": municipality.name,
        "team": municipality.teams[case.team].name,
        "timezone": municipality.timezone,
    }
    if legal_basis:
        common["legal_basis"] = legal_basis
    letters: list[LetterRequest] = []
    if go.letter and step.todo_id:
        # A letter about what was just agreed (the signed plan), with the record as its content
        # less the internal choices the journey names (the target group, the planned intervention).
        record = {k: v for k, v in data.items() if k not in go.letter_omits}
        if record.get("intervention") in municipality.interventions:
            record["intervention"] = municipality.interventions[record["intervention"]].name
        letter_id = f"{step.todo_id}:{go.letter}"
        context = {**common, **record}
        letters.append(LetterRequest(letter_id, case.id, step.todo_id, go.letter, municipality.language, context))
    if todo is None or rule_key is None:
        return Progress(
            step.id,
            case.id,
            target.name,
            step.occurred_at,
            target.terminal,
            new_group,
            letters=tuple(letters),
            also=also,
            placement=placement,
        )
    if go.catalogue_deadline and data.get(go.catalogue_deadline):
        # The placement must start within its own catalogue deadline (e.g. treatment: 14 days, SEL § 101).
        rule_key = f"interventions.{data[go.catalogue_deadline]}"
    start_event = go.start_event or f"{step.from_stage}: {step.outcome}"
    work = plan_work(rules, case, step, f"{case.id}.{step.seq}", todo, target.name, tuple(target.outcomes), rule_key,
                 step.occurred_at, start_event, side=False)  # fmt: skip
    if todo.form:
        letters.append(
            LetterRequest(
                id=f"{work.todo.id}:{todo.form}",
                case_id=case.id,
                todo_id=work.todo.id,
                form=todo.form,
                language=municipality.language,
                context={
                    **common,
                    "caseworker": case.caseworker,
                    "meeting_by": work.deadline.due_at.isoformat(),
                    "rebooking": todo.rebooking,
                },
            )
        )
    return Progress(
        step_id=step.id,
        case_id=case.id,
        new_stage=target.name,
        stage_entered_at=step.occurred_at,
        closed=False,
        new_group=new_group,
        todo=work.todo,
        deadline=work.deadline,
        alarms=work.alarms,
        letters=tuple(letters),
        also=also,
        placement=placement,
    )


def as_open(deadline: DeadlineRecord, assignee: str) -> OpenDeadline:
    return OpenDeadline(
        deadline.id,
        deadline.case_id,
        deadline.todo_id,
        deadline.rule_key,
        deadline.started_at,
        deadline.due_at,
        1,
        None,
        assignee,
    )


def side_work(rules: RuleBook, case: Case, step: Step, extra: journey.Also, data: dict[str, Any]) -> SideWork:
    municipality = rules.municipality(case.municipality)
    start, event = step.occurred_at, f"{step.from_stage}: {step.outcome}"
    if extra.counted_from and data.get(extra.counted_from):
        # A date field (the placement's last day): the clock starts when that day is over.
        day = date.fromisoformat(str(data[extra.counted_from])) + timedelta(days=1)
        start = datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(municipality.timezone))
        event = f"{extra.counted_from} {day - timedelta(days=1)}"
    todo_id = f"{case.id}.{step.seq}.{extra.todo.kind}"
    stage = journey.transition(step.from_stage, step.outcome).to
    return plan_work(
        rules, case, step, todo_id, extra.todo, stage, extra.outcomes, extra.deadline, start, event, side=True
    )


def plan_work(
    rules: RuleBook,
    case: Case,
    step: Step | tuple[int, datetime],
    todo_id: str,
    todo: journey.Todo,
    stage_name: str,
    outcomes: tuple[str, ...],
    rule_key: str,
    start: datetime,
    start_event: str,
    side: bool,
) -> SideWork:
    # A version whose transition for this rule is `keep` leaves cases opened before it on the old rule.
    rules = rules.rules_for_deadline(case.municipality, rule_key, start, case.opened_at or start)
    municipality = rules.municipality(case.municipality)
    step_id, created_at = (step.id, step.occurred_at) if isinstance(step, Step) else step
    plan = plan_deadline(municipality, rules.version(case.municipality), rule_key, start, start_event)
    role = municipality.todo_role(stage_name, todo.role)
    assignee = case.assignee if role == "caseworker" else f"{role}:{case.team}"
    todo_record = TodoRecord(
        id=todo_id,
        case_id=case.id,
        step_id=step_id,
        kind=todo.kind,
        title=todo.title,
        stage=stage_name,
        role=role,
        assignee=assignee,
        team=case.team,
        outcomes=outcomes,
        due_at=plan.due_at,
        created_at=created_at,
        side=side,
    )
    deadline = DeadlineRecord(
        id=todo_id,
        case_id=case.id,
        todo_id=todo_id,
        rule_key=plan.rule_key,
        config_version=plan.config_version,
        calendar=plan.calendar,
        start_event=plan.start_event,
        started_at=plan.started_at,
        due_at=plan.due_at,
        explanation=plan.explanation,
    )
    alarms = alarm_records(todo_id, deadline.id, case, assignee, plan.alarms, plan.due_at)
    return SideWork(todo_record, deadline, alarms)


def follow_up_work(rules: RuleBook, case: Case, done: TodoView, follow: journey.Also, now: datetime) -> SideWork:
    todo_id = f"{done.id.rsplit('.', 1)[0]}.{follow.todo.kind[:12]}"
    event = f"{done.kind}: done"
    return plan_work(rules, case, (done.step_id, now), todo_id, follow.todo, done.stage, follow.outcomes,
                     follow.deadline, now, event, side=True)  # fmt: skip
