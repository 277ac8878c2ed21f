"""The `activation` command: set up, record applications, work to-dos, run the flows."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from activation import journey
from activation.adapters.db import ENV_DATABASE_URL, database_url
from activation.config import ENV_CONFIG_DIR, CadenceRule, ConfigError

app = typer.Typer(
    help="Orchestrate the activation process: applications, caseworker to-dos, deadlines, escalations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Check and show the rules per municipality.", no_args_is_help=True)
app.add_typer(config_app, name="config")

user_app = typer.Typer(help="Staff who sign in to the web application and the API.", no_args_is_help=True)
app.add_typer(user_app, name="user")

notifications_app = typer.Typer(
    help="Messages to other systems (webhooks, e-mail): deliveries, dead letters, a send pass.", no_args_is_help=True
)
app.add_typer(notifications_app, name="notifications")

case_app = typer.Typer(help="Look at one case: its journey, deadlines and why each is due.", no_args_is_help=True)
app.add_typer(case_app, name="case")

console = Console()
err = Console(stderr=True)

DEFAULT_TZ = "Europe/Copenhagen"  # DK and SE share CET/CEST; used only for times given without offset

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
CaseOpt = Annotated[str | None, typer.Option("--case", help="Only this case.")]
MunicipalityOpt = Annotated[str | None, typer.Option(help="Only this municipality.")]
LimitOpt = Annotated[int, typer.Option(help="At most this many.")]
CaseIdArg = Annotated[str, typer.Argument(help="The case, e.g. c-7k2m9qxa.")]
NowOpt = Annotated[
    str | None,
    typer.Option("--now", help="Pretend it is this time (ISO 8601, e.g. 2026-11-20T15:00); default: the real clock."),
]


class UserError(Exception):
    """Bad input: shown as one line, exit code 2."""


# -- helpers ----------------------------------------------------------------------------------
def parse_time(text: str | None, tz: str = DEFAULT_TZ) -> datetime:
    """Read an ISO time; without an offset it is local time in tz."""
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T", 1) if " " in text.strip() else text.strip())
    except ValueError:
        raise UserError(
            f"malformed time {text!r}; use ISO 8601 like 2026-11-20T15:00 or 2026-11-20T15:00+01:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def emit_json(value: Any) -> None:
    """Print value as JSON on stdout."""
    sys.stdout.write(json.dumps(_plain(value), indent=2, ensure_ascii=False) + "\n")


def _local(moment: datetime | None, tz: str = DEFAULT_TZ) -> str:
    return "" if moment is None else moment.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M")


def _runtime() -> Any:
    from activation.runtime import get_runtime

    return get_runtime()


def _known_municipality(municipality: str | None) -> Any:
    # A filter on a municipality that does not exist is a typo: say so instead of listing nothing.
    rt = _runtime()
    if municipality:
        rt.rules.municipality(municipality)
    return rt


def _prefect_env() -> None:
    # Prefect must be configured before it is imported: a project-local home, no telemetry on a
    # closed network, and time for a first start that migrates its own SQLite database.
    os.environ.setdefault("PREFECT_HOME", str(Path.cwd() / ".prefect"))
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@app.callback()
def main_options(
    config_dir: Annotated[
        Path | None,
        typer.Option("--config-dir", help=f"Config directory (default ${ENV_CONFIG_DIR} or the bundled config/)."),
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help=f"Database URL (default ${ENV_DATABASE_URL} or sqlite:///activation.db).")
    ] = None,
) -> None:
    """Orchestrate the activation process for citizens on social assistance."""
    # Options become environment variables so that flows and tasks, wherever they run, see them.
    if config_dir:
        os.environ[ENV_CONFIG_DIR] = str(config_dir.resolve())
    if db:
        os.environ[ENV_DATABASE_URL] = db


# -- commands ---------------------------------------------------------------------------------
@app.command()
def init(as_json: JsonOpt = False) -> None:
    """Create or upgrade the database and check the configuration."""
    from activation.adapters.db import current_revision, head_revision, make_engine, migrate
    from activation.config import load

    rules = load()
    engine = make_engine()
    applied = migrate(engine)
    result: dict[str, Any] = {
        "database": _safe_url(database_url()),
        "schema": current_revision(engine),
        "migrated": applied,
        "head": head_revision(),
        "config_dir": str(rules.directory),
        "municipalities": sorted(rules.municipalities),
    }
    engine.dispose()
    if as_json:
        emit_json(result)
        return
    console.print(
        f"[green]Database ready[/] at {result['database']} (schema {result['schema']}{', upgraded' if applied else ''})"
    )
    console.print(f"Config {result['config_dir']}: {', '.join(result['municipalities'])}")


def _safe_url(url: str) -> str:
    # Never print a password from a database URL.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"
    return url


@config_app.command("validate")
def config_validate(as_json: JsonOpt = False) -> None:
    """Validate every national and municipality rule set; exit 1 on any error."""
    from activation.config import config_dir, load

    try:
        rules = load()
    except ConfigError as exc:
        if as_json:
            emit_json({"ok": False, "config_dir": str(config_dir()), "problems": exc.problems})
        else:
            for problem in exc.problems:
                err.print(f"[red]error[/] {problem}", highlight=False, soft_wrap=True)
            err.print(f"{len(exc.problems)} problem(s) in {config_dir()}")
        raise typer.Exit(1) from None
    summary = {code: rules.version(code) for code in sorted(rules.municipalities)}
    if as_json:
        emit_json({"ok": True, "config_dir": str(rules.directory), "municipalities": summary})
        return
    console.print(f"[green]ok[/] {rules.directory}: {len(summary)} municipalities")
    for code, version in summary.items():
        console.print(f"  {code:<12} {version}")


@config_app.command("show")
def config_show(municipality: str, as_json: JsonOpt = False) -> None:
    """Show the deadlines in force for a municipality and where each comes from."""
    from activation.config import load

    rules = load()
    m = rules.municipality(municipality)
    rows: list[dict[str, Any]] = [
        {
            "deadline": key,
            "due": str(rule.due),
            "calendar": rule.calendar,
            "remind_before": [str(d) for d in rule.remind_before],
            "escalate_after": [{"after": str(s.after), "notify": s.notify} for s in rule.escalate_after],
            "source": rule.source,
            "local_choice": rule.local_choice,
        }
        for key, rule in m.deadlines.items()
    ]
    if as_json:
        emit_json({"municipality": m.code, "name": m.name, "version": rules.version(m.code), "deadlines": rows})
        return
    table = Table(title=f"{m.name} ({rules.version(m.code)})")
    for col in ("deadline", "due", "reminders", "escalations", "source"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["deadline"],
            r["due"] + (" *" if r["local_choice"] else ""),
            ", ".join(r["remind_before"]),
            ", ".join(f"{s['after']} -> {s['notify']}" for s in r["escalate_after"]),
            r["source"],
        )
    console.print(table)
    console.print("* local choice: the sources give no number")


@config_app.command("versions")
def config_versions(municipality: str, as_json: JsonOpt = False) -> None:
    """List the versions of a municipality's rules: from when each applies, what it changes, and its policies."""
    from activation.rule_change import changed_rules

    rt = _runtime()
    history = rt.rules.history.get(rt.rules.municipality(municipality).code, ())
    with rt.store.transaction() as tx:
        applied = {c["version"]: c for c in tx.rule_changes(rt.rules.municipality(municipality).code)}
    rows = []
    for n, v in enumerate(history):
        changed = changed_rules(history[n - 1].municipality, v.municipality) if n else []
        rows.append(
            {
                "version": v.version,
                "stamp": v.stamp,
                "effective_from": v.effective_from.isoformat() if v.effective_from else None,
                "changes": changed,
                "policies": {k: v.policy(k) for k in changed},
                "note": v.note,
                "file": str(v.path),
                "applied_at": applied[v.version]["applied_at"].isoformat() if v.version in applied else None,
                "moved": applied[v.version]["moved"] if v.version in applied else None,
            }
        )
    if as_json:
        emit_json(rows)
        return
    table = Table("version", "from", "changes (policy)", "applied to running cases", "note")
    for r in rows:
        changes = ", ".join(f"{k} ({p})" for k, p in r["policies"].items()) or "–"
        done = f"{r['applied_at']} ({r['moved']} moved)" if r["applied_at"] else "–"
        table.add_row(r["version"], r["effective_from"] or "always", changes, done, r["note"] or "")
    console.print(table)


