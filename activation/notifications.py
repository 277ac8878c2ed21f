"""Telling other systems: who hears of an event, how a message is signed, when a failed one is retried.

Pure rules; the delivery pass is activation/delivery.py, the sending (httpx, smtplib) lives at the edge
in senders/ and the bookkeeping in activation/adapters/outbox.py. Each event in the outbox becomes one
delivery per subscribed receiver; a delivery is tried until the receiver accepts it or `max_attempts`
is spent, then kept as a dead letter.

A webhook request carries the headers below. A receiver verifies the signature with `verify` (or the
few lines of the README), refuses a timestamp older than five minutes (a replayed request) and
de-duplicates by `Idempotency-Key`, which is the same on every retry of the same event.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:  # config imports this module for EventKind
    from activation.config import Receiver

EventKind = Literal["reminder", "escalation", "alert", "letter"]
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)

IDEMPOTENCY_HEADER = "Idempotency-Key"
SIGNATURE_HEADER = "X-Activation-Signature"
EVENT_HEADER = "X-Activation-Event"
DEFAULT_TOLERANCE = 300  # seconds a signed request stays valid: longer looks like a replay

# 400: the receiver cannot read what we send, and never will; 410: the receiver is gone for good.
# Every other 4xx (401/403 a secret being rotated, 404 a route being deployed, 408, 429) and every
# 5xx is retried with backoff; after max_attempts the delivery is a dead letter all the same.
PERMANENT_STATUSES = frozenset({400, 410})
LONGEST_RETRY_AFTER = timedelta(hours=1)  # a receiver's Retry-After is honoured up to this


def signed_content(timestamp: int, body: bytes) -> bytes:
    """Return what is signed: the timestamp, a dot, and the exact body bytes."""
    return f"{timestamp}.".encode() + body


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """Return the signature header value `t=<unix seconds>,v1=<hex HMAC-SHA256>`."""
    digest = hmac.new(secret, signed_content(timestamp, body), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, header: str, body: bytes, now_ts: int, tolerance: int = DEFAULT_TOLERANCE) -> bool:
    """Tell whether a signature header fits the body and was made within tolerance seconds of now_ts."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates or abs(now_ts - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, c) for c in candidates)


def subscribers(receivers: Mapping[str, Receiver], kind: str) -> list[str]:
    """Return the names of the enabled receivers that subscribe to an event kind, sorted."""
    return sorted(name for name, r in receivers.items() if r.enabled and kind in r.events)


def next_attempt(attempts: int, now: datetime, rule: Receiver, not_before: datetime | None = None) -> datetime | None:
    """Return when to try again after `attempts` failed tries, or None when the delivery is dead.

    The waits are first, first*factor, first*factor², ... capped at max; a receiver's Retry-After
    (not_before) moves the next try later, never earlier.
    """
    if attempts >= rule.max_attempts:
        return None
    backoff = rule.backoff
    seconds = backoff.first.total_seconds() * backoff.factor ** max(attempts - 1, 0)
    due = now + timedelta(seconds=min(seconds, backoff.max.total_seconds()))
    if not_before is not None:
        due = max(due, min(not_before, now + LONGEST_RETRY_AFTER))
    return due


Verdict = Literal["delivered", "retry", "dead"]


def verdict_for_status(status: int) -> Verdict:
    """Return what an HTTP answer means: 2xx delivered, 400 and 410 dead, anything else retried."""
    if 200 <= status < 300:
        return "delivered"
    return "dead" if status in PERMANENT_STATUSES else "retry"


def retry_after(value: str | None, now: datetime) -> datetime | None:
    """Read a Retry-After header (seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return now + timedelta(seconds=int(text))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else None


def message_id(event_id: str, receiver: str, domain: str) -> str:
    """Return an e-mail Message-ID that is the same on every retry, so mail clients drop a repeat."""
    digest = hashlib.sha256(f"{event_id}\n{receiver}".encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"
