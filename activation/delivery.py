"""Delivering notifications: claim due deliveries, hand each to its channel's sender, record what came of it.

The use case behind the `deliver-notifications` flow and `activation notifications send` (README
"Notifications to other systems"). Two ports: a `Sender` per channel sends one message to one receiver
(the webhook and e-mail adapters live in senders/, outside the domain), and a `DeliveryQueue` keeps
the deliveries (activation/adapters/outbox.py). Time is the `now` passed in: it decides what is due and
when a failed delivery is tried again.

What comes of a try: `Accepted` is delivered and never sent again; `Refused` (HTTP 400/410, an SMTP
5xx) is a dead letter at once; `RetryLater` (everything else: 5xx, 429, a timeout, a refused
connection, a missing secret) waits for the receiver's backoff, or its Retry-After, until max_attempts
is spent, then it is a dead letter too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from activation.notifications import next_attempt

if TYPE_CHECKING:
    from activation.config import Receiver, RuleBook

WORKERS = 8  # messages in flight at once per batch


@dataclass(frozen=True)
class Delivery:
    """One event for one receiver, and how its delivery is going."""

    event_id: str  # also the Idempotency-Key the receiver sees
    receiver: str
    municipality: str
    channel: str
    kind: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None = None
    delivered_at: datetime | None = None
    payload: dict[str, Any] | None = None  # only on claimed deliveries


@dataclass(frozen=True)
class Failure:
    """A failed try: the error, and when to try again (None: it is a dead letter now)."""

    event_id: str
    receiver: str
    error: str
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class DispatchReport:
    """How many outbox events were fanned out, into how many deliveries."""

    events: int = 0
    deliveries: int = 0


# -- what came of one try -------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    """The receiver took the message: delivered, never sent again."""


@dataclass(frozen=True)
class RetryLater:
    """Worth another try after the backoff; not_before is when the receiver asked us to come back."""

    reason: str
    not_before: datetime | None = None


@dataclass(frozen=True)
class Refused:
    """The receiver will never take this message (HTTP 400/410, SMTP 5xx): a dead letter at once."""

    reason: str


Outcome = Accepted | RetryLater | Refused


# -- ports ----------------------------------------------------------------------------------------


class Sender(Protocol):
    """Sends one message to one receiver over one channel (webhook, email).

    Never raises for the receiver's failures (refused, timed out, an error answer): it says so in the
    Outcome, with a short reason that holds no personal data and never the answer's body. It is called
    from several threads at once.
    """

    def send(self, delivery: Delivery, receiver: Receiver, now: datetime) -> Outcome:
        """Send the delivery's payload to the receiver; return what came of it."""
        ...


class DeliveryQueue(Protocol):
    """Where deliveries wait: fanned out from the outbox, claimed under a lease, marked with their outcome."""

    def dispatch(
        self, receivers: Mapping[str, Mapping[str, Receiver]], now: datetime, limit: int = 1000
    ) -> DispatchReport:
        """Fan up to limit new events out to the receivers (by municipality, then name) that subscribe."""
        ...

    def claim(self, now: datetime, limit: int, lease: timedelta) -> list[Delivery]:
        """Take up to limit due pending deliveries for `lease`, counting the attempt; no one else gets them."""
        ...

    def mark_delivered(self, keys: Sequence[tuple[str, str]], now: datetime) -> int:
        """Record (event id, receiver) deliveries as accepted; they are never sent again."""
        ...

    def mark_failed(self, failures: Sequence[Failure], now: datetime) -> int:
        """Release failed deliveries to their next attempt, or make them dead letters; return how many died."""
        ...


# -- reports --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryReport:
    """What one batch came to: claimed, delivered, to be retried, dead letters."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0


@dataclass(frozen=True)
class PassReport:
    """What a whole pass came to: new events and deliveries fanned out, then the sending."""

    events: int = 0
    deliveries: int = 0
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0

    def as_dict(self) -> dict[str, int]:
        """Return the counts by name (what the flow returns and `notifications send --json` prints)."""
        return asdict(self)


# -- the use cases --------------------------------------------------------------------------------


def receivers_by_municipality(rules: RuleBook) -> dict[str, dict[str, Receiver]]:
    """Return every municipality's configured receivers by name."""
    return {code: dict(m.notifications.receivers) for code, m in rules.municipalities.items()}