def _print_change(summary: dict[str, Any]) -> None:
    verb = "Moved" if summary["applied"] else "Would move"
    console.print(
        f"{summary['municipality']} {summary['version']} (from {summary['effective_from']}):"
        f" changes {', '.join(f'{k} ({p})' for k, p in summary['policies'].items()) or 'nothing'}"
    )
    console.print(
        f"{verb} {summary['moved']} open deadline(s): {summary['earlier']} earlier, {summary['later']} later"
        + (
            f" (by {summary['hours_min']} to {summary['hours_max']} h, median {summary['hours_median']} h)"
            if summary["moved"]
            else ""
        )
    )
    for what in ("rule", "stage", "team"):
        per = summary[f"moved_per_{what}"]
        if per:
            console.print(f"  per {what}: " + ", ".join(f"{k} {v}" for k, v in sorted(per.items())))
    if summary["fire_at_once_total"]:
        for kind, teams in summary["fire_at_once"].items():
            console.print(f"  {kind} due at once: " + ", ".join(f"{k} {v}" for k, v in sorted(teams.items())))
    else:
        console.print("  no reminder or escalation falls due at once")
    if summary["kept"]:
        console.print(
            "  left as they are (keep / not_started): " + ", ".join(f"{k} {v}" for k, v in summary["kept"].items())
        )
    if summary["paused"]:
        console.print(
            "  stopped by a pause (recomputed when it ends): "
            + ", ".join(f"{k} {v}" for k, v in summary["paused"].items())
        )
    if summary["already_applied"]:
        console.print(f"  already on this version: {summary['already_applied']}")


