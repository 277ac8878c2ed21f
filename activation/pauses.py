"""Clocks that know the citizen's situation: pauses on a legal ground stop deadlines and resume them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from activation.config import ConfigError, Municipality, RuleBook
from activation.deadlines import alarm_records, due_after_pause, plan_alarms
from activation.errors import ConflictError, InputError, NotFoundError
from activation.model import Actor, Case, DeadlineRevision, OpenDeadline, Pause
from activation.ports import Cases, DeadlinesAndAlarms, PausedClocks, UnitOfWork, new_case_id


@dataclass(frozen=True)
class PauseResult:
    """What recording or ending a pause did to the case's deadlines."""

    pause: Pause
    revisions: list[DeadlineRevision]


def _new_pause_id() -> str:
    return "p-" + new_case_id()[2:]


def _municipality(rules: RuleBook, case: Case) -> Municipality:
    try:
        return rules.municipality(case.municipality)
    except ConfigError as exc:
        raise InputError(str(exc)) from None


def _case(tx: Cases, case_id: str) -> Case:
    case = tx.cases([case_id]).get(case_id)
    if case is None:
        raise NotFoundError(f"unknown case {case_id!r}", {"case_id": "unknown"})
    return case


def record_pause(
    store: UnitOfWork[PausedClocks],
    rules: RuleBook,
    case_id: str,
    basis: str,
    starts_at: datetime,
    ends_at: datetime | None,
    now: datetime,
    by: str = "caseworker",
    note: str | None = None,
    new_id: Callable[[], str] = _new_pause_id,
    actor: Actor | None = None,
) -> PauseResult:
    """Record a pause: with a known end the deadlines move now; without one their clocks stop.

    With `actor`, their audit line is written in the same transaction.
    """
    rules = rules.as_of(now)
    if starts_at > now:
        raise InputError("a pause cannot start in the future; record it when it starts", {"starts_at": "in the future"})
    if ends_at is not None and ends_at <= starts_at:
        raise InputError("a pause must end after it starts", {"ends_at": "before the start"})
    with store.transaction() as tx:
        case = _case(tx, case_id)
        municipality = _municipality(rules, case)
        if basis not in municipality.pause_bases:
            known = ", ".join(municipality.pause_bases) or "none configured"
            problem = f"unknown pause basis {basis!r} in {municipality.code}; bases: {known}"
            raise InputError(problem, {"basis": problem})
        for existing in tx.pauses(case_id):
            if existing.overlaps(starts_at, ends_at):
                until = existing.ends_at.isoformat() if existing.ends_at else "open-ended"
                raise ConflictError(
                    f"case {case_id} is already paused from {existing.starts_at.isoformat()} ({until},"
                    f" {existing.basis}, pause {existing.id}); end or shorten that pause first"
                )
        pause = Pause(new_id(), case_id, basis, starts_at, ends_at, note, by)
        tx.add_pause(pause, now)
        revisions = _apply(tx, municipality, case, pause, tx.open_deadlines([case_id]), now)
        if actor is not None:
            until = ends_at.isoformat() if ends_at else "until resumed"
            detail = f"{pause.id} ({basis}) {starts_at.isoformat()} - {until}; {len(revisions)} deadline(s)"
            tx.record_access([actor.line("pause", case, detail)], now)
    return PauseResult(pause, revisions)


