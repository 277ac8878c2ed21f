"""The domain's words as the professions say them, one glossary in the message catalogs.

Each term is an English message id with a context naming its kind (``msgctxt "stage"``), so the
same word can differ by kind ("Plan": the stage, DK "Min Plan"; the form) and the completeness test
covers the glossary like every other string. Translations are in web/locale/<lang>/LC_MESSAGES/
messages.po. Where a municipality's configuration names a thing (teams, interventions, the
municipality itself) that name is shown; a key the glossary does not know reads as words.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import datetime

from activation.config import Municipality, RuleBook
from activation.config.rulebook import ConfigError
from web.format import duration, label, when
from web.i18n import _, pgettext


def T_(context: str, term: str) -> tuple[str, str]:
    """Mark a glossary term for extraction (keyword T_:1c,2) and keep its context with it."""
    return context, term


TERMS: dict[str, dict[str, tuple[str, str]]] = {
    "stage": {
        "application": T_("stage", "Application"),
        "first_meeting": T_("stage", "First meeting"),
        "assessment": T_("stage", "Assessment"),
        "plan": T_("stage", "Plan"),
        "placement": T_("stage", "Placement"),
        "follow_up": T_("stage", "Follow-up"),
        "exit": T_("stage", "Exit"),
        "after_exit_check": T_("stage", "Check after exit"),
        "closed": T_("stage", "Closed"),
    },
    "todo": {
        "first_meeting": T_("todo", "Hold the first meeting"),
        "rebook_first_meeting": T_("todo", "Rebook the first meeting (citizen did not show)"),
        "assessment": T_("todo", "Complete the holistic assessment"),
        "plan": T_("todo", "Write and sign the individual plan with the citizen"),
        "placement_start": T_("todo", "Start the placement"),
        "follow_up": T_("todo", "Hold the follow-up meeting"),
        "exit_plan": T_("todo", "Agree the exit plan"),
        "after_exit_check": T_("todo", "Check on the citizen after exit"),
        "placement_wrap_up": T_("todo", "Hold the wrap-up meeting with the employer or provider"),
        "health_consent": T_("todo", "Record the citizen's consent to fetch health information"),
        "health_certificate": T_("todo", "Request the medical certificate and file it when it arrives"),
        "coordinated_plan": T_("todo", "Write the coordinated plan (DK rehabilitation plan, LAB § 30 a; SE SIP)"),
        "work_duty_week": T_("todo", "Plan the missing activity hours of the week (work duty)"),
    },
    "outcome": {
        "received": T_("outcome", "Received"),
        "held": T_("outcome", "Held"),
        "no_show": T_("outcome", "No show"),
        "withdrawn": T_("outcome", "Withdrawn"),
        "completed": T_("outcome", "Completed"),
        "signed": T_("outcome", "Signed"),
        "started": T_("outcome", "Started"),
        "not_started": T_("outcome", "Not started"),
        "continue": T_("outcome", "Continue"),
        "change_plan": T_("outcome", "Change plan"),
        "ready_to_exit": T_("outcome", "Ready to exit"),
        "exited": T_("outcome", "Exited"),
        "still_self_supporting": T_("outcome", "Still self supporting"),
        "re_entered": T_("outcome", "Re entered"),
        "given": T_("outcome", "Given"),
        "refused": T_("outcome", "Refused"),
        "cancelled": T_("outcome", "Cancelled"),
        "done": T_("outcome", "Done"),
        "not_held": T_("outcome", "Not held"),
    },
    "record": {
        "assessment": T_("record", "Assessment"),
        "plan": T_("record", "Plan"),
        "placement": T_("record", "Placement"),
        "follow_up": T_("record", "Follow up"),
        "exit": T_("record", "Exit"),
    },
    "deadline": {
        "first_meeting": T_("deadline", "First meeting"),
        "first_meeting_rebooking": T_("deadline", "First meeting rebooking"),
        "assessment": T_("deadline", "Assessment"),
        "plan": T_("deadline", "Plan"),
        "placement_start": T_("deadline", "Placement start"),
        "placement_wrap_up": T_("deadline", "Placement wrap up"),
        "follow_up": T_("deadline", "Follow up"),
        "exit_plan": T_("deadline", "Exit plan"),
        "after_exit_check": T_("deadline", "After exit check"),
        "health_consent": T_("deadline", "Health consent"),
        "health_certificate": T_("deadline", "Health certificate"),
        "coordinated_plan": T_("deadline", "Coordinated plan"),
        "work_duty_week": T_("deadline", "Week plan (work duty)"),
    },
    "cadence": {
        "offer": T_("cadence", "Offer (no passive period)"),
        "conversations": T_("cadence", "Job conversations"),
        "mentor_contact": T_("cadence", "Mentor contact"),
        "follow_up_meetings": T_("cadence", "Follow-up meetings"),
        "first_conversations": T_("cadence", "Job conversations in the first 6 months"),
        "first_offer": T_("cadence", "Offer in the first 6 months"),
    },
    "group": {
        "activity_ready": T_("group", "Activity-ready"),
        "job_ready": T_("group", "Job-ready"),
        "temporarily_unable": T_("group", "Temporarily unable to take part"),
        "education_ready": T_("group", "Education-ready"),
        "ekonomiskt_bistand": T_("group", "Social assistance with activity requirement"),
    },
    "pause": {
        "sickness": T_("pause", "Illness"),
        "exemption": T_("pause", "Exemption"),
        "treatment_stay": T_("pause", "Treatment stay"),
        "maternity_leave": T_("pause", "Parental leave"),
        "consent_withdrawn": T_("pause", "Consent withdrawn"),
    },
    "exit_reason": {
        "job": T_("exit_reason", "Job"),
        "education": T_("exit_reason", "Education"),
        "flexjob": T_("exit_reason", "Flexjob"),
        "disability_pension": T_("exit_reason", "Disability pension"),
        "other_benefit": T_("exit_reason", "Other benefit"),
        "self_support": T_("exit_reason", "Self support"),
        "moved": T_("exit_reason", "Moved"),
        "deceased": T_("exit_reason", "Deceased"),
    },
    "barrier": {
        "physical_health": T_("barrier", "Physical health"),
        "mental_health": T_("barrier", "Mental health"),
        "motivation": T_("barrier", "Motivation"),
        "housing": T_("barrier", "Housing"),
        "family": T_("barrier", "Family"),
        "legal": T_("barrier", "Legal"),
        "lifestyle": T_("barrier", "Lifestyle"),
        "debts": T_("barrier", "Debts"),
        "language": T_("barrier", "Language"),
        "other": T_("barrier", "Other"),
    },
    "ladder": {
        "basic_needs": T_("ladder", "Basic needs"),
        "planning_structure": T_("ladder", "Planning structure"),
        "day_activity": T_("ladder", "Day activity"),
        "work_rehabilitation": T_("ladder", "Work rehabilitation"),
        "work_with_support": T_("ladder", "Work with support"),
        "self_support": T_("ladder", "Self support"),
    },
    "role": {
        "caseworker": T_("role", "Caseworker"),
        "team_lead": T_("role", "Team lead"),
        "manager": T_("role", "Manager"),
        "operations": T_("role", "Operations"),
        "system": T_("role", "System"),
        "intake": T_("role", "Intake"),
        "anonymous": T_("role", "Not signed in"),
    },
    "action": {
        "sign_in": T_("action", "Sign in"),
        "view_case": T_("action", "View case"),
        "complete_todo": T_("action", "Complete todo"),
        "take_case": T_("action", "Take case"),
        "reassign": T_("action", "Reassign"),
        "apply_rules": T_("action", "Apply rules"),
        "denied": T_("action", "Denied"),
        "record_application": T_("action", "Record application"),
        "set_language": T_("action", "Set language"),
        "book_meeting": T_("action", "Book meeting"),
        "pause": T_("action", "Pause"),
        "resume": T_("action", "Resume"),
        "record_event": T_("action", "Record event"),
        "start_beside": T_("action", "Start beside the journey"),
        "withdraw": T_("action", "Withdraw case"),
    },
    "alarm": {
        "reminder": T_("alarm", "Reminder"),
        "escalation": T_("alarm", "Escalation"),
        "alert": T_("alarm", "Alert"),
        "letter": T_("alarm", "Letter"),
    },
    "alarm_state": {
        "pending": T_("alarm_state", "pending"),
        "suspended": T_("alarm_state", "suspended"),
        "fired": T_("alarm_state", "fired"),
        "skipped": T_("alarm_state", "skipped"),
        "cancelled": T_("alarm_state", "cancelled"),
        "superseded": T_("alarm_state", "superseded"),
    },
    "status": {
        "open": T_("status", "open"),
        "closed": T_("status", "closed"),
        "done": T_("status", "done"),
        "met": T_("status", "met"),
        "missed": T_("status", "missed"),
    },
    "letter": {
        "meeting_invitation": T_("letter", "Meeting invitation"),
        "meeting_booked": T_("letter", "Meeting booked"),
        "meeting_cancelled": T_("letter", "Meeting cancelled"),
        "assessment_letter": T_("letter", "Assessment letter"),
        "plan_letter": T_("letter", "Plan letter"),
        "placement_agreement": T_("letter", "Placement agreement"),
        "follow_up_note": T_("letter", "Follow up note"),
        "exit_summary": T_("letter", "Exit summary"),
    },
    "event": {
        "meeting": T_("event", "meeting"),
        "offer": T_("event", "offer"),
        "application received": T_("event", "application received"),
    },
    # How a job conversation was held (activation/case_events.py CONTACT_FORMS; LAB allows phone and video).
    "contact_form": {
        "in_person": T_("contact_form", "in person"),
        "phone": T_("contact_form", "by phone"),
        "video": T_("contact_form", "by video"),
        "digital": T_("contact_form", "digitally"),
    },
    "calendar": {
        "office": T_("calendar", "office hours"),
        "meetings": T_("calendar", "meeting hours"),
    },
}

# The inbox, search and the team view (issue 12): every search is an audit line of its own.
TERMS["action"]["search"] = T_("action", "Search")


def term(kind: str, key: str | None) -> str:
    """Return the word for a key of a kind (stage, outcome, ...) in the request's language."""
    if not key:
        return ""
    found = TERMS.get(kind, {}).get(key)
    return pgettext(*found) if found else label(key)


