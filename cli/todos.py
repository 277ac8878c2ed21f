"""Record applications and work to-dos: `apply`, `todos`, `deadlines`, `complete`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from activation.config import CadenceRule
from activation.lifecycle import DeadlineStatus, is_overdue
from activation.ports import TodoFilter
from cli.common import (
    CaseOpt,
    JsonOpt,
    LimitOpt,
    MunicipalityOpt,
    NowOpt,
    UserError,
    app,
    console,
    emit_json,
    known_assignee,
    known_case,
    known_caseworker,
    known_municipality,
    local_time,
    parse_time,
    plain,
    runtime,
)


@app.command()
def apply(
    municipality: Annotated[str, typer.Argument(help="Municipality code, e.g. karlskrona.")],
    citizen_ref: Annotated[str, typer.Argument(help="The municipality's external citizen reference (never logged).")],
    team: Annotated[str | None, typer.Option(help="Team (default: the municipality's default team).")] = None,
    caseworker: Annotated[str | None, typer.Option(help="Responsible caseworker, if already known.")] = None,
    group: Annotated[
        str | None, typer.Option(help="Target group, e.g. activity_ready (default: the municipality's).")
    ] = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record an application: the case opens with its first to-do at once; recording it twice opens one case."""
    from activation import services

    rt = runtime()
    m = rt.rules.municipality(municipality)
    if caseworker and (team or m.default_team) in m.teams:  # an unknown team is the use case's to refuse
        caseworker = known_caseworker(rt, caseworker, m.code, team or m.default_team)
    tz = m.timezone
    received = parse_time(now, tz)
    opened = services.open_case(
        rt.store, rt.rules, municipality, citizen_ref, received, received, team, caseworker, group=group
    )
    case = opened.case
    if as_json:
        todos = [{"id": x.id, "kind": x.kind, "due_at": x.due_at.isoformat()} for x in opened.todos]
        emit_json(
            {"case_id": case.id, "created": opened.created, "municipality": case.municipality,
             "received_at": received.isoformat(), "todos": todos}
        )  # fmt: skip
        return
    verb = "Opened case" if opened.created else "Already recorded: case"
    console.print(f"{verb} [bold]{case.id}[/] in {case.municipality} (received {local_time(received, tz)}).")
    for x in opened.todos:
        console.print(f"To-do {x.id}: {x.title}, due {local_time(x.due_at, tz)} ({x.assignee}).")


