"""The delivery use case with a fake sender behind the Sender port: no network, time only as `now`.

The fake answers from a script, one outcome per try, so each test tells a receiver's story (busy, then
back; gone for good; asking us to wait) and checks what the outbox recorded. The deliveries are kept
by the real outbox adapter on SQLite (and PostgreSQL when ACTIVATION_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from activation.adapters.db import make_engine
from activation.adapters.outbox import Outbox
from activation.config import Receiver, RuleBook
from activation.delivery import (
    Accepted,
    Delivery,
    DeliveryReport,
    Outcome,
    PassReport,
    Refused,
    RetryLater,
    Sender,
    deliver_due,
    deliver_pass,
    dispatch_new,
)
from tests.test_notifications_delivery import T0, add_events, hook, rules_with

SECONDS = timedelta(seconds=1)


class ScriptedSender:
    """A fake Sender: the n-th try of any delivery gets the script's n-th outcome, the last one after that."""

    def __init__(self, *script: Outcome) -> None:
        self.script = script
        self.tries: Counter[str] = Counter()  # per event id
        self.lock = threading.Lock()  # the use case sends several deliveries at once

    def send(self, delivery: Delivery, receiver: Receiver, now: datetime) -> Outcome:
        with self.lock:
            self.tries[delivery.event_id] += 1
        return self.script[min(delivery.attempts, len(self.script)) - 1]


@pytest.fixture
def outbox(database_url: str) -> Iterator[Outbox]:
    engine = make_engine(database_url)
    yield Outbox(engine)
    engine.dispose()


def karlskrona_hub(root: Path, **changes: Any) -> RuleBook:
    """Return the shipped rules with one webhook receiver, `hub`, in Karlskrona."""
    return rules_with(root / "config", {"karlskrona": {"hub": hook("https://hub.example/in", **changes)}})


def queued(engine: Engine, rules: RuleBook, count: int) -> list[str]:
    """Write count outbox events and fan them out to their receivers; return the event ids."""
    events = add_events(engine, count)
    dispatch_new(Outbox(engine), rules, T0, 1000)
    return events


def senders(webhook: Sender) -> dict[str, Sender]:
    return {"webhook": webhook}


def test_a_message_the_receiver_accepts_is_delivered_and_never_sent_again(outbox: Outbox, tmp_path: Path) -> None:
    rules = karlskrona_hub(tmp_path)
    events = queued(outbox.engine, rules, 3)
    hub = ScriptedSender(Accepted())
    assert deliver_due(outbox, rules, senders(hub), T0, 10) == DeliveryReport(claimed=3, delivered=3)
    assert deliver_due(outbox, rules, senders(hub), T0 + timedelta(days=1), 10) == DeliveryReport()
    assert hub.tries == Counter(dict.fromkeys(events, 1))
    assert outbox.counts()["delivered"] == 3


def test_a_receiver_answering_503_is_tried_again_after_the_backoff_and_then_accepts(
    outbox: Outbox, tmp_path: Path
) -> None:
    rules = karlskrona_hub(tmp_path)  # backoff: first 30 seconds
    [event_id] = queued(outbox.engine, rules, 1)
    hub = ScriptedSender(RetryLater("HTTP 503"), Accepted())
    assert deliver_due(outbox, rules, senders(hub), T0, 10) == DeliveryReport(claimed=1, retried=1)
    [waiting] = outbox.deliveries("pending")
    assert (waiting.next_attempt_at, waiting.last_error) == (T0 + 30 * SECONDS, "HTTP 503")
    assert deliver_due(outbox, rules, senders(hub), T0 + 29 * SECONDS, 10).claimed == 0  # not yet due
    assert deliver_due(outbox, rules, senders(hub), T0 + 30 * SECONDS, 10).delivered == 1
    assert hub.tries == Counter({event_id: 2})
    [delivered] = outbox.deliveries("delivered")
    assert (delivered.attempts, delivered.last_error) == (2, None)


def test_a_receiver_that_refuses_for_good_makes_a_dead_letter_at_once(outbox: Outbox, tmp_path: Path) -> None:
    rules = karlskrona_hub(tmp_path)
    queued(outbox.engine, rules, 2)
    gone = ScriptedSender(Refused("HTTP 410"))
    assert deliver_due(outbox, rules, senders(gone), T0, 10) == DeliveryReport(claimed=2, dead=2)
    assert {(d.attempts, d.last_error) for d in outbox.dead_letters()} == {(1, "HTTP 410")}
    assert deliver_due(outbox, rules, senders(gone), T0 + timedelta(days=1), 10).claimed == 0


def test_a_receivers_retry_after_is_honoured_when_it_is_later_than_the_backoff(outbox: Outbox, tmp_path: Path) -> None:
    rules = karlskrona_hub(tmp_path)
    queued(outbox.engine, rules, 1)
    busy = ScriptedSender(RetryLater("HTTP 429", not_before=T0 + timedelta(minutes=10)), Accepted())
    deliver_due(outbox, rules, senders(busy), T0, 10)
    [waiting] = outbox.deliveries("pending")
    assert waiting.next_attempt_at == T0 + timedelta(minutes=10)
    assert deliver_due(outbox, rules, senders(busy), T0 + timedelta(minutes=9), 10).claimed == 0
    assert deliver_due(outbox, rules, senders(busy), T0 + timedelta(minutes=10), 10).delivered == 1


def test_a_delivery_still_failing_at_max_attempts_is_a_dead_letter(outbox: Outbox, tmp_path: Path) -> None:
    rules = karlskrona_hub(tmp_path, max_attempts=3)  # waits of 30 s, then 60 s
    queued(outbox.engine, rules, 4)
    down = ScriptedSender(RetryLater("ConnectError: refused"))
    reports = [deliver_due(outbox, rules, senders(down), T0 + s * SECONDS, 10) for s in (0, 30, 90)]
    assert [(r.retried, r.dead) for r in reports] == [(4, 0), (4, 0), (0, 4)]
    assert {(d.attempts, d.last_error) for d in outbox.dead_letters()} == {(3, "ConnectError: refused")}
    assert deliver_due(outbox, rules, senders(down), T0 + timedelta(days=1), 10).claimed == 0


def test_a_channel_without_a_sender_is_retried_and_never_counted_as_delivered(outbox: Outbox, tmp_path: Path) -> None:
    rules = karlskrona_hub(tmp_path)
    queued(outbox.engine, rules, 1)
    assert deliver_due(outbox, rules, {}, T0, 10) == DeliveryReport(claimed=1, retried=1)
    [waiting] = outbox.deliveries("pending")
    assert waiting.last_error == "no sender for the webhook channel"


def test_a_pass_fans_new_events_out_then_sends_batch_after_batch_up_to_its_maximum(
    outbox: Outbox, tmp_path: Path
) -> None:
    rules = karlskrona_hub(tmp_path)
    add_events(outbox.engine, 30)
    hub = ScriptedSender(Accepted())
    first = deliver_pass(outbox, rules, senders(hub), T0, max_messages=25, batch_size=10)
    assert first == PassReport(events=30, deliveries=30, claimed=25, delivered=25)
    assert first.as_dict() == {"events": 30, "deliveries": 30, "claimed": 25, "delivered": 25, "retried": 0, "dead": 0}
    assert deliver_pass(outbox, rules, senders(hub), T0, max_messages=25, batch_size=10).delivered == 5
    assert len(hub.tries) == 30 and set(hub.tries.values()) == {1}