@config_app.command("diff")
def config_diff(
    municipality: str,
    version: Annotated[str, typer.Argument(help="The proposed version, e.g. karlskrona-2026.2.")],
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Preview a rule version against the live database: what moves, by how much, what fires at once."""
    from activation.rule_change import preview_version

    rt = _runtime()
    summary = preview_version(rt.store, rt.rules, municipality, version, parse_time(now)).summary()
    if as_json:
        emit_json(summary)
        return
    _print_change(summary)
    console.print("Nothing was written. `activation config apply` applies exactly this.")


@config_app.command("apply")
def config_apply(
    municipality: str,
    version: Annotated[str, typer.Argument(help="The version to apply to running cases.")],
    by: Annotated[str, typer.Option(help="Who applies it (recorded).")] = "manager",
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply a rule version to running cases as `config diff` showed: recompute or keep, per its policies."""
    from activation.rule_change import apply_version

    rt = _runtime()
    summary = apply_version(rt.store, rt.rules, municipality, version, parse_time(now), by).summary()
    if as_json:
        emit_json(summary)
        return
    _print_change(summary)


@app.command("journey")
def show_journey(
    mermaid: Annotated[bool, typer.Option("--mermaid", help="Print the Mermaid diagram.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show the citizen journey: stages, to-dos, deadline keys and outcomes."""
    if mermaid:
        sys.stdout.write(journey.mermaid())
        return
    stages: list[dict[str, Any]] = [
        {
            "stage": s.name,
            "todo": s.todo.kind if s.todo else None,
            "role": s.todo.role if s.todo else None,
            "deadline": s.deadline,
            "outcomes": {o: go.to for o, go in s.outcomes.items()},
        }
        for s in journey.JOURNEY
    ]
    if as_json:
        emit_json(stages)
        return
    table = Table(title="Citizen journey")
    for col in ("stage", "to-do (role)", "deadline key", "outcomes -> next stage"):
        table.add_column(col)
    for s in stages:
        table.add_row(
            s["stage"],
            f"{s['todo']} ({s['role']})" if s["todo"] else "",
            s["deadline"] or "",
            ", ".join(f"{o} -> {t}" for o, t in s["outcomes"].items()),
        )
    console.print(table)


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
    """Record an application; recording it twice opens one case."""
    from activation import services

    rt = _runtime()
    tz = rt.rules.municipality(municipality).timezone
    received = parse_time(now, tz)
    result = services.record_application(
        rt.store, rt.rules, municipality, citizen_ref, received, team, caseworker, group=group
    )
    if as_json:
        emit_json({**asdict(result), "received_at": received.isoformat()})
        return
    verb = "Opened case" if result.created else "Already recorded: case"
    console.print(f"{verb} [bold]{result.case_id}[/] in {result.municipality} (received {_local(received, tz)}).")
    console.print(
        "The first-meeting to-do is created by the intake flow: run `activation tick` (or `activation serve`)."
    )


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
    rt = _known_municipality(municipality)
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
        emit_json([{**_plain(x), "overdue": x.overdue(at)} for x in found])
        return
    if not found:
        console.print("No to-dos match.")
        return
    table = Table(title=f"To-dos ({len(found)})")
    for col in ("to-do", "case", "what", "assignee", "due", "status", "outcomes"):
        table.add_column(col, overflow="fold")
    for x in found:
        tz = rt.rules.municipality(x.municipality).timezone
        due = _local(x.due_at, tz)
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
    rt = _known_municipality(municipality)
    with rt.store.transaction() as tx:
        found = tx.list_deadlines(
            case, municipality.lower() if municipality else None, at if overdue else None, obligations, limit
        )
    for d in found:
        d["overdue"] = d["paused_since"] is None and d["due_at"] < at
        rule = rt.rules.municipality(d["municipality"]).rule(d["rule_key"])
        d["label"] = rule.label if isinstance(rule, CadenceRule) else None
    if as_json:
        emit_json(found)
        return
    if not found:
        console.print("No open deadlines match.")
        return
    table = Table(title=f"Open deadlines ({len(found)})")
    for col in ("deadline", "case", "what", "due", "status"):
        table.add_column(col, overflow="fold")
    for d in found:
        tz = rt.rules.municipality(d["municipality"]).timezone
        what = d.get("label") or f"to-do {d['todo_id']} ({d['rule_key']})"
        status = "[yellow]paused[/]" if d["paused_since"] else ("[red]overdue[/]" if d["overdue"] else "open")
        table.add_row(d["id"], d["case_id"], what, _local(d["due_at"], tz), status)
    console.print(table)


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
    """Complete a to-do with an outcome (and its form); its reminders and escalations stop."""
    from activation import services

    at = parse_time(now)
    rt = _runtime()
    done = services.complete_todo(rt.store, todo_id, outcome, at, by, _read_data(data), rt.rules)
    deadline = "met" if done.completed_at and done.completed_at <= done.due_at else "missed"
    if as_json:
        emit_json({**_plain(done), "deadline": deadline})
        return
    console.print(
        f"Completed {done.id} ({done.title}) as [bold]{done.outcome}[/]; deadline {deadline}."
        " The next to-do is created by the next `activation tick`."
    )


@app.command()
def interventions(
    municipality: Annotated[str, typer.Argument(help="Municipality code, e.g. linkoping.")],
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the intervention catalogue: how soon each must start, places and how many are taken."""
    at = parse_time(now)
    rt = _runtime()
    m = rt.rules.municipality(municipality)
    with rt.store.transaction() as tx:
        taken = tx.occupancy(m.code, at.astimezone(ZoneInfo(m.timezone)).date())
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
    from activation import services

    at = parse_time(now)
    rt = _runtime()
    result = services.assign_caseworker(rt.store, rt.rules, case_id, caseworker, at, by)
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
    rt = _runtime()
    result = services.book_meeting(rt.store, rt.rules, todo_id, parse_time(at_), moment, minutes, place)
    if as_json:
        emit_json(result)
        return
    console.print(
        f"Booked {result.todo_id} for {_local(result.starts_at)}; the invitation ({result.letter_id}) goes out."
    )
    if result.after_deadline:
        err.print("[yellow]The meeting is after the to-do's deadline: it will count as missed.[/]")


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

    rt = _runtime()
    todo = services.start_beside(rt.store, rt.rules, case_id, what, parse_time(now))
    if as_json:
        emit_json(todo)
        return
    console.print(f"To-do {todo.id}: {todo.title}, due {_local(todo.due_at)}.{then}")


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
    rt = _runtime()
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
    rt = _runtime()
    result = pauses.end_pause(rt.store, rt.rules, pause_id, parse_time(at_) if at_ else moment, moment, by)
    _print_pause(result, as_json, "Resumed")


def _print_pause(result: Any, as_json: bool, verb: str) -> None:
    if as_json:
        emit_json(
            {"pause": result.pause, "deadlines": [{**_plain(r), "alarms": len(r.alarms)} for r in result.revisions]}
        )
        return
    p = result.pause
    span = f"{_local(p.starts_at)} - {_local(p.ends_at) if p.ends_at else 'until resumed'}"
    console.print(f"{verb}: pause [bold]{p.id}[/] ({p.basis}) on case {p.case_id}, {span}.")
    if not result.revisions:
        console.print("No open deadline was affected.")
    for r in result.revisions:
        after = _local(r.due_after) if r.due_after else "clock stopped"
        console.print(f"  {r.deadline_id}: {_local(r.due_before)} -> {after}  ({r.reason})")


@case_app.command("show")
def case_show(
    case_id: CaseIdArg,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a case: where it is in the journey, its to-dos, open deadlines and why each is due then."""
    at = parse_time(now)
    rt = _runtime()
    with rt.store.transaction() as tx:
        detail = tx.case_detail(case_id)
    if detail is None:
        raise UserError(f"unknown case {case_id!r}")
    if as_json:
        emit_json(detail)
        return
    c = detail["case"]
    tz = (
        rt.rules.municipality(c["municipality"]).timezone
        if c["municipality"] in rt.rules.municipalities
        else DEFAULT_TZ
    )
    console.rule(f"Case {c['id']} ({c['municipality']}, team {c['team']})")
    console.print(
        f"Citizen reference {c['citizen_ref']}; caseworker {c['caseworker'] or 'none (team queue)'}; {c['status']}"
        f"; opened {_local(c['created_at'], tz)}"
    )
    path = " -> ".join(f"[bold reverse]{name}[/]" if name == c["stage"] else name for name in journey.stage_names())
    console.print(f"Journey: {path}")
    console.print("\n[bold]Timeline[/]")
    for step in detail["steps"]:
        state = (
            "applied"
            if step["applied_at"]
            else ("parked: " + (step["last_error"] or "") if step["failures"] >= 3 else "waiting for the next tick")
        )
        when = _local(step["occurred_at"], tz)
        console.print(f"  {when}  {step['from_stage']}: {step['outcome']} ({step['recorded_by']}; {state})")
        if step["data"]:
            record = "; ".join(f"{k}: {v}" for k, v in step["data"].items() if v not in (None, [], {}))
            console.print(f"    form: {record}", highlight=False)
    for p in detail["pauses"]:
        end = f"until {_local(p['ends_at'], tz)}" if p["ends_at"] else "until resumed"
        console.print(f"  {_local(p['starts_at'], tz)}  pause {p['id']} ({p['basis']}) {end}")
    for change in detail["caseworker_changes"]:
        when = _local(change["changed_at"], tz)
        console.print(f"  {when}  caseworker {change['previous'] or 'team queue'} -> {change['caseworker']}")
    for n in detail["notifications"]:
        console.print(f"  {_local(n['created_at'], tz)}  {n['kind']} {n['step']} to {n['recipient']} ({n['rule_key']})")
    console.print("\n[bold]Deadlines[/]")
    for d in detail["deadlines"]:
        if d["status"] != "open":
            status = d["status"]
        elif d["paused_since"]:
            status = f"[yellow]clock stopped since {_local(d['paused_since'], tz)}[/]"
        else:
            status = "[red]overdue[/]" if d["due_at"] < at else "open"
        console.print(f"  {d['id']} {d['rule_key']}: due {_local(d['due_at'], tz)} - {status}")
        console.print(f"    why: {d['explanation']}", highlight=False)
        for h in d["history"]:
            after = _local(h["due_after"], tz) if h["due_after"] else "clock stopped"
            console.print(
                f"    revision {h['revision']} ({_local(h['changed_at'], tz)}): -> {after}; {h['reason']}",
                highlight=False,
            )
        waiting = [a for a in d["alarms"] if a["state"] in ("pending", "suspended")]
        for a in waiting:
            fires = _local(a["fires_at"], tz)
            console.print(
                f"    {a['kind']} {a['step']} ({a['offset_label']}) to {a['recipient']} at {fires}, {a['state']}"
            )
    console.print("\n[bold]To-dos[/]")
    for x in detail["todos"]:
        done = f"{x['status']}: {x['outcome']} {_local(x['completed_at'], tz)}" if x["status"] != "open" else "open"
        console.print(f"  {x['id']} {x['title']} -> {x['assignee']}, due {_local(x['due_at'], tz)}; {done}")


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


@app.command()
def tick(
    now: NowOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would happen, write nothing.")] = False,
    batch_size: Annotated[int, typer.Option(help="Cases or alarms per batch.")] = 500,
    retry_parked: Annotated[
        bool, typer.Option("--retry-parked", help="First give steps parked after repeated failures another try.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run pending flow work (intake, next steps, letters) and the deadline sweep once."""
    at = parse_time(now)
    if dry_run:
        _tick_dry_run(at, as_json)
        return
    rt = _runtime()  # migrate and validate before starting Prefect, for a clear error
    if retry_parked:
        with rt.store.transaction() as tx:
            err.print(f"{tx.unpark_steps()} parked step(s) will be tried again.")
    _prefect_env()
    from flows.tick import run_tick

    if not as_json:
        err.print("Running the flows (the first run starts Prefect's embedded server; ~30 s the very first time)...")
    result = run_tick(at, batch_size)
    if as_json:
        emit_json(result)
        return
    _print_tick(result)


def _print_tick(result: dict[str, dict[str, int]]) -> None:
    i, a, s = result["intake"], result["advance"], result["sweep"]
    console.print(
        f"intake: {i['moved']} application(s) -> {i['todos']} to-do(s), {i['alarms']} reminder/escalation row(s),"
        f" {i.get('letters_rendered', 0)} letter(s)"
    )
    console.print(f"advance: {a['moved']} case(s) moved on -> {a['todos']} to-do(s)")
    failed = i.get("failed", 0) + a.get("failed", 0)
    if failed:
        err.print(
            f"[red]{failed} step(s) could not be applied[/] (see the flow logs); they are retried on the next"
            " tick and parked after 3 failures: `activation tick --dry-run` lists parked steps"
        )
    console.print(
        f"sweep: {s['reminders']} reminder(s), {s['escalations']} escalation(s) fired"
        + (f", {s['skipped_reminders']} stale reminder(s) skipped" if s["skipped_reminders"] else "")
    )


def _tick_dry_run(at: datetime, as_json: bool) -> None:
    rt = _runtime()
    with rt.store.transaction() as tx:
        steps = tx.pending_steps(None, 10_000)
        alarms = tx.due_alarms(at, 10_000)
        parked = tx.parked_steps(1_000)
    # A dry run writes nothing: the transaction above only reads, and is rolled back anyway.
    would: dict[str, Any] = {
        "now": at.isoformat(),
        "steps": [{"case_id": s.case_id, "from_stage": s.from_stage, "outcome": s.outcome} for s in steps],
        "parked": [
            {"case_id": s.case_id, "from_stage": s.from_stage, "outcome": s.outcome, "error": s.last_error}
            for s in parked
        ],
        "alarms": [
            {
                "id": a.id,
                "case_id": a.case_id,
                "kind": a.kind
                if not (a.kind == "reminder" and a.deadline_due_at <= at)
                else "reminder (skipped: deadline passed)",
                "notify": a.recipient,
                "rule": a.rule_key,
                "due_at": a.deadline_due_at.isoformat(),
            }
            for a in alarms
        ],
    }
    if as_json:
        emit_json(would)
        return
    console.print(f"Dry run at {_local(at)}: nothing is written.")
    console.print(f"{len(steps)} case step(s) would be applied:")
    for s in steps[:50]:
        target, todo, _ = journey.next_step(s.from_stage, s.outcome)
        console.print(
            f"  {s.case_id}: {s.from_stage} --{s.outcome}--> {target.name}" + (f" (to-do {todo.kind})" if todo else "")
        )
    if parked:
        console.print(f"[red]{len(parked)} step(s) parked after repeated failures[/] (fix the cause, then re-run):")
        for p in would["parked"][:50]:
            console.print(f"  {p['case_id']}: {p['from_stage']} --{p['outcome']}--> {p['error']}")
    console.print(f"{len(alarms)} alarm(s) would fire:")
    for a in would["alarms"][:50]:
        console.print(f"  {a['case_id']}: {a['kind']} to {a['notify']} ({a['rule']}, due {a['due_at']})")


@app.command()
def serve(
    interval: Annotated[int, typer.Option(help="Seconds between intake/advance runs.")] = 60,
    sweep_interval: Annotated[int, typer.Option(help="Seconds between deadline sweeps.")] = 300,
    server: Annotated[
        bool, typer.Option(help="Start a local Prefect server (with its UI) when PREFECT_API_URL is unset.")
    ] = True,
    port: Annotated[int, typer.Option(help="Port of the local Prefect server and UI.")] = 4200,
    web: Annotated[bool, typer.Option(help="Serve the web inbox, console and API.")] = True,
    flows: Annotated[bool, typer.Option(help="Serve the flows (off: the web application alone).")] = True,
    host: Annotated[str, typer.Option(help="Address the web application listens on.")] = "127.0.0.1",
    web_port: Annotated[int, typer.Option(help="Port of the web application.")] = 8000,
) -> None:
    """Serve the web inbox and run the flows as Prefect deployments on a schedule until stopped (Ctrl-C)."""
    _runtime()
    if not (web or flows):
        raise UserError("nothing to serve: leave --web or --flows on")
    if web:
        from web.app import WebSettings
        from web.serve import start_in_background, web_server

        settings = WebSettings.from_env(prefect_ui=f"http://127.0.0.1:{port}", sweep_interval_seconds=sweep_interval)
        web_app = web_server(host, web_port, settings)
        if not flows:
            err.print(f"Inbox: http://{host}:{web_port}/  (Ctrl-C stops)")
            web_app.run()
            return
        start_in_background(web_app, err.print)
        err.print(f"Inbox: http://{host}:{web_port}/  (sign in with a user from `activation user add`)")
    _prefect_env()
    from flows.serve import serve_all

    serve_all(interval=interval, sweep_interval=sweep_interval, start_server=server, port=port, say=err.print)


@app.command()
def deploy(
    pool: Annotated[
        str, typer.Option(help="The process work pool the workers poll (created if missing).")
    ] = "activation",
    interval: Annotated[int, typer.Option(help="Seconds between intake/stage runs.", min=1)] = 60,
    sweep_interval: Annotated[int, typer.Option(help="Seconds between deadline sweeps.", min=1)] = 300,
    stage_interval: Annotated[
        int | None, typer.Option(help="Seconds between runs of each stage flow (default: --interval).", min=1)
    ] = None,
    flow_limit: Annotated[
        int, typer.Option(help="At most this many runs of one intake/stage flow at once.", min=1)
    ] = 2,
    sweep_limit: Annotated[int, typer.Option(help="At most this many deadline sweeps at once.", min=1)] = 1,
    pool_limit: Annotated[
        int | None, typer.Option(help="At most this many runs in the whole pool (default: leave as is).", min=1)
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="Prefect API, e.g. http://127.0.0.1:4200/api (default $PREFECT_API_URL)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create the work pool and the deployments (intake, each stage, the sweep) that `prefect worker`s run."""
    _runtime()  # migrate and validate the rules before the flows are deployed against this database
    _prefect_env()
    if api_url:
        os.environ["PREFECT_API_URL"] = api_url
    if not os.environ.get("PREFECT_API_URL"):
        raise UserError("no Prefect server: set PREFECT_API_URL or --api-url (deploy/production.sh starts one)")
    from flows.deploy import deploy_all

    try:
        result = deploy_all(
            pool, interval, sweep_interval, flow_limit, sweep_limit, pool_limit, err.print, stage_interval
        )
    except RuntimeError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        emit_json(result)
        return
    console.print(
        f"{len(result['deployments'])} deployment(s) in work pool [bold]{pool}[/] ({result['work_pool_state']});"
        f" start workers with: prefect worker start --pool {pool}"
    )


@app.command()
def simulate(
    municipality: Annotated[str, typer.Argument(help="Municipality whose rules to run, e.g. boras.")],
    weeks: Annotated[int, typer.Option(help="Weeks to simulate (52: a year).", min=1, max=260)] = 52,
    arrivals_per_week: Annotated[int, typer.Option(help="Applications a week.", min=0, max=10_000)] = 20,
    caseworkers: Annotated[int, typer.Option(help="Caseworkers; cases go to them in turn.", min=1, max=1_000)] = 4,
    meetings_per_week: Annotated[
        int, typer.Option(help="To-dos (meetings) one caseworker takes a week (Borås: 4 a day, 4 days).", min=0)
    ] = 16,
    days_per_week: Annotated[int, typer.Option(help="Days a week caseworkers meet citizens.", min=1, max=5)] = 4,
    no_show_rate: Annotated[
        float, typer.Option(help="Share of first meetings the citizen misses.", min=0, max=1)
    ] = 0.2,
    version: Annotated[
        str | None, typer.Option(help="Rule version to run (default: the first, the municipality file).")
    ] = None,
    compare: Annotated[str | None, typer.Option(help="A second rule version to run side by side.")] = None,
    start: Annotated[str, typer.Option(help="First day (a Monday is used: the week it falls in).")] = "2026-09-07",
    seed: Annotated[int, typer.Option(help="Random seed (the same seed replays the same run).")] = 1,
    plot: Annotated[Path | None, typer.Option(help="Write an SVG of met share per deadline here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """What-if: run a synthetic cohort through one or two versions of the rules and compare them."""
    from datetime import date

    from activation import config
    from activation.adapters.simulation import run_on_scratch
    from activation.simulation import Capacity, Cohort, headline, side_by_side

    rules = config.load(config.config_dir())
    code = rules.municipality(municipality).code
    try:
        first_day = date.fromisoformat(start)
    except ValueError:
        raise UserError(f"malformed start day {start!r}; use YYYY-MM-DD") from None
    chosen = version or rules.history[code][0].version
    versions = [chosen, *([compare] if compare else [])]
    for v in versions:
        rules.find_version(code, v)  # an unknown version is refused before anything runs
    cohort = Cohort(arrivals_per_week=arrivals_per_week, no_show_rate=no_show_rate, seed=seed)
    capacity = Capacity(caseworkers=caseworkers, meetings_per_week=meetings_per_week, days_per_week=days_per_week)
    results = []
    for v in versions:

        def progress(week: int, total: int, v: str = v) -> None:
            if week == total or week % 4 == 0 or week == 1:
                err.print(f"{v}: week {week}/{total}", highlight=False)

        results.append(run_on_scratch(rules, code, v, first_day, weeks, cohort, capacity, progress))
    a, b = results[0], (results[1] if len(results) > 1 else None)
    rows = side_by_side(a, b)
    if plot:
        plot.write_text(_simulation_svg(rows, a.version, b.version if b else None), encoding="utf-8")
    if as_json:
        emit_json({"runs": [r.as_dict() for r in results], "side_by_side": rows, "plot": str(plot) if plot else None})
        return
    names = [r.version for r in results]

    def share(x: dict[str, Any] | None) -> str:
        return (
            "–"
            if not x or x["met_share"] is None
            else f"{x['met_share'] * 100:.0f} % ({x['met']}/{x['met'] + x['missed']})"
        )

    title = f"{a.municipality}: {weeks} weeks from {a.start:%d %b %Y}, {arrivals_per_week} applications a week"
    short = [n.split("+")[0] for n in names]
    table = Table("deadline", *(f"met share {n}" for n in short), *(f"escalations {n}" for n in short), title=title)
    for r in rows:
        cells = [share(r.get("a")), *([share(r.get("b"))] if b else [])]
        cells += [str(r["a_escalations"]), *([str(r["b_escalations"])] if b else [])]
        table.add_row(r["deadline"], *cells)
    console.print(table)
    figures = Table("figure", *short)
    heads = [headline(r) for r in results]
    for key in heads[0]:
        figures.add_row(key.replace("_", " "), *("–" if h[key] is None else str(h[key]) for h in heads))
    console.print(figures)
    if plot:
        console.print(f"Plot of met share per deadline: {plot.resolve()}")


def _simulation_svg(rows: list[dict[str, Any]], a: str, b: str | None) -> str:
    """Draw met share per deadline for each version, side by side, as one SVG document."""
    import re

    from markupsafe import escape

    from web import charts

    drawn = []
    for name, stamp in (("a", a), ("b", b)):
        if stamp is None:
            continue
        bars = [(r["deadline"], r[name]["met_share"]) for r in rows]
        title = f"Met share per deadline, {stamp.split('+')[0]}"
        drawn.append(
            (title, str(charts.bar_chart(bars, title=title, chart_id=f"sim-{name}", maximum=1.0, fmt=charts.percent)))
        )
    height = max(int(re.search(r'height="(\d+)"', svg).group(1)) for _, svg in drawn) + 30  # type: ignore[union-attr]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{660 * len(drawn)}" height="{height}" '
             'font-family="system-ui, sans-serif" font-size="14">']  # fmt: skip
    for n, (title, svg) in enumerate(drawn):
        parts.append(
            f'<text x="{660 * n + 4}" y="18">{escape(title)}</text><g transform="translate({660 * n},30)">{svg}</g>'
        )
    parts.append("</svg>\n")
    return "".join(parts)


@app.command()
def demo(
    municipality: Annotated[str, typer.Option(help="Municipality to simulate.")] = "karlskrona",
    applications: Annotated[int, typer.Option(help="Applications over the period.")] = 60,
    weeks: Annotated[int, typer.Option(help="Weeks to simulate (13: a quarter).", min=1, max=104)] = 13,
    seed: Annotated[int, typer.Option(help="Random seed (the same seed replays the same period).")] = 7,
    db: Annotated[
        str | None, typer.Option("--demo-db", help="Database for the demo (default: a fresh ./activation-demo.db).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Simulate a municipality's quarter on the embedded default and summarise it per stage."""
    if db is None:
        path = Path.cwd() / "activation-demo.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        db = f"sqlite:///{path}"
    os.environ[ENV_DATABASE_URL] = db
    _runtime().rules.municipality(municipality)
    _prefect_env()
    from flows.demo import run_demo

    summary = run_demo(municipality, applications, seed, weeks, say=None if as_json else err.print)
    summary["sign_in"] = _demo_users(municipality)
    summary["serve"] = f"activation --db {db} serve"
    if as_json:
        emit_json(summary)
        return
    from flows.demo import print_summary

    print_summary(summary, console)
    table = Table("role", "username", "password", title="Sign in to the web application")
    for row in summary["sign_in"]:
        table.add_row(row["role"], row["username"], row["password"])
    console.print(table)
    console.print(f"Serve the demo: [bold]{summary['serve']}[/], then open http://127.0.0.1:8000/")


def _demo_users(municipality: str) -> list[dict[str, str]]:
    """Create one user per role (and the demo's other caseworkers) with fresh passwords."""
    import secrets

    from activation.access import User
    from activation.adapters.accounts import Accounts
    from flows.demo import CASEWORKERS

    rt = _runtime()
    m = rt.rules.municipality(municipality)
    team = m.default_team
    staff = [User(cw, f"Caseworker {cw[-2:]}", "caseworker", m.code, team) for cw in CASEWORKERS]
    staff += [
        User("tl-01", "Team lead", "team_lead", m.code, team),
        User("mgr-01", "Manager", "manager", m.code),
        User("ops-01", "Operations", "operations"),
    ]
    accounts = Accounts(rt.engine)
    shown = []
    for user in staff:
        password = secrets.token_urlsafe(9)
        accounts.add_user(user, password, datetime.now(UTC))
        if user.username == CASEWORKERS[0] or user.role != "caseworker":
            shown.append({"role": user.role, "username": user.username, "password": password})
    return shown


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Sign-in name; for caseworkers also the id on cases, e.g. cw-01.")],
    role: Annotated[str, typer.Option(help="caseworker, team_lead, manager or operations.")],
    municipality: Annotated[str | None, typer.Option(help="Municipality code (not for operations).")] = None,
    team: Annotated[str | None, typer.Option(help="Team code (caseworkers and team leads).")] = None,
    name: Annotated[str | None, typer.Option(help="Name shown on the pages.")] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Password (10+ characters); default: read from ACTIVATION_NEW_PASSWORD, else generated."),
    ] = None,
    sso_only: Annotated[bool, typer.Option(help="No password: the user signs in only through the SSO proxy.")] = False,
    token: Annotated[bool, typer.Option(help="Also issue an API bearer token and print it once.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a user who signs in to the web application (and, with --token, the API)."""
    import secrets

    from activation.access import User, check_new_user
    from activation.adapters.accounts import Accounts

    rt = _runtime()
    user = User(username.strip().lower(), name or username, role, municipality, team)
    known = {code: tuple(rt.rules.municipality(code).teams) for code in rt.rules.municipalities}
    check_new_user(user, known)
    generated = False
    if not sso_only and password is None:
        password = os.environ.get("ACTIVATION_NEW_PASSWORD")
        if not password:
            password, generated = secrets.token_urlsafe(12), True
    accounts = Accounts(rt.engine)
    accounts.add_user(user, None if sso_only else password, datetime.now(UTC))
    api_token = accounts.issue_api_token(user.username) if token else None
    result = {
        "username": user.username,
        "role": user.role,
        "municipality": user.municipality,
        "team": user.team,
        "password": password if generated else None,
        "api_token": api_token,
    }
    if as_json:
        emit_json(result)
        return
    console.print(f"Created {user.role} [bold]{user.username}[/]" + (f" in {municipality}" if municipality else ""))
    if generated:
        console.print(f"Password (shown once): {password}")
    if api_token:
        console.print(f"API token (shown once): {api_token}")


@user_app.command("password")
def user_password(
    username: Annotated[str, typer.Argument(help="The user.")],
    password: Annotated[str | None, typer.Option(help="New password; default: generated and printed once.")] = None,
) -> None:
    """Set a new password (and unlock the account)."""
    import secrets

    from activation.adapters.accounts import Accounts

    new = password or secrets.token_urlsafe(12)
    Accounts(_runtime().engine).set_password(username, new)
    console.print(f"Password of {username} changed." + ("" if password else f" New password (shown once): {new}"))


@user_app.command("token")
def user_token(username: Annotated[str, typer.Argument(help="The user an integration acts as.")]) -> None:
    """Issue a new API bearer token for a user (the previous one stops working)."""
    from activation.adapters.accounts import Accounts

    console.print(Accounts(_runtime().engine).issue_api_token(username), highlight=False)


@user_app.command("list")
def user_list(as_json: JsonOpt = False) -> None:
    """List active users and their roles."""
    from activation.adapters.accounts import Accounts

    users = Accounts(_runtime().engine).users()
    if as_json:
        emit_json([_plain(u) for u in users])
        return
    table = Table("username", "name", "role", "municipality", "team")
    for u in users:
        table.add_row(u.username, u.display_name, u.role, u.municipality or "", u.team or "")
    console.print(table)


@user_app.command("deactivate")
def user_deactivate(username: Annotated[str, typer.Argument(help="The user.")]) -> None:
    """Stop a user signing in; their sessions end at once."""
    from activation.adapters.accounts import Accounts

    Accounts(_runtime().engine).deactivate(username)
    console.print(f"{username} can no longer sign in.")


# -- notifications to other systems -----------------------------------------------------------------
ReceiverOpt = Annotated[str | None, typer.Option(help="Only this receiver (its name in the config).")]


def _outbox(municipality: str | None) -> Any:
    from activation.adapters.outbox import Outbox

    return Outbox(_known_municipality(municipality).engine)


@notifications_app.command("list")
def notifications_list(
    state: Annotated[str | None, typer.Option(help="Only this state: pending, delivered or dead.")] = None,
    municipality: MunicipalityOpt = None,
    receiver: ReceiverOpt = None,
    limit: LimitOpt = 100,
    as_json: JsonOpt = False,
) -> None:
    """Show deliveries per receiver and state, then the deliveries (soonest next attempt first)."""
    from activation.adapters.outbox import STATES

    if state and state not in STATES:
        raise UserError(f"unknown state {state!r}; use {', '.join(STATES)}")
    code = municipality.lower() if municipality else None
    outbox = _outbox(code)
    rows = [
        {
            "event_id": d.event_id,
            "kind": d.kind,
            "municipality": d.municipality,
            "receiver": d.receiver,
            "channel": d.channel,
            "state": d.state,
            "attempts": d.attempts,
            "next_attempt_at": d.next_attempt_at.isoformat() if d.state == "pending" else None,
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
            "last_error": d.last_error,
        }
        for d in outbox.deliveries(state, code, receiver, limit)
    ]
    summary = {"counts": outbox.counts(code, receiver), "deliveries": rows}
    if as_json:
        emit_json(summary)
        return
    counts = summary["counts"]
    console.print(", ".join(f"{n} {name}" for name, n in counts.items()))
    if not rows:
        return
    table = Table("event", "municipality", "receiver", "state", "attempts", "next attempt", "last error")
    for r in rows:
        next_at = _local(datetime.fromisoformat(r["next_attempt_at"])) if r["next_attempt_at"] else ""
        table.add_row(
            r["event_id"], r["municipality"], r["receiver"], r["state"], str(r["attempts"]), next_at, r["last_error"]
        )
    console.print(table)
    if counts["dead"]:
        console.print("Dead letters are sent again after `activation notifications retry`.")


@notifications_app.command("retry")
def notifications_retry(
    municipality: MunicipalityOpt = None,
    receiver: ReceiverOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put dead letters back to pending with a fresh set of attempts; the next deliver run sends them."""
    code = municipality.lower() if municipality else None
    count = _outbox(code).retry_dead(parse_time(now), code, receiver)
    if as_json:
        emit_json({"retried": count, "municipality": code, "receiver": receiver})
        return
    console.print(f"{count} dead letter(s) will be sent again by the next deliver run (or `notifications send`).")


@notifications_app.command("send")
def notifications_send(
    now: NowOpt = None,
    max_messages: Annotated[int, typer.Option("--max", help="Send at most this many in this pass.", min=1)] = 2000,
    batch_size: Annotated[int, typer.Option(help="Deliveries claimed per batch.", min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Run one deliver pass in this process: fan new events out, send due deliveries, print the counts."""
    rt = _runtime()
    _prefect_env()
    from activation.adapters.outbox import Outbox
    from tasks.notify import deliver_pass

    result = deliver_pass(Outbox(rt.engine), rt.rules, parse_time(now), max_messages, batch_size)
    if as_json:
        emit_json(result)
        return
    console.print(
        f"{result['events']} new event(s) -> {result['deliveries']} delivery(ies); sent {result['claimed']}:"
        f" {result['delivered']} delivered, {result['retried']} to retry, {result['dead']} dead"
    )


def main() -> None:
    """Run the CLI; bad input gives one line and a non-zero exit, never a traceback."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from activation.calendar import CalendarError
    from activation.journey import JourneyError
    from activation.services import InputError

    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except (UserError, InputError, JourneyError, CalendarError) as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(f"[red]error:[/] {problem}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except OperationalError as exc:
        err.print(
            f"[red]error:[/] cannot use the database at {_safe_url(database_url())}: {str(exc.orig).splitlines()[0]}",
            highlight=False,
        )
        sys.exit(3)
    except SQLAlchemyError as exc:
        err.print(f"[red]error:[/] database error: {type(exc).__name__}: {str(exc).splitlines()[0]}", highlight=False)
        sys.exit(3)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
