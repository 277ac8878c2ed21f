"""Work on one case: assign, book, event, health-info, coordinated-plan, pause, resume, case show; interventions."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from activation import journey
from activation.lifecycle import is_overdue
from cli.common import (
    DEFAULT_TZ,
    CaseIdArg,
    JsonOpt,
    NowOpt,
    UserError,
    app,
    case_app,
    caseworker_for_case,
    console,
    emit_json,
    err,
    local_time,
    parse_time,
    plain,
    runtime,
)


@app.command()
def interventions(
    municipality: Annotated[str, typer.Argument(help="Municipality code, e.g. linkoping.")],
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the intervention catalogue: how soon each must start, places and how many are taken."""
    at = parse_time(now)
    rt = runtime()
    m = rt.rules.municipality(municipality)
    with rt.store.reads() as reads:
        taken = reads.occupancy(m.code, at.astimezone(ZoneInfo(m.timezone)).date())
    rows = [
        {
            "intervention": key,
            "name": item.name,
            "start_within": str(item.due),
            "capacity": item.capacity,
            "occupied": taken.get(key, 0),
            "free": None if item.capacity is None else item.capacity - taken.get(key, 0),
            "source": item.source,
        }
        for key, item in m.interventions.items()
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"Intervention catalogue of {m.name}")
    for col in ("intervention", "name", "start within", "places", "taken", "free"):
        table.add_column(col)
    for r in rows:
        free = "" if r["free"] is None else (f"[red]{r['free']}[/]" if r["free"] <= 0 else str(r["free"]))
        table.add_row(
            r["intervention"], r["name"], r["start_within"], str(r["capacity"] or "-"), str(r["occupied"]), free
        )
    console.print(table)


