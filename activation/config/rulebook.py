"""The rule book: every municipality's rules, their versions over time, and configuration errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from activation.config.municipality import Municipality
from activation.config.national import NationalVersion
from activation.config.rules import Strict


class ConfigError(ValueError):
    """Configuration that cannot be used; each problem names its file and key."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


TRANSITIONS = ("keep", "recompute", "not_started")


class VersionFile(Strict):
    """A later version of a municipality's rules, as written in versions/<code>/<version>.yaml."""

    version: str = Field(min_length=1, max_length=40)
    effective_from: date
    note: str | None = None
    # Per rule key, what happens to running cases when this version takes effect:
    #   keep         open deadlines keep their due time; cases opened before keep the old rule
    #   recompute    open deadlines are recomputed with the new rule from their own start
    #   not_started  open deadlines keep their due time; deadlines starting from now on use the new rule
    transition: dict[str, Literal["keep", "recompute", "not_started"]] = Field(default_factory=dict)
    changes: dict[str, Any]


@dataclass(frozen=True)
class RuleVersion:
    """One version of a municipality's rules: in force from a date (the first: always)."""

    version: str
    stamp: str  # declared version + content hash: what every deadline records
    effective_from: date | None
    municipality: Municipality
    transition: dict[str, str]
    note: str | None
    path: Path
    # proposed | adopted | in_force | repealed: a municipal version is in force from its date.
    status: str = "in_force"
    national: NationalVersion | None = None  # set when a national version (the law) makes this version
    shadowed: tuple[str, ...] = ()  # rules the national version changes but the municipality overrides

    @property
    def appliable(self) -> bool:
        """Tell whether the version may be applied to running cases (adopted or in force, not a bill or repealed)."""
        return self.status in ("adopted", "in_force")

    def policy(self, rule_key: str) -> str:
        """Return what this version does to running cases of a rule (not_started unless stated)."""
        return self.transition.get(rule_key, "not_started")


@dataclass(frozen=True)
class RuleBook:
    """Every municipality's validated rules, and the version stamp each deadline records."""

    directory: Path
    municipalities: dict[str, Municipality]
    versions: dict[str, str]
    # Every version of each municipality's rules, oldest first; the first is the municipality file.
    history: dict[str, tuple[RuleVersion, ...]] = field(default_factory=dict)
    # Per municipality: proposed national versions laid over the rules of their date (preview only).
    proposed: dict[str, tuple[RuleVersion, ...]] = field(default_factory=dict)
    # Per national baseline ("dk", "se"): its versions over time, the baseline first, proposed included.
    national: dict[str, tuple[NationalVersion, ...]] = field(default_factory=dict)

    def municipality(self, code: str) -> Municipality:
        """Return a municipality's rules or explain which codes exist."""
        try:
            return self.municipalities[code.lower()]
        except KeyError:
            known = ", ".join(sorted(self.municipalities)) or "none"
            raise ConfigError([f"unknown municipality {code!r}; configured: {known}"]) from None

    def version(self, code: str) -> str:
        """Return the config version stamp of a municipality (declared version + content hash)."""
        return self.versions[code.lower()]

    def in_force(self, code: str, at: datetime) -> RuleVersion:
        """Return the version of a municipality's rules in force at a moment (its local date)."""
        versions = self.history.get(code.lower())
        if not versions:
            self.municipality(code)  # explains an unknown code
            raise ConfigError([f"{code}: no rule versions loaded"])
        local = at.astimezone(ZoneInfo(versions[0].municipality.timezone)).date()
        current = versions[0]
        for v in versions[1:]:
            if v.effective_from is not None and v.effective_from <= local:
                current = v
        return current

    def find_version(self, code: str, version: str) -> RuleVersion:
        """Return one named version of a municipality's rules."""
        every = (*self.history.get(code.lower(), ()), *self.proposed.get(code.lower(), ()))
        for v in every:
            if v.version == version or v.stamp == version:
                return v
        known = ", ".join(v.version for v in every) or "none"
        raise ConfigError([f"{code}: no rule version {version!r}; versions: {known}"])

    def as_of(self, at: datetime) -> RuleBook:
        """Return the rule book with, for each municipality, the version in force at a moment."""
        chosen = {code: self.in_force(code, at) for code in self.history}
        key = tuple(sorted((code, v.stamp) for code, v in chosen.items()))
        cached = self._as_of_cache.get(key)
        if cached is None:
            if all(self.versions.get(code) == v.stamp for code, v in chosen.items()):
                cached = self
            else:
                cached = RuleBook(
                    self.directory,
                    {code: v.municipality for code, v in chosen.items()},
                    {code: v.stamp for code, v in chosen.items()},
                    self.history,
                    self.proposed,
                    self.national,
                )
            self._as_of_cache[key] = cached
        return cached

    def pinned(self, code: str, version: str) -> RuleBook:
        """Return the rule book with one municipality held to one version of its rules at every moment."""
        chosen = self.find_version(code, version)
        key = code.lower()
        # The chosen version becomes the only one, so as_of and in_force never move off it (a what-if run).
        return RuleBook(
            self.directory,
            {**self.municipalities, key: chosen.municipality},
            {**self.versions, key: chosen.stamp},
            {**self.history, key: (chosen,)},
            self.proposed,
            self.national,
        )

    def before(self, target: RuleVersion) -> RuleVersion:
        """Return the version a later (or proposed) one changes: the one in force just before it."""
        code = target.municipality.code
        history = self.history[code]
        index = next((n for n, v in enumerate(history) if v is target), None)
        if index is not None:
            return history[index - 1] if index else target
        current = history[0]
        for v in history[1:]:
            if v.effective_from is not None and target.effective_from and v.effective_from <= target.effective_from:
                current = v
        return current

    def rules_for_deadline(self, code: str, rule_key: str, starts_at: datetime, case_opened_at: datetime) -> RuleBook:
        """Return the rules a deadline starting at a moment is planned with (a `keep` version grandfathers)."""
        current = self.in_force(code, starts_at)
        opened_under = self.in_force(code, case_opened_at)
        if current is not opened_under:
            later = [v for v in self.history[code.lower()] if _between(v, opened_under, current)]
            if any(v.policy(rule_key) == "keep" for v in later):
                return self.as_of(case_opened_at)
        return self.as_of(starts_at)

    @property
    def _as_of_cache(self) -> dict[tuple[tuple[str, str], ...], RuleBook]:
        cache: dict[tuple[tuple[str, str], ...], RuleBook] | None = self.__dict__.get("_cache")
        if cache is None:
            cache = {}
            object.__setattr__(self, "_cache", cache)
        return cache


def _between(v: RuleVersion, after: RuleVersion, upto: RuleVersion) -> bool:
    # Versions are ordered by effective date; the first (effective_from None) is never "between".
    if v.effective_from is None:
        return False
    low = after.effective_from or date.min
    high = upto.effective_from or date.min
    return low < v.effective_from <= high
