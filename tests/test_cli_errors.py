"""Every wrong move on the command line is caught: one line on stderr, exit code 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import click
import pytest

from tests.test_cli import run


def assert_one_line_mistake(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("todos", "--limt", "3"), "--limt"),
        (("todos", "--limit", "abc"), "invalid value for '--limit'"),
        (("todoz",), "no such command 'todoz'"),
        (("apply",), "missing argument"),
        (("apply", "karlskrona"), "missing argument"),
        (("user", "add", "cw-09"), "missing option '--role'"),
        (("case", "show"), "missing argument"),
    ],
)
def test_a_usage_mistake_is_one_line_pointing_at_help(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = run(tmp_path, *args)
    assert_one_line_mistake(result, message)
    assert "--help)" in result.stderr


def test_no_command_at_all_shows_the_help_and_exits_2(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    assert "Usage:" in result.stdout + result.stderr and "todos" in result.stdout + result.stderr


def test_a_group_without_its_command_shows_its_help_and_exits_2(tmp_path: Path) -> None:
    result = run(tmp_path, "user")
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    assert "deactivate" in result.stdout + result.stderr


@pytest.mark.parametrize("exc", [click.NoSuchOption("--limt"), click.UsageError("No such command 'todoz'.")])
def test_clicks_own_usage_errors_are_answered_alike(
    exc: click.ClickException, capsys: pytest.CaptureFixture[str]
) -> None:
    # Typer before it bundled click raised click's classes; typer 0.2x raises its own copies.
    from cli.errors import answer

    assert answer(exc) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("error: no such ") and len(stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("todos", "--case", "c-nonexist"), "unknown case 'c-nonexist'"),
        (("todos", "--assignee", "nobody"), "unknown assignee 'nobody'"),
        (("todos", "--assignee", "queue:nope"), "unknown assignee 'queue:nope'"),
        (("deadlines", "--case", "c-nonexist"), "unknown case 'c-nonexist'"),
        (("user", "deactivate", "nobody"), "unknown user 'nobody'"),
    ],
)
def test_a_filter_or_name_that_matches_nothing_is_refused_not_answered_with_no_match(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    assert_one_line_mistake(run(tmp_path, *args), message)


def test_a_known_team_queue_is_a_fair_filter_even_before_it_holds_anything(tmp_path: Path) -> None:
    result = run(tmp_path, "todos", "--assignee", "queue:arbetsmarknad", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_every_command_that_takes_a_case_to_do_pause_or_user_names_the_unknown_one(tmp_path: Path) -> None:
    mistakes = [
        (("case", "show", "c-nothere"), "unknown case 'c-nothere'"),
        (("assign", "c-nothere", "cw-07"), "unknown case 'c-nothere'"),
        (("pause", "c-nothere", "sickness"), "unknown case 'c-nothere'"),
        (("health-info", "c-nothere"), "unknown case 'c-nothere'"),
        (("coordinated-plan", "c-nothere"), "unknown case 'c-nothere'"),
        (("todos", "--case", "c-nothere"), "unknown case 'c-nothere'"),
        (("deadlines", "--case", "c-nothere"), "unknown case 'c-nothere'"),
        (("book", "c-nothere.0", "--at", "2026-11-23T10:00"), "unknown to-do 'c-nothere.0'"),
        (("complete", "c-nothere.0", "held"), "unknown to-do 'c-nothere.0'"),
        (("resume", "p-nothere"), "unknown pause 'p-nothere'"),
        (("user", "password", "nobody"), "unknown user 'nobody'"),
        (("user", "token", "nobody"), "unknown user 'nobody'"),
        (("user", "deactivate", "nobody"), "unknown user 'nobody'"),
    ]
    for args, message in mistakes:
        assert_one_line_mistake(run(tmp_path, *args), message)


def _open_case(tmp_path: Path) -> str:
    opened = run(tmp_path, "apply", "karlskrona", "ext-1", "--now", "2026-11-20T15:00", "--json")
    assert opened.returncode == 0, opened.stderr
    return str(json.loads(opened.stdout)["case_id"])


def _add_user(tmp_path: Path, *args: str) -> None:
    made = run(tmp_path, "user", "add", *args, "--password", "long-enough-pw")
    assert made.returncode == 0, made.stderr


def test_assign_refuses_a_caseworker_who_does_not_exist(tmp_path: Path) -> None:
    case_id = _open_case(tmp_path)
    _add_user(tmp_path, "cw-07", "--role", "caseworker", "--municipality", "karlskrona", "--team", "arbetsmarknad")
    assert_one_line_mistake(run(tmp_path, "assign", case_id, "cw-99"), "unknown caseworker 'cw-99'")
    shown = json.loads(run(tmp_path, "case", "show", case_id, "--json").stdout)
    assert shown["case"]["caseworker"] is None  # nothing was written
    done = run(tmp_path, "assign", case_id, "cw-07", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["caseworker"] == "cw-07"


def test_assign_refuses_someone_who_is_not_a_caseworker_of_the_cases_team(tmp_path: Path) -> None:
    case_id = _open_case(tmp_path)
    _add_user(tmp_path, "mgr-01", "--role", "manager", "--municipality", "karlskrona")
    _add_user(tmp_path, "cw-vx", "--role", "caseworker", "--municipality", "vaxjo", "--team", "koordinatorer")
    for name in ("mgr-01", "cw-vx"):
        assert_one_line_mistake(
            run(tmp_path, "assign", case_id, name), f"'{name}' is not a caseworker in team arbetsmarknad of karlskrona"
        )


def test_on_a_bare_install_assign_says_there_are_no_users_and_how_to_add_one(tmp_path: Path) -> None:
    case_id = _open_case(tmp_path)
    result = run(tmp_path, "assign", case_id, "cw-07")
    assert_one_line_mistake(result, "unknown caseworker 'cw-07': this database has no users yet")
    assert "activation user add cw-07 --role caseworker --municipality karlskrona --team arbetsmarknad" in result.stderr


def test_apply_refuses_a_caseworker_who_does_not_exist(tmp_path: Path) -> None:
    result = run(tmp_path, "apply", "karlskrona", "ext-1", "--caseworker", "cw-99")
    assert_one_line_mistake(result, "unknown caseworker 'cw-99'")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///", "in-memory database keeps nothing"),
        ("sqlite://", "in-memory database keeps nothing"),
        ("sqlite:///:memory:", "in-memory database keeps nothing"),
        ("mysql://app:secret@db.example/activation", "unsupported database URL 'mysql://app:***@db.example/"),
        ("oracle://app@db.example/activation", "use sqlite:///path/to/file.db or postgresql://user@host/database"),
        ("not a url", "the database URL cannot be read; use sqlite:///"),
    ],
)
def test_a_database_url_the_project_cannot_use_is_refused_naming_those_it_can(
    tmp_path: Path, url: str, message: str
) -> None:
    for how in (("--db", url, "todos"), ("todos",)):
        result = run(tmp_path, *how, env={"ACTIVATION_DATABASE_URL": url})
        assert_one_line_mistake(result, message)
        assert "secret" not in result.stderr


def test_the_engine_maker_refuses_an_unsupported_url_as_input_error() -> None:
    from activation.adapters.db import make_engine
    from activation.errors import InputError

    with pytest.raises(InputError, match="postgresql://"):
        make_engine("mysql://app@db.example/activation")


def test_demo_refuses_the_global_db_option_and_names_its_own(tmp_path: Path) -> None:
    result = run(tmp_path, "--db", f"sqlite:///{tmp_path / 'mine.db'}", "demo")
    assert_one_line_mistake(result, "the demo runs on a database of its own, not --db")
    assert "--demo-db" in result.stderr
    assert not (tmp_path / "mine.db").exists() and not (tmp_path / "activation-demo.db").exists()
