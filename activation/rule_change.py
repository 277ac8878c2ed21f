"""A new version of a municipality's rules meets running cases: preview what moves, then apply exactly that.

The preview and the application run the same computation (`_plan`), so what a manager is shown
before applying is what applying writes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from activation.config import ConfigError, Municipality, RuleBook, RuleVersion
from activation.deadlines import alarm_records, plan_alarms, plan_deadline, replay_pauses
from activation.errors import ConflictError, InputError, NotFoundError
from activation.model import AuditEntry, Case, DeadlineRevision
from activation.ports import RulePlanning, Store, UnitOfWork
from activation.reads import RuleChangeRecord


@dataclass(frozen=True)
class Move:
    """One open deadline the new version moves."""

    deadline_id: str
    case_id: str
    rule_key: str
    stage: str
    team: str
    due_before: datetime
    due_after: datetime
    fire_at_once: tuple[str, ...]  # alarm steps ("r1", "e2") already due under the new time
    revision: DeadlineRevision

    @property
    def hours(self) -> float:
        """Return how far the deadline moves, in hours (negative: earlier)."""
        return (self.due_after - self.due_before).total_seconds() / 3600


@dataclass
class ChangePreview:
    """What applying a version to running cases does, before (or as) it is done."""

    municipality: str
    version: str
    stamp: str
    effective_from: str | None
    changed_rules: list[str]
    policies: dict[str, str]
    moves: list[Move] = field(default_factory=list)
    kept: Counter[str] = field(default_factory=Counter)  # open deadlines left as they are, per rule
    paused: Counter[str] = field(default_factory=Counter)  # stopped clocks: recomputed when they resume
    already: int = 0  # open deadlines already stamped with this version (applied before)
    applied: bool = False

    def summary(self) -> dict[str, Any]:
        """Return the figures a manager decides on: moves per rule, stage and team, and alarms due at once."""
        by: dict[str, Counter[str]] = {"rule": Counter(), "stage": Counter(), "team": Counter()}
        at_once: dict[str, Counter[str]] = defaultdict(Counter)
        for m in self.moves:
            by["rule"][m.rule_key] += 1
            by["stage"][m.stage] += 1
            by["team"][m.team] += 1
            for step in m.fire_at_once:
                kind = "reminders" if step.startswith("r") else "escalations"
                at_once[kind][m.team] += 1
        hours = sorted(m.hours for m in self.moves)
        return {
            "municipality": self.municipality,
            "version": self.version,
            "stamp": self.stamp,
            "effective_from": self.effective_from,
            "applied": self.applied,
            "changed_rules": self.changed_rules,
            "policies": self.policies,
            "moved": len(self.moves),
            "moved_per_rule": dict(by["rule"]),
            "moved_per_stage": dict(by["stage"]),
            "moved_per_team": dict(by["team"]),
            "earlier": sum(1 for h in hours if h < 0),
            "later": sum(1 for h in hours if h > 0),
            "hours_min": round(hours[0], 1) if hours else None,
            "hours_median": round(hours[len(hours) // 2], 1) if hours else None,
            "hours_max": round(hours[-1], 1) if hours else None,
            "fire_at_once": {kind: dict(teams) for kind, teams in at_once.items()},
            "fire_at_once_total": sum(sum(c.values()) for c in at_once.values()),
            "kept": dict(self.kept),
            "paused": dict(self.paused),
            "already_applied": self.already,
        }


def changed_rules(old: Municipality, new: Municipality) -> list[str]:
    """Return the rule keys whose rule differs between two versions (deadlines, interventions, cadences)."""
    keys = set(old.deadlines) | set(new.deadlines)
    keys |= {f"interventions.{k}" for k in set(old.interventions) | set(new.interventions)}
    for rules in (old, new):
        for group in rules.groups:
            keys |= set(rules.cadences(group))
    changed = []
    for key in sorted(keys):
        try:
            before = old.rule(key).model_dump(mode="json")
        except KeyError:
            before = None
        try:
            after = new.rule(key).model_dump(mode="json")
        except KeyError:
            after = None
        if before != after:
            changed.append(key)
    return changed


def _has_rule(municipality: Municipality, key: str) -> bool:
    try:
        municipality.rule(key)
    except KeyError:
        return False
    return True


def _version(rules: RuleBook, code: str, version: str) -> RuleVersion:
    try:
        return rules.find_version(code, version)
    except ConfigError as exc:
        raise NotFoundError("; ".join(exc.problems), {"version": "not found"}) from None


def _previous(rules: RuleBook, target: RuleVersion) -> RuleVersion:
    previous = rules.before(target)
    if previous is target:
        raise InputError(f"{target.version} is the first version of {target.municipality.code}: nothing changes")
    return previous


def _plan(tx: RulePlanning, rules: RuleBook, code: str, version: str, now: datetime) -> ChangePreview:
    target = _version(rules, code, version)
    previous = _previous(rules, target)
    changed = changed_rules(previous.municipality, target.municipality)
    preview = ChangePreview(
        municipality=target.municipality.code,
        version=target.version,
        stamp=target.stamp,
        effective_from=target.effective_from.isoformat() if target.effective_from else None,
        changed_rules=changed,
        policies={key: target.policy(key) for key in changed},
    )
    if not changed:
        return preview
    municipality = target.municipality
    open_ones = tx.open_deadlines_of_rules(municipality.code, changed)
    # One read for every case's pauses: a recompute lives them again (below).
    pauses = tx.pauses_of(sorted({d.case_id for d in open_ones}))
    for d in open_ones:
        key = d.rule_key
        if d.config_version == target.stamp:
            preview.already += 1
            continue
        if target.policy(key) != "recompute" or not _has_rule(target.municipality, key):
            # A rule the version removes (a law ending an obligation) leaves its open periods as they are.
            preview.kept[key] += 1
            continue
        if d.paused_since is not None:
            preview.paused[key] += 1
            continue
        new_plan = plan_deadline(municipality, target.stamp, key, d.started_at, d.start_event)
        # The time past pauses gave is kept by living them again under the new rule, on its calendar.
        new_due = replay_pauses(municipality, key, d.started_at, new_plan.due_at, pauses.get(d.case_id, []))
        if new_due == d.due_at:
            preview.kept[key] += 1
            continue
        case = Case(d.case_id, municipality.code, "", d.team, d.caseworker, d.stage or "", d.started_at)
        assignee = d.assignee or case.assignee
        revision = d.revision + 1
        # Steps that already fired under the old time do not fire again; the rest get new rows.
        planned = tuple(
            a
            for a in plan_alarms(municipality, key, new_due, not_before=d.started_at)
            if f"{a.kind[0]}{a.step}" not in d.fired_steps
        )
        alarms = alarm_records(f"{d.id}@{revision}", d.id, case, assignee, planned, new_due)
        fire_now = tuple(
            f"{a.kind[0]}{a.step}"
            for a in planned
            if a.fires_at <= now and not (a.kind == "reminder" and new_due <= now)  # the sweep skips those
        )
        old_text = d.due_at.astimezone(ZoneInfo(municipality.timezone)).strftime("%a %d %b %Y %H:%M")
        reason = (
            f"rule version {target.version} (from {preview.effective_from}, policy recompute) applied:"
            f" was due {old_text}; {new_plan.explanation}"
        )
        revision_record = DeadlineRevision(
            d.id, revision, d.due_at, new_due, reason, alarms, config_version=target.stamp
        )
        preview.moves.append(
            Move(d.id, d.case_id, key, d.stage or "obligation", d.team, d.due_at, new_due, fire_now,
                 revision_record)
        )  # fmt: skip
    return preview


def preview_version(
    store: UnitOfWork[RulePlanning], rules: RuleBook, code: str, version: str, now: datetime
) -> ChangePreview:
    """Show what applying a rule version to running cases would do; write nothing."""
    with store.transaction() as tx:
        return _plan(tx, rules, code, version, now)


def apply_version(
    store: Store,
    rules: RuleBook,
    code: str,
    version: str,
    now: datetime,
    by: str = "manager",
    via: str | None = None,
    role: str = "system",
) -> ChangePreview:
    """Apply a rule version to running cases as previewed: recompute what its policy says, keep the rest.

    With `via` (the channel: "cli", "web") the application, or its refusal, is audited as `apply_rules`.
    """
    target = _version(rules, code, version)
    refused = _refusal(target, code, now)
    if refused is not None:
        if via is not None:
            with store.transaction() as tx:
                tx.record_access(
                    [AuditEntry(by[:64], role, "apply_rules", None, code.lower(), via,
                                f"{target.version} refused: {refused}")],
                    now,
                )  # fmt: skip
        raise refused
    with store.transaction() as tx:
        preview = _plan(tx, rules, code, version, now)
        tx.revise_deadlines([m.revision for m in preview.moves], now)
        preview.applied = True
        tx.record_rule_change(
            RuleChangeRecord(
                municipality=preview.municipality,
                version=preview.version,
                stamp=preview.stamp,
                applied_at=now,
                applied_by=by,
                moved=len(preview.moves),
                summary=preview.summary(),
            )
        )
        if via is not None:
            detail = f"{preview.version}: {len(preview.moves)} deadlines moved"
            tx.record_access([AuditEntry(by[:64], role, "apply_rules", None, preview.municipality, via, detail)], now)
    return preview


def _refusal(target: RuleVersion, code: str, now: datetime) -> InputError | None:
    """Return why a version cannot be applied now, if it cannot."""
    if not target.appliable:
        # Issue 13: a bill is previewed and simulated, never applied; a repealed act never again.
        return ConflictError(
            f"{code} {target.version} is {target.status.replace('_', ' ')}: it can be previewed"
            " (config diff) and simulated (simulate --compare), not applied",
            {"version": target.status},
        )
    if target.effective_from is not None and now.date() < target.effective_from:
        return InputError(
            f"{code} {target.version} takes effect on {target.effective_from}; apply it then (now is {now.date()})"
        )
    return None


def national_members(rules: RuleBook, baseline: str) -> list[str]:
    """Return the municipalities whose rules extend a national baseline ("dk", "se")."""
    name = baseline.lower()
    if name not in rules.national:
        known = ", ".join(sorted(rules.national)) or "none"
        raise NotFoundError(f"unknown national baseline {baseline!r}; baselines: {known}", {"baseline": "unknown"})
    return sorted(code for code, m in rules.municipalities.items() if m.extends.lower() == name)
