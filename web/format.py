"""How times, durations and labels read on the pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

TIMEZONES = {"dk": "Europe/Copenhagen", "se": "Europe/Stockholm"}
DEFAULT_TZ = ZoneInfo("Europe/Copenhagen")  # Copenhagen and Stockholm share their offsets


def when(value: datetime | None, tz: str | None = None) -> str:
    """Format a moment as local time, e.g. 'Mon 23 Nov 2026 16:30'."""
    if value is None:
        return "–"
    local = value.astimezone(ZoneInfo(tz) if tz else DEFAULT_TZ)
    return local.strftime("%a %d %b %Y %H:%M")


def day(value: datetime | None) -> str:
    """Format a moment as a local date."""
    return "–" if value is None else value.astimezone(DEFAULT_TZ).strftime("%d %b %Y")


def span(delta: timedelta) -> str:
    """Say how long a span is, roughly: '3 d 4 h', '5 h', '12 min'."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h"
    return f"{mins} min"


def due_in(due: datetime, now: datetime) -> str:
    """Say when something is due relative to now: 'in 5 h' or 'overdue 2 d'."""
    return f"in {span(due - now)}" if due >= now else f"overdue {span(now - due)}"


def label(value: str | None) -> str:
    """Turn a code into words: 'first_meeting' -> 'First meeting'."""
    if not value:
        return ""
    words = value.replace("_", " ").replace("-", " ")
    return words[:1].upper() + words[1:]


def percent(value: float | None) -> str:
    """Format a share as a whole percent."""
    return "–" if value is None else f"{value * 100:.0f} %"


FILTERS = {"due_in": due_in, "when": when, "day": day, "span": span, "label": label, "percent": percent}
