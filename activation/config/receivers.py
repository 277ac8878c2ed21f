"""Notifications to other systems: webhook and e-mail receivers, retry backoff, the mail server."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, PlainSerializer, PlainValidator, model_validator

from activation.config.rules import Strict
from activation.notifications import EventKind

_WALL_UNITS = {"second": 1, "seconds": 1, "s": 1, "minute": 60, "minutes": 60, "min": 60, "hour": 3600, "hours": 3600}
_WALL_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
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
