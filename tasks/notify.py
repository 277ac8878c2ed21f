"""Prefect tasks of the `deliver-notifications` flow: the delivery use case with the real senders.

The work is activation/delivery.py (claims, outcomes, backoff, dead letters) and the senders are
senders/ (signed webhooks over httpx, e-mail over smtplib). `deliver_pass` is the same pass in this
process, for `activation notifications send` and the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from prefect import get_run_logger, task

from activation import delivery
from activation.adapters.outbox import Outbox
from activation.config import RuleBook
from activation.delivery import DeliveryReport, DispatchReport
from activation.runtime import get_runtime
from senders import real_senders


def run_pass(
    dispatch: Callable[[int], DispatchReport],
    send: Callable[[int], DeliveryReport],
    max_messages: int,
    batch_size: int,
) -> dict[str, int]:
    """Run a whole pass over the two tasks below (activation.delivery.run_pass); return its counts."""
    return delivery.run_pass(dispatch, send, max_messages, batch_size).as_dict()


def deliver_pass(
    outbox: Outbox,
    rules: RuleBook,
    now: datetime,
    max_messages: int = 2000,
    batch_size: int = 50,
    *,
    workers: int = delivery.WORKERS,
    **sender_options: Any,
) -> dict[str, int]:
    """Run one whole pass in this process (what `activation notifications send` does); see real_senders."""
    with real_senders(rules, **sender_options) as senders:
        report = delivery.deliver_pass(outbox, rules, senders, now, max_messages, batch_size, workers)
    return report.as_dict()


@task(name="dispatch-notifications", task_run_name="dispatch notifications", retries=2, retry_delay_seconds=[1, 5])
def dispatch_notifications(now: datetime, limit: int) -> DispatchReport:
    """Turn new outbox events into one delivery per subscribed receiver."""
    rt = get_runtime()
    return delivery.dispatch_new(Outbox(rt.engine), rt.rules, now, limit)


@task(name="send-notifications", task_run_name="send notifications", retries=1, retry_delay_seconds=[5])
def send_notifications(now: datetime, batch_size: int) -> DeliveryReport:
    """Send one batch of due deliveries; failures wait for their backoff, the hopeless become dead letters."""
    rt = get_runtime()
    with real_senders(rt.rules) as senders:
        report = delivery.deliver_due(Outbox(rt.engine), rt.rules, senders, now, batch_size)
    if report.retried or report.dead:
        get_run_logger().warning(
            "%d of %d deliveries failed: %d will be retried, %d are dead letters (`activation notifications list`)",
            report.retried + report.dead,
            report.claimed,
            report.retried,
            report.dead,
        )
    return report
