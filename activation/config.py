"""Rule sets: national baselines and municipality overrides, merged and validated.

Layout of a config directory::

    national/dk.yaml, national/se.yaml      baselines (deadlines, calendar, language)
    municipalities/<code>.yaml              ``extends: dk`` and overrides, teams
    versions/<code>/<version>.yaml          later versions of a municipality's rules: the date from
                                            which each applies, its changes, and per rule what
                                            happens to running cases (keep / recompute / not_started)

A municipality file deep-merges over its baseline (mappings merge, lists and values replace).
Every error names the file that set the offending key.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from activation import journey
from activation.calendar import WEEKDAYS, BusinessCalendar, Window
from activation.durations import Duration, DurationError
from activation.notifications import EventKind

ENV_CONFIG_DIR = "ACTIVATION_CONFIG_DIR"
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


def _positive_duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        parsed = value
    else:
        try:
            parsed = Duration.parse(str(value))
        except DurationError as exc:
            raise ValueError(str(exc)) from None
    if parsed.amount <= 0:
        raise ValueError(f"{value!r}: a duration must be positive")
    return parsed


PositiveDuration = Annotated[Duration, PlainValidator(_positive_duration), PlainSerializer(str)]


def _window(value: Any) -> Window:
    return value if isinstance(value, Window) else Window.parse(str(value))


OpeningWindow = Annotated[Window, PlainValidator(_window), PlainSerializer(str)]


def _date_text(value: Any) -> Any:
    # YAML reads an unquoted 2026-06-19 as a date; accept it as the text it was meant to be.
    return value.isoformat() if isinstance(value, date) else value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CalendarRules(Strict):
    """Public holidays, own closing days and opening hours of an office."""

    holidays: str | None = Field(None, description="country code for public holidays, e.g. DK, SE")
    opening_hours: dict[str, OpeningWindow]
    closing_days: list[Annotated[str, BeforeValidator(_date_text)]] = Field(
        default_factory=list, description="YYYY-MM-DD or MM-DD (yearly)"
    )

    @model_validator(mode="after")
    def _check(self) -> CalendarRules:
        for day in self.opening_hours:
            if day not in WEEKDAYS:
                raise ValueError(f"opening_hours: unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
        for text in self.closing_days:
            _parse_closing_day(text)
        return self


def _parse_closing_day(text: str) -> date | tuple[int, int]:
    try:
        if len(text) == 5:  # MM-DD, every year
            month, day = (int(x) for x in text.split("-"))
            date(2024, month, day)  # a leap year accepts 02-29
            return (month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"closing_days: {text!r} is not YYYY-MM-DD or MM-DD") from None


class EscalationStep(Strict):
    """Whom to notify, how long after a missed deadline."""

    after: PositiveDuration
    notify: str

    @model_validator(mode="after")
    def _role(self) -> EscalationStep:
        if self.notify not in journey.ROLES:
            raise ValueError(f"notify: unknown role {self.notify!r}; roles are {', '.join(journey.ROLES)}")
        return self


class DeadlineRule(Strict):
    """How long a to-do may take, and who hears about it before and after."""

    due: PositiveDuration
    remind_before: list[PositiveDuration] = Field(default_factory=list)
    escalate_after: list[EscalationStep] = Field(default_factory=list)
    calendar: str = "office"
    extend_when_closed: bool = True
    source: str = Field(..., min_length=3, description="where the rule comes from (law, local decision)")
    local_choice: bool = False  # True where the sources give no number and we chose one
    # After a pause the clock resumes with the time that was left, unless the rule restarts it:
    # LAB § 91a, an offer at the latest one month after the reasonable ground ends.
    restart_after_pause: PositiveDuration | None = None
    restart_source: str | None = None

    @model_validator(mode="after")
    def _order(self) -> DeadlineRule:
        for i, before in enumerate(self.remind_before):
            if before.nominal_hours >= self.due.nominal_hours:
                raise ValueError(
                    f"remind_before[{i}]: a reminder {before} before a {self.due} deadline would fire"
                    " before the deadline starts (or after it); make it shorter than the deadline"
                )
        if self.restart_after_pause and not self.restart_source:
            raise ValueError("restart_source: required with restart_after_pause (cite the rule)")
        previous = 0.0
        for i, step in enumerate(self.escalate_after):
            if step.after.nominal_hours <= previous:
                raise ValueError(f"escalate_after[{i}]: escalation steps must come later one after another")
            previous = step.after.nominal_hours
        return self


class CadenceRule(DeadlineRule):
    """An obligation that recurs: `at_least` events in any rolling `due` window.

    With at_least 1 it is a maximum gap: the next meeting or offer within `due` of the last one
    (the first within `first_due` of the application, if given). Each period is a deadline row
    with reminders and an escalation ladder like any other.
    """

    event: str
    at_least: int = Field(1, ge=1)
    first_due: PositiveDuration | None = None
    on_change_due: PositiveDuration | None = None  # the first event after a change of target group
    label: str

    @model_validator(mode="after")
    def _event(self) -> CadenceRule:
        if self.event not in journey.EVENTS:
            raise ValueError(f"event: unknown event {self.event!r}; events are {', '.join(journey.EVENTS)}")
        if self.first_due and self.at_least > 1:
            raise ValueError("first_due: only for a maximum gap (at_least 1)")
        for i, before in enumerate(self.remind_before):
            for name, first in (("first_due", self.first_due), ("on_change_due", self.on_change_due)):
                if first and before.nominal_hours >= first.nominal_hours:
                    raise ValueError(f"remind_before[{i}]: a reminder {before} is not shorter than {name} {first}")
        return self


class Group(Strict):
    """A target group (e.g. activity-ready on kontanthjælp) with its own obligations."""

    name: str
    source: str = Field(..., min_length=3)
    cadences: dict[str, CadenceRule] = Field(default_factory=dict)


class Intervention(DeadlineRule):
    """A placement type of the intervention catalogue: how soon it must start, how many places."""

    name: str
    capacity: int | None = Field(None, ge=0, description="places; None: not limited")
    max_length: PositiveDuration | None = None  # the longest a placement may run (e.g. LAB § 75 a: 6 weeks)
    max_length_source: str | None = None
    min_length: PositiveDuration | None = None  # the shortest (e.g. LAB § 31 b: at least 6 months)
    min_length_source: str | None = None


class PauseBasis(Strict):
    """A legal ground on which a citizen's deadlines stop counting."""

    source: str = Field(..., min_length=3)


