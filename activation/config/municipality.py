"""A rule set (national baseline) and a municipality's merged rules with its calendars."""

from __future__ import annotations

import re
from datetime import date, time

from pydantic import Field, PrivateAttr, model_validator

from activation import journey
from activation.calendar import WEEKDAYS, BusinessCalendar
from activation.config.law_rules import WORK_DUTY_KEY, CoverageTarget, ExemptionReason, SelfBooking, WorkDuty
from activation.config.receivers import Notifications, Smtp
from activation.config.rules import (
    CadenceRule,
    CalendarRules,
    ContinuityAlert,
    DeadlineRule,
    Group,
    Intervention,
    PauseBasis,
    StageSettings,
    Strict,
    Team,
    _parse_closing_day,
)

_RECEIVER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class RuleSet(Strict):
    """A national baseline (also the common part of a municipality)."""

    version: str
    country: str
    language: str
    timezone: str
    calendars: dict[str, CalendarRules]
    deadlines: dict[str, DeadlineRule]
    stages: dict[str, StageSettings] = Field(default_factory=dict)
    pause_bases: dict[str, PauseBasis] = Field(default_factory=dict)
    groups: dict[str, Group] = Field(default_factory=dict)
    interventions: dict[str, Intervention] = Field(default_factory=dict)
    default_group: str | None = None
    continuity: ContinuityAlert | None = None
    source: str | None = None
    # The act a letter cites, taken from the rules of the case (SoL 2001:453 before 1 July 2025, 2025:400 after).
    legal_basis: str | None = None
    smtp: Smtp | None = None
    coverage_targets: dict[str, CoverageTarget] = Field(default_factory=dict)
    exemption_reasons: dict[str, ExemptionReason] = Field(default_factory=dict)
    self_booking: SelfBooking | None = None
    work_duty: WorkDuty | None = None

    @model_validator(mode="after")
    def _references(self) -> RuleSet:
        if self.language not in ("da", "sv", "en"):
            raise ValueError(f"language: {self.language!r} is not one of da, sv, en")
        for key, rule in self.deadlines.items():
            if key not in journey.deadline_keys():
                raise ValueError(
                    f"deadlines.{key}: unknown deadline key; the journey uses {', '.join(journey.deadline_keys())}"
                )
            if rule.calendar not in self.calendars:
                defined = ", ".join(self.calendars)
                raise ValueError(f"deadlines.{key}.calendar: unknown calendar {rule.calendar!r}; defined: {defined}")
        if "interventions" in self.groups:
            raise ValueError("groups.interventions: the name is reserved for the intervention catalogue")
        for name, intervention in self.interventions.items():
            if intervention.calendar not in self.calendars:
                raise ValueError(f"interventions.{name}.calendar: unknown calendar {intervention.calendar!r}")
        for group_name, group in self.groups.items():
            for cadence_name, cadence in group.cadences.items():
                if cadence.calendar not in self.calendars:
                    raise ValueError(
                        f"groups.{group_name}.cadences.{cadence_name}.calendar: unknown calendar {cadence.calendar!r}"
                    )
        self._check_coverage()
        if self.work_duty is not None and self.work_duty.calendar not in self.calendars:
            raise ValueError(f"work_duty.calendar: unknown calendar {self.work_duty.calendar!r}")
        if self.default_group is not None and self.default_group not in self.groups:
            raise ValueError(f"default_group: {self.default_group!r} is not one of the groups {', '.join(self.groups)}")
        for name, settings in self.stages.items():
            if name not in journey.stage_names():
                raise ValueError(f"stages.{name}: unknown stage; stages are {', '.join(journey.stage_names())}")
            if settings.todo_role and settings.todo_role not in journey.ROLES:
                raise ValueError(f"stages.{name}.todo_role: unknown role {settings.todo_role!r}")
        return self

    def _check_coverage(self) -> None:
        for key, target in self.coverage_targets.items():
            group, _, cadence = target.obligation.partition(".")
            if group not in self.groups or cadence not in self.groups[group].cadences:
                known = ", ".join(f"{g}.{c}" for g, found in self.groups.items() for c in found.cadences)
                raise ValueError(
                    f"coverage_targets.{key}.obligation: unknown obligation {target.obligation!r}; obligations: {known}"
                )
            if target.max_exempt and not self.exemption_reasons:
                raise ValueError(f"coverage_targets.{key}.max_exempt: exemptions need exemption_reasons to choose from")


