"""Notifications delivered for real: a local webhook receiver that checks signatures, and an SMTP sink.

The receiver is a ThreadingHTTPServer on a free port. It verifies every signature, counts what it
accepted per Idempotency-Key, and can be told to answer 503, to take a message and lose the answer,
or be stopped and started again on the same port. Time is a fixed `now` the tests move on: no test
sleeps through a backoff. Runs on SQLite and, when ACTIVATION_TEST_DATABASE_URL is set, PostgreSQL.
"""

from __future__ import annotations

import json
import shutil
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select

from activation import config, services
from activation.adapters import tables as t
from activation.adapters.db import make_engine, migrate
from activation.adapters.outbox import Outbox
from activation.adapters.sql import SqlStore
from activation.notifications import verify
from tasks.notify import deliver_pass
from tests.conftest import at

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SECRET_ENV = "ACTIVATION_TEST_HOOK_SECRET"
SECRET = "whsec-only-for-tests"
ENVIRON = {SECRET_ENV: SECRET}
KINDS = ["reminder", "escalation", "alert", "letter"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 resets connections when eight senders arrive at once


class WebhookReceiver:
    """Another system's webhook endpoint, as a careful receiver writes it, under the test's control."""

    def __init__(self, secret: str = SECRET, port: int | None = None) -> None:
        self.secret = secret.encode()
        self.port = port or free_port()
        self.answer = 200  # what a valid request gets; 503 plays a receiver in trouble
        self.lose_answers = False  # take the message, then never answer (our timeout fires)
        self.retry_after: str | None = None
        self.accepted: Counter[str] = Counter()  # valid POSTs answered 2xx, per Idempotency-Key
        self.kept: dict[str, dict[str, Any]] = {}  # what the receiver stored, once per key
        self.headers: dict[str, dict[str, str]] = {}
        self.posts = 0  # every POST that reached the receiver
        self.bad_signatures = 0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/activation"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                with receiver.lock:
                    receiver.posts += 1
                    if not verify(
                        receiver.secret, self.headers.get("X-Activation-Signature", ""), body, int(time.time())
                    ):
                        receiver.bad_signatures += 1
                        status = 401
                    elif receiver.answer >= 300:
                        status = receiver.answer
                    else:
                        status = 200
                        receiver.accepted[key] += 1
                        receiver.kept.setdefault(key, json.loads(body))  # de-duplicated by key
                        receiver.headers[key] = dict(self.headers)
                if status == 200 and receiver.lose_answers:
                    time.sleep(1.5)  # longer than the sender's timeout: the answer is lost
                self.send_response(status)
                if receiver.retry_after and status in (429, 503):
                    self.send_header("Retry-After", receiver.retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver()  # not started: each test decides when it answers
    yield hook
    hook.stop()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


def hook(url: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "webhook",
        "url": url,
        "events": KINDS,
        "secret_env": SECRET_ENV,
        "max_attempts": 8,
        "backoff": {"first": "30 seconds", "factor": 2},
        "timeout": 1,
    }
    data.update(changes)
    return data


def rules_with(
    root: Path, receivers: dict[str, dict[str, dict[str, Any]]], smtp: dict[str, Any] | None = None
) -> config.RuleBook:
    """Copy the shipped config to root with these receivers per municipality, and load it."""
    if not root.exists():
        shutil.copytree(ROOT / "config", root)
    for code, named in receivers.items():
        path = root / "municipalities" / f"{code}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["notifications"] = {"receivers": named}
        if smtp:
            data["smtp"] = smtp
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return config.load(root)


def add_events(
    engine: Engine, count: int, kind: str = "escalation", municipality: str = "karlskrona", prefix: str = "a"
) -> list[str]:
    """Write outbox events as the store does (see activation/adapters/sql_rows.add_to_outbox); return their ids."""
    rows: list[dict[str, Any]] = []
    for i in range(count):
        event_id = f"{kind}:{prefix}{i}"
        case_id = f"c-{prefix}{i:07d}"
        rows.append(
            {
                "id": event_id,
                "kind": kind,
                "case_id": case_id,
                "municipality": municipality,
                "payload": {
                    "event": kind,
                    "id": event_id,
                    "case_id": case_id,
                    "municipality": municipality,
                    "occurred_at": T0.isoformat(),
                    "rule_key": "first_meeting",
                },
                "created_at": T0,
            }
        )
    with engine.begin() as conn:
        conn.execute(t.outbox.insert(), rows)
    return [r["id"] for r in rows]


def send(engine: Engine, rules: config.RuleBook, now: datetime, **options: Any) -> dict[str, int]:
    options.setdefault("environ", ENVIRON)
    return deliver_pass(Outbox(engine), rules, now, **options)


# -- dispatch and claims --------------------------------------------------------------------------


def test_dispatch_fans_each_event_out_only_to_the_receivers_that_subscribe(engine: Engine, tmp_path: Path) -> None:
    rules = rules_with(
        tmp_path / "config",
        {
            "karlskrona": {
                "case-system": hook("https://cs.example/in", events=["escalation", "alert"]),
                "archive": hook("https://archive.example/in", events=["letter"]),
                "paused": hook("https://paused.example/in", enabled=False),
            },
            "vaxjo": {"hub": hook("https://hub.example/in", events=["reminder"])},
        },
    )
    add_events(engine, 2, "escalation")
    add_events(engine, 1, "letter")
    add_events(engine, 1, "reminder")
    add_events(engine, 1, "reminder", municipality="vaxjo", prefix="v")
    add_events(engine, 1, "alert", municipality="boras", prefix="b")  # Borås has no receivers
    from activation.delivery import receivers_by_municipality

    outbox = Outbox(engine)
    report = outbox.dispatch(receivers_by_municipality(rules), T0, limit=100)
    assert (report.events, report.deliveries) == (6, 4)
    with engine.connect() as conn:
        made = set(conn.execute(select(t.deliveries.c.event_id, t.deliveries.c.receiver)).tuples())
        waiting = conn.execute(select(t.outbox.c.id).where(t.outbox.c.dispatched_at.is_(None))).all()
    assert made == {
        ("escalation:a0", "case-system"),
        ("escalation:a1", "case-system"),
        ("letter:a0", "archive"),
        ("reminder:v0", "hub"),
    }
    assert waiting == []
    assert outbox.dispatch(receivers_by_municipality(rules), T0, limit=100).events == 0
    assert outbox.counts() == {"pending": 4, "delivered": 0, "dead": 0, "undispatched": 0}


def test_two_workers_claiming_at_once_never_take_the_same_delivery(engine: Engine, tmp_path: Path) -> None:
    rules = rules_with(
        tmp_path / "config", {"karlskrona": {"a": hook("https://a.example"), "b": hook("https://b.example")}}
    )
    add_events(engine, 150)
    from activation.delivery import receivers_by_municipality

    outbox = Outbox(engine)
    assert outbox.dispatch(receivers_by_municipality(rules), T0, 1000).deliveries == 300
    taken: list[list[tuple[str, str]]] = [[] for _ in range(4)]
    errors: list[BaseException] = []

    def worker(mine: list[tuple[str, str]]) -> None:
        try:
            while batch := outbox.claim(T0, 7, timedelta(minutes=5)):
                mine.extend((d.event_id, d.receiver) for d in batch)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(mine,)) for mine in taken]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    everything = [key for mine in taken for key in mine]
    assert len(everything) == len(set(everything)) == 300
    assert outbox.claim(T0, 1000, timedelta(minutes=5)) == []


