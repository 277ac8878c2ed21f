"""Who may see and do what: staff roles and the rules that keep citizens' data to those who need it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from activation.errors import AccessDenied, InputError, NotFoundError
from activation.journey import ROLES
from activation.model import Case, TodoView, team_queue
from activation.ports import Cases, CasesAndTodos

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
LANGUAGES = ("da", "sv", "en")  # the languages the pages speak (web/locale)


@dataclass(frozen=True)
class User:
    """A member of staff as the system knows them: a role, and the municipality and team they work in."""

    username: str
    display_name: str
    role: str
    municipality: str | None = None
    team: str | None = None
    language: str | None = None  # da, sv or en; None: the municipality's language (operations: English)

    @property
    def works_cases(self) -> bool:
        """Tell whether the role opens cases at all (operations only sees runs and counts)."""
        return self.role in ("caseworker", "team_lead", "manager")

    @property
    def inbox_owners(self) -> tuple[str, ...]:
        """Return whose to-dos make up this user's inbox: their own and, for a team lead, their role's."""
        owners = [self.username]
        if self.role == "team_lead" and self.team:
            owners.append(f"team_lead:{self.team}")
        if self.role == "manager" and self.municipality:
            owners.append(f"manager:{self.municipality}")
        return tuple(owners)

    @property
    def queue(self) -> str | None:
        """Return the team queue this user picks work from, if any."""
        return team_queue(self.team) if self.team else None


def check_new_user(user: User, known_teams: dict[str, tuple[str, ...]]) -> None:
    """Refuse a user whose role, municipality or team does not fit (known_teams: municipality -> teams)."""
    if not USERNAME.match(user.username):
        raise InputError(
            f"username {user.username!r}: use 2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter"
            " or digit"
        )
    if user.role not in ROLES:
        raise InputError(f"unknown role {user.role!r}; roles are {', '.join(ROLES)}")
    if user.language is not None and user.language not in LANGUAGES:
        raise InputError(f"unknown language {user.language!r}; languages are {', '.join(LANGUAGES)}")
    if user.role == "operations":
        if user.municipality or user.team:
            raise InputError("operations staff belong to no municipality or team: they see counts, not cases")
        return
    if not user.municipality:
        raise InputError(f"a {user.role} needs a municipality")
    if user.municipality not in known_teams:
        raise InputError(f"unknown municipality {user.municipality!r}; known: {', '.join(sorted(known_teams))}")
    if user.role in ("caseworker", "team_lead"):
        teams = known_teams[user.municipality]
        if not user.team:
            raise InputError(f"a {user.role} needs a team; teams in {user.municipality}: {', '.join(teams)}")
        if user.team not in teams:
            raise InputError(f"unknown team {user.team!r} in {user.municipality}; teams: {', '.join(teams)}")


def may_view_case(user: User, case: Case) -> bool:
    """Tell whether a user may open a case: caseworkers and team leads their team's, managers their municipality's."""
    if user.role in ("caseworker", "team_lead"):
        return case.municipality == user.municipality and case.team == user.team
    if user.role == "manager":
        return case.municipality == user.municipality
    return False  # operations: runs and counts, never a citizen's case


def may_complete(user: User, case: Case, assignee: str) -> bool:
    """Tell whether a user may complete a to-do: their own, their team queue's, or as lead any in the team."""
    if not may_view_case(user, case):
        return False
    if user.role == "team_lead":
        return True
    if user.role == "manager":
        return assignee in user.inbox_owners
    return assignee in (user.username, team_queue(case.team))


def may_work_case(user: User, case: Case) -> bool:
    """Tell whether a user may act on a case (book, pause, record, withdraw): the team's caseworkers and lead."""
    return user.role in ("caseworker", "team_lead") and may_view_case(user, case)


def may_reassign(user: User, case: Case) -> bool:
    """Tell whether a user may give a case to another caseworker: team leads, in their own team."""
    return user.role == "team_lead" and may_view_case(user, case)


def check_caseworker(name: str, staff: User | None, municipality: str, team: str) -> User:
    """Refuse to make anyone but an active caseworker of the team responsible for a case."""
    # A case held by a name nobody signs in as leaves its to-dos in no one's inbox.
    if staff is None:
        raise NotFoundError(f"unknown caseworker {name!r}: no active user by that name", {"caseworker": "unknown"})
    if staff.role != "caseworker" or (staff.municipality, staff.team) != (municipality, team):
        raise InputError(f"{name!r} is not a caseworker in team {team} of {municipality}", {"caseworker": "not"})
    return staff


def check_colleague(name: str, staff: User | None, municipality: str, field: str = "held_by") -> User:
    """Refuse to name anyone but an active member of the municipality's staff who works cases."""
    # Who held a job conversation is part of the record (issue 13): a name nobody signs in as is a typo.
    if staff is None:
        raise InputError(f"unknown person {name!r}: no active user by that name", {field: "unknown"})
    if not staff.works_cases or staff.municipality != municipality:
        raise InputError(f"{name!r} does not work cases in {municipality}", {field: f"not staff of {municipality}"})
    return staff


def may_record_application(user: User, municipality: str) -> bool:
    """Tell whether a user may open a case in a municipality."""
    return user.works_cases and user.municipality == municipality


def visible_case(tx: Cases, user: User, case_id: str) -> Case:
    """Return a case the user may see; one that is missing and one that is not theirs answer alike."""
    case = tx.cases([case_id]).get(case_id)
    if case is None:
        raise NotFoundError(f"No case {case_id} visible to you.", {"case_id": "not found"})
    if not may_view_case(user, case):
        raise AccessDenied(f"No case {case_id} visible to you.", {"case_id": "not found"}, case.id, case.municipality)
    return case


def visible_todo(tx: CasesAndTodos, user: User, todo_id: str) -> tuple[TodoView, Case]:
    """Return a to-do the user may see with its case; missing and not theirs answer alike."""
    todo = tx.todo(todo_id)
    case = tx.cases([todo.case_id]).get(todo.case_id) if todo else None
    if todo is None or case is None:
        raise NotFoundError(f"No to-do {todo_id} visible to you.", {"todo_id": "not found"})
    if not may_view_case(user, case):
        raise AccessDenied(f"No to-do {todo_id} visible to you.", {"todo_id": "not found"}, case.id, case.municipality)
    return todo, case
