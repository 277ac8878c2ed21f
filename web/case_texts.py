"""What the case actions' forms need beside the routes: reading times, and the domain's refusals in words.

The domain words its refusals in English with a short code per field (activation/booking.py,
pauses.py, case_events.py, case_actions.py); the forms show each beside its field in the reader's
language. A refusal not listed here is shown as the domain words it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from activation import journey
from activation.errors import InputError
from web.glossary import term
from web.i18n import _

MINUTES = (30, 45, 60, 90, 120)  # the meeting lengths offered; the domain takes 15-240
NOTE_MAX = 500


class BadTime(ValueError):
    """A time typed into a form that cannot be read."""


def moment(text: Any, tz: str) -> datetime | None:
    """Read a time from a form: the browser's date and time (local, in the municipality) or ISO with an offset."""
    value = str(text or "").strip()
    if not value:
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        raise BadTime(value) from None
    return found if found.tzinfo else found.replace(tzinfo=ZoneInfo(tz))


def local_input(value: datetime | None, tz: str) -> str:
    """Write a moment as the browser's date-and-time field shows it, in the municipality's time."""
    return "" if value is None else value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def withdrawal_stages() -> str:
    """Name the stages in which a case can be withdrawn, in the reader's language."""
    return ", ".join(term("stage", s.name) for s in journey.JOURNEY if "withdrawn" in s.outcomes)


# (field, what the domain says of it) -> the words beside the field.
SAYS: list[tuple[str, re.Pattern[str], Callable[[], str]]] = [
    ("starts_at", re.compile(r"^in the past$"), lambda: _("Choose a time still to come.")),
    ("starts_at", re.compile(r"^the office is closed then"),
     lambda: _("The office is closed then: choose a time inside the opening hours, on one day.")),
    ("starts_at", re.compile(r"^in the future$"),
     lambda: _("A pause starts now or earlier: record it once the ground has begun.")),
    ("ends_at", re.compile(r"^before the start$"), lambda: _("The end must come after the start.")),
    ("ends_at", re.compile(r"^in the future$"),
     lambda: _("A pause ends now or earlier: record the end once the ground has ended.")),
    ("ends_at", re.compile(r"^pause \S+ started at"), lambda: _("The end must come after the pause began.")),
    ("minutes", re.compile(r""), lambda: _("A meeting lasts from 15 to 240 minutes.")),
    ("place", re.compile(r""), lambda: _("A place of 2 to 200 characters, on one line.")),
    ("basis", re.compile(r""), lambda: _("Choose one of the legal grounds.")),
    ("kind", re.compile(r""), lambda: _("Choose what happened.")),
    ("occurred_at", re.compile(r"^in the future$"),
     lambda: _("Record it once it has happened: a time now or earlier.")),
    ("occurred_at", re.compile(r"^before the obligations started$"),
     lambda: _("That is before the case's obligations began; it would not count.")),
    ("contact_form", re.compile(r""), lambda: _("Choose how it was held.")),
    ("held_by", re.compile(r""), lambda: _("Choose who held it: a colleague in the municipality.")),
    ("note", re.compile(r""), lambda: _("At most %(n)d characters.", n=NOTE_MAX)),
    ("pause_id", re.compile(r"^none open$"), lambda: _("The case has no pause without an end.")),
    ("case_id", re.compile(r"^no obligations run$"),
     lambda: _("No meeting or offer obligations run for the case in this stage.")),
    ("case_id", re.compile(r"^cannot be withdrawn now$"),
     lambda: _("The case cannot be withdrawn in this stage; it can in: %(stages)s.", stages=withdrawal_stages())),
    ("case_id", re.compile(r"^already "), lambda: _("The case is already closed.")),
    ("", re.compile(r"out of range"), lambda: _("A time between 2000 and five years from now, please.")),
    ("", re.compile(r"needs a time zone"), lambda: _("A date and time, please.")),
]  # fmt: skip
# Refusals without a field: the box above the form says them.
MESSAGES: list[tuple[re.Pattern[str], Callable[[], str]]] = [
    (re.compile(r"is already paused from"),
     lambda: _("The case is already paused then: end or shorten that pause first.")),
    (re.compile(r"^pause \S+ already ends at"), lambda: _("That pause has already ended.")),
    (re.compile(r"is already under way"), lambda: _("That is already under way for this case.")),
    (re.compile(r"is not an open meeting"), lambda: _("This to-do is no longer an open meeting.")),
    (re.compile(r"^case \S+ is closed$"), lambda: _("The case is closed.")),
]  # fmt: skip


def _said(name: str, problem: str) -> str | None:
    return next((say() for field, pattern, say in SAYS if field in (name, "") and pattern.search(problem)), None)


def field_errors(exc: InputError) -> dict[str, str]:
    """Return the words beside each field a refusal is about."""
    return {name: _said(name, problem) or problem for name, problem in exc.fields.items()}


def message(exc: InputError) -> str:
    """Return a refusal as one sentence in the reader's language."""
    for name, problem in exc.fields.items():
        said = _said(name, problem)
        if said is not None:
            return said
    for pattern, say in MESSAGES:
        if pattern.search(str(exc)):
            return say()
    return str(exc)
