"""Senders of notifications: the adapters behind activation.delivery's Sender port, one per channel.

Outside the domain because they reach the network (httpx for webhooks, smtplib for e-mail). Not named
`notify`: a Prefect worker loads flows/notify.py as the top-level module `notify` (prefect's
load_script_as_module), which would hide a package of that name from tasks/notify.py.
"""

from __future__ import annotations

import os
import smtplib
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import httpx

from activation.config import RuleBook
from activation.delivery import Sender
from senders.mail import EmailSender, SmtpFactory
from senders.webhook import WebhookSender


@contextmanager
def real_senders(
    rules: RuleBook,
    *,
    environ: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
    smtp_factory: SmtpFactory = smtplib.SMTP,
    clock: Callable[[], float] = time.time,
) -> Iterator[dict[str, Sender]]:
    """Yield a sender per channel, secrets read from environ (default os.environ); close them after."""
    env = os.environ if environ is None else environ
    webhook = WebhookSender(env, client, clock)
    speaks = {code: (m.language, m.timezone) for code, m in rules.municipalities.items()}
    email = EmailSender({code: m.smtp for code, m in rules.municipalities.items()}, env, smtp_factory, speaks)
    try:
        yield {"webhook": webhook, "email": email}
    finally:
        webhook.close()
