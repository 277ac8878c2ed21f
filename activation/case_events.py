"""Job conversations and offers that happen outside the journey's stages, counted by the obligations.

A stage's outcome records the meeting or offer it is (`held`, `started`, the follow-ups). A job
conversation held between follow-ups, or an offer given while the plan is being written, happens
outside the stages: a caseworker records it here, and the target group's obligations count it
exactly as they count a stage's event (activation/obligations.py): the open period of every
cadence counting that kind closes, met if the event came in time, and the next period opens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from activation import access, journey
from activation.access import User
from activation.config import ConfigError, RuleBook
from activation.errors import ConflictError, InputError, NotFoundError
from activation.lifecycle import CaseStatus
from activation.model import Actor
from activation.obligations import CaseEvent, ObligationChanges, Origin, RecordedEvent, renew_periods
from activation.pauses import pause_new_deadlines
from activation.ports import Store

# The words caseworkers use for the events the obligations count (config: groups.*.cadences.*.event).
KINDS = {"meeting": "meeting", "job_conversation": "meeting", "offer": "offer"}
# How a job conversation was held: LAB lets talks be held in person, by phone, by video or digitally
# (lov nr. 295 af 20/3 2023, "udvidet mulighed for samtaler over video eller telefon"); in person when
# not said, the law's starting point.
CONTACT_FORMS = ("in_person", "phone", "video", "digital")
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
NOTE_MAX = 500


@dataclass(frozen=True)
class EventRecorded:
    """An event recorded on a case, and what it did to the obligation periods."""

    event: RecordedEvent
    repeated: bool  # the same submission came before: nothing changed this time
    closed: list[tuple[str, str]] = field(default_factory=list)  # (period id, met | missed)
    opened: list[tuple[str, str, datetime]] = field(default_factory=list)  # (period id, rule key, due)


def event_kind(kind: str) -> str:
    """Return the obligations' name for a kind of event ('job_conversation' is a meeting)."""
    found = KINDS.get(kind.strip().lower())
    if found is None:
        problem = f"unknown kind of event {kind!r}; kinds: {', '.join(KINDS)}"
        raise InputError(problem, {"kind": problem})
    return found


def contact_form(form: str | None) -> str:
    """Return the form of contact of an event (in person when not given); refuse an unknown one."""
    chosen = (form or "").strip().lower() or "in_person"
    if chosen not in CONTACT_FORMS:
        problem = f"unknown form of contact {form!r}; forms: {', '.join(CONTACT_FORMS)}"
        raise InputError(problem, {"contact_form": problem})
    return chosen


def event_id(case_id: str, kind: str, occurred_at: datetime, key: str | None = None) -> str:
    """Return the id the same submission always gets: the client's key, else the kind and the moment."""
    if key is None or not key.strip():
        # Without a key the same kind at the same moment on the same case is the same event.
        return f"{case_id}/{kind}/{occurred_at.astimezone(UTC):%Y%m%dT%H%M%S}"
    if not KEY.match(key.strip()):
        problem = "a key of 1-64 letters, digits, '.', '_', ':' or '-'"
        raise InputError(f"event key: {problem}", {"key": problem})
    return f"{case_id}/{key.strip()}"


def record_event(
    store: Store,
    rules: RuleBook,
    case_id: str,
    kind: str,
    occurred_at: datetime,
    now: datetime,
    by: str,
    note: str | None = None,
    key: str | None = None,
    actor: Actor | None = None,
    form: str | None = None,
    held_by: str | None = None,
    holder: User | None = None,
) -> EventRecorded:
    """Record a job conversation or an offer outside the stages; the obligations count it once.

    `form` is the form of contact (CONTACT_FORMS, in person when not given); `held_by` who held it, by
    default the recorder `by`; anyone else must be `holder`, an active member of the case's municipality
    who works cases (the entry point looks the name up). With `actor` (who, through what: "cli", "web",
    "api"), their audit line is written in the same transaction; a repeat of the same submission
    writes none.
    """
    kind = event_kind(kind)
    form = contact_form(form)
    held_by = (held_by or "").strip() or by
    if occurred_at.tzinfo is None:
        raise InputError("the time of the event needs a time zone", {"occurred_at": "needs a time zone"})
    if occurred_at > now:
        problem = "an event is recorded once it has happened"
        raise InputError(problem, {"occurred_at": "in the future"})
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise InputError(f"a note holds at most {NOTE_MAX} characters", {"note": f"at most {NOTE_MAX} characters"})
    with store.transaction() as tx:
        case = tx.cases([case_id]).get(case_id)
        if case is None:
            raise NotFoundError(f"unknown case {case_id!r}", {"case_id": "unknown"})
        if held_by != by:
            held_by = access.check_colleague(held_by, holder, case.municipality).username
        event = RecordedEvent(
            event_id(case_id, kind, occurred_at, key), case_id, kind, occurred_at, by, now, note, form, held_by
        )
        earlier = tx.recorded_event(event.id)
        if earlier is not None:
            return _repeated(earlier, event)
        if case.status != CaseStatus.OPEN or not journey.stage(case.stage).obligations:
            raise ConflictError(
                f"case {case_id} is in {case.stage} ({case.status}): no meeting or offer obligations run now",
                {"case_id": "no obligations run"},
            )
        state = tx.obligation_states([case_id])[case_id]
        if state.run_start is None:
            raise ConflictError(f"case {case_id} has no obligations running yet", {"case_id": "no obligations run"})
        if occurred_at < state.run_start:
            since = state.run_start.isoformat()
            problem = f"the obligations of case {case_id} run from {since}; an event before that does not count"
            raise InputError(problem, {"occurred_at": "before the obligations started"})
        number = tx.add_recorded_event(event)
        if number is None:  # the same submission, committed a moment ago by a concurrent request
            found = tx.recorded_event(event.id)
            assert found is not None
            return _repeated(found, event)
        in_force = rules.as_of(occurred_at)
        try:
            municipality = in_force.municipality(case.municipality)
        except ConfigError as exc:
            raise InputError(str(exc)) from None
        # Counted in time order, as the store returns them, however late the event is recorded.
        state.events = sorted([*state.events, CaseEvent(case_id, kind, occurred_at, None)], key=lambda e: e.occurred_at)
        changes = ObligationChanges()
        origin = Origin(f"e{number}", kind, now)  # no reminder of the new period fires in the past
        version = in_force.version(case.municipality)
        renew_periods(municipality, version, case, state, changes, {kind}, occurred_at, origin)
        tx.save_obligations(changes, {})
        # A case paused right now gets its new periods stopped (or moved past the pause) too.
        pause_new_deadlines(tx, rules, changes.opened_as_open(), now)
        if actor is not None:
            closed = ", ".join(f"{i} {s}" for i, s, _at in changes.closed) or "no period closed"
            detail = f"{kind} at {occurred_at.isoformat()}, {form}, held by {held_by}; {closed}"
            tx.record_access([actor.line("record_event", case, detail)], now)
    return EventRecorded(
        event,
        False,
        [(deadline_id, status) for deadline_id, status, _at in changes.closed],
        [(d.id, d.rule_key, d.due_at) for d, _alarms in changes.opened],
    )


def _repeated(earlier: RecordedEvent, event: RecordedEvent) -> EventRecorded:
    if (earlier.case_id, earlier.kind, earlier.occurred_at) != (event.case_id, event.kind, event.occurred_at):
        raise ConflictError(
            f"the key of event {earlier.id} was used for another event ({earlier.kind} at"
            f" {earlier.occurred_at.isoformat()}); use a new key",
            {"key": "used for another event"},
        )
    return EventRecorded(earlier, True)
