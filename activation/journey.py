"""The citizen's journey, on one screen.

Each stage names the to-do it gives a caseworker, who gets it, the deadline key that times it
(durations live in config/, per municipality) and, for each outcome the caseworker can record,
where the case goes next. A transition may override the to-do and deadline of the stage it
enters: a citizen who does not show up for the first meeting gets a *rebooking* to-do with its
own deadline, while the case stays in the first-meeting stage. What an outcome's record does
beyond being stored (pick the next deadline from the catalogue, start a placement, change the
target group, stay out of the letter) is said here too: the use cases read it, never a stage's,
outcome's or record's name.

The Mermaid diagram in README.md is generated from this file (`activation journey --mermaid`);
tests/test_journey.py fails when they differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("caseworker", "team_lead", "manager", "operations")
# What an outcome can record for the count-in-window and max-gap obligations (config: groups.*.cadences).
EVENTS = ("meeting", "offer")


@dataclass(frozen=True)
class Todo:
    """What a stage asks someone to do."""

    kind: str
    title: str
    role: str = "caseworker"
    form: str | None = None  # letter or form rendered from forms/ when the to-do is created
    meeting: bool = False  # a meeting with the citizen: it can be booked, with an invitation and .ics
    rebooking: bool = False  # a new try after the citizen did not show: the invitation says so
    scheduled: bool = False  # held near its due date (the next follow-up, the wrap-up), not as soon as possible


@dataclass(frozen=True)
class Also:
    """A to-do an outcome creates beside the journey's own, which does not move the case when done."""

    todo: Todo
    deadline: str
    counted_from: str | None = None  # a date field of the outcome's form (e.g. the placement's ends_on)
    outcomes: tuple[str, ...] = ("held", "not_held")


@dataclass(frozen=True)
class Go:
    """Where an outcome leads: a stage, optionally with another to-do and deadline key."""

    to: str
    todo: Todo | None = None
    deadline: str | None = None
    records: tuple[str, ...] = ()  # events for the obligations: a meeting held, an offer started
    record: str | None = None  # what the caseworker must fill in (activation/records.py)
    also: tuple[Also, ...] = ()
    letter: str | None = None  # a letter to the citizen rendered from the record (forms/)
    letter_omits: tuple[str, ...] = ()  # record fields the letter leaves out: internal choices
    # A record field naming an intervention of the catalogue: its `due` times the next to-do instead
    # of the stage's deadline (treatment must start within 14 days, SEL § 101).
    catalogue_deadline: str | None = None
    starts_placement: bool = False  # the record is a placement that starts: it takes a place, its length is checked
    changes_group: bool = False  # the record may name a new target group (LAB § 96 stk. 4: its obligations start)
    start_event: str | None = None  # what the next deadline says it counts from (default "<stage>: <outcome>")


@dataclass(frozen=True)
class Stage:
    """One stage of the journey."""

    name: str
    todo: Todo | None
    deadline: str | None
    outcomes: dict[str, Go] = field(default_factory=dict)
    automatic: bool = False  # moved on by a flow, not by a caseworker's outcome
    obligations: bool = True  # the group's meeting and offer obligations run while the case is here

    @property
    def terminal(self) -> bool:
        """Tell whether the journey ends here."""
        return not self.outcomes


FIRST_MEETING = Todo("first_meeting", "Hold the first meeting", form="meeting_invitation", meeting=True)
REBOOK_FIRST_MEETING = Todo(
    "rebook_first_meeting",
    "Rebook the first meeting (citizen did not show)",
    form="meeting_invitation",
    meeting=True,
    rebooking=True,
)

# 003: company placements often end without a wrap-up with the company; plan it when the placement starts.
WRAP_UP = Also(
    Todo("placement_wrap_up", "Hold the wrap-up meeting with the employer or provider", scheduled=True),
    "placement_wrap_up",
    counted_from="ends_on",
)

