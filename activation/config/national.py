"""National versions: the law as dated versions of a country's baseline, each with its status and sources.

Layout: ``national/<baseline>.yaml`` is the first version (the baseline, e.g. LAB as of 2017) and
``national/<baseline>/<version>.yaml`` the later ones. Status of the act:

- ``proposed``  a bill: previewed and simulated, never part of the rules over time, never applied;
- ``adopted``   passed (or in force with a value still to verify): part of the rules from its date;
- ``in_force``  in force and verified against its sources: part of the rules from its date;
- ``repealed``  replaced by a later act: still the rules of its own period (old cases), not applied again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from activation.config.rules import Strict

STATUSES = ("proposed", "adopted", "in_force", "repealed")
# The statuses whose changes are part of the rules over time (from their effective date).
ACTIVE = ("adopted", "in_force", "repealed")
# Metadata a baseline file may carry beside its rules; it describes the act, it is not a rule.
BASELINE_META = ("status", "sources", "title", "verify")


class Citation(Strict):
    """Where a national version comes from: a public page, its title and date."""

    title: str = Field(min_length=3)
    url: str = Field(pattern=r"^https?://\S+$")
    published: dt.date | None = None
    searched: str | None = None  # the query that found and checked it (issue 13: each value verified)


class PendingRule(Strict):
    """A rule of the law that needs a rule kind the product does not have yet: documented, not enforced."""

    pending_kind: str = Field(min_length=3)  # e.g. count_in_first_period, hours_a_week, coverage_target
    rule: str = Field(min_length=3)
    value: str = Field(min_length=1)
    source: str = Field(min_length=3)


class NationalVersionFile(Strict):
    """A dated version of a national baseline, as written in national/<baseline>/<version>.yaml."""

    version: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=3)
    status: Literal["proposed", "adopted", "in_force", "repealed"]
    effective_from: date
    sources: list[Citation] = Field(min_length=1)
    verify: list[str] = Field(default_factory=list)  # what could not be verified yet
    note: str | None = None
    transition: dict[str, Literal["keep", "recompute", "not_started"]] = Field(default_factory=dict)
    pending: list[PendingRule] = Field(default_factory=list)
    changes: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _verified(self) -> NationalVersionFile:
        # Issue 13: nothing unverified is marked in force.
        if self.verify and self.status == "in_force":
            raise ValueError("status: in_force with open `verify:` notes; use adopted or proposed until verified")
        return self


@dataclass(frozen=True)
class NationalVersion:
    """One version of a country's rules over time (the first: the baseline file itself)."""

    baseline: str
    version: str
    title: str
    status: str
    effective_from: date | None
    sources: tuple[Citation, ...]
    verify: tuple[str, ...]
    pending: tuple[PendingRule, ...]
    transition: dict[str, str]
    changes: dict[str, Any]
    note: str | None
    path: Path
    # Per municipality that extends the baseline: rule keys this version changes but the municipality
    # overrides (its own rule applies; see README "National versions: the law over time").
    shadowed: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        """Tell whether the version is part of the rules over time (adopted or in force)."""
        return self.effective_from is None or self.status in ACTIVE


def baseline_version(name: str, path: Path, data: dict[str, Any]) -> tuple[NationalVersion, list[str]]:
    """Return the baseline file as the first national version, and its metadata problems."""
    problems: list[str] = []
    meta = {k: data.pop(k) for k in BASELINE_META if k in data}
    status = str(meta.get("status", "in_force"))
    if status not in STATUSES:
        problems.append(f"{path}: status: {status!r} is not one of {', '.join(STATUSES)}")
    sources: list[Citation] = []
    for n, raw in enumerate(meta.get("sources") or []):
        try:
            sources.append(Citation.model_validate(raw))
        except ValueError as exc:
            problems.append(f"{path}: sources[{n}]: {exc}".replace("\n", " "))
    verify = tuple(str(v) for v in meta.get("verify") or [])
    title = str(meta.get("title") or data.get("source") or name)
    first = NationalVersion(name, str(data.get("version", name)), title, status, None, tuple(sources), verify, (),
                            {}, {}, None, path)  # fmt: skip
    return first, problems


def from_file(name: str, spec: NationalVersionFile, path: Path) -> NationalVersion:
    """Return a national version read from its file."""
    return NationalVersion(
        name,
        spec.version,
        spec.title,
        spec.status,
        spec.effective_from,
        tuple(spec.sources),
        tuple(spec.verify),
        tuple(spec.pending),
        dict(spec.transition),
        dict(spec.changes),
        spec.note,
        path,
    )


def overridden_keys(changes: dict[str, Any], local: dict[str, Any]) -> tuple[str, ...]:
    """Return the rule keys a national change sets that a municipality's own files set too."""
    keys = []
    for section in ("deadlines", "interventions"):
        for key in (changes.get(section) or {}) if isinstance(changes.get(section), dict) else {}:
            if key in (local.get(section) or {}):
                keys.append(key if section == "deadlines" else f"interventions.{key}")
    for group, spec in (changes.get("groups") or {}).items():
        local_group = (local.get("groups") or {}).get(group) or {}
        for cadence in (spec or {}).get("cadences") or {}:
            if cadence in (local_group.get("cadences") or {}):
                keys.append(f"{group}.{cadence}")
    return tuple(keys)
