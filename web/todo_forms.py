"""The caseworker's forms for each record (assessment, plan, placement, follow-up, exit), as fields.

Labels and choices are in the request's language: field labels from the catalogs, choices from the
glossary, groups and interventions by the names the municipality's configuration gives them.

A form post is turned back into the record's dict for `records.validate`; what was typed is kept,
so a page with errors shows every field as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from activation import records
from activation.config import Municipality
from web.glossary import TERMS, term
from web.i18n import _
from web.problems import problem_text

ACTIVITY_ROWS = 4  # the plan form offers this many activity rows; empty rows are ignored


@dataclass(frozen=True)
class Field:
    """One input of a form."""

    name: str
    label: str
    kind: str = "text"  # text | textarea | date | select | checkboxes | lines | number
    options: tuple[tuple[str, str], ...] = ()
    required: bool = False
    help: str = ""


def _choices(kind: str, enum: type[Any]) -> tuple[tuple[str, str], ...]:
    return tuple((m.value, term(kind, m.value)) for m in enum)


def _bands() -> tuple[tuple[str, str], ...]:
    return tuple(
        (b.value, _("%(band)s %% (up to %(hours)d h a week)", band=b.value, hours=b.hours_per_week))
        for b in records.CapacityBand
    )


def fields_for(record: str, municipality: Municipality) -> list[Field]:
    """Return the fields of a record's form, with the municipality's groups and interventions as choices."""
    groups = tuple((g, term("group", g) if g in TERMS["group"] else x.name) for g, x in municipality.groups.items())
    interventions = tuple((code, i.name) for code, i in municipality.interventions.items())
    if record == "assessment":
        return [
            Field("capacity_band", _("Activity capacity"), "select", _bands(), True,
                  _("Share of a 40-hour week: 1-25 percent up to 10 h, 26-50 up to 20 h, 51-75 up to 30 h, "
                    "76-100 full time.")),
            Field("group", _("Target group after the assessment"), "select", groups),
            Field("barriers", _("Barriers"), "checkboxes", _choices("barrier", records.Barrier)),
            Field("health", _("Health"), "textarea"),
            Field("social_situation", _("Social situation"), "textarea"),
            Field("education", _("Education"), "textarea"),
            Field("work_history", _("Work history"), "textarea"),
        ]  # fmt: skip
    if record == "plan":
        return [
            Field("goal", _("Goal"), "textarea", required=True),
            Field("sub_goals", _("Sub-goals"), "lines", help=_("One per line.")),
            Field("activities", _("Activities"), "activities", required=True,
                  help=_("SoL 4 kap. 4 §: each with a start and an end date the citizen knows.")),
            Field("follow_up_on", _("Follow-up on"), "date", required=True),
            Field("signed_on", _("Signed on"), "date", required=True),
            Field("intervention", _("Placement planned"), "select", interventions),
        ]  # fmt: skip
    if record == "placement":
        return [
            Field("intervention", _("Intervention"), "select", interventions, True),
            Field("provider", _("Employer or provider"), required=True),
            Field("starts_on", _("Starts on"), "date", required=True),
            Field("ends_on", _("Ends on"), "date", required=True),
            Field("hours_per_week", _("Hours per week"), "number"),
        ]
    if record == "follow_up":
        return [
            Field("ladder_step", _("Step on the progression ladder"), "select", _choices("ladder", records.LadderStep),
                  True),
            Field("life_mastery", _("Life-mastery scores"), "lines",
                  help=_("One per line as indicator=score (1-10).")),
            Field("note", _("Note"), "textarea"),
        ]  # fmt: skip
    if record == "exit":
        return [
            Field("reason", _("Exit reason"), "select", _choices("exit_reason", records.ExitReason), True),
            Field("note", _("Note"), "textarea"),
        ]
    raise KeyError(record)


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def parse(record: str, form: Any) -> dict[str, Any]:
    """Turn a posted form (a multi-dict) into the record's data; blanks are left out."""
    data: dict[str, Any] = {}
    for name in _names(record):
        if name == "barriers":
            data[name] = [v for v in form.getlist("barriers") if v]
        elif name == "sub_goals":
            data[name] = [line.strip() for line in (form.get(name) or "").splitlines() if line.strip()]
        elif name == "life_mastery":
            scores: dict[str, Any] = {}
            for line in (form.get(name) or "").splitlines():
                if line.strip():
                    key, _, score = line.partition("=")
                    scores[key.strip() or "?"] = score.strip()
            data[name] = scores
        elif name == "activities":
            rows = []
            for n in range(ACTIVITY_ROWS):
                row = {
                    k: _text(form.get(f"activities.{n}.{k}")) for k in ("what", "starts_on", "ends_on", "responsible")
                }
                if any(row.values()):
                    rows.append(row)
            data[name] = rows
        else:
            value = _text(form.get(name))
            if value is not None:
                data[name] = value
    return data


def _names(record: str) -> list[str]:
    return list(records.RECORDS[record].model_fields)


def typed(record: str, form: Any) -> dict[str, str]:
    """Return what the caseworker typed, field by field, to fill the form again after an error."""
    values: dict[str, str] = {}
    for key in form:
        values[key] = "\n".join(form.getlist(key)) if key == "barriers" else form.get(key)
    return values


def field_errors(fields: dict[str, str]) -> dict[str, str]:
    """Map errors from validation ('activities.0.ends_on') to what the page shows next to each input."""
    shown: dict[str, str] = {}
    for key, problem in fields.items():
        said = problem_text(problem)
        shown.setdefault(key, said)
        top = key.split(".")[0]
        shown.setdefault(top, said)
    return shown
