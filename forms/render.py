"""Render a form in the municipality's language after validating its context."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import ValidationError

from activation.letters import LetterError
from forms.schemas import CALENDAR_FORMS, SCHEMAS

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("da", "sv", "en")

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


class FormError(LetterError):
    """A form that cannot be rendered; `fields` maps each bad field to its problem."""

    def __init__(self, form: str, fields: dict[str, str]):
        self.form = form
        self.fields = fields
        super().__init__(f"{form}: " + "; ".join(f"{k}: {v}" for k, v in fields.items()))


def available_forms() -> list[str]:
    """List the forms that have a schema."""
    return sorted(SCHEMAS)


def _local(value: Any, tz: str) -> Any:
    return value.astimezone(ZoneInfo(tz)) if hasattr(value, "astimezone") else value


def render(form: str, language: str, context: dict[str, Any]) -> str:
    """Render form in language ("da", "sv" or "en") from a context its schema accepts."""
    return _values_and_text(form, language, context)[1]


def render_with_attachment(form: str, language: str, context: dict[str, Any]) -> tuple[str, str | None]:
    """Render a letter and, for a booked meeting, its iCalendar (.ics) attachment."""
    values, text = _values_and_text(form, language, context)
    return text, ics(values, form == "meeting_cancelled") if form in CALENDAR_FORMS else None


def ics(values: dict[str, Any], cancelled: bool = False) -> str:
    """Return an iCalendar file (RFC 5545) inviting to, updating or cancelling a booked meeting; times in UTC.

    Times are written in UTC ("Z"): every calendar client reads them without a VTIMEZONE and shows the
    local time of its user; the instant is exact across daylight-saving changes (RFC 5545 3.3.5 form 2).
    One meeting to-do is one event: the same UID throughout, a SEQUENCE that rises with each update,
    METHOD:REQUEST for an invitation or a new time, METHOD:CANCEL with STATUS:CANCELLED to remove it
    (RFC 5546 3.2.2, 3.2.5).
    """
    start = values["starts_at"].astimezone(UTC)
    calendar = Calendar()
    calendar.add("prodid", "-//activation//meeting//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", f"{values['uid']}@activation")
    event.add("sequence", values.get("sequence") or 0)
    event.add("dtstamp", (values.get("stamped_at") or start).astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=values["minutes"]))
    event.add("summary", f"{values['municipality']} - {values['team']}")
    event.add("location", values["place"])
    event.add("description", f"Case {values['case_id']}")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return bytes(calendar.to_ical()).decode()


def _values_and_text(form: str, language: str, context: dict[str, Any]) -> tuple[dict[str, Any], str]:
    schema = SCHEMAS.get(form)
    if schema is None:
        raise FormError(form, {"form": f"unknown form; forms are {', '.join(available_forms())}"})
    if language not in LANGUAGES:
        raise FormError(form, {"language": f"{language!r} is not one of {', '.join(LANGUAGES)}"})
    try:
        data = schema.model_validate(context)
    except ValidationError as exc:
        raise FormError(
            form, {".".join(str(p) for p in e["loc"]) or "(form)": e["msg"] for e in exc.errors()}
        ) from None
    raw = data.model_dump()
    values = {k: _local(v, data.timezone) for k, v in raw.items()}
    return raw, _env.get_template(f"{form}.{language}.txt.j2").render(**values)
