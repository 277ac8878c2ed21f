"""Meeting hours stored per caseworker, managed by them or their team lead, and the slot proposed for a meeting."""

from __future__ import annotations

from datetime import date

import pytest

from activation import meeting_hours, services
from activation.access import User
from activation.adapters.accounts import Accounts
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from activation.errors import AccessDenied, ForbiddenError, NotFoundError
from tests.conftest import at

CW1 = User("cw-01", "Caseworker One", "caseworker", "karlskrona", "arbetsmarknad")
CW2 = User("cw-02", "Caseworker Two", "caseworker", "karlskrona", "arbetsmarknad")
LEAD = User("tl-01", "Team Lead", "team_lead", "karlskrona", "arbetsmarknad")
OTHER_LEAD = User("tl-vx", "Växjö Lead", "team_lead", "vaxjo", "koordinatorer")
WEEK = {d: "09:00-12:00,13:00-16:00" for d in ("mon", "tue", "wed", "thu")}
FRIDAY_AFTERNOON = at("2026-11-20 15:00")


@pytest.fixture
def staffed(store: SqlStore) -> SqlStore:
    accounts = Accounts(store.engine)
    for user in (CW1, CW2, LEAD, OTHER_LEAD):
        accounts.add_user(user, None, FRIDAY_AFTERNOON)
    return store


def _meeting(store: SqlStore, rules: RuleBook, ref: str) -> str:
    recorded = services.record_application(store, rules, "karlskrona", ref, FRIDAY_AFTERNOON, caseworker="cw-01")
    services.advance_cases(store, rules, FRIDAY_AFTERNOON)
    return f"{recorded.case_id}.0"


def test_hours_and_absences_are_stored_and_read_back(staffed: SqlStore) -> None:
    meeting_hours.set_meeting_hours(staffed, CW1, "cw-01", WEEK, 60, 4, FRIDAY_AFTERNOON, by="cw-01", via="web")
    absence = meeting_hours.add_absence(
        staffed, LEAD, "cw-01", "course", date(2026, 11, 25), date(2026, 11, 26), FRIDAY_AFTERNOON, by="tl-01"
    )
    shown = meeting_hours.meeting_hours(staffed, LEAD, "cw-01", FRIDAY_AFTERNOON)
    assert shown.availability is not None
    assert shown.availability.slot_minutes == 60 and shown.availability.max_per_day == 4
    assert str(shown.availability.hours[0]) == "09:00-12:00,13:00-16:00" and 4 not in shown.availability.hours
    assert shown.availability.absences == (absence,) and absence.id is not None
    meeting_hours.remove_absence(staffed, CW1, "cw-01", absence.id, FRIDAY_AFTERNOON)
    assert meeting_hours.meeting_hours(staffed, CW1, "cw-01", FRIDAY_AFTERNOON).availability.absences == ()  # type: ignore[union-attr]
    with pytest.raises(NotFoundError, match="no absence"):
        meeting_hours.remove_absence(staffed, CW1, "cw-01", absence.id, FRIDAY_AFTERNOON)
    audit = Accounts(staffed.engine)
    assert audit.audit_count("set_meeting_hours") == 1 and audit.audit_count("add_absence") == 1


def test_a_teammate_is_forbidden_and_another_teams_lead_finds_no_such_caseworker(staffed: SqlStore) -> None:
    with pytest.raises(ForbiddenError):
        meeting_hours.set_meeting_hours(staffed, CW2, "cw-01", WEEK, 60, 4, FRIDAY_AFTERNOON, by="cw-02")
    with pytest.raises(AccessDenied) as other:
        meeting_hours.meeting_hours(staffed, OTHER_LEAD, "cw-01", FRIDAY_AFTERNOON)
    assert other.value.municipality == "karlskrona"  # the denial is audited where the caseworker works
    with pytest.raises(NotFoundError):
        meeting_hours.meeting_hours(staffed, LEAD, "tl-01", FRIDAY_AFTERNOON)  # a lead holds no meetings


def test_the_proposed_slot_skips_booked_meetings_and_falls_to_the_team_when_the_caseworker_is_full(
    staffed: SqlStore, rules: RuleBook
) -> None:
    meeting_hours.set_meeting_hours(staffed, None, "cw-01", WEEK, 60, 2, FRIDAY_AFTERNOON, by="ops")
    meeting_hours.set_meeting_hours(
        staffed, None, "cw-02", {"mon": "10:00-12:00"}, 45, None, FRIDAY_AFTERNOON, by="ops"
    )
    first = _meeting(staffed, rules, "ext-1")
    # Due 48 hours after Friday 15:00: Sunday, closed, so the end of Monday's opening (16:30).
    slot = meeting_hours.proposed_slot(staffed, rules, CW1, first, FRIDAY_AFTERNOON)
    assert slot is not None and (slot.username, slot.starts_at) == ("cw-01", at("2026-11-23 09:00"))
    services.book_meeting(staffed, rules, first, slot.starts_at, FRIDAY_AFTERNOON)
    # Its own booking does not block the to-do's proposal; it blocks the next to-do's.
    assert meeting_hours.proposed_slot(staffed, rules, CW1, first, FRIDAY_AFTERNOON) == slot
    second = _meeting(staffed, rules, "ext-2")
    again = meeting_hours.proposed_slot(staffed, rules, CW1, second, FRIDAY_AFTERNOON)
    assert again is not None and again.starts_at == at("2026-11-23 10:00")
    services.book_meeting(staffed, rules, second, again.starts_at, FRIDAY_AFTERNOON)
    third = _meeting(staffed, rules, "ext-3")  # cw-01 has reached 2 meetings on Monday
    to_team = meeting_hours.proposed_slot(staffed, rules, LEAD, third, FRIDAY_AFTERNOON)
    assert to_team is not None and (to_team.username, to_team.starts_at, to_team.ends_at) == (
        "cw-02",
        at("2026-11-23 10:00"),
        at("2026-11-23 10:45"),
    )
    services.cancel_meeting(staffed, second, FRIDAY_AFTERNOON)  # a cancelled time is free again
    freed = meeting_hours.proposed_slot(staffed, rules, CW1, third, FRIDAY_AFTERNOON)
    assert freed is not None and (freed.username, freed.starts_at) == ("cw-01", at("2026-11-23 10:00"))


def test_no_slot_is_proposed_when_everyone_is_away_before_the_deadline(staffed: SqlStore, rules: RuleBook) -> None:
    meeting_hours.set_meeting_hours(staffed, None, "cw-01", WEEK, 60, None, FRIDAY_AFTERNOON, by="ops")
    meeting_hours.add_absence(
        staffed, None, "cw-01", "holiday", date(2026, 11, 23), date(2026, 11, 27), FRIDAY_AFTERNOON, by="ops"
    )
    todo_id = _meeting(staffed, rules, "ext-away")
    assert meeting_hours.proposed_slot(staffed, rules, CW1, todo_id, FRIDAY_AFTERNOON) is None
    with pytest.raises(AccessDenied):
        meeting_hours.proposed_slot(staffed, rules, OTHER_LEAD, todo_id, FRIDAY_AFTERNOON)