@app.command()
def assign(
    case_id: CaseIdArg,
    caseworker: Annotated[str, typer.Argument(help="The caseworker who becomes responsible.")],
    by: Annotated[str, typer.Option(help="Who decides it (team lead id).")] = "team_lead",
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a caseworker responsible for a case; their to-dos follow, frequent changes alert the team lead."""
    from activation import assigning
    from activation.adapters.accounts import Accounts

    at = parse_time(now)
    rt = runtime()
    caseworker = caseworker_for_case(rt, case_id, caseworker)
    # The same use case as the team view's bulk assign and POST /api/v1/todos/assign (continuity rule).
    staff = Accounts(rt.engine).user(caseworker)
    [result] = assigning.assign_cases(rt.store, rt.rules, [case_id], staff, caseworker, at, by)
    if as_json:
        emit_json(result)
        return
    console.print(
        f"Case {result.case_id}: {result.previous or 'team queue'} -> [bold]{result.caseworker}[/];"
        f" {result.todos_moved} open to-do(s) moved."
    )
    if result.alerted:
        err.print(
            f"[yellow]{result.changes_in_window} caseworker changes within the window:"
            " the team lead has been alerted (continuity matters for the citizen).[/]"
        )


@app.command()
def book(
    todo_id: Annotated[str, typer.Argument(help="The meeting to-do, e.g. c-7k2m9qxa.0.")],
    at_: Annotated[str, typer.Option("--at", help="When the meeting starts (ISO 8601, local time).")],
    minutes: Annotated[int, typer.Option(help="How long it lasts.")] = 60,
    place: Annotated[str, typer.Option(help="Where (default: the municipality).")] = "",
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Book a meeting's time: the citizen gets an invitation with an .ics calendar file."""
    from activation import services

    moment = parse_time(now)
    rt = runtime()
    result = services.book_meeting(rt.store, rt.rules, todo_id, parse_time(at_), moment, minutes, place)
    if as_json:
        emit_json(result)
        return
    console.print(
        f"Booked {result.todo_id} for {local_time(result.starts_at)}; the invitation ({result.letter_id}) goes out."
    )
    if result.after_deadline:
        err.print("[yellow]The meeting is after the to-do's deadline: it will count as missed.[/]")


@app.command("cancel-meeting")
def cancel_meeting(
    todo_id: Annotated[str, typer.Argument(help="The meeting to-do, e.g. c-7k2m9qxa.0.")],
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Call off a meeting's booked time: the citizen gets a cancellation whose .ics removes it from the calendar."""
    from activation import services

    rt = runtime()
    result = services.cancel_meeting(rt.store, todo_id, parse_time(now))
    if as_json:
        emit_json(result)
        return
    console.print(
        f"Cancelled the meeting of {result.todo_id} at {local_time(result.starts_at)}; "
        f"the cancellation ({result.letter_id}) goes out. The to-do stays open: book a new time."
    )


@app.command()
def event(
    case_id: CaseIdArg,
    kind: Annotated[
        str,
        typer.Option(help="meeting (a job conversation or follow-up meeting; job_conversation also works) or offer."),
    ],
    at_: Annotated[str | None, typer.Option("--at", help="When it happened (ISO 8601; default: now).")] = None,
    note: Annotated[str | None, typer.Option(help="A short note for colleagues (no health details).")] = None,
    key: Annotated[
        str | None, typer.Option(help="An id of your choosing; the same key again records nothing new.")
    ] = None,
    by: Annotated[
        str | None, typer.Option(help="Who records it: an active user (default: recorded as 'caseworker').")
    ] = None,
    contact_form: Annotated[
        str | None, typer.Option(help="How it was held: in_person (default), phone, video or digital.")
    ] = None,
    held_by: Annotated[
        str | None, typer.Option(help="Who held it: a user of the municipality who works cases (default: --by).")
    ] = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a job conversation or an offer held outside the journey's stages; the obligations count it."""
    from activation import case_events
    from activation.adapters.accounts import Accounts
    from activation.errors import NotFoundError
    from activation.model import Actor

    moment = parse_time(now)
    rt = runtime()
    if by is not None and Accounts(rt.engine).user(by.strip().lower()) is None:
        # The audit line names who recorded it: a name nobody has would record nobody.
        raise NotFoundError(f"unknown person {by!r}: no active user has that name", {"by": "unknown"})
    by = by.strip().lower() if by is not None else "caseworker"
    holder_name = (held_by or "").strip().lower() or None
    holder = Accounts(rt.engine).user(holder_name) if holder_name and holder_name != by else None
    when = parse_time(at_) if at_ else moment
    result = case_events.record_event(
        rt.store, rt.rules, case_id, kind, when, moment, by, note, key, Actor(by, "system", "cli"),
        form=contact_form, held_by=holder_name, holder=holder,
    )  # its audit line is written with it  # fmt: skip
    if as_json:
        emit_json(result)
        return
    e = result.event
    if result.repeated:
        console.print(
            f"{e.kind.capitalize()} at {local_time(e.occurred_at)} was already recorded ({e.id}); nothing changed."
        )
        return
    console.print(
        f"Recorded {e.kind} at {local_time(e.occurred_at)} on case {e.case_id} ({e.id}),"
        f" {(e.contact_form or 'in_person').replace('_', ' ')}, held by {e.held_by or e.recorded_by}."
    )
    for deadline_id, status in result.closed:
        console.print(f"  {deadline_id}: {status}")
    for deadline_id, _rule, due in result.opened:
        console.print(f"  {deadline_id}: next due {local_time(due)}")


@app.command("health-info")
def health_info(case_id: CaseIdArg, now: NowOpt = None, as_json: JsonOpt = False) -> None:
    """Start fetching health information: a consent to-do first, then the certificate request."""
    _start_beside(
        case_id, "health_information", now, as_json, " When the consent is given, the certificate request follows."
    )


@app.command("coordinated-plan")
def coordinated_plan(case_id: CaseIdArg, now: NowOpt = None, as_json: JsonOpt = False) -> None:
    """Start a coordinated plan (DK rehabilitation plan before the rehab team, LAB § 30 a; SE SIP)."""
    _start_beside(case_id, "coordinated_plan", now, as_json)


def _start_beside(case_id: str, what: str, now: str | None, as_json: bool, then: str = "") -> None:
    from activation import services

    rt = runtime()
    todo = services.start_beside(rt.store, rt.rules, case_id, what, parse_time(now))
    if as_json:
        emit_json(todo)
        return
    console.print(f"To-do {todo.id}: {todo.title}, due {local_time(todo.due_at)}.{then}")


@app.command()
def pause(
    case_id: CaseIdArg,
    basis: Annotated[
        str, typer.Argument(help="Legal ground: sickness, exemption, treatment_stay, maternity_leave, ...")
    ],
    from_: Annotated[str | None, typer.Option("--from", help="When the ground began (default: now).")] = None,
    until: Annotated[
        str | None, typer.Option(help="When it ends, if known; else the clock stops until `resume`.")
    ] = None,
    note: Annotated[str | None, typer.Option(help="A short note for colleagues (no health details).")] = None,
    by: Annotated[str, typer.Option(help="Who records it (caseworker id).")] = "caseworker",
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pause a case's deadlines on a legal ground (sickness, exemption, treatment stay, ...)."""
    from activation import pauses

    at = parse_time(now)
    rt = runtime()
    result = pauses.record_pause(
        rt.store,
        rt.rules,
        case_id,
        basis,
        parse_time(from_) if from_ else at,
        parse_time(until) if until else None,
        at,
        by,
        note,
    )
    _print_pause(result, as_json, "Paused")


@app.command()
def resume(
    pause_id: Annotated[str, typer.Argument(help="The open-ended pause, e.g. p-4m8kq2zd.")],
    at_: Annotated[str | None, typer.Option("--at", help="When the ground ended (default: now).")] = None,
    by: Annotated[str, typer.Option(help="Who records it (caseworker id).")] = "caseworker",
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """End an open-ended pause: stopped deadlines resume with the time left or restart by their rule."""
    from activation import pauses

    moment = parse_time(now)
    rt = runtime()
    result = pauses.end_pause(rt.store, rt.rules, pause_id, parse_time(at_) if at_ else moment, moment, by)
    _print_pause(result, as_json, "Resumed")


def _print_pause(result: Any, as_json: bool, verb: str) -> None:
    if as_json:
        emit_json(
            {"pause": result.pause, "deadlines": [{**plain(r), "alarms": len(r.alarms)} for r in result.revisions]}
        )
        return
    p = result.pause
    span = f"{local_time(p.starts_at)} - {local_time(p.ends_at) if p.ends_at else 'until resumed'}"
    console.print(f"{verb}: pause [bold]{p.id}[/] ({p.basis}) on case {p.case_id}, {span}.")
    if not result.revisions:
        console.print("No open deadline was affected.")
    for r in result.revisions:
        after = local_time(r.due_after) if r.due_after else "clock stopped"
        console.print(f"  {r.deadline_id}: {local_time(r.due_before)} -> {after}  ({r.reason})")


@case_app.command("show")
def case_show(
    case_id: CaseIdArg,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a case: where it is in the journey, its to-dos, open deadlines and why each is due then."""
    at = parse_time(now)
    rt = runtime()
    with rt.store.reads() as reads:
        detail = reads.case_detail(case_id)
    if detail is None:
        raise UserError(f"unknown case {case_id!r}")
    if as_json:
        emit_json(detail)
        return
    c = detail.case
    tz = rt.rules.municipality(c.municipality).timezone if c.municipality in rt.rules.municipalities else DEFAULT_TZ
    console.rule(f"Case {c.id} ({c.municipality}, team {c.team})")
    console.print(
        f"Citizen reference {c.citizen_ref}; caseworker {c.caseworker or 'none (team queue)'}; {c.status}"
        f"; opened {local_time(c.created_at, tz)}"
    )
    path = " -> ".join(f"[bold reverse]{name}[/]" if name == c.stage else name for name in journey.stage_names())
    console.print(f"Journey: {path}")
    console.print("\n[bold]Timeline[/]")
    for step in detail.steps:
        state = (
            "applied"
            if step.applied_at
            else ("parked: " + (step.last_error or "") if step.failures >= 3 else "waiting for the next tick")
        )
        when = local_time(step.occurred_at, tz)
        console.print(f"  {when}  {step.from_stage}: {step.outcome} ({step.recorded_by}; {state})")
        if step.data:
            record = "; ".join(f"{k}: {v}" for k, v in step.data.items() if v not in (None, [], {}))
            console.print(f"    form: {record}", highlight=False)
    for p in detail.pauses:
        end = f"until {local_time(p.ends_at, tz)}" if p.ends_at else "until resumed"
        console.print(f"  {local_time(p.starts_at, tz)}  pause {p.id} ({p.basis}) {end}")
    for change in detail.caseworker_changes:
        when = local_time(change.changed_at, tz)
        console.print(f"  {when}  caseworker {change.previous or 'team queue'} -> {change.caseworker}")
    for n in detail.notifications:
        console.print(f"  {local_time(n.created_at, tz)}  {n.kind} {n.step} to {n.recipient} ({n.rule_key})")
    console.print("\n[bold]Deadlines[/]")
    for d in detail.deadlines:
        if d.status != "open":
            status = d.status
        elif d.paused_since:
            status = f"[yellow]clock stopped since {local_time(d.paused_since, tz)}[/]"
        else:
            status = "[red]overdue[/]" if is_overdue(d.status, d.due_at, d.paused_since, at) else "open"
        console.print(f"  {d.id} {d.rule_key}: due {local_time(d.due_at, tz)} - {status}")
        console.print(f"    why: {d.explanation}", highlight=False)
        for h in d.history:
            after = local_time(h.due_after, tz) if h.due_after else "clock stopped"
            console.print(
                f"    revision {h.revision} ({local_time(h.changed_at, tz)}): -> {after}; {h.reason}",
                highlight=False,
            )
        waiting = [a for a in d.alarms if a.state in ("pending", "suspended")]
        for a in waiting:
            fires = local_time(a.fires_at, tz)
            console.print(f"    {a.kind} {a.step} ({a.offset_label}) to {a.recipient} at {fires}, {a.state}")
    console.print("\n[bold]To-dos[/]")
    for x in detail.todos:
        done = f"{x.status}: {x.outcome} {local_time(x.completed_at, tz)}" if x.status != "open" else "open"
        console.print(f"  {x.id} {x.title} -> {x.assignee}, due {local_time(x.due_at, tz)}; {done}")
