"""Whole journeys, application to after-exit check, for a Danish and a Swedish citizen (SQLite and PostgreSQL).

Each scenario has a no-show, a missed deadline that escalates, a sickness pause and a placement with
its wrap-up; every to-do and due time on the way is checked against times worked out by hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from activation import pauses, services
from activation.adapters import tables as t
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from activation.ports import TodoFilter
from tests.conftest import COPENHAGEN, at
from tests.forms_filled import ASSESSMENT, EXIT, FOLLOW_UP, PLAN


class Journey:
    """Drive one case through the use cases, as caseworkers and the flows would."""

    def __init__(self, store: SqlStore, rules: RuleBook, municipality: str, received: datetime):
        self.store, self.rules = store, rules
        self.case_id = services.record_application(store, rules, municipality, "synthetic-1", received).case_id
        services.advance_cases(store, rules, received)

    def todos(self) -> dict[str, Any]:
        with self.store.transaction() as tx:
            return {x.kind: x for x in tx.list_todos(TodoFilter(case_id=self.case_id))}

    def do(self, kind: str, outcome: str, when: datetime, data: dict[str, Any] | None = None) -> None:
        services.complete_todo(self.store, self.todos()[kind].id, outcome, when, data=data, rules=self.rules)
        services.advance_cases(self.store, self.rules, when)

    def due(self) -> dict[str, datetime]:
        return {kind: x.due_at for kind, x in self.todos().items()}

    def escalations(self, now: datetime) -> list[tuple[str, str]]:
        return [(a.rule_key, a.recipient) for a in services.sweep(self.store, now).fired if a.kind == "escalation"]

    def periods(self, rule_key: str) -> list[tuple[str, datetime]]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(t.deadlines.c.status, t.deadlines.c.due_at)
                .where(t.deadlines.c.case_id == self.case_id, t.deadlines.c.rule_key == rule_key)
                .order_by(t.deadlines.c.started_at)
            ).all()
        return [tuple(r) for r in rows]


def dk(text: str) -> datetime:
    return at(text, COPENHAGEN)


def test_a_danish_activity_ready_citizen_from_application_to_after_exit_check(store: SqlStore, rules: RuleBook) -> None:
    j = Journey(store, rules, "allerod", dk("2026-11-02 10:00"))
    assert j.due() == {"first_meeting": dk("2026-11-30 10:00")}  # Allerød: 4 weeks

    j.do("first_meeting", "no_show", dk("2026-11-05 10:00"))
    assert j.due() == {"rebook_first_meeting": dk("2026-11-12 10:00")}  # 5 working days

    # Nobody rebooks in time: the team lead hears 1 working day after the deadline, Friday 10:00.
    assert j.escalations(dk("2026-11-13 09:00")) == []
    assert j.escalations(dk("2026-11-13 11:00")) == [("first_meeting_rebooking", "team_lead:jobcenter")]
    j.do("rebook_first_meeting", "held", dk("2026-11-13 11:00"))
    assert j.periods("first_meeting_rebooking") == [("missed", dk("2026-11-12 10:00"))]
    # 1 month from Friday 13 Nov 11:00 is Sunday 13 Dec: the end of Monday's opening.
    assert j.due() == {"assessment": dk("2026-12-14 15:30")}

    j.do("assessment", "completed", dk("2026-11-23 10:00"), ASSESSMENT)
    assert j.due() == {"plan": dk("2026-12-07 10:00")}  # 2 weeks
    j.do("plan", "signed", dk("2026-12-01 10:00"), {**PLAN, "intervention": "internship"})
    assert j.due() == {"placement_start": dk("2026-12-29 10:00")}  # internship: start within 4 weeks

    placement = {
        "intervention": "internship",
        "provider": "Synthetic A/S",
        "starts_on": "2026-12-07",
        "ends_on": "2027-03-05",
    }
    j.do("placement_start", "started", dk("2026-12-07 10:00"), placement)
    assert j.due() == {
        "follow_up": dk("2027-03-08 15:30"),  # 3 months: Sunday 7 March, so Monday's closing
        "placement_wrap_up": dk("2027-03-15 15:30"),  # a week after the last day (Fri 5 Mar): Sat 13 -> Mon
    }
    # LAB § 92 stk. 2 met by the first offer; the next is due within 12 months (§ 96).
    assert j.periods("activity_ready.offer") == [("met", dk("2027-05-03 15:30")), ("open", dk("2027-12-07 10:00"))]

    # Sick for two weeks: the follow-up moves by the fortnight; the wrap-up, whose clock starts only
    # after the placement, does not move.
    pauses.record_pause(
        store, rules, j.case_id, "sickness", dk("2027-01-11 09:00"), dk("2027-01-25 09:00"), dk("2027-01-11 09:30")
    )
    assert j.due() == {"follow_up": dk("2027-03-22 15:30"), "placement_wrap_up": dk("2027-03-15 15:30")}

    j.do("placement_wrap_up", "held", dk("2027-03-10 10:00"))
    j.do("follow_up", "continue", dk("2027-03-15 10:00"), FOLLOW_UP)
    assert j.due() == {"follow_up": dk("2027-06-15 10:00")}
    j.do("follow_up", "ready_to_exit", dk("2027-06-01 10:00"), {**FOLLOW_UP, "ladder_step": "self_support"})
    assert j.due() == {"exit_plan": dk("2027-06-29 10:00")}  # 4 weeks
    j.do("exit_plan", "exited", dk("2027-06-15 10:00"), EXIT)
    # After exit nothing is owed any more, and the check comes 3 months later.
    assert j.due() == {"after_exit_check": dk("2027-09-15 10:00")}
    assert [status for status, _ in j.periods("activity_ready.offer")] == ["met", "ended"]
    j.do("after_exit_check", "still_self_supporting", dk("2027-09-14 10:00"))
    assert j.todos() == {}
    # Every letter the journey queued renders in Danish from what was recorded.
    import forms

    with store.transaction() as tx:
        letters = tx.pending_letters(100)
    rendered = {x.form: forms.render(x.form, x.language, x.context) for x in letters}
    assert set(rendered) == {
        "meeting_invitation",
        "assessment_letter",
        "plan_letter",
        "placement_agreement",
        "follow_up_note",
        "exit_summary",
    }
    assert "Virksomhedspraktik hos Synthetic A/S" in rendered["placement_agreement"]
    with store.transaction() as tx:
        [case] = tx.cases([j.case_id]).values()
    assert (case.stage, case.status) == ("closed", "closed")


def test_a_swedish_citizen_in_karlskrona_from_application_to_after_exit_check(store: SqlStore, rules: RuleBook) -> None:
    j = Journey(store, rules, "karlskrona", at("2026-11-20 15:00"))  # Friday afternoon
    assert j.due() == {"first_meeting": at("2026-11-23 16:30")}  # 48 h -> Sunday -> Monday's closing

    j.do("first_meeting", "no_show", at("2026-11-23 10:00"))
    assert j.due() == {"rebook_first_meeting": at("2026-11-25 10:00")}  # 48 hours again
    # The rebooked meeting slips: 1 working hour after the deadline the team lead is told.
    assert j.escalations(at("2026-11-25 11:30")) == [("first_meeting_rebooking", "team_lead:arbetsmarknad")]
    j.do("rebook_first_meeting", "held", at("2026-11-26 09:00"))
    assert j.due() == {"assessment": at("2026-12-17 09:00")}  # 3 weeks

    j.do("assessment", "completed", at("2026-12-03 10:00"), ASSESSMENT)
    assert j.due() == {"plan": at("2026-12-17 10:00")}
    j.do("plan", "signed", at("2026-12-08 10:00"), {**PLAN, "intervention": "language_course"})
    assert j.due() == {"placement_start": at("2027-01-05 10:00")}  # SFI: within 4 weeks

    # Ill over Christmas with no known end: the clocks stop, nothing fires, nothing is overdue.
    sick = pauses.record_pause(
        store, rules, j.case_id, "sickness", at("2026-12-14 09:00"), None, at("2026-12-14 09:30")
    )
    assert j.escalations(at("2027-01-20 10:00")) == []
    # Back on 11 January: 22 days and 1 hour were left (14 Dec 09:00 -> 5 Jan 10:00).
    pauses.end_pause(store, rules, sick.pause.id, at("2027-01-11 08:00"), at("2027-01-11 08:30"))
    assert j.due() == {"placement_start": at("2027-02-02 09:00")}

    placement = {
        "intervention": "language_course",
        "provider": "Synthetic SFI",
        "starts_on": "2027-01-18",
        "ends_on": "2027-04-16",
    }
    j.do("placement_start", "started", at("2027-01-18 10:00"), placement)
    assert j.due() == {
        "follow_up": at("2027-03-01 10:00"),  # 6 weeks
        "placement_wrap_up": at("2027-04-26 16:30"),  # the week from Sat 17 Apr ends Sat 24 -> Monday's closing
    }
    j.do("follow_up", "continue", at("2027-02-22 10:00"), FOLLOW_UP)
    j.do("placement_wrap_up", "held", at("2027-04-20 10:00"))
    j.do("follow_up", "ready_to_exit", at("2027-04-05 10:00"), {**FOLLOW_UP, "ladder_step": "self_support"})
    j.do("exit_plan", "exited", at("2027-04-19 10:00"), {"reason": "job"})
    assert j.due() == {"after_exit_check": at("2027-07-19 10:00")}
    j.do("after_exit_check", "re_entered", at("2027-07-19 09:00"))
    # Re-entry reopens the journey at the assessment, with its history, and the obligations start again.
    assert j.due() == {"assessment": at("2027-08-09 09:00")}
    assert j.periods("ekonomiskt_bistand.offer")[-1] == ("open", at("2027-08-16 09:00"))  # 4 weeks