def lease_for(rules: RuleBook, batch_size: int, workers: int = WORKERS) -> timedelta:
    """Return how long a batch's claim must hold: every round of sends timing out twice, plus a minute."""
    timeouts = [r.timeout for m in rules.municipalities.values() for r in m.notifications.receivers.values()]
    smtp = [m.smtp.timeout for m in rules.municipalities.values() if m.smtp]
    longest = max([*timeouts, *smtp, 10.0])
    return timedelta(seconds=60 + 2 * longest * math.ceil(max(batch_size, 1) / workers))


def dispatch_new(queue: DeliveryQueue, rules: RuleBook, now: datetime, limit: int) -> DispatchReport:
    """Fan one batch of new outbox events out into deliveries for the receivers that subscribe."""
    return queue.dispatch(receivers_by_municipality(rules), now, limit)


def _try(
    delivery: Delivery, rules: RuleBook, senders: Mapping[str, Sender], now: datetime
) -> tuple[Outcome, Receiver | None]:
    municipality = rules.municipalities.get(delivery.municipality)
    receiver = municipality.notifications.receivers.get(delivery.receiver) if municipality else None
    if receiver is None or not receiver.enabled:
        # Kept as a dead letter: after the receiver is configured again, `notifications retry` sends it.
        return Refused(f"receiver {delivery.receiver!r} is not configured (or not enabled)"), None
    sender = senders.get(receiver.channel)
    if sender is None:
        return RetryLater(f"no sender for the {receiver.channel} channel"), receiver
    return sender.send(delivery, receiver, now), receiver


def deliver_due(
    queue: DeliveryQueue,
    rules: RuleBook,
    senders: Mapping[str, Sender],
    now: datetime,
    batch_size: int,
    workers: int = WORKERS,
) -> DeliveryReport:
    """Claim one batch of due deliveries, send them (several at once) and record every outcome."""
    claimed = queue.claim(now, batch_size, lease_for(rules, batch_size, workers))
    if not claimed:
        return DeliveryReport()
    # A receiver may take its whole timeout to answer: ask several at once (lease_for allows for it).
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(claimed)))) as pool:
        tried = list(pool.map(lambda d: _try(d, rules, senders, now), claimed))
    delivered: list[tuple[str, str]] = []
    failures: list[Failure] = []
    for delivery, (outcome, receiver) in zip(claimed, tried, strict=True):
        if isinstance(outcome, Accepted):
            delivered.append((delivery.event_id, delivery.receiver))
            continue
        retry_at = None
        if isinstance(outcome, RetryLater) and receiver is not None:
            retry_at = next_attempt(delivery.attempts, now, receiver, outcome.not_before)
        failures.append(Failure(delivery.event_id, delivery.receiver, outcome.reason, retry_at))
    queue.mark_delivered(delivered, now)
    dead = queue.mark_failed(failures, now)
    return DeliveryReport(claimed=len(claimed), delivered=len(delivered), retried=len(failures) - dead, dead=dead)


def run_pass(
    dispatch: Callable[[int], DispatchReport],
    send: Callable[[int], DeliveryReport],
    max_messages: int,
    batch_size: int,
    dispatch_batch: int = 1000,
) -> PassReport:
    """Dispatch every new event, then send due deliveries batch after batch, at most max_messages.

    `dispatch` and `send` run one batch each: `dispatch_new` and `deliver_due` here, Prefect tasks in
    the flow.
    """
    events = deliveries = 0
    while True:
        fanned = dispatch(dispatch_batch)
        events += fanned.events
        deliveries += fanned.deliveries
        if fanned.events < dispatch_batch:
            break
    # A failed delivery is due again only after its backoff, so a pass never takes it twice.
    claimed = delivered = retried = dead = 0
    while claimed < max_messages:
        wanted = min(batch_size, max_messages - claimed)
        batch = send(wanted)
        claimed += batch.claimed
        delivered += batch.delivered
        retried += batch.retried
        dead += batch.dead
        if batch.claimed < wanted:
            break
    return PassReport(events, deliveries, claimed, delivered, retried, dead)


def deliver_pass(
    queue: DeliveryQueue,
    rules: RuleBook,
    senders: Mapping[str, Sender],
    now: datetime,
    max_messages: int = 2000,
    batch_size: int = 50,
    workers: int = WORKERS,
) -> PassReport:
    """Run one whole pass in this process: fan new events out, then send what is due."""
    return run_pass(
        lambda limit: dispatch_new(queue, rules, now, limit),
        lambda limit: deliver_due(queue, rules, senders, now, limit, workers),
        max_messages,
        batch_size,
    )
