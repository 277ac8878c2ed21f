"""What every command shares: the Typer app and its groups, the common options, time and JSON output."""

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

from activation.adapters.db import ENV_DATABASE_URL
from activation.config import ENV_CONFIG_DIR

app = typer.Typer(
    help="Orchestrate the activation process: applications, caseworker to-dos, deadlines, escalations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# The groups are added here, in the order `activation --help` lists them; their modules fill them.
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


def plain(value: Any) -> Any:
    """Turn dataclasses, tuples and times into what JSON can hold."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def emit_json(value: Any) -> None:
    """Print value as JSON on stdout."""
    sys.stdout.write(json.dumps(plain(value), indent=2, ensure_ascii=False) + "\n")


def local_time(moment: datetime | None, tz: str = DEFAULT_TZ) -> str:
    """Show a moment as a local time in tz, e.g. Fri 20 Nov 2026 15:00."""
    return "" if moment is None else moment.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M")


def runtime() -> Any:
    """Return the store (schema migrated) and the validated rules for this process."""
    from activation.runtime import get_runtime

    return get_runtime()


def known_municipality(municipality: str | None) -> Any:
    """Return the runtime once a municipality filter is known to exist."""
    # A filter on a municipality that does not exist is a typo: say so instead of listing nothing.
    rt = runtime()
    if municipality:
        rt.rules.municipality(municipality)
    return rt


# A filter on a case or an assignee that does not exist is a typo too: refuse it, never "no match".
def known_case(rt: Any, case_id: str | None) -> None:
    """Refuse a case id the database does not hold."""
    from activation.errors import NotFoundError

    if case_id is None:
        return
    with rt.store.transaction() as tx:
        found = tx.cases([case_id])
    if case_id not in found:
        raise NotFoundError(f"unknown case {case_id!r}", {"case_id": "unknown"})


def known_assignee(rt: Any, assignee: str | None) -> None:
    """Refuse an assignee that is no user, no team's or municipality's inbox and holds no to-do."""
    from activation.adapters.accounts import Accounts
    from activation.errors import NotFoundError
    from activation.model import team_queue
    from activation.ports import TodoFilter

    if assignee is None:
        return
    places = {f"manager:{code}" for code in rt.rules.municipalities}
    for code in rt.rules.municipalities:
        teams = rt.rules.municipality(code).teams
        places |= {team_queue(team) for team in teams} | {f"team_lead:{team}" for team in teams}
    if assignee in places or Accounts(rt.engine).user(assignee) is not None:
        return
    with rt.store.transaction() as tx:
        held = tx.list_todos(TodoFilter(assignee=assignee, status=None, limit=1))
    if not held:  # a name from before (a departed caseworker's done to-dos) is still a fair filter
        raise NotFoundError(
            f"unknown assignee {assignee!r}: no user, team queue or to-do has that name", {"assignee": "unknown"}
        )


def known_caseworker(rt: Any, name: str, municipality: str, team: str) -> str:
    """Return the username of an active caseworker of the team; refuse anyone else."""
    from activation.access import check_caseworker
    from activation.adapters.accounts import Accounts
    from activation.errors import NotFoundError

    accounts = Accounts(rt.engine)
    username = name.strip().lower()
    staff = accounts.user(username)
    if staff is None and not accounts.users():
        # A bare install has no accounts yet: say how to add one, not only that the name is unknown.
        raise NotFoundError(
            f"unknown caseworker {name!r}: this database has no users yet; add one with `activation user add"
            f" {username} --role caseworker --municipality {municipality} --team {team}`",
            {"caseworker": "unknown"},
        )
    return check_caseworker(name, staff, municipality, team).username


def caseworker_for_case(rt: Any, case_id: str, name: str) -> str:
    """Return the username of an active caseworker of the case's team; refuse an unknown case or anyone else."""
    from activation.errors import NotFoundError

    with rt.store.transaction() as tx:
        case = tx.cases([case_id]).get(case_id)
    if case is None:
        raise NotFoundError(f"unknown case {case_id!r}", {"case_id": "unknown"})
    return known_caseworker(rt, name, case.municipality, case.team)


def prefect_env() -> None:
    """Configure Prefect for this process."""
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


def safe_url(url: str) -> str:
    """Hide the password in a database URL."""
    # Never print a password from a database URL.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"
    return url
