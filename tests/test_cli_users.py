"""`activation user ...` as an administrator runs it, and the demo's sign-in table."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import run


def test_user_add_creates_a_caseworker_with_a_generated_password_shown_once(tmp_path: Path) -> None:
    result = run(
        tmp_path, "user", "add", "cw-07", "--role", "caseworker", "--municipality", "karlskrona",
        "--team", "arbetsmarknad", "--name", "Caseworker Seven", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["role"] == "caseworker" and len(created["password"]) >= 12
    listed = json.loads(run(tmp_path, "user", "list", "--json").stdout)
    assert [(u["username"], u["team"]) for u in listed] == [("cw-07", "arbetsmarknad")]


def test_user_add_refuses_an_unknown_team_in_one_line(tmp_path: Path) -> None:
    result = run(
        tmp_path, "user", "add", "cw-08", "--role", "caseworker", "--municipality", "karlskrona", "--team", "nope"
    )
    assert result.returncode == 2
    assert "unknown team 'nope' in karlskrona" in result.stderr
    assert "Traceback" not in result.stderr


def test_operations_staff_belong_to_no_municipality(tmp_path: Path) -> None:
    result = run(tmp_path, "user", "add", "ops-02", "--role", "operations", "--municipality", "vaxjo")
    assert result.returncode == 2
    assert "operations staff belong to no municipality" in result.stderr


def test_the_same_username_twice_is_refused(tmp_path: Path) -> None:
    args = ("user", "add", "mgr-02", "--role", "manager", "--municipality", "vaxjo")
    assert run(tmp_path, *args).returncode == 0
    again = run(tmp_path, *args)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_a_token_is_issued_on_request_and_a_short_password_is_refused(tmp_path: Path) -> None:
    made = run(
        tmp_path, "user", "add", "tl-05", "--role", "team_lead", "--municipality", "vaxjo",
        "--team", "koordinatorer", "--password", "long-enough-pw", "--token", "--json",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["api_token"].startswith("act_")
    short = run(tmp_path, "user", "password", "tl-05", "--password", "short")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
