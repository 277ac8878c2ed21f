"""Fuzzing the REST API from its own OpenAPI spec: no input, however malformed, gets a server error.

Schemathesis loads the spec from the ASGI app and runs every /api/v1 operation (examples, coverage
and fuzzing phases, positive and negative data) with a bounded, derandomized number of examples,
signed in with a caseworker's bearer token. The seeded case has the id the spec's examples use, so
examples reach a real case and to-do rather than only 404s. A second, focused property test throws
malformed records at real to-dos of every stage that takes one, which the spec alone cannot reach.
SQLite only: the point is the application's input handling, not the database.
"""

from __future__ import annotations

import atexit
import itertools
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from activation import records, services
from activation.adapters.accounts import Accounts
from activation.ports import FixedClock, TodoFilter
from activation.runtime import get_runtime
from tests.conftest import at
from tests.forms_filled import filled
from tests.web_support import PASSWORD, STAFF
from web.api import KEY_MAX
from web.app import WebSettings, create_app

NOW = at("2026-11-23 09:00")
EXAMPLE_CASE = "c-7k2m9qxa"  # the case id the spec's examples use
FUZZ = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

# Loading the spec calls the app, whose middleware opens (and migrates) its database: a throwaway file.
_DIR = Path(tempfile.mkdtemp(prefix="activation-fuzz-"))
atexit.register(shutil.rmtree, _DIR, True)
DB_URL = f"sqlite:///{_DIR / 'activation.db'}"
APP = create_app(WebSettings(db_url=DB_URL, clock=FixedClock(NOW)))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).include(path_regex=r"^/api/v1/")

_keys = itertools.count()
# Stages whose outcome carries a record, each with the moves that bring a fresh case there.
TO_STAGE = {
    "assessment": ["held"],
    "plan": ["held", "completed"],
    "placement": ["held", "completed", "signed"],
    "follow_up": ["held", "completed", "signed", "started"],
}


def _journey_todo(case_id: str) -> str:
    rt = get_runtime(DB_URL)
    with rt.store.transaction() as tx:
        [todo] = [x for x in tx.list_todos(TodoFilter(case_id=case_id)) if not x.side]
    return todo.id


def _walk(case_id: str, moves: list[str]) -> str:
    """Complete the case's journey to-dos with these outcomes; return the open journey to-do after them."""
    rt = get_runtime(DB_URL)
    services.advance_cases(rt.store, rt.rules, NOW, case_ids=[case_id])
    for outcome in moves:
        todo_id = _journey_todo(case_id)
        services.complete_todo(rt.store, todo_id, outcome, NOW, "cw-01", filled(outcome), rt.rules)
        services.advance_cases(rt.store, rt.rules, NOW, case_ids=[case_id])
    return _journey_todo(case_id)


@pytest.fixture(scope="module")
def token() -> str:
    """Seed staff, the example case (its first meeting open) and a queued case; give cw-01's bearer token."""
    rt = get_runtime(DB_URL)
    accounts = Accounts(rt.engine)
    for user in STAFF.values():
        accounts.add_user(user, PASSWORD, NOW)
    services.record_application(
        rt.store, rt.rules, "karlskrona", "ref-fuzz", NOW, "arbetsmarknad", "cw-01", new_id=lambda: EXAMPLE_CASE
    )
    services.record_application(rt.store, rt.rules, "karlskrona", "ref-fuzz-queue", NOW)
    services.advance_cases(rt.store, rt.rules, NOW)
    return accounts.issue_api_token("cw-01")


@schema.parametrize()
@FUZZ
def test_no_api_operation_answers_a_server_error(case: schemathesis.Case[Any], token: str) -> None:
    # A generated Idempotency-Key repeats across examples with other bodies, which would answer 409 before
    # the body is looked at; a suffix keeps keys apart (a key too long to take one stays as generated).
    key = case.headers.get("Idempotency-Key") if case.headers else None
    if isinstance(key, str) and len(key) <= KEY_MAX - 12:
        case.headers["Idempotency-Key"] = f"{key}#{next(_keys)}"
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])


# -- malformed records at real to-dos ---------------------------------------------------------------

_RECORD_FIELDS = sorted(
    {name for model in records.RECORDS.values() for name in model.model_fields}
    | set(records.Activity.model_fields)
    | {"unknown"}
)
# Values a record field might take, near misses included (a 30 February, year 1 and year 9999).
PLAUSIBLE = ["2026-12-01", "0001-01-01", "9999-12-31", "2027-02-30", "26-50", "job", "internship", "day_activity"]
PLAUSIBLE += ["activity_ready", "treatment", "housing"]
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(PLAUSIBLE)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_RECORD_FIELDS), inner, max_size=4),
    max_leaves=10,
)
_records = st.dictionaries(st.sampled_from(_RECORD_FIELDS), _values, max_size=6)


_refs = itertools.count()


def _fresh_todo(stage: str) -> str:
    """Bring a new case to a stage that takes a record; return its open to-do."""
    rt = get_runtime(DB_URL)
    ref = f"ref-stage-{stage}-{next(_refs)}"
    case_id = services.record_application(rt.store, rt.rules, "karlskrona", ref, NOW, caseworker="cw-01").case_id
    return _walk(case_id, TO_STAGE[stage])


@pytest.fixture(scope="module")
def open_todos(token: str) -> dict[str, str]:
    """Stage -> an open to-do there (a completed one is replaced, so every example meets an open to-do)."""
    return {stage: _fresh_todo(stage) for stage in TO_STAGE}


OUTCOME = {"assessment": "completed", "plan": "signed", "placement": "started", "follow_up": "continue"}


@st.composite
def _completions(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    """A stage, mostly its own outcome (sometimes another), and a record: garbage, or a good one spoilt."""
    stage = draw(st.sampled_from(sorted(OUTCOME)))
    outcome = draw(st.sampled_from([OUTCOME[stage]] * 3 + ["held", "ready_to_exit"]))
    good = filled(OUTCOME[stage]) or {}
    data = draw(_records | _records.map(lambda spoilt: {**good, **spoilt}))
    return stage, outcome, data


@settings(FUZZ, max_examples=150)
@given(completion=_completions())
# A year-9999 end date once overflowed the calendar after the to-do was already completed.
@example(completion=("placement", "started", {**(filled("started") or {}), "ends_on": "9999-12-31"}))
@example(completion=("placement", "started", {**(filled("started") or {}), "starts_on": 253402214400}))
def test_malformed_records_at_real_to_dos_never_answer_a_server_error(
    token: str, open_todos: dict[str, str], completion: tuple[str, str, dict[str, Any]]
) -> None:
    stage, outcome, data = completion
    client = TestClient(APP, base_url="https://testserver")
    response = client.post(
        f"/api/v1/todos/{open_todos[stage]}/complete",
        json={"outcome": outcome, "data": data},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code < 500, response.text
    if response.status_code == 422:
        assert response.json()["fields"]
    if response.status_code == 200:
        open_todos[stage] = _fresh_todo(stage)
