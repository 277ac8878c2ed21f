"""Adding a stage takes the journey, a rule in config/ and a letter template; no use case changes.

A temporary journey puts job training between the placement and the follow-up, with its own
to-do, deadline key and outcomes; a temporary config gives Allerød a rule for that key; a
temporary template writes the stage's letter. A case then walks through the real use cases on
SQLite (and a cohort through the what-if simulation).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2 import ChoiceLoader, FileSystemLoader

import flows.stages  # noqa: F401 - its STAGE_FLOWS come from the shipped journey, not the one extended here
import forms
from activation import config, journey, services
from activation.adapters.simulation import run_on_scratch
from activation.adapters.sql import SqlStore
from activation.config import ConfigError, RuleBook
from activation.model import Progress, TodoView
from activation.ports import TodoFilter
from activation.simulation import Capacity, Cohort
from forms import schemas
from forms.render import _env as letters_env  # the letters' Jinja2 environment: templates/ only
from tests.conftest import COPENHAGEN, at
from tests.forms_filled import PLACEMENT, PLAN, filled

CONFIG = Path(__file__).resolve().parent.parent / "config"

JOB_TRAINING = journey.Stage(
    "job_training",
    journey.Todo("job_training", "Follow up the job training with the employer"),
    "job_training",
    {
        "completed": journey.Go("follow_up", records=("meeting",), letter="job_training_note"),
        "dropped_out": journey.Go("plan"),
        "withdrawn": journey.Go("closed"),
    },
)
JOB_TRAINING_RULE: dict[str, Any] = {
    "due": "3 weeks",
    "remind_before": ["2 working days"],
    "escalate_after": [{"after": "1 working day", "notify": "team_lead"}],
    "source": "A test's local choice: job training is followed up within 3 weeks of the placement's start",
    "local_choice": True,
}
LETTER = "Kære borger\n\nDin jobtræning er afsluttet. Vi ses til opfølgning.\n\n{{ team }}, {{ municipality }}\n"


def dk(moment: str) -> datetime:
    return at(moment, COPENHAGEN)


@pytest.fixture
def job_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put job training into the journey: a started placement leads there, it leads to the follow-up."""
    stages: list[journey.Stage] = []
    for stage in journey.JOURNEY:
        if stage.name == "placement":
            started = replace(stage.outcomes["started"], to="job_training")
            stages += [replace(stage, outcomes={**stage.outcomes, "started": started}), JOB_TRAINING]
        else:
            stages.append(stage)
    monkeypatch.setattr(journey, "JOURNEY", tuple(stages))


