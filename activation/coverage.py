"""Caseload coverage targets: the share of a group's cases that met an obligation, with capped exemptions.

From 1 July 2026 a Danish municipality must give at least 75 % of a group the job conversations and
an offer within the first 6 months; up to 25 % may be exempted by a recorded, reasoned assessment
(LOV nr. 1750 af 29/12/2025; STAR Q&A 04-06-2025). How a month is counted (README "Caseload
coverage targets"):

1. The month's cases: every case with a period of the target's obligation due in that month (local
   time); periods closed as ``ended`` (the obligations ended, or the group changed) are left out.
2. A case *met* if every such period closed as ``met``; it is *pending* while one is open and not yet
   due (only in the current month); otherwise it did not meet the obligation.
3. Exemptions are taken only for cases that did not meet it (a case that met needs none), in the
   order they were recorded (then by case id), up to floor(cases x max_exempt / 100); the rest count
   as not met ("over the cap").
4. share = met / (cases - exemptions taken); "reachable" adds the pending cases to the met ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from activation.access import User
from activation.case_actions import workable_case
from activation.config import CoverageTarget, Municipality, RuleBook
from activation.errors import ConflictError, InputError, NotFoundError
from activation.lifecycle import CaseStatus
from activation.model import AuditEntry, Exemption
from activation.ports import ExemptionWork, UnitOfWork

NOTE_MAX = 500


@dataclass(frozen=True)
class PeriodFact:
    """One period of a measured obligation: its case, when it was due and how it closed (or open)."""

    case_id: str
    due_at: datetime
    status: str  # open | met | missed


@dataclass(frozen=True)
class CoverageMonth:
    """One month of a coverage target: how many cases, met, pending, exempted, and the share."""

    month: tuple[int, int]
    target: float  # per cent
    cases: int
    met: int
    pending: int  # open and not yet due: may still be met this month
    exempt: int  # exemptions taken (within the cap)
    over_cap: int  # exemptions beyond the allowed share: counted as not met
    allowed: int  # floor(cases x max_exempt / 100)
    current: bool  # the month is not over: its figures are a forecast

    @property
    def counted(self) -> int:
        """Return the denominator: the month's cases less the exemptions taken."""
        return self.cases - self.exempt

    @property
    def share(self) -> float | None:
        """Return met / counted (pending counted as not met), or None for a month without cases."""
        return self.met / self.counted if self.counted else None

    @property
    def reachable(self) -> float | None:
        """Return the share if every pending case meets the obligation in time."""
        return (self.met + self.pending) / self.counted if self.counted else None

    @property
    def reached(self) -> bool | None:
        """Tell whether the target is reached (a current month: whether it still can be); None without cases."""
        value = self.reachable if self.current else self.share
        return None if value is None else value * 100 >= self.target - 1e-9

    def figures(self) -> dict[str, object]:
        """Return the month's counts and shares as plain values (CLI --json, the API)."""
        counts = {k: getattr(self, k) for k in ("target", "cases", "met", "pending", "exempt", "over_cap", "allowed")}
        month = f"{self.month[0]:04d}-{self.month[1]:02d}"
        derived = {"counted": self.counted, "share": self.share, "reachable": self.reachable, "reached": self.reached}
        return {"month": month, "forecast": self.current, **counts, **derived}


def month_of(moment: datetime, timezone: str) -> tuple[int, int]:
    """Return the (year, month) a moment falls in, local time."""
    local = moment.astimezone(ZoneInfo(timezone))
    return (local.year, local.month)


def measure(
    target: CoverageTarget,
    periods: Sequence[PeriodFact],
    exemptions: Sequence[Exemption],
    months: Sequence[tuple[int, int]],
    timezone: str,
    now: datetime,
) -> list[CoverageMonth]:
    """Return the coverage of each month, counted as the module says."""
    by_month: dict[tuple[int, int], dict[str, list[PeriodFact]]] = {m: {} for m in months}
    for period in periods:
        cases = by_month.get(month_of(period.due_at, timezone))
        if cases is not None and period.status != "ended":
            cases.setdefault(period.case_id, []).append(period)
    ordered = sorted(exemptions, key=lambda e: (e.recorded_at, e.case_id))
    this_month = month_of(now, timezone)
    found = []
    for month, cases in by_month.items():
        met = {c for c, ps in cases.items() if all(p.status == "met" for p in ps)}
        pending = {
            c
            for c, ps in cases.items()
            if c not in met and all(p.status == "met" or (p.status == "open" and p.due_at > now) for p in ps)
        }
        allowed = math.floor(len(cases) * target.max_exempt / 100 + 1e-9)
        wanting = [e.case_id for e in ordered if e.case_id in cases and e.case_id not in met]
        taken = set(wanting[:allowed])
        found.append(
            CoverageMonth(
                month=month,
                target=target.target,
                cases=len(cases),
                met=len(met),
                pending=len(pending - taken),
                exempt=len(taken),
                over_cap=len(wanting) - len(taken),
                allowed=allowed,
                current=month >= this_month,
            )
        )
    return found