class Municipality(RuleSet):
    """A municipality's merged rules: its baseline plus its own overrides."""

    code: str
    name: str
    extends: str
    teams: dict[str, Team]
    default_team: str
    notifications: Notifications = Field(default_factory=Notifications)

    @model_validator(mode="after")
    def _complete(self) -> Municipality:
        missing = [k for k in journey.deadline_keys() if k not in self.deadlines]
        if missing:
            raise ValueError(f"deadlines: missing {', '.join(missing)} (every journey deadline needs a rule)")
        if self.default_team not in self.teams:
            raise ValueError(f"default_team: {self.default_team!r} is not one of the teams {', '.join(self.teams)}")
        if self.default_group is None:
            raise ValueError("default_group: required (the target group new cases start in)")
        for name, receiver in self.notifications.receivers.items():
            if not _RECEIVER_NAME.match(name):
                raise ValueError(
                    f"notifications.receivers.{name}: a receiver name is lower case a-z, 0-9, - and _ (at most 64)"
                )
            if receiver.channel == "email" and receiver.enabled and self.smtp is None:
                raise ValueError(
                    f"notifications.receivers.{name}.channel: e-mail needs an smtp: block (national or municipal)"
                )
        return self

    _calendars: dict[str, BusinessCalendar] = PrivateAttr(default_factory=dict)

    def calendar(self, name: str = "office") -> BusinessCalendar:
        """Return the business calendar called name (built once; it caches its holidays per year)."""
        cached = self._calendars.get(name)
        if cached is None:
            cached = self._calendars[name] = self._build_calendar(name)
        return cached

    def _build_calendar(self, name: str) -> BusinessCalendar:
        rules = self.calendars[name]
        dated: set[date] = set()
        yearly: set[tuple[int, int]] = set()
        for text in rules.closing_days:
            parsed = _parse_closing_day(text)
            if isinstance(parsed, tuple):
                yearly.add(parsed)
            else:
                dated.add(parsed)
        early: dict[date, time] = {}
        yearly_early: dict[tuple[int, int], time] = {}
        for text, closes in rules.early_closing.items():
            parsed = _parse_closing_day(text, "early_closing")
            if isinstance(parsed, tuple):
                yearly_early[parsed] = closes
            else:
                early[parsed] = closes
        return BusinessCalendar(
            name=f"{self.code}/{name}",
            timezone=self.timezone,
            holiday_country=rules.holidays,
            closing_days=frozenset(dated),
            yearly_closing_days=frozenset(yearly),
            opening_hours={WEEKDAYS.index(d): w for d, w in rules.opening_hours.items()},
            holiday_categories=tuple(rules.holiday_categories),
            early_closing=early,
            yearly_early_closing=yearly_early,
        )

    def rule(self, key: str) -> DeadlineRule:
        """Return the rule behind a deadline key: a stage deadline, or "<group>.<cadence>"."""
        if key.startswith("interventions."):
            return self.interventions[key.split(".", 1)[1]]
        if key == WORK_DUTY_KEY and self.work_duty is not None:
            return self.work_duty
        if "." in key:
            group, cadence = key.split(".", 1)
            return self.groups[group].cadences[cadence]
        return self.deadlines[key]

    def cadences(self, group: str) -> dict[str, CadenceRule]:
        """Return the obligations of a group, keyed "<group>.<cadence>"."""
        found = self.groups.get(group)
        return {f"{group}.{name}": rule for name, rule in found.cadences.items()} if found else {}

    def todo_role(self, stage_name: str, default: str) -> str:
        """Return who gets the to-do of a stage here."""
        settings = self.stages.get(stage_name)
        return settings.todo_role if settings and settings.todo_role else default
