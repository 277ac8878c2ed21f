"""A job conversation or an offer recorded on a case keeps how it was held and who held it (issue 13 item 4).

Karlskrona's staff (tests/web_support.py): cw-01 and cw-02 in the same team, tl-01 their team lead,
ops-01 operations (works no cases), cw-vx a caseworker of Växjö.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from activation import case_events, services
from activation.adapters import tables as t
from activation.adapters.accounts import Accounts
from activation.errors import InputError
from tests.conftest import at
from tests.test_cli import run
from tests.test_cli_errors import assert_one_line_mistake
from tests.web_support import Web, csrf_of, make_web

NOW = at("2026-11-23 09:00")  # Monday; Karlskrona
HELD = at("2026-12-01 09:00")


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    yield make_web(database_url, NOW)


def _case(web: Web, ref: str) -> str:
    case_id = services.record_application(
        web.rt.store, web.rt.rules, "karlskrona", ref, NOW, caseworker="cw-01"
    ).case_id
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    web.clock.current = at("2026-12-01 10:00")
    return case_id


def _stored(web: Web, case_id: str) -> list[tuple[str, str | None, str | None, str | None]]:
    e = t.case_events.c
    with web.rt.engine.connect() as conn:
        rows = conn.execute(
            select(e.kind, e.contact_form, e.held_by, e.recorded_by).where(e.case_id == case_id, e.step_id.is_(None))
        ).all()
    return [tuple(r) for r in rows]


def test_an_event_is_held_in_person_by_the_recorder_unless_said_otherwise(web: Web) -> None:
    case_id = _case(web, "ec-default")
    store, rules, now = web.rt.store, web.rt.rules, web.clock.now()
    plain = case_events.record_event(store, rules, case_id, "meeting", HELD, now, "cw-01")
    assert (plain.event.contact_form, plain.event.held_by) == ("in_person", "cw-01")
    colleague = Accounts(web.rt.engine).user("cw-02")
    by_phone = case_events.record_event(
        store, rules, case_id, "offer", HELD, now, "cw-01", form="phone", held_by="cw-02", holder=colleague
    )
    with store.transaction() as tx:
        stored = tx.recorded_event(by_phone.event.id)
    assert stored is not None
    assert (stored.contact_form, stored.held_by, stored.recorded_by) == ("phone", "cw-02", "cw-01")
    assert sorted(_stored(web, case_id)) == [
        ("meeting", "in_person", "cw-01", "cw-01"),
        ("offer", "phone", "cw-02", "cw-01"),
    ]


@pytest.mark.parametrize(
    ("form", "held_by", "field", "message"),
    [
        ("letter", None, "contact_form", "unknown form of contact 'letter'"),
        ("video", "cw-nobody", "held_by", "unknown person 'cw-nobody'"),
        ("video", "cw-vx", "held_by", "'cw-vx' does not work cases in karlskrona"),
        ("digital", "ops-01", "held_by", "'ops-01' does not work cases in karlskrona"),
    ],
)
def test_an_unknown_form_or_a_holder_outside_the_municipality_is_refused_on_its_field(
    web: Web, form: str, held_by: str | None, field: str, message: str
) -> None:
    case_id = _case(web, f"ec-{field}-{held_by}")
    holder = Accounts(web.rt.engine).user(held_by) if held_by else None
    with pytest.raises(InputError, match=message) as refused:
        case_events.record_event(
            web.rt.store, web.rt.rules, case_id, "meeting", HELD, web.clock.now(), "cw-01",
            form=form, held_by=held_by, holder=holder,
        )  # fmt: skip
    assert list(refused.value.fields) == [field]
    assert _stored(web, case_id) == []


def test_the_api_records_the_form_and_the_holder_and_refuses_a_stranger(web: Web) -> None:
    case_id = _case(web, "ec-api")
    client = TestClient(web.app, base_url="https://testserver")
    headers = {"Authorization": f"Bearer {web.token('caseworker')}"}
    body = {"kind": "meeting", "occurred_at": HELD.isoformat(), "contact_form": "video", "held_by": "TL-01"}
    made = client.post(f"/api/v1/cases/{case_id}/events", json=body, headers=headers)
    assert made.status_code == 201, made.text
    assert (made.json()["contact_form"], made.json()["held_by"]) == ("video", "tl-01")
    stranger = client.post(
        f"/api/v1/cases/{case_id}/events", json={**body, "kind": "offer", "held_by": "cw-vx"}, headers=headers
    )
    assert stranger.status_code == 422 and "held_by" in stranger.json()["fields"]
    wrong = client.post(
        f"/api/v1/cases/{case_id}/events", json={**body, "kind": "offer", "contact_form": "letter"}, headers=headers
    )
    assert wrong.status_code == 422
    assert _stored(web, case_id) == [("meeting", "video", "tl-01", "cw-01")]


def test_the_case_page_form_records_how_and_by_whom_and_the_case_page_shows_it(web: Web) -> None:
    case_id = _case(web, "ec-web")
    client = web.client("caseworker")
    form = client.get(f"/cases/{case_id}/event")
    assert form.status_code == 200
    # Held by: the signed-in caseworker first chosen; the other Karlskrona staff who work cases offered.
    assert '<option value="cw-01" selected>' in form.text and '<option value="tl-01" ' in form.text
    assert 'value="cw-vx"' not in form.text and 'value="ops-01"' not in form.text
    assert 'name="contact_form" value="in_person" checked' in form.text
    fields = {"csrf": csrf_of(form.text), "kind": "meeting", "occurred_at": "2026-12-01T09:00"}
    unknown = client.post(f"/cases/{case_id}/event", data={**fields, "contact_form": "letter", "held_by": "cw-01"})
    assert unknown.status_code == 422 and "Choose how it was held." in unknown.text
    stranger = client.post(f"/cases/{case_id}/event", data={**fields, "contact_form": "phone", "held_by": "cw-vx"})
    assert stranger.status_code == 422 and "Choose who held it: a colleague in the municipality." in stranger.text
    done = client.post(
        f"/cases/{case_id}/event", data={**fields, "contact_form": "phone", "held_by": "cw-02"}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    assert _stored(web, case_id) == [("meeting", "phone", "cw-02", "cw-01")]
    page = client.get(f"/cases/{case_id}").text
    line = page.split('<ul class="events">', 1)[1].split("</li>", 1)[0]
    # Held by cw-02, recorded by cw-01: the page names them as people.
    assert "· by phone <small>held by Caseworker Two</small> <small>by Caseworker One</small>" in line
    [audit] = [e for e in Accounts(web.rt.engine).audit_entries("karlskrona") if e["action"] == "record_event"]
    assert "phone, held by cw-02" in audit["detail"]


def test_the_cli_takes_the_form_and_the_holder_and_says_a_wrong_one_in_one_line(tmp_path: Path) -> None:
    applied = run(tmp_path, "apply", "allerod", "DK-EC", "--now", "2026-11-02T10:00", "--json")
    assert applied.returncode == 0, applied.stderr
    case_id = json.loads(applied.stdout)["case_id"]
    made = run(
        tmp_path, "user", "add", "cw-01", "--role", "caseworker", "--municipality", "allerod", "--team", "jobcenter",
        "--password", "long-enough-pw",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr  # --by names an active user
    when = ("--at", "2027-01-04T10:00", "--now", "2027-01-04T11:00")
    said = run(tmp_path, "event", case_id, "--kind", "meeting", *when, "--contact-form", "phone", "--by", "cw-01")
    assert said.returncode == 0, said.stderr
    assert "by phone" not in said.stdout and ", phone, held by cw-01." in said.stdout
    assert_one_line_mistake(
        run(tmp_path, "event", case_id, "--kind", "offer", *when, "--contact-form", "pigeon"),
        "unknown form of contact 'pigeon'",
    )
    assert_one_line_mistake(
        run(tmp_path, "event", case_id, "--kind", "offer", *when, "--held-by", "cw-nobody"),
        "unknown person 'cw-nobody'",
    )
