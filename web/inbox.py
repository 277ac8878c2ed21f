"""The inbox: what is late first (to-dos and the meetings and offers owed), every list paged and filtered.

The lists come from activation/worklists.py; this module reads the query string (filters, order,
a page number per list), adds the words of the filter form and renders. Filters are GET parameters,
so paging, bookmarking and the back button keep them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from activation import access, finding, journey, worklists
from activation.access import User
from activation.adapters.db import reading
from activation.config import Municipality
from activation.worklists import Choice, Page
from web.app import clock, page, require, runtime
from web.queries import notifications_for

router = APIRouter(include_in_schema=False)

LISTS = ("late", "owed", "mine", "queue", "team", "load")
FILTERS = ("stage", "kind", "group", "due", "holder", "sort")
LONGEST_PAGE = 100_000  # a page number past any list: read as the last page


def choice_of(request: Request) -> Choice:
    """Read the reader's filters, order and page numbers from the query string."""
    q = request.query_params
    pages = {name: min(int(raw), LONGEST_PAGE) for name in LISTS if (raw := q.get(f"{name}_page", "")).isdigit()}
    return Choice(
        stage=q.get("stage") or None,
        kind=q.get("kind") or None,
        group=q.get("group") or None,
        window=q.get("due") or None,
        holder=q.get("holder") or "me",
        sort=q.get("sort") or "due",
        pages=pages,
    )


def page_url(request: Request) -> Callable[[str, int, str], str]:
    """Return a function giving the address of page n of a list, keeping every filter and the other pages."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k in FILTERS or k.endswith("_page")]

    def url(name: str, number: int, anchor: str) -> str:
        params = [(k, v) for k, v in kept if k != f"{name}_page"]
        if number > 1:
            params.append((f"{name}_page", str(number)))
        return f"{request.url.path}?{urlencode(params)}#{anchor}" if params else f"{request.url.path}#{anchor}"

    return url


def page_numbers(found: Page[Any]) -> list[int | None]:
    """Return the page numbers to link: the first, the last and two either side of this one (None: a gap)."""
    wanted = {1, found.pages, *range(found.number - 2, found.number + 3)}
    numbers: list[int | None] = []
    for n in sorted(x for x in wanted if 1 <= x <= found.pages):
        if numbers and numbers[-1] is not None and n - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(n)
    return numbers


def filter_options(m: Municipality) -> dict[str, Any]:
    """Return the choices of the filter form as keys; the template words them through the glossary."""
    cadences = sorted({name for group in m.groups.values() for name in group.cadences})
    starters = [*journey.STARTERS.values(), *journey.FOLLOWS.values()]  # to-dos beside the journey
    return {
        "stages": [s for s in journey.stage_names() if s not in ("application", "closed")],
        "todo_kinds": list(dict.fromkeys([t.kind for t in journey.todos()] + [a.todo.kind for a in starters])),
        "cadences": cadences,
        "groups": sorted(m.groups),
    }


def list_context(request: Request, user: User, choice: Choice) -> dict[str, Any]:
    """Return what every page of lists shows beside the lists: the filter form, the pager's links."""
    m = runtime(request).rules.municipality(user.municipality or "")
    return {
        "choice": choice,
        "options": filter_options(m),
        "page_url": page_url(request),
        "page_numbers": page_numbers,
        "filtered": any(request.query_params.get(k) for k in FILTERS if k != "sort"),
    }


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request) -> Response:
    """Show what is late first (to-dos and obligations), with true counts, then my to-dos and the team queue."""
    user = require(request, "caseworker", "team_lead")
    rt = runtime(request)
    now = clock(request).now()
    choice = choice_of(request)
    windows = worklists.due_windows(now, rt.rules.municipality(user.municipality or "").timezone)
    with reading(rt.engine) as conn:
        alerts = notifications_for(conn, user.inbox_owners, limit=30)
    with rt.store.reads() as reads:
        found = worklists.inbox(reads, rt.rules, user, choice, windows)
        # The citizen's reference beside each alert's case id, where the user may see the case.
        ids = sorted({str(n["case_id"]) for n in alerts})
        cases = reads.find_cases(None, ids, None, limit=len(ids)) if ids else []
    refs = {c.id: c.citizen_ref for c in cases if access.may_view_case(user, finding.as_case(c))}
    return page(request, "inbox.html.j2", inbox=found, alerts=alerts, refs=refs, **list_context(request, user, choice))
