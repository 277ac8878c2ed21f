"""The caseworker's forms for each record (assessment, plan, placement, follow-up, exit), as fields.

Labels and choices are in the request's language: field labels from the catalogs, choices from the
glossary, groups and interventions by the names the municipality's configuration gives them.

A form post is turned back into the record's dict for `records.validate`; what was typed is kept,
so a page with errors shows every field as it was, each error beside its field (tied to it for
screen readers) and listed at the top with a link to the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from activation import records
from activation.config import Municipality
from web.glossary import TERMS, term
from web.i18n import N_, _
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


def values_of(data: dict[str, Any]) -> dict[str, str]:
    """Turn a stored record back into the form's values, to show it read-only as it was filled in."""
    values: dict[str, str] = {}
    for name, value in data.items():
        if name == "activities":
            for n, row in enumerate(value or []):
                values.update({f"activities.{n}.{k}": str(v) for k, v in row.items() if v is not None})
        elif name == "life_mastery":
            values[name] = "\n".join(f"{k}={v}" for k, v in (value or {}).items())
        elif isinstance(value, list):
            values[name] = "\n".join(str(v) for v in value)
        elif value is not None:
            values[name] = str(value)
    return values


def _names(record: str) -> list[str]:
    return list(records.RECORDS[record].model_fields)


def typed(record: str, form: Any) -> dict[str, str]:
    """Return what the caseworker typed, field by field, to fill the form again after an error."""
    values: dict[str, str] = {}
    for key in form:
        values[key] = "\n".join(form.getlist(key)) if key == "barriers" else form.get(key)
    return values


# What activation/records.py says about a record, in the reader's language (the rest: web/problems.py).
SAID: dict[str, str] = {
    "Choose an outcome.": N_("Choose an outcome."),
    "Write a value here.": N_("Write a value here."),
    "Write a date here.": N_("Write a date here."),
    "Write the date as year-month-day, e.g. 2026-12-31.": N_("Write the date as year-month-day, e.g. 2026-12-31."),
    "Choose one of the options.": N_("Choose one of the options."),
    "Write a whole number.": N_("Write a whole number."),
    "This field is not part of the form.": N_("This field is not part of the form."),
    records.FOLLOW_UP_AFTER_SIGNING: N_("The follow-up must come after the day the plan is signed."),
    records.TOO_FAR_APART: N_("These dates are more than three years apart; check the year."),
    records.FAR_FROM_SIGNING: N_("This activity is more than three years from the signing day; check the year."),
}
NEEDS_FORM = re.compile(r"needs the (\w+) form filled in$")


def say(problem: str) -> str:
    """Say a problem with a record in the reader's language."""
    if problem in SAID:
        return _(SAID[problem])
    needs = NEEDS_FORM.search(problem)
    if needs:
        return _("Fill in the %(form)s below.", form=term("record", needs[1]).lower())
    said = problem_text(problem)
    # Pydantic's own words never reach a caseworker: a problem it words we did not foresee is still theirs.
    return _("Check this value.") if said.startswith("Input should be") else said


def field_errors(fields: dict[str, str]) -> dict[str, str]:
    """Map errors from validation ('activities.0.ends_on') to what the page shows next to each input."""
    shown: dict[str, str] = {}
    for key, problem in fields.items():
        said = say(problem)
        shown.setdefault(key, said)
        top = key.split(".")[0]
        if top != "activities":  # a row's problem is shown on its row (templates/_field.html.j2)
            shown.setdefault(top, said)
    return shown


def field_id(name: str) -> str:
    """Return the id of a field's input: 'f-goal', 'f-activities-0-ends_on'."""
    return "f-" + name.replace(".", "-")


def _columns() -> dict[str, str]:
    """Return the activity table's column names (as templates/_field.html.j2 heads them)."""
    return {"what": _("What"), "starts_on": _("Starts on"), "ends_on": _("Ends on"), "responsible": _("Responsible")}


@dataclass(frozen=True)
class Problem:
    """One line of the error summary at the top of a form: which field, what is wrong, where it is."""

    target: str  # the id of the input the link jumps to
    label: str
    text: str


def summary(fields: dict[str, str], forms: dict[str, list[Field]], outcomes: Iterable[str]) -> list[Problem]:
    """List each problem once, in the form's order, with a link to its field (validation's keys, untranslated)."""
    labels = {f.name: f for fields_ in forms.values() for f in fields_}
    first = next(iter(outcomes), "")
    found: list[Problem] = []
    for key, problem in fields.items():
        top, _sep, rest = key.partition(".")
        if top == "outcome":
            found.append(Problem(f"outcome-{first}", _("Outcome"), say(problem)))
        elif top == "activities" and rest:
            row, _dot, column = rest.partition(".")
            where = _("%(field)s, row %(n)d", field=labels[top].label if top in labels else top,
                      n=int(row) + 1 if row.isdigit() else 1)  # fmt: skip
            if column in _columns():
                where += ", " + _columns()[column].lower()
            found.append(Problem(field_id(f"activities.{row}.{column or 'starts_on'}"), where, say(problem)))
        elif top in labels:
            f = labels[top]
            target = field_id(f"{top}.0") if f.kind == "checkboxes" else field_id(top)
            if f.kind == "activities":
                target = field_id("activities.0.what")
            found.append(Problem(target, f.label, say(problem)))
        else:
            found.append(Problem(f"record-{top}", term("record", top), say(problem)))
    order = {f.name: n for n, f in enumerate(labels.values())}

    def rank(problem: Problem) -> int:
        if problem.target.startswith("outcome-"):
            return -1
        return order.get(problem.target.removeprefix("f-").split("-")[0], len(order))

    return sorted(found, key=rank)


def draft_fields(records_needed: Iterable[str], form: Any) -> list[tuple[str, str]]:
    """Return the posted fields worth keeping as a draft: the outcome and the records' fields, nothing else."""
    names = {"outcome"}
    for record in records_needed:
        names.update(_names(record))
    kept: list[tuple[str, str]] = []
    for key, value in form.multi_items():
        top = key.split(".")[0]
        if top in names and isinstance(value, str) and value:
            kept.append((key, value))
    return kept
