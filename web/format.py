"""How times, durations, numbers and labels read on the pages, in the request's language (Babel)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_timedelta
from babel.numbers import format_decimal, format_percent

from activation.durations import Duration, DurationError, Unit
from web.i18n import _, locale, ngettext

TIMEZONES = {"dk": "Europe/Copenhagen", "se": "Europe/Stockholm"}
DEFAULT_TZ = ZoneInfo("Europe/Copenhagen")  # Copenhagen and Stockholm share their offsets


def when(value: datetime | None, tz: str | None = None) -> str:
    """Format a moment as local time: 'Mon, 23 Nov 2026 16:30', 'man. 23. nov. 2026 16.30'."""
    if value is None:
        return "–"
    zone = ZoneInfo(tz) if tz else DEFAULT_TZ
    here = locale()
    date_part = format_skeleton("yMMMEd", value, tzinfo=zone, locale=here)
    return f"{date_part} {format_skeleton('Hm', value, tzinfo=zone, locale=here)}"


def day(value: datetime | None) -> str:
    """Format a moment as a local date."""
    return "–" if value is None else format_skeleton("yMMMd", value, tzinfo=DEFAULT_TZ, locale=locale())


def on(value: date | str | None) -> str:
    """Format a calendar date (a date or its ISO text, as records keep it) in the locale: '1 Dec 2026'."""
    if not value:
        return "–"
    try:
        found = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return format_skeleton("yMMMd", found, locale=locale())


def span(delta: timedelta) -> str:
    """Say how long a span is, roughly, in one unit: '3 days', '5 hr', '12 min'."""
    return format_timedelta(abs(delta), format="short", locale=locale())


def due_in(due: datetime, now: datetime) -> str:
    """Say when something is due relative to now: 'in 5 hr', 'om 5 timer'; or 'overdue 2 days'."""
    if due >= now:
        return format_timedelta(due - now, add_direction=True, format="short", locale=locale())
    return _("overdue %(span)s", span=span(now - due))


def duration(text: str | None) -> str:
    """Say a configured duration ('3 working days', '48 hours') in the request's language."""
    if not text:
        return "–"
    try:
        d = Duration.parse(text)
    except DurationError:
        return text
    n = d.amount
    units = {
        Unit.HOURS: lambda: ngettext("%(num)d hour", "%(num)d hours", n),
        Unit.WORKING_HOURS: lambda: ngettext("%(num)d working hour", "%(num)d working hours", n),
        Unit.WORKING_DAYS: lambda: ngettext("%(num)d working day", "%(num)d working days", n),
        Unit.DAYS: lambda: ngettext("%(num)d day", "%(num)d days", n),
        Unit.WEEKS: lambda: ngettext("%(num)d week", "%(num)d weeks", n),
        Unit.MONTHS: lambda: ngettext("%(num)d month", "%(num)d months", n),
    }
    return units[d.unit]()


def label(value: str | None) -> str:
    """Turn a code into words: 'first_meeting' -> 'First meeting' (for codes the glossary does not know)."""
    if not value:
        return ""
    words = value.replace("_", " ").replace("-", " ")
    return words[:1].upper() + words[1:]


def percent(value: float | None) -> str:
    """Format a share as a whole percent: '50 %'."""
    return "–" if value is None else format_percent(value, "#,##0 %", locale=locale())


def number(value: float | int | None) -> str:
    """Format a number with the locale's separators: '12.345' (da), '12 345' (sv)."""
    return "–" if value is None else format_decimal(value, locale=locale())


FILTERS = {
    "due_in": due_in,
    "when": when,
    "day": day,
    "on": on,
    "span": span,
    "duration": duration,
    "label": label,
    "percent": percent,
    "number": number,
}
