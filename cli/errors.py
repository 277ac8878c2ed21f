"""How the CLI answers a mistake: one line on stderr, and an exit code that says what kind it was."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape

from cli.common import err

OK = 0
PROBLEMS_FOUND = 1  # `config validate` found problems in the rules (and Python's own code for a bug)
MISTAKE = 2  # a mistake the user can fix: a usage error, unknown name, malformed time, wrong outcome
DATABASE = 3  # the database cannot be reached or refuses
INTERRUPTED = 130  # Ctrl-C, as a shell counts it


def is_usage_error(exc: BaseException) -> bool:
    """Tell whether exc is click's ClickException (a usage error, mostly), or typer's copy of it."""
    # Typer 0.25+ bundles its own copy of click (typer._click), whose classes do not derive from
    # click's: match both by name, as typer matches its NoArgsIsHelpError, rather than import a
    # private module that older and newer typer releases lack.
    return any(
        cls.__name__ == "ClickException" and cls.__module__.split(".")[0] in ("click", "typer")
        for cls in type(exc).__mro__
    )


def say(message: str) -> None:
    """Print one error line on stderr, whatever the message holds."""
    err.print(f"[red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def usage_line(exc: Any) -> str:
    """Return a usage error as one line, pointing at the command's --help."""
    text = " ".join(str(exc.format_message()).split())  # click may break a suggestion onto a new line
    if text[1:2].islower():
        text = text[:1].lower() + text[1:]  # "No such option" -> "no such option", like the other errors
    text = text.removesuffix(".")
    command = getattr(getattr(exc, "ctx", None), "command_path", None)
    return f"{text} (try: {command} --help)" if command else text


def answer(exc: Exception) -> int:
    """Say what went wrong in one line and return the exit code; re-raise what is a bug."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from activation.adapters.db import database_url
    from activation.calendar import CalendarError
    from activation.config import ConfigError
    from activation.errors import InputError
    from activation.journey import JourneyError
    from cli.common import UserError, safe_url

    if isinstance(exc, typer.Exit):
        return int(exc.exit_code)
    if isinstance(exc, typer.Abort):
        err.print("aborted")
        return INTERRUPTED
    if is_usage_error(exc):
        if type(exc).__name__ == "NoArgsIsHelpError":
            # A group run without a command: its help (typer with rich prints it as it builds it).
            if str(exc.format_message()).strip():  # type: ignore[attr-defined]
                err.print(escape(exc.format_message()), highlight=False)  # type: ignore[attr-defined]
            return MISTAKE
        say(usage_line(exc))
        return MISTAKE
    if isinstance(exc, UserError | InputError | JourneyError | CalendarError):
        say(str(exc))
        return MISTAKE
    if isinstance(exc, ConfigError):
        for problem in exc.problems:
            say(problem)
        return MISTAKE
    if isinstance(exc, OperationalError):
        first = str(exc.orig).splitlines()[0] if str(exc.orig) else type(exc.orig).__name__
        say(f"cannot use the database at {safe_url(database_url())}: {first}")
        return DATABASE
    if isinstance(exc, SQLAlchemyError):
        say(f"database error: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return DATABASE
    if isinstance(exc, OSError) and exc.filename is not None:
        say(f"cannot use {exc.filename}: {exc.strerror}")
        return MISTAKE
    raise exc
