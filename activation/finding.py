"""Finding a case by its exact case id or the citizen's exact reference, only within the user's access.

A search that matches a case the user may not see answers exactly as one that matches nothing
("No case found"): nobody learns whether a citizen has a case in another team or municipality.
The entry point audits every search without the reference itself (README "Security").
"""

from __future__ import annotations

from dataclasses import dataclass

from activation import access
from activation.access import User
from activation.errors import ForbiddenError
from activation.model import Case
from activation.reads import CaseLine, Reads

LONGEST = 128  # case ids and citizen references are at most this long (tables.cases)


@dataclass(frozen=True)
class Found:
    """What a search found: the cases the user may see and by what; matches outside access are kept apart."""

    cases: tuple[CaseLine, ...]
    by: str  # "case id", "citizen reference", or "" when nothing the user may see matched
    refused: tuple[CaseLine, ...]  # matched but not the user's to see: audited as refused, never shown

    @property
    def audit_detail(self) -> str:
        """Say how the search went, for the audit log, without what was typed (it may be a citizen's number)."""
        return f"found by {self.by}" if self.cases else "no case found"


def as_case(line: CaseLine) -> Case:
    """Return a case line as the access rules take it."""
    return Case(line.id, line.municipality, line.citizen_ref, line.team, line.caseworker, line.stage,
                line.stage_entered_at, line.status, line.target_group)  # fmt: skip


def find_case(reads: Reads, user: User, text: str) -> Found:
    """Find the cases whose id or citizen reference is exactly the text, among those the user may see."""
    if not user.works_cases:
        raise ForbiddenError("Only caseworkers, team leads and managers search cases.")
    key = text.strip()
    if not key or len(key) > LONGEST:
        return Found((), "", ())
    # Case ids are lower-case ("c-7k2m9qxa") and get read aloud; a reference is the municipality's own, exact.
    matched = reads.find_cases(user.municipality, [key, key.lower()], key)
    visible = tuple(c for c in matched if access.may_view_case(user, as_case(c)))
    refused = tuple(c for c in matched if c not in visible)
    if not visible:
        return Found((), "", refused)
    by = "case id" if any(c.id in (key, key.lower()) for c in visible) else "citizen reference"
    return Found(visible, by, refused)
