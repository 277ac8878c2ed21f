"""Notifications, the pure rules and the config: signatures, backoff, who hears of what, refused config."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from activation import notifications as n
from activation.config import ENV_CONFIG_DIR, ConfigError, Receiver, load

REAL_CONFIG = Path(__file__).resolve().parent.parent / "config"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SECRET = b"whsec-test-only"
BODY = b'{"case_id":"c-abc","event":"escalation"}'


def receiver(**changes: object) -> Receiver:
    data: dict[str, object] = {
        "channel": "webhook",
        "url": "https://case-system.example/hooks",
        "events": ["escalation", "alert"],
        "secret_env": "CASE_SYSTEM_SECRET",
    }
    data.update(changes)
    return Receiver.model_validate(data)


# -- signatures -----------------------------------------------------------------------------------


def test_a_signature_is_the_timestamp_and_an_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    header = n.sign(SECRET, 1_790_000_000, BODY)
    expected = hmac.new(SECRET, b"1790000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1790000000,v1={expected}"


def test_a_receiver_verifies_a_fresh_signature() -> None:
    header = n.sign(SECRET, 1_790_000_000, BODY)
    assert n.verify(SECRET, header, BODY, now_ts=1_790_000_010)


def test_a_tampered_body_fails_verification() -> None:
    header = n.sign(SECRET, 1_790_000_000, BODY)
    assert not n.verify(SECRET, header, BODY.replace(b"c-abc", b"c-xyz"), now_ts=1_790_000_000)


def test_a_tampered_timestamp_fails_verification() -> None:
    header = n.sign(SECRET, 1_790_000_000, BODY).replace("t=1790000000", "t=1790000100")
    assert not n.verify(SECRET, header, BODY, now_ts=1_790_000_100)


def test_another_secret_fails_verification() -> None:
    header = n.sign(b"someone-else", 1_790_000_000, BODY)
    assert not n.verify(SECRET, header, BODY, now_ts=1_790_000_000)


def test_a_request_replayed_after_the_tolerance_window_is_refused() -> None:
    header = n.sign(SECRET, 1_790_000_000, BODY)
    assert n.verify(SECRET, header, BODY, now_ts=1_790_000_300)
    assert not n.verify(SECRET, header, BODY, now_ts=1_790_000_301)
    assert not n.verify(SECRET, header, BODY, now_ts=1_789_999_699)  # from the future, too
    assert n.verify(SECRET, header, BODY, now_ts=1_790_000_900, tolerance=900)


@pytest.mark.parametrize("header", ["", "v1=abc", "t=abc,v1=def", "t=1790000000", "garbage"])
def test_a_malformed_signature_header_fails_verification(header: str) -> None:
    assert not n.verify(SECRET, header, BODY, now_ts=1_790_000_000)


# -- backoff --------------------------------------------------------------------------------------


def test_retries_wait_first_then_longer_by_the_factor_each_time() -> None:
    rule = receiver(max_attempts=5, backoff={"first": "30 seconds", "factor": 2})
    waits = [n.next_attempt(attempts, T0, rule) for attempts in range(1, 5)]
    assert [w - T0 for w in waits if w] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]


def test_after_the_last_attempt_a_delivery_is_dead() -> None:
    rule = receiver(max_attempts=5)
    assert n.next_attempt(5, T0, rule) is None
    assert n.next_attempt(6, T0, rule) is None


def test_a_wait_never_exceeds_the_backoff_maximum() -> None:
    rule = receiver(max_attempts=30, backoff={"first": "1 minute", "factor": 10, "max": "2 hours"})
    assert n.next_attempt(20, T0, rule) == T0 + timedelta(hours=2)


def test_a_receivers_retry_after_moves_the_next_attempt_later_but_at_most_an_hour() -> None:
    rule = receiver()
    assert n.next_attempt(1, T0, rule, not_before=T0 + timedelta(minutes=10)) == T0 + timedelta(minutes=10)
    assert n.next_attempt(1, T0, rule, not_before=T0 + timedelta(seconds=1)) == T0 + timedelta(seconds=30)
    assert n.next_attempt(1, T0, rule, not_before=T0 + timedelta(days=3)) == T0 + timedelta(hours=1)


def test_the_default_schedule_spends_eight_attempts_over_about_an_hour() -> None:
    rule = receiver()
    at, attempts = T0, 0
    while (following := n.next_attempt(attempts + 1, at, rule)) is not None:
        at, attempts = following, attempts + 1
    assert attempts + 1 == 8
    assert at - T0 == timedelta(seconds=30 * (2**7 - 1))  # 63.5 minutes


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    assert n.retry_after("120", T0) == T0 + timedelta(minutes=2)
    assert n.retry_after("Fri, 20 Nov 2026 09:05:00 GMT", T0) == T0 + timedelta(minutes=5)
    assert n.retry_after("soon", T0) is None
    assert n.retry_after(None, T0) is None


# -- answers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(200, "delivered"), (202, "delivered"), (204, "delivered"), (400, "dead"), (410, "dead")]
    + [(s, "retry") for s in (301, 401, 403, 404, 408, 409, 429, 500, 502, 503, 504)],
)
def test_an_http_answer_means_delivered_dead_or_retry(status: int, verdict: str) -> None:
    assert n.verdict_for_status(status) == verdict


# -- fan-out --------------------------------------------------------------------------------------


def test_only_enabled_receivers_subscribed_to_the_kind_hear_of_an_event() -> None:
    receivers = {
        "case-system": receiver(events=["escalation", "alert"]),
        "letters": receiver(events=["letter"]),
        "paused": receiver(events=["escalation"], enabled=False),
    }
    assert n.subscribers(receivers, "escalation") == ["case-system"]
    assert n.subscribers(receivers, "letter") == ["letters"]
    assert n.subscribers(receivers, "reminder") == []
    assert n.subscribers({}, "alert") == []


PAYLOAD = {
    "event": "escalation",
    "id": "escalation:a-1",
    "case_id": "c-abc1",
    "municipality": "karlskrona",
    "occurred_at": "2026-11-20T09:00:00+00:00",
    "rule_key": "first_meeting",
    "notify_role": "team_lead",
    "citizen_ref": "never-shown",  # a payload never has one; even if it did, the e-mail leaves it out
}


def test_an_email_says_event_and_case_but_holds_no_personal_data() -> None:
    from senders.mail import notification_email

    subject, body = notification_email(PAYLOAD, "en", "Europe/Stockholm")
    assert subject == "Activation: escalation for case c-abc1"
    assert "first_meeting" in body and "escalation:a-1" in body and "2026-11-20 10:00:00+01:00" in body
    assert "holds no personal data" in body and "never-shown" not in body


def test_an_email_speaks_the_municipalitys_language() -> None:
    from senders.mail import notification_email

    sv_subject, sv_body = notification_email(PAYLOAD, "sv", "Europe/Stockholm")
    da_subject, da_body = notification_email({**PAYLOAD, "event": "reminder"}, "da", "Europe/Copenhagen")
    assert sv_subject == "Aktivering: eskalering – ärende c-abc1"
    assert "En tidsfrist har passerats och eskalerats" in sv_body and "inga personuppgifter" in sv_body
    assert da_subject == "Aktivering: påmindelse – sag c-abc1"
    assert "En frist nærmer sig" in da_body and "ingen personoplysninger" in da_body


def test_an_emails_message_id_is_the_same_on_every_retry() -> None:
    first = n.message_id("escalation:a-1", "ops-mail", "kommun.example")
    assert first == n.message_id("escalation:a-1", "ops-mail", "kommun.example")
    assert first != n.message_id("escalation:a-2", "ops-mail", "kommun.example")
    assert first.startswith("<") and first.endswith("@kommun.example>")


# -- config ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_config_dir_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_CONFIG_DIR, raising=False)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    root = tmp_path / "config"
    shutil.copytree(REAL_CONFIG, root)
    return root


def set_receivers(root: Path, code: str, receivers: dict[str, object], smtp: dict[str, object] | None = None) -> Path:
    path = root / "municipalities" / f"{code}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["notifications"] = {"receivers": receivers}
    if smtp is not None:
        data["smtp"] = smtp
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def problems_of(root: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(root)
    return caught.value.problems


HOOK = {"channel": "webhook", "url": "https://hub.example/in", "events": ["escalation"], "secret_env": "HUB_SECRET"}


def test_the_shipped_example_receiver_is_switched_off_and_valid() -> None:
    karlskrona = load().municipality("karlskrona")
    example = karlskrona.notifications.receivers["case-system"]
    assert example.enabled is False
    assert example.secret_env == "ACTIVATION_WEBHOOK_SECRET_KARLSKRONA"
    assert example.backoff.first == timedelta(seconds=30)
    assert all(not r.enabled for m in load().municipalities.values() for r in m.notifications.receivers.values())


def test_receivers_leave_the_rules_version_stamp_alone(copy: Path) -> None:
    before = load(copy).version("vaxjo")
    set_receivers(copy, "vaxjo", {"hub": HOOK}, smtp={"host": "mail.example", "from": "noreply@vaxjo.example"})
    assert load(copy).version("vaxjo") == before


def test_a_receiver_reads_its_defaults() -> None:
    rule = receiver()
    assert (rule.max_attempts, rule.timeout, rule.enabled) == (8, 10.0, True)
    assert (rule.backoff.first, rule.backoff.factor, rule.backoff.max) == (
        timedelta(seconds=30),
        2.0,
        timedelta(hours=6),
    )


def test_a_webhook_url_must_be_http_or_https_naming_file_and_key(copy: Path) -> None:
    path = set_receivers(copy, "vaxjo", {"hub": {**HOOK, "url": "ftp://hub.example/in"}})
    assert problems_of(copy) == [
        f"{path}: notifications.receivers.hub.url: 'ftp://hub.example/in' is not an http:// or https:// URL"
    ]


def test_a_webhook_without_a_secret_is_refused(copy: Path) -> None:
    path = set_receivers(copy, "vaxjo", {"hub": {k: v for k, v in HOOK.items() if k != "secret_env"}})
    [problem] = problems_of(copy)
    assert problem.startswith(f"{path}: notifications.receivers.hub: secret_env: a webhook is signed")


def test_a_secret_in_place_of_its_environment_variable_name_is_refused(copy: Path) -> None:
    path = set_receivers(copy, "vaxjo", {"hub": {**HOOK, "secret_env": "s3cr3t-value"}})
    [problem] = problems_of(copy)
    assert problem.startswith(f"{path}: notifications.receivers.hub.secret_env: 's3cr3t-value' is not an environment")


def test_an_unknown_event_kind_is_refused_with_its_position(copy: Path) -> None:
    path = set_receivers(copy, "vaxjo", {"hub": {**HOOK, "events": ["escalation", "teleport"]}})
    [problem] = problems_of(copy)
    assert problem.startswith(f"{path}: notifications.receivers.hub.events.1: Input should be 'reminder'")


def test_an_unreadable_backoff_delay_is_refused(copy: Path) -> None:
    path = set_receivers(copy, "vaxjo", {"hub": {**HOOK, "backoff": {"first": "30 parsecs"}}})
    [problem] = problems_of(copy)
    assert problem.startswith(f"{path}: notifications.receivers.hub.backoff.first: '30 parsecs' is not a delay")


def test_a_misspelt_receiver_key_is_refused(copy: Path) -> None:
    path = set_receivers(copy, "vaxjo", {"hub": {**HOOK, "max_attempt": 3}})
    assert problems_of(copy) == [f"{path}: notifications.receivers.hub.max_attempt: unknown key"]


def test_an_email_receiver_needs_an_smtp_block(copy: Path) -> None:
    mail = {"channel": "email", "to": ["ops@vaxjo.example"], "events": ["letter"]}
    path = set_receivers(copy, "vaxjo", {"ops-mail": mail})
    assert problems_of(copy) == [
        f"{path}: notifications.receivers.ops-mail.channel: e-mail needs an smtp: block (national or municipal)"
    ]
    set_receivers(copy, "vaxjo", {"ops-mail": mail}, smtp={"host": "mail.example", "from": "noreply@vaxjo.example"})
    smtp = load(copy).municipality("vaxjo").smtp
    assert smtp is not None and (smtp.port, smtp.starttls, smtp.sender) == (587, True, "noreply@vaxjo.example")


def test_an_email_address_that_is_not_one_is_refused(copy: Path) -> None:
    mail = {"channel": "email", "to": ["ops@vaxjo.example", "ops"], "events": ["letter"]}
    path = set_receivers(copy, "vaxjo", {"ops-mail": mail}, smtp={"host": "m.example", "from": "a@vaxjo.example"})
    assert problems_of(copy) == [f"{path}: notifications.receivers.ops-mail.to.1: 'ops' is not an e-mail address"]


def test_a_receiver_name_must_be_a_plain_code(copy: Path) -> None:
    path = set_receivers(copy, "vaxjo", {"Case System": HOOK})
    [problem] = problems_of(copy)
    assert problem.startswith(f"{path}: notifications.receivers.Case System: a receiver name is lower case")


def test_a_national_smtp_block_is_checked_against_the_national_file(copy: Path) -> None:
    se = copy / "national" / "se.yaml"
    data = yaml.safe_load(se.read_text(encoding="utf-8"))
    data["smtp"] = {"host": "mail.example", "from": "nobody", "username_env": "SMTP_USER"}
    se.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    problems = problems_of(copy)
    assert f"{se}: smtp.from: 'nobody' is not an e-mail address" in problems
    assert all(str(se) in p for p in problems)