class Terms:
    """The glossary and the configuration's names, for the pages (``terms`` in every template)."""

    def __init__(self, rules: RuleBook | None, names: Callable[[], Mapping[str, str]] | None = None) -> None:
        self.rules = rules
        self._names_of = names  # staff's display names by username, read on first use (one query a page)
        self._names: Mapping[str, str] | None = None

    def name(self, username: str) -> str:
        """Return a member of staff's display name, or the username when the users table has none."""
        if self._names is None:
            self._names = self._names_of() if self._names_of else {}
        return self._names.get(username) or username

    def __call__(self, kind: str, key: str | None) -> str:
        """Return the word for a key of a kind."""
        return term(kind, key)

    def _municipality(self, code: str | None) -> Municipality | None:
        if self.rules is None or not code:
            return None
        try:
            return self.rules.municipality(code)
        except ConfigError:
            return None

    def municipality(self, code: str | None) -> str:
        """Return a municipality's name as its configuration gives it."""
        m = self._municipality(code)
        return m.name if m is not None and m.name else (code or "")

    def team(self, municipality: str | None, team: str | None) -> str:
        """Return a team's name as its municipality's configuration gives it."""
        m = self._municipality(municipality)
        if m is not None and team in m.teams:
            return m.teams[team].name
        return team or ""

    def intervention(self, municipality: str | None, key: str | None) -> str:
        """Return an intervention's name from the municipality's catalogue."""
        m = self._municipality(municipality)
        if m is not None and key in m.interventions:
            return m.interventions[key].name
        return label(key)

    def group(self, municipality: str | None, key: str | None) -> str:
        """Return a target group's short name (glossary), else the configuration's name."""
        if not key:
            return ""
        if key in TERMS["group"]:
            return term("group", key)
        m = self._municipality(municipality)
        return m.groups[key].name if m is not None and key in m.groups else label(key)

    def todo(self, kind: str | None, title: str | None = None) -> str:
        """Return what a to-do asks, from the glossary; a kind it does not know keeps its recorded title."""
        if kind in TERMS["todo"]:
            return term("todo", kind)
        return title or label(kind)

    def why(
        self,
        municipality: str | None,
        rule_key: str,
        version: str,
        calendar: str,
        start_event: str,
        started_at: datetime,
    ) -> str:
        """Say why a deadline is due when it is, from its rule: how long, from what, on which calendar."""
        m = self._municipality(municipality)
        if m is None or self.rules is None:
            return ""
        with contextlib.suppress(ConfigError):
            m = self.rules.find_version(m.code, version).municipality
        name = calendar.rsplit("/", 1)[-1]  # recorded as "<municipality>/<calendar>"
        try:
            rule = m.rule(rule_key)
            cal = m.calendar(name)
        except (KeyError, ValueError):
            return ""
        where = term("calendar", name)
        start = when(started_at, m.timezone)
        if "." in rule_key and not rule_key.startswith("interventions."):
            return _("Counted from %(event)s at %(start)s on %(calendar)s.", event=self.event(start_event),
                     start=start, calendar=where)  # fmt: skip
        text = _("%(due)s from %(event)s at %(start)s, counted on %(calendar)s.", due=duration(str(rule.due)),
                 event=self.event(start_event), start=start, calendar=where)  # fmt: skip
        if cal.add(started_at, rule.due) != cal.add(started_at, rule.due, extend_when_closed=rule.extend_when_closed):
            text += " " + _("That falls while the office is closed, so it moves to the end of the next opening.")
        return text

    def rule(self, municipality: str | None, key: str | None) -> str:
        """Return a deadline rule's name: a stage deadline, '<group>.<cadence>' or 'interventions.<key>'."""
        if not key:
            return ""
        if key.startswith("interventions."):
            return _("Start: %(intervention)s", intervention=self.intervention(municipality, key.split(".", 1)[1]))
        if "." in key:
            group, cadence = key.split(".", 1)
            return f"{term('cadence', cadence)} · {self.group(municipality, group)}"
        return term("deadline", key)

    def event(self, start_event: str | None) -> str:
        """Return what a deadline counts from: 'application received' or '<stage>: <outcome>'."""
        if not start_event:
            return ""
        if start_event in TERMS["event"]:
            return term("event", start_event)
        stage, _sep, outcome = start_event.partition(": ")
        if outcome:
            return f"{term('stage', stage)}: {term('outcome', outcome)}"
        return start_event

    def who(self, by: str | None, municipality: str | None = None) -> str:
        """Return who recorded something: the system, the intake, or a member of staff or their queue."""
        if by in TERMS["role"]:
            return term("role", by)
        return self.holder(by, municipality)

    def holder(self, assignee: str | None, municipality: str | None = None, name: str | None = None) -> str:
        """Return who holds a to-do: a caseworker (by name when known), the team queue, a lead or a manager."""
        if not assignee:
            return ""
        role, sep, where = assignee.partition(":")
        if not sep:
            return name or self.name(assignee)
        if role == "queue":
            return _("Team queue: %(team)s", team=self.team(municipality, where))
        if role == "team_lead":
            return _("Team lead, %(team)s", team=self.team(municipality, where))
        if role == "manager":
            return _("Manager, %(municipality)s", municipality=self.municipality(where))
        # A role the journey may add later ('<role>:<team>'): its word and the team's name, never the key.
        return _("%(role)s, %(team)s", role=term("role", role), team=self.team(municipality, where))

    def stamp(self, version: str | None) -> tuple[str, str]:
        """Split a rule version stamp 'karlskrona-2026.1+c10ead4e' into the version and the configuration hash."""
        name, _sep, digest = (version or "").partition("+")
        return name, digest
