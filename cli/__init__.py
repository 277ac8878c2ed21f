"""The `activation` command: set up, record applications, work to-dos, run the flows."""

from __future__ import annotations

import sys

import typer

from activation.adapters.db import database_url
from activation.config import ConfigError
from cli.common import UserError, app, err, safe_url

# Importing a module registers its commands; `activation --help` lists them in this order.
# isort: off
from cli import config, todos, cases, running, simulation, users, notifications  # noqa: F401
# isort: on

__all__ = ["app", "main"]


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
            f"[red]error:[/] cannot use the database at {safe_url(database_url())}: {str(exc.orig).splitlines()[0]}",
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
