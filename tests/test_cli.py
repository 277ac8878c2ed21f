"""The `activation` command as a user runs it: real subprocesses, one-line errors, JSON output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from activation import journey

ROOT = Path(__file__).resolve().parent.parent


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "ACTIVATION_CONFIG_DIR"}
    full_env.update(
        {
            "ACTIVATION_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "PREFECT_HOME": str(tmp_path / ".prefect"),
            "COLUMNS": "200",
            **(env or {}),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_config_validate_accepts_the_shipped_rules(tmp_path: Path) -> None:
    result = run(tmp_path, "config", "validate", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert set(report["municipalities"]) == {"allerod", "boras", "karlskrona", "linkoping", "vaxjo"}


def test_config_validate_names_file_and_key_and_exits_non_zero(tmp_path: Path) -> None:
    broken = tmp_path / "config"
    shutil.copytree(ROOT / "config", broken)
    path = broken / "municipalities" / "karlskrona.yaml"
    path.write_text(path.read_text().replace("due: 48 hours", "due: -48 hours"))
    result = run(tmp_path, "--config-dir", str(broken), "config", "validate")
    assert result.returncode == 1
    assert "karlskrona.yaml: deadlines.first_meeting.due" in result.stderr
    assert "positive" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_environment_variable_points_every_command_at_another_config(tmp_path: Path) -> None:
    other = tmp_path / "config"
    shutil.copytree(ROOT / "config", other)
    (other / "municipalities" / "boras.yaml").unlink()
    result = run(tmp_path, "apply", "boras", "x-1", env={"ACTIVATION_CONFIG_DIR": str(other)})
    assert result.returncode == 2
    assert "unknown municipality 'boras'" in result.stderr


def test_apply_twice_opens_one_case_and_says_so(tmp_path: Path) -> None:
    first = json.loads(run(tmp_path, "apply", "karlskrona", "ext-1", "--now", "2026-11-20T15:00", "--json").stdout)
    second = json.loads(run(tmp_path, "apply", "karlskrona", "ext-1", "--now", "2026-11-20T15:00", "--json").stdout)
    assert first["case_id"] == second["case_id"]
    assert (first["created"], second["created"]) == (True, False)
    assert first["received_at"] == "2026-11-20T15:00:00+01:00"  # read in Karlskrona's time zone
    # The first meeting exists as soon as `apply` answers (same transaction), and only once.
    case_id = first["case_id"]
    assert first["todos"] == [{"id": f"{case_id}.0", "kind": "first_meeting", "due_at": "2026-11-23T16:30:00+01:00"}]
    assert second["todos"] == []
    assert [x["id"] for x in json.loads(run(tmp_path, "todos", "--json").stdout)] == [f"{case_id}.0"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("apply", "atlantis", "x-1"), "unknown municipality 'atlantis'"),
        (("apply", "karlskrona", "x-1", "--now", "friday afternoon"), "malformed time 'friday afternoon'"),
        (("complete", "c-nothere.0", "held"), "unknown to-do 'c-nothere.0'"),
        (("todos", "--now", "2026-13-45"), "malformed time"),
        (("apply", "karlskrona", "x-1", "--team", "nope"), "unknown team 'nope'"),
    ],
)
def test_bad_input_gives_one_line_and_a_non_zero_exit(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = run(tmp_path, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_wrong_outcome_is_refused_with_the_accepted_ones(tmp_path: Path) -> None:
    # Build a to-do without Prefect: the use cases directly on the CLI's database.
    from activation import config, services
    from activation.adapters.db import make_engine, migrate
    from activation.adapters.sql import SqlStore
    from tests.conftest import at

    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    migrate(engine)
    store, rules = SqlStore(engine), config.load()
    services.record_application(store, rules, "karlskrona", "ext-1", at("2026-11-20 15:00"))
    [progress] = services.advance_cases(store, rules, at("2026-11-20 15:00")).progress
    engine.dispose()
    assert progress.todo is not None
    todo_id = progress.todo.id
    result = run(tmp_path, "complete", todo_id, "completed", "--now", "2026-11-23T10:00")
    assert result.returncode == 2
    assert "accepts outcomes held, no_show, withdrawn" in result.stderr
    listed = json.loads(run(tmp_path, "todos", "--json", "--now", "2026-11-24T10:00").stdout)
    assert [(x["id"], x["overdue"]) for x in listed] == [(todo_id, True)]
    done = run(tmp_path, "complete", todo_id, "held", "--now", "2026-11-23T10:00", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["deadline"] == "met"
    # The case moved on at once, as from the inbox: the assessment is the open to-do now.
    assert [x["kind"] for x in json.loads(run(tmp_path, "todos", "--json").stdout)] == ["assessment"]


def test_tick_dry_run_shows_what_would_happen_and_writes_nothing(tmp_path: Path) -> None:
    # A bulk-loaded application waits for the intake flow (`apply` would create its to-do at once).
    from activation import config, services
    from activation.adapters.db import make_engine, migrate
    from activation.adapters.sql import SqlStore
    from tests.conftest import at

    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    migrate(engine)
    services.record_application(SqlStore(engine), config.load(), "karlskrona", "ext-1", at("2026-11-20 15:00"))
    engine.dispose()
    result = run(tmp_path, "tick", "--dry-run", "--now", "2026-11-20T15:05", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert [(s["from_stage"], s["outcome"]) for s in plan["steps"]] == [("application", "received")]
    again = json.loads(run(tmp_path, "tick", "--dry-run", "--now", "2026-11-20T15:05", "--json").stdout)
    assert again["steps"] == plan["steps"]
    assert not (tmp_path / ".prefect").exists()  # no flow ran
    assert json.loads(run(tmp_path, "todos", "--json").stdout) == []  # the step was not applied


def test_the_journey_command_prints_the_diagram_from_the_definition(tmp_path: Path) -> None:
    result = run(tmp_path, "journey", "--mermaid")
    assert result.returncode == 0
    assert result.stdout == journey.mermaid()


def test_init_creates_the_database_and_reports_the_schema(tmp_path: Path) -> None:
    result = run(tmp_path, "init", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema"] == report["head"]
    assert report["migrated"] is True
    assert (tmp_path / "cli.db").exists()


def test_pause_case_show_and_resume_from_the_command_line(tmp_path: Path) -> None:
    from activation import config, services
    from activation.adapters.db import make_engine, migrate
    from activation.adapters.sql import SqlStore
    from tests.conftest import at

    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    migrate(engine)
    store, rules = SqlStore(engine), config.load()
    case_id = services.record_application(store, rules, "karlskrona", "ext-1", at("2026-11-17 10:00")).case_id
    services.advance_cases(store, rules, at("2026-11-17 10:00"))
    engine.dispose()

    paused = run(
        tmp_path, "pause", case_id, "sickness", "--from", "2026-11-18T16:00", "--now", "2026-11-18T16:05", "--json"
    )
    assert paused.returncode == 0, paused.stderr
    report = json.loads(paused.stdout)
    pause_id = report["pause"]["id"]
    # The first-meeting to-do and the two Swedish obligations (offer, follow-up meetings) all stop.
    assert [d["due_after"] for d in report["deadlines"]] == [None, None, None]

    shown = json.loads(run(tmp_path, "case", "show", case_id, "--json").stdout)
    assert shown["case"]["stage"] == "first_meeting"
    [deadline] = [d for d in shown["deadlines"] if d["todo_id"]]
    assert deadline["paused_since"] == "2026-11-18T15:00:00+00:00"
    assert [h["revision"] for h in deadline["history"]] == [2]
    assert {a["state"] for a in deadline["alarms"]} == {"suspended"}

    resumed = run(tmp_path, "resume", pause_id, "--at", "2026-12-01T09:00", "--now", "2026-12-01T09:05")
    assert resumed.returncode == 0, resumed.stderr
    assert "Wed 02 Dec 2026 16:30" in resumed.stdout
    human = run(tmp_path, "case", "show", case_id, "--now", "2026-12-01T10:00")
    assert "resumed with the 18.0 hours that were left" in human.stdout.replace("\n", " ")

    refused = run(tmp_path, "resume", pause_id, "--now", "2026-12-02T09:00")
    assert refused.returncode == 2 and "already ends" in refused.stderr
    unknown = run(tmp_path, "case", "show", "c-nothere")
    assert unknown.returncode == 2 and "unknown case 'c-nothere'" in unknown.stderr


def test_complete_takes_the_form_as_json_and_names_a_bad_field(tmp_path: Path) -> None:
    from activation import config, services
    from activation.adapters.db import make_engine, migrate
    from activation.adapters.sql import SqlStore
    from tests.conftest import at

    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    migrate(engine)
    store, rules = SqlStore(engine), config.load()
    case_id = services.record_application(store, rules, "karlskrona", "ext-1", at("2026-11-17 10:00")).case_id
    [first] = services.advance_cases(store, rules, at("2026-11-17 10:00")).progress
    assert first.todo is not None
    services.complete_todo(store, first.todo.id, "held", at("2026-11-18 10:00"))
    [second] = services.advance_cases(store, rules, at("2026-11-18 10:00")).progress
    engine.dispose()
    assert second.todo is not None and second.todo.kind == "assessment"

    missing = run(tmp_path, "complete", second.todo.id, "completed", "--now", "2026-11-20T10:00")
    assert missing.returncode == 2 and "needs the assessment form" in missing.stderr
    bad = run(tmp_path, "complete", second.todo.id, "completed", "--data", '{"capacity_band": "lots"}')
    assert bad.returncode == 2 and "capacity_band" in bad.stderr and "Traceback" not in bad.stderr
    broken = run(tmp_path, "complete", second.todo.id, "completed", "--data", "{capacity")
    assert broken.returncode == 2 and "--data is not valid JSON" in broken.stderr
    form = tmp_path / "assessment.json"
    form.write_text(json.dumps({"capacity_band": "51-75", "barriers": ["debts"]}))
    done = run(tmp_path, "complete", second.todo.id, "completed", "--data", f"@{form}", "--now", "2026-11-20T10:00")
    assert done.returncode == 0, done.stderr
    shown = run(tmp_path, "case", "show", case_id)
    assert "capacity_band: 51-75" in shown.stdout


def test_complete_while_the_clock_is_stopped_says_met_as_stored_and_moves_the_case_on(tmp_path: Path) -> None:
    # Issue 9: the CLI judged `completed_at <= due_at` itself and said "missed" while the stored
    # deadline said met; it also left the case for the next tick.
    from sqlalchemy import select

    from activation import config, pauses, services
    from activation.adapters import tables as t
    from activation.adapters.db import make_engine, migrate
    from activation.adapters.sql import SqlStore
    from tests.conftest import at

    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    migrate(engine)
    store, rules = SqlStore(engine), config.load()
    case_id = services.record_application(store, rules, "karlskrona", "ext-1", at("2026-11-20 15:00")).case_id
    services.advance_cases(store, rules, at("2026-11-20 15:00"))
    pauses.record_pause(store, rules, case_id, "sickness", at("2026-11-21 09:00"), None, at("2026-11-21 09:00"))

    done = run(tmp_path, "complete", f"{case_id}.0", "held", "--now", "2026-11-25T10:00")  # past the old due time

    assert done.returncode == 0, done.stderr
    assert "deadline met" in done.stdout and "Next:" in done.stdout and "holistic assessment" in done.stdout
    with engine.connect() as conn:
        stored = conn.execute(select(t.deadlines.c.status).where(t.deadlines.c.todo_id == f"{case_id}.0")).scalar_one()
        kinds = conn.execute(select(t.todos.c.kind).where(t.todos.c.status == "open")).scalars().all()
    engine.dispose()
    assert stored == "met" and kinds == ["assessment"]
    again = run(tmp_path, "complete", f"{case_id}.0", "held", "--now", "2026-11-25T10:05")
    assert (
        again.returncode == 0 and "was already completed as held" in again.stdout and "nothing changed" in again.stdout
    )


def test_the_demo_with_no_prefect_server_up_runs_the_flow_code_in_process_and_starts_no_server(tmp_path: Path) -> None:
    result = run(tmp_path, "demo", "--applications", "3", "--weeks", "1", "--json", env={"PREFECT_API_URL": ""})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["cases"] == 3
    # Prefect's ephemeral server would have made its database in PREFECT_HOME (as `tick` avoids).
    assert not (tmp_path / ".prefect" / "prefect.db").exists()


def test_cancel_meeting_removes_the_booked_time_once_and_says_so_in_one_line(tmp_path: Path) -> None:
    from activation import config, services
    from activation.adapters.db import make_engine, migrate
    from activation.adapters.sql import SqlStore
    from tests.conftest import at

    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    migrate(engine)
    store, rules = SqlStore(engine), config.load()
    case_id = services.record_application(store, rules, "karlskrona", "ext-1", at("2026-11-17 10:00")).case_id
    services.advance_cases(store, rules, at("2026-11-17 10:00"))
    services.book_meeting(store, rules, f"{case_id}.0", at("2026-11-18 10:00"), at("2026-11-17 10:05"))
    engine.dispose()

    cancelled = run(tmp_path, "cancel-meeting", f"{case_id}.0", "--now", "2026-11-17T11:00", "--json")
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["sequence"] == 1
    again = run(tmp_path, "cancel-meeting", f"{case_id}.0", "--now", "2026-11-17T11:05")
    assert again.returncode == 2 and again.stderr.strip().count("\n") == 0
    assert "has no booked meeting to cancel" in again.stderr


def test_availability_is_set_shown_and_proposes_a_slot_and_bad_hours_are_one_line(tmp_path: Path) -> None:
    from activation import config, services
    from activation.access import User
    from activation.adapters.accounts import Accounts
    from activation.adapters.db import make_engine, migrate
    from activation.adapters.sql import SqlStore
    from tests.conftest import at

    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    migrate(engine)
    Accounts(engine).add_user(
        User("cw-01", "Caseworker One", "caseworker", "karlskrona", "arbetsmarknad"), None, at("2026-11-20 15:00")
    )
    store, rules = SqlStore(engine), config.load()
    case_id = services.record_application(
        store, rules, "karlskrona", "ext-1", at("2026-11-20 15:00"), caseworker="cw-01"
    ).case_id
    services.advance_cases(store, rules, at("2026-11-20 15:00"))
    engine.dispose()

    hours = ("--hours", "mon=09:00-12:00,13:00-16:00", "--hours", "tue=09:00-12:00")
    done = run(tmp_path, "availability", "set", "cw-01", *hours, "--slot", "45", "--max-per-day", "3", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["hours"] == {"mon": "09:00-12:00,13:00-16:00", "tue": "09:00-12:00"}
    away = run(tmp_path, "availability", "absence", "cw-01", "course", "2026-11-23", "--now", "2026-11-20T15:00")
    assert away.returncode == 0 and "course" in away.stdout
    proposed = run(tmp_path, "availability", "propose", f"{case_id}.0", "--now", "2026-11-20T15:00", "--json")
    assert json.loads(proposed.stdout) == {"slot": None}  # away Monday, the deadline is Monday 16:30
    shown = run(tmp_path, "availability", "show", "cw-01", "--now", "2026-11-20T15:00")
    assert "45-minute slots, at most 3 a day" in shown.stdout and "away (course, #1)" in shown.stdout
    run(tmp_path, "availability", "absence-remove", "cw-01", "1")
    proposed = run(tmp_path, "availability", "propose", f"{case_id}.0", "--now", "2026-11-20T15:00")
    assert "Mon 23 Nov 2026 09:00-09:45 with cw-01" in proposed.stdout
    for args, message in (
        (("set", "cw-01", "--hours", "funday=09:00-12:00"), "'funday' is not a weekday"),
        (("set", "cw-01", "--hours", "mon"), "malformed hours 'mon'"),
        (("absence", "cw-01", "party", "2026-11-23"), "'party' is not an absence"),
        (("show", "cw-99"), "unknown caseworker 'cw-99'"),
    ):
        refused = run(tmp_path, "availability", *args)
        assert refused.returncode == 2 and message in refused.stderr and refused.stderr.count("\n") == 1, refused.stderr