# 000: the citizen's consent is needed before health information is fetched; 003: waiting for medical
# certificates drags cases out, so the request has its own deadline and escalation.
HEALTH_CONSENT = Also(
    Todo("health_consent", "Record the citizen's consent to fetch health information"),
    "health_consent",
    outcomes=("given", "refused"),
)
HEALTH_CERTIFICATE = Also(
    Todo("health_certificate", "Request the medical certificate and file it when it arrives"),
    "health_certificate",
    outcomes=("received", "cancelled"),
)
# DK LAB § 30 a: a rehabilitation plan before the rehabilitation team meeting; SE: a coordinated
# individual plan (SIP) when municipality and Region are both involved (004 L3267-3274).
COORDINATED_PLAN = Also(
    Todo("coordinated_plan", "Write the coordinated plan (DK rehabilitation plan, LAB § 30 a; SE SIP)"),
    "coordinated_plan",
    outcomes=("done", "cancelled"),
)
# To-dos beside the journey that lead to another when done with an outcome.
FOLLOWS: dict[tuple[str, str], Also] = {("health_consent", "given"): HEALTH_CERTIFICATE}
# To-dos beside the journey a caseworker starts on a case (`activation health-info`, `coordinated-plan`).
STARTERS: dict[str, Also] = {"health_information": HEALTH_CONSENT, "coordinated_plan": COORDINATED_PLAN}

JOURNEY: tuple[Stage, ...] = (
    Stage(
        "application",
        None,
        None,
        {"received": Go("first_meeting", start_event="application received")},
        automatic=True,
        obligations=False,
    ),
    Stage(
        "first_meeting",
        FIRST_MEETING,
        "first_meeting",
        {
            "held": Go("assessment", records=("meeting",)),
            "no_show": Go("first_meeting", REBOOK_FIRST_MEETING, "first_meeting_rebooking"),
            "withdrawn": Go("closed"),
        },
    ),
    Stage(
        "assessment",
        Todo("assessment", "Complete the holistic assessment"),
        "assessment",
        {
            # The target group is the jobcentre's internal choice: the citizen's letter leaves it out.
            "completed": Go(
                "plan", record="assessment", letter="assessment_letter", letter_omits=("group",), changes_group=True
            ),
            "withdrawn": Go("closed"),
        },
    ),
    Stage(
        "plan",
        Todo("plan", "Write and sign the individual plan with the citizen"),
        "plan",
        {
            # The placement planned picks the start deadline; it is internal until the placement starts.
            "signed": Go(
                "placement",
                record="plan",
                letter="plan_letter",
                letter_omits=("intervention",),
                catalogue_deadline="intervention",
            ),
            "withdrawn": Go("closed"),
        },
    ),
    Stage(
        "placement",
        Todo("placement_start", "Start the placement"),
        "placement_start",
        {
            "started": Go(
                "follow_up",
                records=("offer",),
                record="placement",
                also=(WRAP_UP,),
                letter="placement_agreement",
                starts_placement=True,
            ),
            "not_started": Go("plan"),
            "withdrawn": Go("closed"),
        },
    ),
    Stage(
        "follow_up",
        Todo("follow_up", "Hold the follow-up meeting", meeting=True, scheduled=True),
        "follow_up",
        {
            "continue": Go("follow_up", records=("meeting",), record="follow_up", letter="follow_up_note"),
            "change_plan": Go("plan", records=("meeting",), record="follow_up", letter="follow_up_note"),
            "ready_to_exit": Go("exit", records=("meeting",), record="follow_up", letter="follow_up_note"),
        },
    ),
    Stage(
        "exit",
        Todo("exit_plan", "Agree the exit plan"),
        "exit_plan",
        {"exited": Go("after_exit_check", record="exit", letter="exit_summary")},
    ),
    Stage(
        "after_exit_check",
        Todo("after_exit_check", "Check on the citizen after exit", scheduled=True),
        "after_exit_check",
        {"still_self_supporting": Go("closed"), "re_entered": Go("assessment")},
        obligations=False,
    ),
    Stage("closed", None, None, obligations=False),
)


