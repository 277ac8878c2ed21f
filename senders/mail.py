"""The e-mail sender: a short plain-text message over smtplib (the Sender port of activation.delivery).

The message says what happened and to which case, never who the citizen is (activation.notifications.
email_text). A 5xx refusal of the recipients, the sender or the message is final; a server that is
down, a 4xx or failed authentication is worth another try.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Mapping
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import forms
from activation.config import Receiver, Smtp
from activation.delivery import Accepted, Delivery, Outcome, Refused, RetryLater
from activation.notifications import EVENT_HEADER, message_id

SmtpFactory = Callable[..., Any]  # smtplib.SMTP or a test double with the same calls


def send_email(
    smtp: Smtp,
    receiver: Receiver,
    delivery: Delivery,
    environ: Mapping[str, str],
    smtp_factory: SmtpFactory = smtplib.SMTP,
    language: str = "en",
    timezone: str = "UTC",
) -> Outcome:
    """Send a short plain-text e-mail (event and case id, no personal data) to the receiver's addresses."""
    subject, text = notification_email(delivery.payload or {}, language, timezone)
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = ", ".join(receiver.to)
    message["Subject"] = subject
    message["Message-ID"] = message_id(delivery.event_id, delivery.receiver, smtp.sender.rsplit("@", 1)[1])
    message[EVENT_HEADER] = delivery.kind
    message["X-Activation-Idempotency-Key"] = delivery.event_id
    message.set_content(text)
    username = environ.get(smtp.username_env) if smtp.username_env else None
    password = environ.get(smtp.password_env) if smtp.password_env else None
    if smtp.username_env and not (username and password):
        return RetryLater(f"{smtp.username_env} or {smtp.password_env} is not set in the environment")
    try:
        with smtp_factory(smtp.host, smtp.port, timeout=smtp.timeout) as server:
            if smtp.starttls:
                server.starttls(context=ssl.create_default_context())
            if username and password:
                server.login(username, password)
            server.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        reason = f"recipients refused: SMTP {codes}"
        return Refused(reason) if all(c >= 500 for c in codes) else RetryLater(reason)
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        # 5xx on the sender or the message: the server will not take it however often we ask.
        reason = f"{type(exc).__name__}: SMTP {exc.smtp_code}"
        return Refused(reason) if exc.smtp_code >= 500 else RetryLater(reason)
    except (smtplib.SMTPException, OSError) as exc:  # refused connection, timeout, 4xx, authentication
        return RetryLater(f"{type(exc).__name__}: {exc}"[:500])
    return Accepted()


def notification_email(payload: Mapping[str, Any], language: str, timezone: str) -> tuple[str, str]:
    """Return the subject and text of an event's e-mail in a language (forms/templates/notification_email.*)."""
    keys = ("event", "id", "case_id", "municipality", "occurred_at", "rule_key", "notify_role", "step",
            "deadline_due_at", "form")  # fmt: skip
    context = {k: payload.get(k) for k in keys if payload.get(k) is not None}
    context.setdefault("event", "event")
    rendered = forms.render("notification_email", language, {**context, "timezone": timezone})
    subject, _, text = rendered.partition("\n")
    return subject.strip(), text.lstrip("\n")


class EmailSender:
    """Sends deliveries to e-mail receivers through the smtp: block of each delivery's municipality."""

    def __init__(
        self,
        smtp: Mapping[str, Smtp | None],
        environ: Mapping[str, str],
        smtp_factory: SmtpFactory = smtplib.SMTP,
        speaks: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        self.smtp = smtp  # by municipality code
        self.environ = environ
        self.smtp_factory = smtp_factory
        self.speaks = dict(speaks or {})  # municipality code -> (language, time zone) of its e-mails

    def send(self, delivery: Delivery, receiver: Receiver, now: datetime) -> Outcome:
        """Mail the delivery to the receiver's addresses; without an smtp: block, send nothing and retry."""
        smtp = self.smtp.get(delivery.municipality)
        if smtp is None:
            return RetryLater("no smtp: block configured")
        language, timezone = self.speaks.get(delivery.municipality, ("en", "UTC"))
        return send_email(smtp, receiver, delivery, self.environ, self.smtp_factory, language, timezone)