def test_a_claim_holds_until_its_lease_lapses_then_another_worker_takes_it_again(
    engine: Engine, tmp_path: Path
) -> None:
    rules = rules_with(tmp_path / "config", {"karlskrona": {"hub": hook("https://hub.example")}})
    add_events(engine, 3)
    from activation.delivery import receivers_by_municipality

    outbox = Outbox(engine)
    outbox.dispatch(receivers_by_municipality(rules), T0, 100)
    first = outbox.claim(T0, 10, timedelta(minutes=2))
    assert [d.attempts for d in first] == [1, 1, 1]
    assert first[0].payload and first[0].payload["case_id"] == "c-a0000000"
    assert outbox.claim(T0 + timedelta(minutes=1), 10, timedelta(minutes=2)) == []  # the first worker still holds them
    again = outbox.claim(T0 + timedelta(minutes=2), 10, timedelta(minutes=2))  # it died: the lease lapsed
    assert {d.event_id for d in again} == {d.event_id for d in first}
    assert [d.attempts for d in again] == [2, 2, 2]


# -- delivery to a real receiver --------------------------------------------------------------------


def test_a_message_arrives_signed_with_its_idempotency_key_and_event(
    engine: Engine, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    rules = rules_with(tmp_path / "config", {"karlskrona": {"hub": hook(receiver.url)}})
    receiver.start()
    [event_id] = add_events(engine, 1, "alert")
    result = send(engine, rules, T0)
    assert (result["events"], result["deliveries"], result["delivered"]) == (1, 1, 1)
    assert receiver.bad_signatures == 0 and receiver.accepted == Counter({event_id: 1})
    headers = {k.lower(): v for k, v in receiver.headers[event_id].items()}
    assert headers["x-activation-event"] == "alert"
    assert headers["content-type"] == "application/json"
    assert headers["x-activation-signature"].startswith("t=")
    assert receiver.kept[event_id] == {
        "case_id": "c-a0000000",
        "event": "alert",
        "id": event_id,
        "municipality": "karlskrona",
        "occurred_at": T0.isoformat(),
        "rule_key": "first_meeting",
    }
    assert Outbox(engine).counts()["delivered"] == 1
    assert send(engine, rules, T0 + timedelta(days=1))["claimed"] == 0  # delivered is never sent again


def test_an_escalation_fired_by_the_sweep_reaches_the_receiver_without_the_citizen(
    database_url: str, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    rules = rules_with(tmp_path / "config", {"karlskrona": {"hub": hook(receiver.url, events=["escalation"])}})
    engine = make_engine(database_url)
    store = SqlStore(engine)
    receiver.start()
    case_id = services.record_application(
        store, rules, "karlskrona", "ref-hook-citizen", at("2026-11-20 09:00")
    ).case_id
    services.advance_cases(store, rules, at("2026-11-20 09:05"))
    fired = services.sweep(store, at("2026-12-20 09:00")).fired_escalations
    result = send(engine, rules, at("2026-12-20 09:01"))
    engine.dispose()
    assert fired >= 1 and result["delivered"] == fired
    assert {p["case_id"] for p in receiver.kept.values()} == {case_id}
    assert {p["event"] for p in receiver.kept.values()} == {"escalation"}
    assert "ref-hook-citizen" not in json.dumps(receiver.kept)


def test_every_message_arrives_exactly_once_after_the_receiver_comes_back(
    engine: Engine, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    """The fault test: the receiver is away (refusing, then 503, then gone again) and returns."""
    started = time.monotonic()
    rules = rules_with(tmp_path / "config", {"karlskrona": {"hub": hook(receiver.url)}})
    events = add_events(engine, 100, "escalation") + add_events(engine, 100, "letter")
    outbox = Outbox(engine)

    # 09:00 the receiver is down: every connection is refused. Each is retried in 30 s.
    down = send(engine, rules, T0)
    assert (down["events"], down["deliveries"], down["claimed"], down["retried"]) == (200, 200, 200, 200)
    assert send(engine, rules, T0 + timedelta(seconds=29))["claimed"] == 0  # backoff: not yet due

    # 09:00:30 it is up but in trouble (503): the second try fails too; the next wait is 60 s.
    receiver.answer = 503
    receiver.start()
    troubled = send(engine, rules, T0 + timedelta(seconds=30))
    assert (troubled["claimed"], troubled["retried"], receiver.posts) == (200, 200, 200)
    assert {d.next_attempt_at for d in outbox.deliveries("pending", limit=1000)} == {T0 + timedelta(seconds=90)}

    # 09:01:30 stopped again (a redeploy): refused; the next wait is 120 s.
    receiver.stop()
    assert send(engine, rules, T0 + timedelta(seconds=90))["retried"] == 200
    assert receiver.accepted == Counter()

    # 09:03:30 back on the same port and healthy: everything arrives, each message once.
    receiver.answer = 200
    receiver.start()
    back = send(engine, rules, T0 + timedelta(seconds=210))
    assert (back["claimed"], back["delivered"], back["retried"], back["dead"]) == (200, 200, 0, 0)
    assert send(engine, rules, T0 + timedelta(days=1))["claimed"] == 0
    assert receiver.bad_signatures == 0
    assert set(receiver.accepted) == set(events)
    assert all(count == 1 for count in receiver.accepted.values())  # once per Idempotency-Key
    assert sum(receiver.accepted.values()) == 200  # and no accepted POST twice: delivered is never resent
    assert receiver.posts == 400  # 200 answered 503, 200 accepted
    assert outbox.counts() == {"pending": 0, "delivered": 200, "dead": 0, "undispatched": 0}
    assert {d.attempts for d in outbox.deliveries("delivered", limit=1000)} == {4}
    assert time.monotonic() - started < 60


def test_after_the_last_attempt_messages_are_dead_letters_until_retried(
    engine: Engine, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    rules = rules_with(tmp_path / "config", {"karlskrona": {"hub": hook(receiver.url, max_attempts=3)}})
    events = add_events(engine, 20)
    outbox = Outbox(engine)
    results = [send(engine, rules, T0 + timedelta(seconds=s)) for s in (0, 30, 90)]  # receiver down
    assert [(r["retried"], r["dead"]) for r in results] == [(20, 0), (20, 0), (0, 20)]
    assert send(engine, rules, T0 + timedelta(days=1))["claimed"] == 0  # dead letters wait for a person
    dead = outbox.dead_letters()
    assert {d.event_id for d in dead} == set(events)
    assert all(d.attempts == 3 and "ConnectError" in (d.last_error or "") for d in dead)

    receiver.start()
    assert outbox.retry_dead(T0 + timedelta(days=1), municipality="vaxjo") == 0
    assert outbox.retry_dead(T0 + timedelta(days=1), municipality="karlskrona", receiver="hub") == 20
    back = send(engine, rules, T0 + timedelta(days=1))
    assert (back["delivered"], back["dead"]) == (20, 0)
    assert receiver.accepted == Counter(dict.fromkeys(events, 1))
    assert outbox.counts() == {"pending": 0, "delivered": 20, "dead": 0, "undispatched": 0}


def test_a_message_whose_answer_is_lost_comes_again_with_the_same_key_and_is_kept_once(
    engine: Engine, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    rules = rules_with(tmp_path / "config", {"karlskrona": {"hub": hook(receiver.url, timeout=0.5)}})
    [event_id] = add_events(engine, 1)
    receiver.lose_answers = True
    receiver.start()
    first = send(engine, rules, T0)
    assert first["retried"] == 1  # we timed out: from here it looks like a failure
    receiver.lose_answers = False
    assert send(engine, rules, T0 + timedelta(seconds=30))["delivered"] == 1
    assert receiver.accepted[event_id] == 2  # at least once on the wire ...
    assert list(receiver.kept) == [event_id]  # ... exactly once in the receiver, by the Idempotency-Key


@pytest.mark.parametrize("status", [400, 410])
def test_a_400_or_410_answer_makes_a_dead_letter_at_once(
    status: int, engine: Engine, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    rules = rules_with(tmp_path / "config", {"karlskrona": {"hub": hook(receiver.url)}})
    add_events(engine, 2)
    receiver.answer = status
    receiver.start()
    assert send(engine, rules, T0)["dead"] == 2
    assert {d.last_error for d in Outbox(engine).dead_letters()} == {f"HTTP {status}"}


def test_a_429_with_retry_after_waits_as_long_as_the_receiver_asks(
    engine: Engine, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    rules = rules_with(tmp_path / "config", {"karlskrona": {"hub": hook(receiver.url)}})
    add_events(engine, 1)
    receiver.answer, receiver.retry_after = 429, "600"
    receiver.start()
    assert send(engine, rules, T0)["retried"] == 1
    [pending] = Outbox(engine).deliveries("pending")
    assert pending.next_attempt_at == T0 + timedelta(minutes=10)
    assert pending.last_error == "HTTP 429"


def test_without_its_secret_nothing_is_sent_unsigned(engine: Engine, tmp_path: Path, receiver: WebhookReceiver) -> None:
    rules = rules_with(tmp_path / "config", {"karlskrona": {"hub": hook(receiver.url)}})
    add_events(engine, 1)
    receiver.start()
    assert send(engine, rules, T0, environ={})["retried"] == 1
    assert receiver.posts == 0
    [pending] = Outbox(engine).deliveries("pending")
    assert pending.last_error == f"the secret environment variable {SECRET_ENV} is not set"
    assert SECRET not in json.dumps([d.last_error for d in Outbox(engine).deliveries()])


def test_deliveries_of_a_receiver_taken_out_of_the_config_become_dead_letters(engine: Engine, tmp_path: Path) -> None:
    rules = rules_with(tmp_path / "config", {"karlskrona": {"hub": hook("http://127.0.0.1:1/never")}})
    add_events(engine, 2)
    send(engine, rules, T0)  # refused: pending for a retry
    without = rules_with(tmp_path / "config", {"karlskrona": {}})
    assert send(engine, without, T0 + timedelta(minutes=5))["dead"] == 2
    assert {d.last_error for d in Outbox(engine).dead_letters()} == {
        "receiver 'hub' is not configured (or not enabled)"
    }


def test_a_send_pass_stops_at_its_maximum_and_the_next_pass_goes_on(
    engine: Engine, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    rules = rules_with(tmp_path / "config", {"karlskrona": {"hub": hook(receiver.url)}})
    add_events(engine, 30)
    receiver.start()
    first = send(engine, rules, T0, max_messages=25, batch_size=10)
    assert (first["claimed"], first["delivered"]) == (25, 25)
    assert send(engine, rules, T0, max_messages=25, batch_size=10)["delivered"] == 5
    assert len(receiver.accepted) == 30


# -- the command line -----------------------------------------------------------------------------


def test_the_cli_lists_dead_letters_retries_them_and_a_send_pass_delivers_them(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    from tests.test_cli import run

    cfg = tmp_path / "config"
    rules = rules_with(cfg, {"karlskrona": {"hub": hook(receiver.url, max_attempts=2)}})
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")  # the database test_cli.run points at
    migrate(engine)
    events = add_events(engine, 5)
    send(engine, rules, T0)
    send(engine, rules, T0 + timedelta(seconds=30))  # the receiver is down: dead after 2 attempts
    engine.dispose()

    listed = run(tmp_path, "--config-dir", str(cfg), "notifications", "list", "--state", "dead", "--json")
    assert listed.returncode == 0, listed.stderr
    report = json.loads(listed.stdout)
    assert report["counts"] == {"pending": 0, "delivered": 0, "dead": 5, "undispatched": 0}
    assert {d["event_id"] for d in report["deliveries"]} == set(events)
    assert all(d["receiver"] == "hub" and d["attempts"] == 2 for d in report["deliveries"])

    table = run(tmp_path, "--config-dir", str(cfg), "notifications", "list", "--state", "dead")
    assert "5 dead" in table.stdout and "notifications retry" in table.stdout

    retried = run(tmp_path, "--config-dir", str(cfg), "notifications", "retry", "--receiver", "hub", "--json")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["retried"] == 5

    receiver.start()
    sent = run(tmp_path, "--config-dir", str(cfg), "notifications", "send", "--json", env=ENVIRON)
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout) == {
        "events": 0,
        "deliveries": 0,
        "claimed": 5,
        "delivered": 5,
        "retried": 0,
        "dead": 0,
    }
    assert receiver.accepted == Counter(dict.fromkeys(events, 1))


# -- e-mail over SMTP -----------------------------------------------------------------------------


class SmtpSink:
    """Just enough of an SMTP server (RFC 5321 without extensions) to take or refuse a message."""

    def __init__(self) -> None:
        self.port = free_port()
        self.rcpt_reply = b"250 OK"
        self.messages: list[tuple[str, list[str], bytes]] = []
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 sink ESMTP\r\n")
                sender, in_data = "", False
                recipients: list[str] = []
                lines: list[bytes] = []
                for raw in self.rfile:
                    if in_data:
                        if raw in (b".\r\n", b".\n"):
                            sink.messages.append((sender, recipients, b"".join(lines)))
                            self.wfile.write(b"250 queued\r\n")
                            in_data, lines, recipients = False, [], []
                        else:
                            lines.append(raw[1:] if raw.startswith(b"..") else raw)
                        continue
                    verb = raw[:4].upper()
                    if verb in (b"EHLO", b"HELO"):
                        reply = b"250 sink"
                    elif verb == b"MAIL":
                        sender, reply = raw.decode().split(":", 1)[1].strip(), b"250 OK"
                    elif verb == b"RCPT":
                        reply = sink.rcpt_reply
                        if reply.startswith(b"250"):
                            recipients.append(raw.decode().split(":", 1)[1].strip())
                    elif verb == b"DATA":
                        in_data, reply = True, b"354 go ahead"
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:  # RSET, NOOP
                        reply = b"250 OK"
                    self.wfile.write(reply + b"\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink()
    yield server
    server.stop()


def mail_rules(root: Path, port: int) -> config.RuleBook:
    mail = {"channel": "email", "to": ["ops@karlskrona.example"], "events": ["escalation"], "max_attempts": 3}
    smtp = {"host": "127.0.0.1", "port": port, "from": "noreply@karlskrona.example", "starttls": False, "timeout": 2}
    return rules_with(root, {"karlskrona": {"ops-mail": mail}}, smtp=smtp)


def test_an_email_receiver_gets_a_short_message_with_the_case_id_through_smtp(
    engine: Engine, tmp_path: Path, sink: SmtpSink
) -> None:
    rules = mail_rules(tmp_path / "config", sink.port)
    [event_id] = add_events(engine, 1)
    assert send(engine, rules, T0)["delivered"] == 1
    [(sender, recipients, raw)] = sink.messages
    assert (sender, recipients) == ("<noreply@karlskrona.example>", ["<ops@karlskrona.example>"])
    message = message_from_bytes(raw, policy=default_policy)
    # Karlskrona writes Swedish: the subject and text come from forms/templates/notification_email.sv.
    assert str(message["Subject"]) == "Aktivering: eskalering – ärende c-a0000000"
    assert message["X-Activation-Idempotency-Key"] == event_id
    assert message["X-Activation-Event"] == "escalation"
    assert message["Message-ID"].endswith("@karlskrona.example>")
    body = message.get_body()
    assert body is not None and "first_meeting" in body.get_content() and "En tidsfrist" in body.get_content()


def test_an_address_refused_for_good_is_a_dead_letter_and_a_busy_one_is_retried(
    engine: Engine, tmp_path: Path, sink: SmtpSink
) -> None:
    rules = mail_rules(tmp_path / "config", sink.port)
    add_events(engine, 1)
    sink.rcpt_reply = b"450 mailbox busy"
    assert send(engine, rules, T0)["retried"] == 1
    sink.rcpt_reply = b"550 no such mailbox"
    assert send(engine, rules, T0 + timedelta(seconds=30))["dead"] == 1
    [dead] = Outbox(engine).dead_letters()
    assert dead.last_error == "recipients refused: SMTP [550]"
    assert sink.messages == []


def test_a_mail_server_that_is_down_is_retried(engine: Engine, tmp_path: Path) -> None:
    rules = mail_rules(tmp_path / "config", free_port())
    add_events(engine, 1)
    assert send(engine, rules, T0)["retried"] == 1
    [pending] = Outbox(engine).deliveries("pending")
    assert pending.channel == "email" and "ConnectionRefusedError" in (pending.last_error or "")