class JourneyError(ValueError):
    """An outcome or stage the journey does not know."""


def stage(name: str) -> Stage:
    """Return the stage called name."""
    for s in JOURNEY:
        if s.name == name:
            return s
    raise JourneyError(f"unknown stage {name!r}; stages are: {', '.join(s.name for s in JOURNEY)}")


def stage_names() -> tuple[str, ...]:
    """Return every stage name in journey order."""
    return tuple(s.name for s in JOURNEY)


def transition(from_stage: str, outcome: str) -> Go:
    """Return where an outcome recorded in a stage leads."""
    current = stage(from_stage)
    go = current.outcomes.get(outcome)
    if go is None:
        allowed = ", ".join(current.outcomes) or "none (the journey ends here)"
        raise JourneyError(f"stage {from_stage!r} does not accept outcome {outcome!r}; it accepts: {allowed}")
    return go


def next_step(from_stage: str, outcome: str) -> tuple[Stage, Todo | None, str | None]:
    """Return the stage an outcome leads to, with the to-do and deadline key it creates."""
    go = transition(from_stage, outcome)
    target = stage(go.to)
    return target, go.todo or target.todo, go.deadline or target.deadline


def deadline_keys() -> tuple[str, ...]:
    """Return every deadline key the journey uses, in journey order."""
    keys: list[str] = []
    for s in JOURNEY:
        extra = [a.deadline for go in s.outcomes.values() for a in go.also]
        for key in [s.deadline, *(go.deadline for go in s.outcomes.values()), *extra]:
            if key and key not in keys:
                keys.append(key)
    keys += [a.deadline for a in (*STARTERS.values(), *FOLLOWS.values()) if a.deadline not in keys]
    return tuple(keys)


def meeting_kinds() -> frozenset[str]:
    """Return the to-do kinds that are meetings with the citizen (they can be booked)."""
    return frozenset(t.kind for t in todos() if t.meeting)


def scheduled_kinds() -> frozenset[str]:
    """Return the to-do kinds held near their due date (a follow-up), not as soon as possible."""
    return frozenset(t.kind for t in todos() if t.scheduled)


def todos() -> tuple[Todo, ...]:
    """Return every to-do kind the journey can create."""
    found: dict[str, Todo] = {}
    for s in JOURNEY:
        extra = [a.todo for go in s.outcomes.values() for a in go.also]
        for todo in [s.todo, *(go.todo for go in s.outcomes.values()), *extra]:
            if todo:
                found.setdefault(todo.kind, todo)
    return tuple(found.values())


def mermaid() -> str:
    """Render the journey as a Mermaid state diagram."""
    lines = ["stateDiagram-v2", "    [*] --> application"]
    chain = f"{HEALTH_CONSENT.todo.kind} -> given -> {HEALTH_CERTIFICATE.todo.kind}"
    lines.append(f"    note right of assessment: beside the journey, {chain}")
    for s in JOURNEY:
        if s.todo:
            lines.append(f"    {s.name}: {s.name}<br/>to-do {s.todo.kind} ({s.todo.role})<br/>deadline {s.deadline}")
        for outcome, go in s.outcomes.items():
            extra = f" / {go.todo.kind}, {go.deadline}" if go.todo else ""
            records = f" (records {', '.join(go.records)})" if go.records else ""
            form = f" [form {go.record}]" if go.record else ""
            also = "".join(f" + {a.todo.kind} ({a.deadline})" for a in go.also)
            letter = f" + letter {go.letter}" if go.letter else ""
            lines.append(f"    {s.name} --> {go.to}: {outcome}{extra}{records}{form}{also}{letter}")
        if s.terminal:
            lines.append(f"    {s.name} --> [*]")
    return "\n".join(lines) + "\n"