@app.command()
def todos(
    case: CaseOpt = None,
    assignee: Annotated[str | None, typer.Option(help="Only this assignee, e.g. a caseworker or queue:<team>.")] = None,
    municipality: MunicipalityOpt = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open to-dos past their due time.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Include completed to-dos.")] = False,
    limit: LimitOpt = 200,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List caseworker to-dos, soonest due first."""
    from activation.ports import TodoFilter

    at = parse_time(now)
    rt = known_municipality(municipality)
    known_case(rt, case)
    known_assignee(rt, assignee)
    query = TodoFilter(
        case_id=case,
        assignee=assignee,
        municipality=municipality.lower() if municipality else None,
        status=None if all_ else "open",
        overdue_at=at if overdue else None,
        limit=limit,
    )
    with rt.store.transaction() as tx:
        found = tx.list_todos(query)
    if as_json:
        emit_json([{**plain(x), "overdue": x.overdue(at)} for x in found])
        return
    if not found:
        console.print("No to-dos match.")
        return
    table = Table(title=f"To-dos ({len(found)})")
    for col in ("to-do", "case", "what", "assignee", "due", "status", "outcomes"):
        table.add_column(col, overflow="fold")
    for x in found:
        tz = rt.rules.municipality(x.municipality).timezone
        due = local_time(x.due_at, tz)
        if x.status != "open":
            status = x.status
        elif x.paused_since:
            status = "[yellow]paused[/]"
        else:
            status = "[red]overdue[/]" if x.overdue(at) else "open"
        table.add_row(
            x.id,
            x.case_id,
            x.title,
            x.assignee,
            due,
            status if x.status == "open" else f"{x.status}: {x.outcome}",
            ", ".join(x.outcomes),
        )
    console.print(table)


@app.command()
def deadlines(
    case: CaseOpt = None,
    municipality: MunicipalityOpt = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only those past due (and not paused).")] = False,
    obligations: Annotated[
        bool, typer.Option("--obligations", help="Only meeting and offer obligations (passive periods).")
    ] = False,
    limit: LimitOpt = 200,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List open deadlines: to-dos' and the target group's meeting and offer obligations."""
    at = parse_time(now)
    rt = known_municipality(municipality)
    known_case(rt, case)
    with rt.store.reads() as reads:
        found = reads.list_deadlines(
            case, municipality.lower() if municipality else None, at if overdue else None, obligations, limit
        )
    overdue_of = {d.id: is_overdue(DeadlineStatus.OPEN, d.due_at, d.paused_since, at) for d in found}  # open ones only
    label_of = {d.id: _label(rt.rules.municipality(d.municipality).rule(d.rule_key)) for d in found}
    if as_json:
        emit_json([{**plain(d), "overdue": overdue_of[d.id], "label": label_of[d.id]} for d in found])
        return
    if not found:
        console.print("No open deadlines match.")
        return
    table = Table(title=f"Open deadlines ({len(found)})")
    for col in ("deadline", "case", "what", "due", "status"):
        table.add_column(col, overflow="fold")
    for d in found:
        tz = rt.rules.municipality(d.municipality).timezone
        what = label_of[d.id] or f"to-do {d.todo_id} ({d.rule_key})"
        status = "[yellow]paused[/]" if d.paused_since else ("[red]overdue[/]" if overdue_of[d.id] else "open")
        table.add_row(d.id, d.case_id, what, local_time(d.due_at, tz), status)
    console.print(table)


def _label(rule: object) -> str | None:
    """Name an obligation period's rule (a cadence); a to-do's deadline is named by its to-do."""
    return rule.label if isinstance(rule, CadenceRule) else None


@app.command()
def complete(
    todo_id: Annotated[str, typer.Argument(help="The to-do id, e.g. c-7k2m9qxa.0.")],
    outcome: Annotated[str, typer.Argument(help="One of the outcomes the to-do accepts, e.g. held or no_show.")],
    by: Annotated[str, typer.Option(help="Who completes it (caseworker id).")] = "caseworker",
    data: Annotated[
        str | None,
        typer.Option(help="The form the outcome needs, as JSON or @file.json (assessment, plan, follow-up, exit)."),
    ] = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Complete a to-do with an outcome (and its form) and move its case on, as the inbox and the API do."""
    from activation import services

    at = parse_time(now)
    rt = runtime()
    done = services.complete_and_move_on(rt.store, rt.rules, todo_id, outcome, at, by, _read_data(data))
    # The verdict the deadline was closed with (a to-do done while its clock is stopped is in time).
    deadline = done.verdict()
    if as_json:
        emit_json({**plain(done), "deadline": deadline})
        return
    if done.repeated:
        assert done.completed_at is not None
        console.print(
            f"{done.id} ({done.title}) was already completed as [bold]{done.outcome}[/] at"
            f" {local_time(done.completed_at)}; nothing changed (deadline {deadline})."
        )
        return
    with rt.store.transaction() as tx:
        following = [x for x in tx.list_todos(TodoFilter(case_id=done.case_id)) if x.created_at >= at]
    then = "; ".join(f"{x.id} {x.title}, due {local_time(x.due_at)}" for x in following) or "no new to-do"
    console.print(f"Completed {done.id} ({done.title}) as [bold]{done.outcome}[/]; deadline {deadline}. Next: {then}.")


def _read_data(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        raw = Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else text
        value = json.loads(raw)
    except OSError as exc:
        raise UserError(f"cannot read {text[1:]}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"--data is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(value, dict):
        raise UserError('--data must be a JSON object, e.g. \'{"ladder_step": "day_activity"}\'')
    return value
