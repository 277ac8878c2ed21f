"""Tell other systems of events: signed webhooks over httpx, e-mail over smtplib, with retries.

The plain functions do the work (the CLI's `activation notifications send` and the tests call them
with a `now` of their choosing); the Prefect tasks at the bottom wrap them for the
`deliver-notifications` flow. What is sent is the outbox payload: pseudonymous (case id, rule, times).

Outcomes of one try (see activation.notifications): 2xx delivered; 400 and 410 dead at once (the
receiver will never take it); every other answer, a timeout or a refused connection is retried with the
receiver's backoff until max_attempts, then the delivery is a dead letter. A receiver that accepted a
message whose acknowledgement we lost (our process died before recording it) gets it again after the
lease lapses, with the same Idempotency-Key, so it can drop the repeat.
"""

from __future__ import annotations

import json
import math
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from prefect import get_run_logger, task

from activation.adapters.outbox import Delivery, Failure, Outbox
from activation.config import Receiver, RuleBook, Smtp
from activation.notifications import (
    EVENT_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    Attempt,
    email_text,
    message_id,
    next_attempt,
    retry_after,
    sign,
    verdict_for_status,
)
from activation.runtime import get_runtime

WORKERS = 8  # messages in flight at once per batch
USER_AGENT = "activation-notifications/1"

SmtpFactory = Callable[..., Any]  # smtplib.SMTP or a test double with the same calls


def body_of(delivery: Delivery) -> bytes:
    """Return the JSON body sent for a delivery: the outbox payload, keys sorted, compact."""
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def receivers_by_municipality(rules: RuleBook) -> dict[str, dict[str, Receiver]]:
    """Return every municipality's configured receivers by name."""
    return {code: dict(m.notifications.receivers) for code, m in rules.municipalities.items()}


def send_webhook(
    client: httpx.Client, receiver: Receiver, delivery: Delivery, secret: bytes, timestamp: int, now: datetime
) -> Attempt:
    """POST the payload, signed, with the event id as Idempotency-Key; return what came of it."""
    assert receiver.url is not None  # validated: a webhook has a URL
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json",
        IDEMPOTENCY_HEADER: delivery.event_id,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        EVENT_HEADER: delivery.kind,
    }
    try:
        response = client.post(receiver.url, content=body, headers=headers, timeout=receiver.timeout)
    except httpx.TimeoutException as exc:
        return Attempt("retry", f"timeout after {receiver.timeout:g} s ({type(exc).__name__})")
    except httpx.HTTPError as exc:  # connection refused, DNS, TLS, protocol errors
        return Attempt("retry", f"{type(exc).__name__}: {exc}"[:500])
    verdict = verdict_for_status(response.status_code)
    if verdict == "delivered":
        return Attempt("delivered")
    # The answer's body is not kept: it is the receiver's and may say anything.
    wait = retry_after(response.headers.get("Retry-After"), now) if response.status_code in (429, 503) else None
    return Attempt(verdict, f"HTTP {response.status_code}", wait)


def send_email(
    smtp: Smtp,
    receiver: Receiver,
    delivery: Delivery,
    environ: Mapping[str, str],
    smtp_factory: SmtpFactory = smtplib.SMTP,
) -> Attempt:
    """Send a short plain-text e-mail (event and case id, no personal data) to the receiver's addresses."""
    subject, text = email_text(delivery.payload or {})
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = ", ".join(receiver.to)
    message["Subject"] = subject
    message["Message-ID"] = message_id(delivery.event_id, delivery.receiver, smtp.sender.rsplit("@", 1)[1])
    message["X-Activation-Event"] = delivery.kind
    message["X-Activation-Idempotency-Key"] = delivery.event_id
    message.set_content(text)
    username = environ.get(smtp.username_env) if smtp.username_env else None
    password = environ.get(smtp.password_env) if smtp.password_env else None
    if smtp.username_env and not (username and password):
        return Attempt("retry", f"{smtp.username_env} or {smtp.password_env} is not set in the environment")
    try:
        with smtp_factory(smtp.host, smtp.port, timeout=smtp.timeout) as server:
            if smtp.starttls:
                server.starttls(context=ssl.create_default_context())
            if username and password:
                server.login(username, password)
            server.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        return Attempt("dead" if all(c >= 500 for c in codes) else "retry", f"recipients refused: SMTP {codes}")
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        # 5xx on the sender or the message: the server will not take it however often we ask.
        return Attempt("dead" if exc.smtp_code >= 500 else "retry", f"{type(exc).__name__}: SMTP {exc.smtp_code}")
    except (smtplib.SMTPException, OSError) as exc:  # refused connection, timeout, 4xx, authentication
        return Attempt("retry", f"{type(exc).__name__}: {exc}"[:500])
    return Attempt("delivered")


def _try(
    delivery: Delivery,
    rules: RuleBook,
    client: httpx.Client,
    now: datetime,
    environ: Mapping[str, str],
    smtp_factory: SmtpFactory,
    clock: Callable[[], float],
) -> tuple[Attempt, Receiver | None]:
    municipality = rules.municipalities.get(delivery.municipality)
    receiver = municipality.notifications.receivers.get(delivery.receiver) if municipality else None
    if municipality is None or receiver is None or not receiver.enabled:
        # Kept as a dead letter: after the receiver is configured again, `notifications retry` sends it.
        return Attempt("dead", f"receiver {delivery.receiver!r} is not configured (or not enabled)"), None
    if receiver.channel == "email":
        if municipality.smtp is None:
            return Attempt("retry", "no smtp: block configured"), receiver
        return send_email(municipality.smtp, receiver, delivery, environ, smtp_factory), receiver
    secret = environ.get(receiver.secret_env or "")
    if not secret:
        return Attempt("retry", f"the secret environment variable {receiver.secret_env} is not set"), receiver
    # The signature's timestamp is the wall clock of the request (what a receiver checks against
    # its own clock), not `now`, which may be a replayed time that only decides what is due.
    return send_webhook(client, receiver, delivery, secret.encode(), int(clock()), now), receiver


