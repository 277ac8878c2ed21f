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

from activation.config.law_rules import (
    MAX_HOURS_A_WEEK,
    WORK_DUTY_KEY,
    CoverageTarget,
    ExemptionReason,
    SelfBooking,
    WorkDuty,
)
from activation.config.loading import DEFAULT_CONFIG_DIR, ENV_CONFIG_DIR, config_dir, load
from activation.config.municipality import Municipality, RuleSet
from activation.config.receivers import (
    OPERATIONAL_KEYS,
    Backoff,
    EmailAddress,
    EnvName,
    HttpUrl,
    Notifications,
    Receiver,
    Smtp,
    WallDelay,
)
from activation.config.rulebook import TRANSITIONS, ConfigError, RuleBook, RuleVersion, VersionFile
from activation.config.rules import (
    CadenceRule,
    CalendarRules,
    ContinuityAlert,
    DeadlineRule,
    EscalationStep,
    Group,
    Intervention,
    OpeningHours,
    OpeningWindow,
    PauseBasis,
    PositiveDuration,
    StageSettings,
    Strict,
    Team,
)

__all__ = [
    "DEFAULT_CONFIG_DIR",
    "ENV_CONFIG_DIR",
    "MAX_HOURS_A_WEEK",
    "OPERATIONAL_KEYS",
    "TRANSITIONS",
    "WORK_DUTY_KEY",
    "Backoff",
    "CadenceRule",
    "CalendarRules",
    "ConfigError",
    "ContinuityAlert",
    "CoverageTarget",
    "DeadlineRule",
    "EmailAddress",
    "EnvName",
    "EscalationStep",
    "ExemptionReason",
    "Group",
    "HttpUrl",
    "Intervention",
    "Municipality",
    "Notifications",
    "OpeningHours",
    "OpeningWindow",
    "PauseBasis",
    "PositiveDuration",
    "Receiver",
    "RuleBook",
    "RuleSet",
    "RuleVersion",
    "SelfBooking",
    "Smtp",
    "StageSettings",
    "Strict",
    "Team",
    "VersionFile",
    "WallDelay",
    "WorkDuty",
    "config_dir",
    "load",
]