class ContinuityAlert(Strict):
    """Alert when a case changes caseworker too often (a change lowers job chances, Rosholm 2018)."""

    max_changes: int = Field(..., ge=0)
    within: PositiveDuration
    notify: str = "team_lead"
    source: str = Field(..., min_length=3)
    local_choice: bool = False

    @model_validator(mode="after")
    def _role(self) -> ContinuityAlert:
        if self.notify not in journey.ROLES:
            raise ValueError(f"notify: unknown role {self.notify!r}; roles are {', '.join(journey.ROLES)}")
        return self


class StageSettings(Strict):
    """A municipality's choices for one stage."""

    todo_role: str | None = None  # who gets the stage's to-do (default: the journey's role)


class Team(Strict):
    """A caseworker team with its own queue."""

    name: str


# -- notifications to other systems: webhooks and e-mail (operational, not rules) ---------------------

_WALL_UNITS = {"second": 1, "seconds": 1, "s": 1, "minute": 60, "minutes": 60, "min": 60, "hour": 3600, "hours": 3600}
_WALL_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_RECEIVER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _wall_seconds(value: Any) -> timedelta:
    # Retry delays are wall-clock seconds, not calendar durations: activation.durations counts
    # opening hours and working days and has no seconds or minutes, so it does not fit here.
    if isinstance(value, timedelta):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        parsed = timedelta(seconds=value)
    else:
        match = _WALL_PATTERN.match(str(value).lower())
        factor = _WALL_UNITS.get(match.group(2) or "seconds") if match else None
        if match is None or factor is None:
            raise ValueError(f"{value!r} is not a delay; write e.g. '30 seconds', '5 minutes', '1 hour'")
        parsed = timedelta(seconds=float(match.group(1)) * factor)
    if parsed <= timedelta(0):
        raise ValueError(f"{value!r}: a delay must be positive")
    return parsed