def config_with(tmp_path: Path, deadline_rule: dict[str, Any] | None) -> Path:
    """Write Allerød's rules (on the Danish baseline) to a directory, with a rule for job training."""
    root = tmp_path / "config"
    (root / "municipalities").mkdir(parents=True)
    shutil.copytree(CONFIG / "national", root / "national")
    allerod = yaml.safe_load((CONFIG / "municipalities" / "allerod.yaml").read_text(encoding="utf-8"))
    if deadline_rule:
        allerod["deadlines"]["job_training"] = deadline_rule
    text = yaml.safe_dump(allerod, allow_unicode=True, sort_keys=False)
    (root / "municipalities" / "allerod.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def rules(job_training: None, tmp_path: Path) -> RuleBook:
    return config.load(config_with(tmp_path, JOB_TRAINING_RULE))


@pytest.fixture
def letter_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Give the stage's letter a Danish template; it carries the fields every letter has."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "job_training_note.da.txt.j2").write_text(LETTER, encoding="utf-8")
    assert letters_env.loader is not None
    monkeypatch.setattr(letters_env, "loader", ChoiceLoader([FileSystemLoader(templates), letters_env.loader]))
    monkeypatch.setitem(schemas.SCHEMAS, "job_training_note", schemas.FormContext)


def open_todo(store: SqlStore, case_id: str) -> TodoView:
    with store.transaction() as tx:
        [todo] = [x for x in tx.list_todos(TodoFilter(case_id=case_id)) if not x.side]
    return todo


def stage_of(store: SqlStore, case_id: str) -> str:
    with store.transaction() as tx:
        return tx.cases([case_id])[case_id].stage


def record(store: SqlStore, rules: RuleBook, case_id: str, moment: str, outcome: str, data: Any = None) -> Progress:
    """Complete the case's open to-do with an outcome and move the case on; return what that wrote."""
    todo = open_todo(store, case_id)
    data = data or filled(outcome, todo.stage)
    services.complete_todo(store, todo.id, outcome, dk(moment), data=data, rules=rules)
    [progress] = services.advance_cases(store, rules, dk(moment), case_ids=[case_id]).progress
    return progress


def placement_started(store: SqlStore, rules: RuleBook) -> tuple[str, Progress]:
    """Walk a case from its application to a placement started on Tuesday 1 December 2026 at 10:00."""
    received = dk("2026-11-02 10:00")
    case_id = services.record_application(store, rules, "allerod", "dk-1", received, caseworker="cw-01").case_id
    services.advance_cases(store, rules, received)
    record(store, rules, case_id, "2026-11-04 10:00", "held")
    record(store, rules, case_id, "2026-11-09 10:00", "completed")
    record(store, rules, case_id, "2026-11-10 10:00", "signed", PLAN)
    return case_id, record(store, rules, case_id, "2026-12-01 10:00", "started", PLACEMENT)


def test_a_municipality_without_a_rule_for_the_new_deadline_key_is_refused_at_load(
    job_training: None, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="deadlines: missing job_training"):
        config.load(config_with(tmp_path, None))


def test_a_started_placement_leads_to_job_training_with_a_todo_timed_by_the_configured_rule(
    store: SqlStore, rules: RuleBook
) -> None:
    case_id, started = placement_started(store, rules)
    todo = open_todo(store, case_id)
    assert stage_of(store, case_id) == "job_training"
    assert (todo.kind, todo.assignee, todo.outcomes) == (
        "job_training",
        "cw-01",
        ("completed", "dropped_out", "withdrawn"),
    )
    # Counted from the placement's start as recorded, by the municipality's rule: 3 weeks, Tuesday 22 December.
    assert started.deadline is not None
    assert (started.deadline.rule_key, started.deadline.start_event) == ("job_training", "placement: started")
    assert started.deadline.started_at == dk("2026-12-01 10:00")
    assert todo.due_at == dk("2026-12-22 10:00")
    assert todo.explanation and "3 weeks of the placement's start" in todo.explanation
    # What the placement still does on its way: the wrap-up beside the journey, occupancy, its letter.
    assert [w.todo.kind for w in started.also] == ["placement_wrap_up"]
    assert started.placement is not None and started.placement["intervention"] == "internship"
    assert [letter.form for letter in started.letters] == ["placement_agreement"]


def test_the_new_deadline_reminds_the_caseworker_and_escalates_to_the_team_lead(
    store: SqlStore, rules: RuleBook
) -> None:
    placement_started(store, rules)
    before = services.sweep(store, dk("2026-12-21 12:00"))
    after = services.sweep(store, dk("2026-12-23 12:00"))
    assert [(a.rule_key, a.kind, a.recipient) for a in before.fired if a.rule_key == "job_training"] == [
        ("job_training", "reminder", "cw-01")
    ]
    assert [(a.rule_key, a.kind, a.notify_role) for a in after.fired if a.rule_key == "job_training"] == [
        ("job_training", "escalation", "team_lead")
    ]


def test_completing_job_training_moves_the_case_on_to_the_follow_up_with_the_stages_letter(
    store: SqlStore, rules: RuleBook, letter_template: None
) -> None:
    case_id, _ = placement_started(store, rules)
    done = record(store, rules, case_id, "2026-12-15 10:00", "completed")
    assert stage_of(store, case_id) == "follow_up"
    assert open_todo(store, case_id).kind == "follow_up"
    assert done.deadline is not None and done.deadline.start_event == "job_training: completed"
    [letter] = done.letters
    text = forms.render(letter.form, letter.language, letter.context)
    assert text.startswith("Kære borger") and "Jobcenter Allerød, Allerød Kommune" in text


def test_the_what_if_simulation_runs_a_cohort_through_job_training(rules: RuleBook) -> None:
    cohort = Cohort(arrivals_per_week=4, arrival_weeks=1, no_show_rate=0.0)
    result = run_on_scratch(rules, "allerod", None, date(2026, 9, 7), 10, cohort, Capacity(caseworkers=1))
    assert result.deadlines["job_training"].met > 0


def test_the_new_stage_gets_a_flow_of_its_own_without_a_change_in_flows(job_training: None) -> None:
    from flows.stages import stage_flows

    made = stage_flows()
    assert list(made)[made_index("placement") + 1] == "job_training"
    assert made["job_training"].name == "job-training"
    assert made["job_training"].fn.__name__ == "job_training_flow"


def made_index(stage: str) -> int:
    """Return where a stage stands among the stages with a flow."""
    return [s.name for s in journey.JOURNEY if s.outcomes and not s.automatic].index(stage)
