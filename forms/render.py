"""Render a form in the municipality's language after validating its context."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
    return text, ics(values) if form in CALENDAR_FORMS else None


def ics(values: dict[str, Any]) -> str:
    """Return an iCalendar file (RFC 5545) for a booked meeting; times in UTC."""
    start = values["starts_at"].astimezone(ZoneInfo("UTC"))
    end = start + timedelta(minutes=values["minutes"])
    stamp = "%Y%m%dT%H%M%SZ"
    summary = f"{values['municipality']} - {values['team']}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//activation//meeting//EN",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        f"UID:{values['uid']}@activation",
        f"DTSTAMP:{start.strftime(stamp)}",
        f"DTSTART:{start.strftime(stamp)}",
        f"DTEND:{end.strftime(stamp)}",
        f"SUMMARY:{_ics_text(summary)}",
        f"LOCATION:{_ics_text(values['place'])}",
        f"DESCRIPTION:{_ics_text('Case ' + values['case_id'])}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def _ics_text(value: str) -> str:
    # RFC 5545 3.3.11: escape backslash, semicolon, comma and newlines in text values.
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


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