WallDelay = Annotated[
    timedelta, PlainValidator(_wall_seconds), PlainSerializer(lambda d: f"{d.total_seconds():g} seconds")
]


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not an environment variable name (A-Z, 0-9, _)")
    return value


def _email_address(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
EmailAddress = Annotated[str, AfterValidator(_email_address)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]


class Backoff(Strict):
    """The wait before each retry: `first`, then multiplied by `factor`, never longer than `max`."""

    first: WallDelay = timedelta(seconds=30)
    factor: float = Field(default=2.0, ge=1.0, le=10.0)
    max: WallDelay = timedelta(hours=6)


class Receiver(Strict):
    """Another system told of events: a webhook (signed JSON POST) or an e-mail address list."""

    channel: Literal["webhook", "email"]
    enabled: bool = True
    url: HttpUrl | None = None  # webhook
    to: list[EmailAddress] = Field(default_factory=list)  # email
    events: list[EventKind] = Field(..., min_length=1)
    secret_env: EnvName | None = None  # the environment variable holding the HMAC secret; never the secret
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff: Backoff = Backoff()
    timeout: float = Field(default=10.0, gt=0, le=120, description="seconds per attempt")

    @model_validator(mode="after")
    def _channel(self) -> Receiver:
        if self.channel == "webhook":
            if not self.url:
                raise ValueError("url: required for channel webhook")
            if self.to:
                raise ValueError("to: only for channel email")
            if not self.secret_env:
                raise ValueError("secret_env: a webhook is signed; name the environment variable holding its secret")
        else:
            if self.url:
                raise ValueError("url: only for channel webhook")
            if not self.to:
                raise ValueError("to: channel email needs at least one address")
        return self


class Notifications(Strict):
    """A municipality's receivers, by name (the name is what deliveries and dead letters show)."""

    receivers: dict[str, Receiver] = Field(default_factory=dict)


class Smtp(Strict):
    """The mail server e-mail receivers are sent through (national, or overridden per municipality)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    host: str = Field(..., min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    sender: EmailAddress = Field(..., alias="from")
    starttls: bool = True
    username_env: EnvName | None = None
    password_env: EnvName | None = None
    timeout: float = Field(default=10.0, gt=0, le=120)

    @model_validator(mode="after")
    def _check(self) -> Smtp:
        if bool(self.username_env) != bool(self.password_env):
            raise ValueError("username_env: give both username_env and password_env, or neither")
        return self


# Keys that say how to reach other systems, not how deadlines are counted: left out of the
# version stamp a deadline records, so adding a webhook does not look like a change of the rules.
OPERATIONAL_KEYS = ("notifications", "smtp")


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
    smtp: Smtp | None = None

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
        if self.default_group is not None and self.default_group not in self.groups:
            raise ValueError(f"default_group: {self.default_group!r} is not one of the groups {', '.join(self.groups)}")
        for name, settings in self.stages.items():
            if name not in journey.stage_names():
                raise ValueError(f"stages.{name}: unknown stage; stages are {', '.join(journey.stage_names())}")
            if settings.todo_role and settings.todo_role not in journey.ROLES:
                raise ValueError(f"stages.{name}.todo_role: unknown role {settings.todo_role!r}")
        return self


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
        return BusinessCalendar(
            name=f"{self.code}/{name}",
            timezone=self.timezone,
            holiday_country=rules.holidays,
            closing_days=frozenset(dated),
            yearly_closing_days=frozenset(yearly),
            opening_hours={WEEKDAYS.index(d): w for d, w in rules.opening_hours.items()},
        )

    def rule(self, key: str) -> DeadlineRule:
        """Return the rule behind a deadline key: a stage deadline, or "<group>.<cadence>"."""
        if key.startswith("interventions."):
            return self.interventions[key.split(".", 1)[1]]
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
        for v in self.history.get(code.lower(), ()):
            if v.version == version or v.stamp == version:
                return v
        known = ", ".join(v.version for v in self.history.get(code.lower(), ())) or "none"
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
        )

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


def config_dir(explicit: str | Path | None = None) -> Path:
    """Return the config directory: the argument, else $ACTIVATION_CONFIG_DIR, else the bundled one."""
    chosen = explicit or os.environ.get(ENV_CONFIG_DIR) or DEFAULT_CONFIG_DIR
    return Path(chosen)


def _read_yaml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        problems.append(f"{path}: not valid YAML: {exc}".replace("\n", " "))
        return None
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a mapping at the top level")
        return None
    return data


def _merge(
    base: dict[str, Any],
    over: dict[str, Any],
    origin: dict[tuple[str, ...], Path],
    source: Path,
    prefix: tuple[str, ...] = (),
) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        path = (*prefix, str(key))
        # A deadline rule a municipality restates replaces the baseline's rule whole: its source,
        # reminders and escalations must not silently mix with the national ones.
        whole = (len(path) == 2 and path[0] in ("deadlines", "interventions")) or (
            len(path) == 4 and path[0] == "groups" and path[2] == "cadences"
        )
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and not whole:
            merged[key] = _merge(merged[key], value, origin, source, path)
        else:
            merged[key] = value
            origin[path] = source
            # A replaced subtree now comes wholly from this file.
            for known in [p for p in origin if p[: len(path)] == path and p != path]:
                origin[known] = source
    return merged


def _mark(
    data: dict[str, Any], origin: dict[tuple[str, ...], Path], source: Path, prefix: tuple[str, ...] = ()
) -> None:
    for key, value in data.items():
        path = (*prefix, str(key))
        origin[path] = source
        if isinstance(value, dict):
            _mark(value, origin, source, path)


def _located(exc: ValidationError, origin: dict[tuple[str, ...], Path], fallback: Path) -> list[str]:
    problems = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        # Errors raised by a model validator carry their own key path in the message.
        if ": " in message and not loc:
            head = message.split(": ", 1)[0]
            loc = tuple(head.split("."))
        source = str(fallback)
        for n in range(len(loc), 0, -1):
            base_key = tuple(part.split("[")[0] for part in loc[:n])
            if base_key in origin:
                # A rule checked as a whole may be wrong through the merge of two files: name both,
                # the overriding file first.
                files = {str(f) for p, f in origin.items() if p[: len(base_key)] == base_key}
                files.discard(str(origin[base_key]))
                source = " (merged with ".join([*sorted(files, key=lambda f: "national" in f), str(origin[base_key])])
                source += ")" * (source.count("(merged"))
                break
        key = ".".join(loc) if loc else "(top level)"
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        problems.append(f"{source}: {key}: {message}" if not message.startswith(key + ":") else f"{source}: {message}")
    return problems


def load(directory: str | Path | None = None) -> RuleBook:
    """Load, merge and validate every rule set in a config directory."""
    root = config_dir(directory)
    problems: list[str] = []
    if not root.is_dir():
        raise ConfigError([f"{root}: config directory not found (set {ENV_CONFIG_DIR} or --config-dir)"])
    national: dict[str, tuple[Path, dict[str, Any]]] = {}
    broken: set[str] = set()
    for path in sorted((root / "national").glob("*.yaml")):
        data = _read_yaml(path, problems)
        if data is None:
            broken.add(path.stem.lower())
            continue
        national[path.stem.lower()] = (path, data)
        origin: dict[tuple[str, ...], Path] = {}
        _mark(data, origin, path)
        try:
            RuleSet.model_validate(data)
        except ValidationError as exc:
            problems.extend(_located(exc, origin, path))
    municipalities: dict[str, Municipality] = {}
    versions: dict[str, str] = {}
    history: dict[str, tuple[RuleVersion, ...]] = {}
    files = sorted((root / "municipalities").glob("*.yaml"))
    if not files:
        problems.append(f"{root / 'municipalities'}: no municipality files (*.yaml)")
    for path in files:
        data = _read_yaml(path, problems)
        if data is None:
            continue
        base_name = str(data.get("extends", "")).lower()
        if base_name in broken:
            continue  # the baseline's own problems are reported above
        if base_name not in national:
            known = ", ".join(sorted(national)) or "none"
            problems.append(f"{path}: extends: unknown baseline {data.get('extends')!r}; baselines: {known}")
            continue
        base_path, base = national[base_name]
        origin = {}
        _mark(base, origin, base_path)
        merged = _merge(base, data, origin, path)
        merged.setdefault("code", path.stem.lower())
        if merged["code"] != path.stem.lower():
            problems.append(f"{path}: code: {merged['code']!r} must match the file name {path.stem!r}")
            continue
        try:
            municipality = Municipality.model_validate(merged)
        except ValidationError as exc:
            problems.extend(_located(exc, origin, path))
            continue
        municipalities[municipality.code] = municipality
        versions[municipality.code] = _stamp(municipality.version, merged)
        first = RuleVersion(municipality.version, versions[municipality.code], None, municipality, {}, None, path)
        history[municipality.code] = (first, *_later_versions(root, municipality, merged, origin, problems))
    if problems:
        # A mistake in a baseline shows once per municipality that extends it: report it once.
        raise ConfigError(list(dict.fromkeys(problems)))
    return RuleBook(root, municipalities, versions, history)


def _stamp(version: str, merged: dict[str, Any]) -> str:
    stamped = {k: v for k, v in merged.items() if k not in OPERATIONAL_KEYS}
    digest = hashlib.sha256(json.dumps(stamped, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{version}+{digest}"


def _later_versions(
    root: Path,
    first: Municipality,
    merged: dict[str, Any],
    origin: dict[tuple[str, ...], Path],
    problems: list[str],
) -> list[RuleVersion]:
    """Load versions/<code>/*.yaml in order of their dates, each merged over the one before."""
    files: list[tuple[VersionFile, Path]] = []
    for path in sorted((root / "versions" / first.code).glob("*.yaml")):
        data = _read_yaml(path, problems)
        if data is None:
            continue
        try:
            files.append((VersionFile.model_validate(data), path))
        except ValidationError as exc:
            problems.extend(_located(exc, {}, path))
    files.sort(key=lambda item: item[0].effective_from)
    later: list[RuleVersion] = []
    seen = {first.version}
    previous = merged
    for spec, path in files:
        if spec.version in seen:
            problems.append(f"{path}: version: {spec.version!r} is used twice for {first.code}")
            continue
        seen.add(spec.version)
        version_origin = dict(origin)
        candidate = _merge(previous, {**spec.changes, "version": spec.version}, version_origin, path)
        try:
            municipality = Municipality.model_validate(candidate)
        except ValidationError as exc:
            problems.extend(_located(exc, version_origin, path))
            continue
        for key in spec.transition:
            try:
                municipality.rule(key)
            except KeyError:
                problems.append(f"{path}: transition.{key}: not a rule key of {first.code}")
        previous = candidate
        stamp = _stamp(spec.version, candidate)
        later.append(RuleVersion(spec.version, stamp, spec.effective_from, municipality, dict(spec.transition),
                                 spec.note, path))  # fmt: skip
    return later