def target_since(rules: RuleBook, code: str, key: str, now: datetime) -> date | None:
    """Return the day a coverage target took effect in the rules in force now (None: in every version)."""
    # A target placed in a dated national version (LOV nr. 1750/2025: from 2026-07-01) is not measured
    # for months before it: no municipality was held to 75 % then.
    history = rules.history.get(code.lower(), ())
    local = now.astimezone(ZoneInfo(history[0].municipality.timezone)).date() if history else now.date()
    since: date | None = None
    unbroken = False
    for version in history:
        if version.effective_from is not None and version.effective_from > local:
            break
        if key in version.municipality.coverage_targets:
            if not unbroken:
                since, unbroken = version.effective_from, True
        else:
            since, unbroken = None, False
    return since


@dataclass(frozen=True)
class ExemptionRecorded:
    """An exemption recorded, or the same one found again."""

    exemption: Exemption
    repeated: bool


def record_exemption(
    store: UnitOfWork[ExemptionWork],
    rules: RuleBook,
    case_id: str,
    target_key: str,
    reason: str,
    now: datetime,
    by: str,
    role: str,
    via: str,
    note: str | None = None,
) -> ExemptionRecorded:
    """Exempt a case from a coverage target with a configured reason; audited in the same transaction."""
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise InputError(f"a note holds at most {NOTE_MAX} characters", {"note": f"at most {NOTE_MAX} characters"})
    with store.transaction() as tx:
        case = tx.cases([case_id]).get(case_id)
        if case is None:
            raise NotFoundError(f"unknown case {case_id!r}", {"case_id": "unknown"})
        municipality = rules.as_of(now).municipality(case.municipality)
        target = _target(municipality, target_key)
        if reason not in municipality.exemption_reasons:
            known = ", ".join(municipality.exemption_reasons)
            raise InputError(f"unknown reason {reason!r}; reasons: {known}", {"reason": "choose a reason"})
        if case.status != CaseStatus.OPEN or case.group != target.group:
            raise ConflictError(
                f"case {case_id} is not an open case of group {target.group!r}, which target {target_key} measures",
                {"target": "not this case's group"},
            )
        exemption = Exemption(case_id, case.municipality, target_key, reason, by, now, note)
        earlier = tx.exemption(case_id, target_key)
        if earlier is None and tx.add_exemption(exemption):
            detail = f"{target_key}: {reason}"
            tx.record_access([AuditEntry(by[:64], role, "exempt", case_id, case.municipality, via, detail)], now)
            return ExemptionRecorded(exemption, False)
        earlier = earlier or tx.exemption(case_id, target_key)
        assert earlier is not None, "an exemption that was refused as a duplicate exists"
    if earlier.reason != reason:
        raise ConflictError(
            f"case {case_id} was exempted from {target_key} on {earlier.recorded_at:%Y-%m-%d} by"
            f" {earlier.recorded_by} ({earlier.reason})",
            {"reason": "already exempted for another reason"},
        )
    return ExemptionRecorded(earlier, True)


def _target(municipality: Municipality, key: str) -> CoverageTarget:
    target = municipality.coverage_targets.get(key)
    if target is None:
        known = ", ".join(municipality.coverage_targets) or "none"
        raise InputError(f"unknown coverage target {key!r}; targets: {known}", {"target": "choose a target"})
    if not target.max_exempt:
        raise InputError(f"coverage target {key} allows no exemptions", {"target": "allows no exemptions"})
    return target


def record_exemption_for(
    store: UnitOfWork[ExemptionWork],
    rules: RuleBook,
    user: User,
    case_id: str,
    target_key: str,
    reason: str,
    now: datetime,
    via: str,
    note: str | None = None,
) -> ExemptionRecorded:
    """Exempt a case as a signed-in caseworker or team lead of its team (web, API)."""
    with store.transaction() as tx:
        workable_case(tx, user, case_id)
    return record_exemption(store, rules, case_id, target_key, reason, now, user.username, user.role, via, note)
