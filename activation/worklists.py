"""The caseworker's lists: the inbox (what is late first) and the team lead's view, a page at a time.

The inbox leads with what is late: overdue to-dos and the meetings and offers the citizen is owed
(obligation periods, README "Obligations"), counted with COUNT queries, never by the length of a
capped list. Every list is paged and keeps the reader's filters; the entry points only say what was
asked and show what comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from activation.access import User
from activation.config import RuleBook
from activation.errors import ForbiddenError
from activation.reads import SORTS, CaseloadLine, DueWindows, Reads, WorkCounts, WorkFilter, WorkLine

PAGE_SIZE = 25
WINDOWS = ("overdue", "today", "week")
HOLDERS = ("me", "queue", "team")  # a team lead's choice; a caseworker's lists are always their own


def due_windows(now: datetime, timezone: str) -> DueWindows:
    """Return now, the end of today and the end of this week (Sunday midnight) in the municipality's zone."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    day_end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    week_end = datetime.combine(today + timedelta(days=7 - today.weekday()), time(0), tzinfo=zone)
    return DueWindows(now, day_end, week_end)


@dataclass(frozen=True)
class Choice:
    """What the reader asked the lists to show: filters, the order and a page number per list."""

    stage: str | None = None
    kind: str | None = None  # a to-do's kind or an obligation's cadence
    group: str | None = None
    window: str | None = None  # overdue | today | week
    holder: str = "me"
    sort: str = "due"
    pages: Mapping[str, int] = field(default_factory=dict)

    def page(self, name: str) -> int:
        """Return the page number asked for one list (1 if none)."""
        return max(1, self.pages.get(name, 1))

    @property
    def narrowed(self) -> bool:
        """Tell whether a filter beyond the holder narrows the lists."""
        return bool(self.stage or self.kind or self.group)


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and where it sits in the whole."""

    items: list[T]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        """Count the pages (at least one, even for an empty list)."""
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """Return the position of the first line shown (0 for an empty list)."""
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last(self) -> int:
        """Return the position of the last line shown."""
        return (self.number - 1) * self.size + len(self.items)


def _page(fetch: Callable[[WorkFilter], list[WorkLine]], query: WorkFilter, number: int, total: int) -> Page[WorkLine]:
    # A page past the end shows the last one: a list that shrank meanwhile is not an empty page.
    size = query.limit
    number = min(number, max(1, -(-total // size)))
    items = fetch(replace(query, offset=(number - 1) * size)) if total else []
    return Page(items, total, number, size)


def page_of(items: list[T], number: int, size: int) -> Page[T]:
    """Return page `number` of a list held in memory (a page past the end: the last one)."""
    number = min(number, max(1, -(-len(items) // size)))
    return Page(items[(number - 1) * size : number * size], len(items), number, size)


def _window(query: WorkFilter, window: str | None, windows: DueWindows) -> WorkFilter:
    if window == "overdue":
        return replace(query, due_before=windows.now)
    if window == "today":
        return replace(query, due_from=windows.now, due_before=windows.day_end)
    if window == "week":
        return replace(query, due_from=windows.now, due_before=windows.week_end)
    return query


def _checked(choice: Choice) -> Choice:
    # Unknown values read as "any": a hand-edited address shows the whole list, not an error.
    return replace(
        choice,
        window=choice.window if choice.window in WINDOWS else None,
        holder=choice.holder if choice.holder in HOLDERS else "me",
        sort=choice.sort if choice.sort in SORTS else "due",
    )


def team_unique(rules: RuleBook, team: str | None) -> bool:
    """Tell whether only one municipality has a team of this code (then its queue's name is its own)."""
    return sum(1 for m in rules.municipalities.values() if team in m.teams) <= 1


def _base(rules: RuleBook, user: User, choice: Choice, size: int) -> WorkFilter:
    if not user.municipality or user.role not in ("caseworker", "team_lead"):
        raise ForbiddenError("Only caseworkers and team leads have an inbox.")
    query = WorkFilter(user.municipality, sort=choice.sort, limit=size, team_unique=team_unique(rules, user.team))
    if user.role == "team_lead" and choice.holder == "team":
        return replace(query, team=user.team)
    if user.role == "team_lead" and choice.holder == "queue" and user.queue:
        return replace(query, holders=(user.queue,))
    return replace(query, holders=user.inbox_owners)


def _narrow(query: WorkFilter, choice: Choice) -> WorkFilter:
    return replace(query, stage=choice.stage or None, kind=choice.kind or None, group=choice.group or None)


def _in_window(counts: WorkCounts, window: str | None, unwindowed: int) -> int:
    return {"overdue": counts.overdue, "today": counts.today, "week": counts.week}.get(window or "", unwindowed)


@dataclass(frozen=True)
class Inbox:
    """What a caseworker (or team lead) sees first: true counts, then each list a page at a time."""

    todos: WorkCounts  # the holder's open to-dos, unfiltered
    obligations: WorkCounts  # open obligation periods of the holder's cases, unfiltered
    queue_total: int
    late: Page[WorkLine]  # overdue to-dos
    owed: Page[WorkLine]  # obligation periods overdue or due in the window (default: this week)
    mine: Page[WorkLine]  # the holder's to-dos in the window, in the chosen order
    queue: Page[WorkLine]
    team_overdue: Page[WorkLine] | None  # a team lead's: every overdue to-do in the team

    @property
    def overdue(self) -> int:
        """Count what is late: overdue to-dos and overdue obligation periods."""
        return self.todos.overdue + self.obligations.overdue


def inbox(
    reads: Reads, rules: RuleBook, user: User, choice: Choice, windows: DueWindows, size: int = PAGE_SIZE
) -> Inbox:
    """Return a user's inbox: counts of what is late and due, overdue to-dos and obligations, then the rest."""
    choice = _checked(choice)
    base = _base(rules, user, choice, size)
    todos = reads.count_todos(base, windows)
    # Every obligation count shown is of those overdue or due this week: the count reads no further.
    obligations = reads.count_obligations(replace(base, due_before=windows.week_end), windows)
    narrow = _narrow(base, choice)

    def total(query: WorkFilter, known: int, count: Callable[[WorkFilter, DueWindows], WorkCounts]) -> int:
        # The counters already hold the total of an unnarrowed list: no second COUNT for it.
        return known if not choice.narrowed else count(query, windows).total

    late_q = _window(narrow, "overdue", windows)
    late = _page(reads.work_todos, late_q, choice.page("late"), total(late_q, todos.overdue, reads.count_todos))
    # Obligations run for months: without a window the list shows those overdue or due this week.
    owed_q = _window(narrow, choice.window, windows) if choice.window else replace(narrow, due_before=windows.week_end)
    owed_all = _in_window(obligations, choice.window, obligations.overdue + obligations.week)
    owed = _page(reads.work_obligations, owed_q, choice.page("owed"), total(owed_q, owed_all, reads.count_obligations))
    mine_q = _window(narrow, choice.window, windows)
    mine_all = _in_window(todos, choice.window, todos.total)
    mine = _page(reads.work_todos, mine_q, choice.page("mine"), total(mine_q, mine_all, reads.count_todos))
    queue_all = replace(base, team=None, holders=(user.queue,) if user.queue else ())
    queue_counts = reads.count_todos(queue_all, windows)
    queue_q = _window(_narrow(queue_all, choice), choice.window, windows)
    queue_total = total(queue_q, _in_window(queue_counts, choice.window, queue_counts.total), reads.count_todos)
    queue = _page(reads.work_todos, queue_q, choice.page("queue"), queue_total)
    team_overdue = None
    if user.role == "team_lead":
        team_q = _window(_narrow(replace(base, team=user.team, holders=None), choice), "overdue", windows)
        team_overdue = _page(reads.work_todos, team_q, choice.page("team"), reads.count_todos(team_q, windows).total)
    return Inbox(todos, obligations, queue_counts.total, late, owed, mine, queue, team_overdue)


@dataclass(frozen=True)
class TeamView:
    """A team lead's view: the team's overdue work first, then each caseworker's load, then the queue."""

    overdue_todos: Page[WorkLine]
    overdue_obligations: Page[WorkLine]
    queue_load: CaseloadLine  # the team queue's line (caseworker None), above every page of the caseload
    caseload: Page[CaseloadLine]  # each caseworker, then anyone else still holding a case of the team
    queue: Page[WorkLine]


def team_view(
    reads: Reads,
    rules: RuleBook,
    lead: User,
    caseworkers: list[str],
    choice: Choice,
    windows: DueWindows,
    size: int = PAGE_SIZE,
) -> TeamView:
    """Return a team's overdue to-dos and obligations, caseload per caseworker and the team queue, paged."""
    if lead.role != "team_lead" or not lead.municipality or not lead.team:
        raise ForbiddenError("Only a team's lead sees the team view.")
    choice = _checked(choice)
    unique = team_unique(rules, lead.team)
    team = WorkFilter(lead.municipality, team=lead.team, sort=choice.sort, limit=size, team_unique=unique)
    late = _window(_narrow(team, choice), "overdue", windows)
    todos = _page(reads.work_todos, late, choice.page("late"), reads.count_todos(late, windows).total)
    owed = _page(reads.work_obligations, late, choice.page("owed"), reads.count_obligations(late, windows).total)
    queue_q = _window(replace(_narrow(team, choice), team=None, holders=(lead.queue or "",)), choice.window, windows)
    queue = _page(reads.work_todos, queue_q, choice.page("queue"), reads.count_todos(queue_q, windows).total)
    # The caseload a page of people at a time: the active caseworkers, then anyone no longer active
    # who still holds a case of the team (cases nobody works on).
    holders = reads.case_holders(lead.municipality, lead.team)
    people = page_of(list(dict.fromkeys([*caseworkers, *holders])), choice.page("load"), size)
    load = reads.caseload(lead.municipality, lead.team, people.items, windows.now, unique)

    def line(who: str | None) -> CaseloadLine:
        return CaseloadLine(who, *load.get(who, (0, 0, 0, 0)))

    lines = Page([line(who) for who in people.items], people.total, people.number, people.size)
    return TeamView(todos, owed, line(None), lines, queue)