def end_pause(
    store: UnitOfWork[PausedClocks],
    rules: RuleBook,
    pause_id: str,
    ends_at: datetime,
    now: datetime,
    by: str = "caseworker",
    actor: Actor | None = None,
) -> PauseResult:
    """End an open-ended pause: stopped deadlines resume with the time left, or restart by their rule.

    With `actor`, their audit line is written in the same transaction.
    """
    rules = rules.as_of(now)
    if ends_at > now:
        raise InputError(
            "a pause cannot be ended in the future; end it when the ground ends", {"ends_at": "in the future"}
        )
    with store.transaction() as tx:
        pause = tx.pause(pause_id)
        if pause is None:
            raise NotFoundError(f"unknown pause {pause_id!r}", {"pause_id": "unknown"})
        if pause.ends_at is not None:
            raise ConflictError(f"pause {pause_id} already ends at {pause.ends_at.isoformat()}")
        if ends_at <= pause.starts_at:
            problem = f"pause {pause_id} started at {pause.starts_at.isoformat()}; it must end after that"
            raise InputError(problem, {"ends_at": problem})
        case = _case(tx, pause.case_id)
        municipality = _municipality(rules, case)
        ended = Pause(pause.id, pause.case_id, pause.basis, pause.starts_at, ends_at, pause.note, pause.recorded_by)
        tx.set_pause_end(pause_id, ends_at)
        stopped = [d for d in tx.open_deadlines([pause.case_id]) if d.paused_since is not None]
        revisions = [_resumed(municipality, case, ended, d, d.paused_since or pause.starts_at) for d in stopped]
        tx.revise_deadlines(revisions, now)
        if actor is not None:
            detail = f"{pause.id} ({pause.basis}) ended {ends_at.isoformat()}; {len(revisions)} deadline(s)"
            tx.record_access([actor.line("resume", case, detail)], now)
    return PauseResult(ended, revisions)


def pause_new_deadlines(tx: PausedClocks, rules: RuleBook, deadlines: Sequence[OpenDeadline], now: datetime) -> None:
    """Stop or move deadlines just created for cases that are paused right now."""
    if not deadlines:
        return
    active = tx.active_pauses(sorted({d.case_id for d in deadlines}), now)
    cases = tx.cases(sorted(active)) if active else {}
    for case_id, pause in active.items():
        case = cases[case_id]
        mine = [d for d in deadlines if d.case_id == case_id]
        _apply(tx, rules.municipality(case.municipality), case, pause, mine, now)


def _apply(
    tx: DeadlinesAndAlarms,
    municipality: Municipality,
    case: Case,
    pause: Pause,
    deadlines: Sequence[OpenDeadline],
    now: datetime,
) -> list[DeadlineRevision]:
    # A deadline already missed when the pause starts stays missed: the pause excuses nothing before it.
    running = [d for d in deadlines if d.paused_since is None and d.due_at > pause.starts_at]
    if pause.ends_at is None:
        stopped = [
            DeadlineRevision(
                d.id,
                d.revision + 1,
                d.due_at,
                None,
                f"clock stopped by pause {pause.id} ({pause.basis}) from {_when(municipality, pause.starts_at)}",
                paused_since=max(pause.starts_at, d.started_at),
            )
            for d in running
        ]
        tx.suspend_deadlines(stopped, now)
        return stopped
    # A deadline that started during the pause counts from the pause's end; one whose clock starts
    # only after the pause (a wrap-up counted from a placement's last day) is not touched.
    running = [d for d in running if d.started_at < pause.ends_at]
    moved = [_resumed(municipality, case, pause, d, max(pause.starts_at, d.started_at)) for d in running]
    tx.revise_deadlines(moved, now)
    return moved


def _resumed(
    municipality: Municipality, case: Case, pause: Pause, deadline: OpenDeadline, paused_at: datetime
) -> DeadlineRevision:
    assert pause.ends_at is not None
    if paused_at >= pause.ends_at:
        # Stopped before its clock ever started (it starts after the pause): nothing to make up.
        new_due, why = deadline.due_at, "the clock had not started before the pause ended"
    else:
        new_due, why = due_after_pause(municipality, deadline.rule_key, deadline.due_at, paused_at, pause.ends_at)
    revision = deadline.revision + 1
    planned = plan_alarms(municipality, deadline.rule_key, new_due, not_before=pause.ends_at)
    # A new revision gets new alarm rows: each still fires exactly once.
    assignee = deadline.assignee or case.assignee
    alarms = alarm_records(f"{deadline.id}@{revision}", deadline.id, case, assignee, planned, new_due)
    span = f"{_when(municipality, paused_at)} to {_when(municipality, pause.ends_at)}"
    reason = f"pause {pause.id} ({pause.basis}) {span}: {why}"
    return DeadlineRevision(deadline.id, revision, deadline.due_at, new_due, reason, alarms)


def _when(municipality: Municipality, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(municipality.timezone)).strftime("%a %d %b %Y %H:%M")
