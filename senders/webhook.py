"""The webhook sender: the payload as a signed JSON POST over httpx (the Sender port of activation.delivery).

Headers (README "What a receiver gets"): `Idempotency-Key` (the event id, the same on every retry),
`X-Activation-Signature` (`t=<unix seconds>,v1=<HMAC-SHA256 of "<t>." + body>`), `X-Activation-Event`.
2xx is accepted; 400 and 410 are refused for good; every other answer, a timeout or a refused
connection is worth another try, after the receiver's Retry-After on 429 and 503.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime

import httpx

from activation.config import Receiver
from activation.delivery import Accepted, Delivery, Outcome, Refused, RetryLater
from activation.notifications import (
    EVENT_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    retry_after,
    sign,
    verdict_for_status,
)

USER_AGENT = "activation-notifications/1"


def body_of(delivery: Delivery) -> bytes:
    """Return the JSON body sent for a delivery: the outbox payload, keys sorted, compact."""
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def new_client() -> httpx.Client:
    """Return the HTTP client webhooks go out on: redirects are not followed (a 3xx is retried)."""
    return httpx.Client(follow_redirects=False, headers={"User-Agent": USER_AGENT})


def send_webhook(
    client: httpx.Client, receiver: Receiver, delivery: Delivery, secret: bytes, timestamp: int, now: datetime
) -> Outcome:
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
        return RetryLater(f"timeout after {receiver.timeout:g} s ({type(exc).__name__})")
    except httpx.HTTPError as exc:  # connection refused, DNS, TLS, protocol errors
        return RetryLater(f"{type(exc).__name__}: {exc}"[:500])
    verdict = verdict_for_status(response.status_code)
    if verdict == "delivered":
        return Accepted()
    # The answer's body is not kept: it is the receiver's and may say anything.
    reason = f"HTTP {response.status_code}"
    if verdict == "dead":
        return Refused(reason)
    wait = retry_after(response.headers.get("Retry-After"), now) if response.status_code in (429, 503) else None
    return RetryLater(reason, wait)


class WebhookSender:
    """Sends deliveries to webhook receivers, signed with the secret named by each receiver's secret_env."""

    def __init__(
        self,
        environ: Mapping[str, str],
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.environ = environ
        self.clock = clock
        self._client = client
        self._own_client = client is None
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        # Made on the first send (several threads may arrive at once): a batch with nothing due, or
        # only e-mail, pays nothing for the TLS set-up.
        with self._lock:
            if self._client is None:
                self._client = new_client()
            return self._client

    def send(self, delivery: Delivery, receiver: Receiver, now: datetime) -> Outcome:
        """Sign and POST the delivery's payload; without the receiver's secret, send nothing and retry."""
        secret = self.environ.get(receiver.secret_env or "")
        if not secret:
            return RetryLater(f"the secret environment variable {receiver.secret_env} is not set")
        # The signature's timestamp is the wall clock of the request (what a receiver checks against
        # its own clock), not `now`, which may be a replayed time that only decides what is due.
        return send_webhook(self._http(), receiver, delivery, secret.encode(), int(self.clock()), now)

    def close(self) -> None:
        """Close the HTTP client if this sender made it."""
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None