def lease_for(rules: RuleBook, batch_size: int, workers: int = WORKERS) -> timedelta:
    """Return how long a batch's claim must hold: every round of sends timing out twice, plus a minute."""
    timeouts = [r.timeout for m in rules.municipalities.values() for r in m.notifications.receivers.values()]
    smtp = [m.smtp.timeout for m in rules.municipalities.values() if m.smtp]
    longest = max([*timeouts, *smtp, 10.0])
    return timedelta(seconds=60 + 2 * longest * math.ceil(max(batch_size, 1) / workers))


def deliver_batch(
    outbox: Outbox,
    rules: RuleBook,
    now: datetime,
    batch_size: int,
    *,
    client: httpx.Client | None = None,
    environ: Mapping[str, str] | None = None,
    smtp_factory: SmtpFactory = smtplib.SMTP,
    clock: Callable[[], float] = time.time,
    workers: int = WORKERS,
) -> dict[str, int]:
    """Claim one batch of due deliveries, send them (several at once) and record every outcome."""
    claimed = outbox.claim(now, batch_size, lease_for(rules, batch_size, workers))
    counts = {"claimed": len(claimed), "delivered": 0, "retried": 0, "dead": 0}
    if not claimed:
        return counts
    env = os.environ if environ is None else environ
    own_client = client is None
    http = client or httpx.Client(follow_redirects=False, headers={"User-Agent": USER_AGENT})
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(claimed)))) as pool:
            results = list(pool.map(lambda d: _try(d, rules, http, now, env, smtp_factory, clock), claimed))
    finally:
        if own_client:
            http.close()
    delivered: list[tuple[str, str]] = []
    failures: list[Failure] = []
    for delivery, (attempt, receiver) in zip(claimed, results, strict=True):
        if attempt.verdict == "delivered":
            delivered.append((delivery.event_id, delivery.receiver))
            continue
        retry_at = None
        if attempt.verdict == "retry" and receiver is not None:
            retry_at = next_attempt(delivery.attempts, now, receiver, attempt.not_before)
        failures.append(Failure(delivery.event_id, delivery.receiver, attempt.error or "failed", retry_at))
    outbox.mark_delivered(delivered, now)
    counts["dead"] = outbox.mark_failed(failures, now)
    counts["delivered"] = len(delivered)
    counts["retried"] = len(failures) - counts["dead"]
    return counts


def dispatch_events(outbox: Outbox, rules: RuleBook, now: datetime, limit: int) -> dict[str, int]:
    """Fan one batch of new outbox events out into deliveries for the receivers that subscribe."""
    report = outbox.dispatch(receivers_by_municipality(rules), now, limit)
    return {"events": report.events, "deliveries": report.deliveries}


def run_pass(
    dispatch: Callable[[int], dict[str, int]],
    send: Callable[[int], dict[str, int]],
    max_messages: int,
    batch_size: int,
    dispatch_batch: int = 1000,
) -> dict[str, int]:
    """Dispatch every new event, then send due deliveries batch after batch, at most max_messages."""
    totals = {"events": 0, "deliveries": 0, "claimed": 0, "delivered": 0, "retried": 0, "dead": 0}
    while True:
        result = dispatch(dispatch_batch)
        totals["events"] += result["events"]
        totals["deliveries"] += result["deliveries"]
        if result["events"] < dispatch_batch:
            break
    # A failed delivery is due again only after its backoff, so a pass never takes it twice.
    while totals["claimed"] < max_messages:
        wanted = min(batch_size, max_messages - totals["claimed"])
        result = send(wanted)
        for key in ("claimed", "delivered", "retried", "dead"):
            totals[key] += result[key]
        if result["claimed"] < wanted:
            break
    return totals


def deliver_pass(
    outbox: Outbox,
    rules: RuleBook,
    now: datetime,
    max_messages: int = 2000,
    batch_size: int = 50,
    **send_options: Any,
) -> dict[str, int]:
    """Run one whole pass in this process (what `activation notifications send` does)."""
    return run_pass(
        lambda limit: dispatch_events(outbox, rules, now, limit),
        lambda limit: deliver_batch(outbox, rules, now, limit, **send_options),
        max_messages,
        batch_size,
    )


# -- Prefect tasks ----------------------------------------------------------------------------------


@task(name="dispatch-notifications", task_run_name="dispatch notifications", retries=2, retry_delay_seconds=[1, 5])
def dispatch_notifications(now: datetime, limit: int) -> dict[str, int]:
    """Turn new outbox events into one delivery per subscribed receiver."""
    rt = get_runtime()
    return dispatch_events(Outbox(rt.engine), rt.rules, now, limit)


@task(name="send-notifications", task_run_name="send notifications", retries=1, retry_delay_seconds=[5])
def send_notifications(now: datetime, batch_size: int) -> dict[str, int]:
    """Send one batch of due deliveries; failures wait for their backoff, the hopeless become dead letters."""
    rt = get_runtime()
    result = deliver_batch(Outbox(rt.engine), rt.rules, now, batch_size)
    if result["retried"] or result["dead"]:
        get_run_logger().warning(
            "%d of %d deliveries failed: %d will be retried, %d are dead letters (`activation notifications list`)",
            result["retried"] + result["dead"],
            result["claimed"],
            result["retried"],
            result["dead"],
        )
    return result
