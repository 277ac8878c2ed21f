"""The `activation` command: set up, record applications, work to-dos, run the flows."""

from __future__ import annotations

import sys

from cli.common import app
from cli.errors import INTERRUPTED, answer

# Importing a module registers its commands; `activation --help` lists them in this order.
# isort: off
from cli import config, todos, cases, coverage, running, simulation, users, notifications, work_duty, availability  # noqa: F401
# isort: on

__all__ = ["app", "main"]


def main() -> None:
    """Run the CLI; every mistake gives one line and a non-zero exit, never a traceback."""
    try:
        code = app(standalone_mode=False)
    except KeyboardInterrupt:
        code = INTERRUPTED
    except Exception as exc:
        code = answer(exc)  # re-raises a bug, whose traceback is then worth reading
    if isinstance(code, int) and code:
        sys.exit(code)
