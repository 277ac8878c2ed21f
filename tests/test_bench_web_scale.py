"""bench/web_scale.py's seeding stays runnable: a template by the use cases, clones that count up exactly."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from activation import config, services
from activation.adapters import tables as t
from activation.adapters.db import make_engine, migrate
from bench.sweep_setup import Database
from bench.web_scale import linked_views
from bench.web_scale_seed import Seeded, seed, utc_now
from tests.conftest import PG_ENV, _database_urls, pg_schema


@pytest.fixture(scope="module", params=_database_urls())
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, rules: config.RuleBook
) -> Iterator[tuple[Database, Seeded]]:
    """300 open cases: a template of 100 made by the use cases and two clones, on SQLite (and PostgreSQL if set)."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('web_scale') / 'bench.db'}"
        else:
            url = stack.enter_context(pg_schema(os.environ[PG_ENV], "bench"))
        engine = make_engine(url)
        migrate(engine)
        stack.callback(engine.dispose)
        db = Database(engine, url, engine.dispose)
        yield db, seed(db, rules, 300, utc_now(), template_open=100)


def test_the_seed_makes_the_open_cases_asked_for_from_three_copies_of_the_template(
    seeded: tuple[Database, Seeded],
) -> None:
    db, made = seeded
    assert made.clones == 2
    assert made.total.open_cases == 300
    assert made.total == made.per_template.times(3)
    with db.engine.connect() as conn:
        cases = conn.execute(select(func.count()).select_from(t.cases)).scalar_one()
    assert cases == 3 * made.template.cases


def test_the_template_is_a_real_team_list_with_overdue_paused_and_queued_work(seeded: tuple[Database, Seeded]) -> None:
    _db, made = seeded
    template = made.per_template
    assert template.open_todos >= template.open_cases
    assert 0 < template.overdue_todos < template.open_todos
    assert template.paused_deadlines > 0
    assert template.queued_todos > 0
    assert template.caseworkers == 2
    assert {"held", "completed", "signed", "started"} <= set(made.template.outcomes)
    assert made.template.fired > 0 and made.template.letters > 0


def test_a_clone_is_the_template_under_other_ids(seeded: tuple[Database, Seeded]) -> None:
    db, _made = seeded
    c, x = t.cases, t.todos
    with db.engine.connect() as conn:
        original = conn.execute(
            select(c.c.citizen_ref, c.c.caseworker, c.c.stage).where(c.c.id == "c-q0000n0001")
        ).one()
        copy = conn.execute(select(c.c.citizen_ref, c.c.caseworker, c.c.stage).where(c.c.id == "c-q0002n0001")).one()
        todos = conn.execute(select(x.c.id, x.c.step_id).where(x.c.case_id == "c-q0002n0001")).all()
        steps = set(conn.execute(select(t.steps.c.id).where(t.steps.c.case_id == "c-q0002n0001")).scalars())
    assert copy.citizen_ref == original.citizen_ref.replace("q0000", "q0002")
    assert copy.stage == original.stage
    assert (copy.caseworker or "").replace("q0002", "q0000") == (original.caseworker or "")
    assert todos and all(todo.id.startswith("c-q0002n0001.") and todo.step_id in steps for todo in todos)


def test_a_new_application_after_the_seed_numbers_its_steps_after_the_clones(
    seeded: tuple[Database, Seeded], rules: config.RuleBook
) -> None:
    from activation.adapters.sql import SqlStore

    db, _made = seeded
    with db.engine.connect() as conn:
        highest = conn.execute(select(func.max(t.steps.c.id))).scalar_one()
    now = utc_now() + timedelta(minutes=1)
    opened = services.open_case(SqlStore(db.engine), rules, "karlskrona", "kk-after-seed", now, now)
    with db.engine.connect() as conn:
        new_steps = conn.execute(select(t.steps.c.id).where(t.steps.c.case_id == opened.case_id)).scalars().all()
    assert opened.created and opened.todos
    assert new_steps and min(new_steps) > highest


def test_the_benchmark_measures_the_other_views_a_page_links_to_once_per_kind() -> None:
    page = (
        '<a href="/inbox?page=2">2</a><a href="/inbox?page=3">3</a><a href="/inbox?stage=plan&amp;page=1">plan</a>'
        '<a href="/cases/c-1?page=2">case</a><a href="/inbox">all</a>'
    )
    assert linked_views(page, "/inbox") == ["/inbox?page=2", "/inbox?stage=plan&page=1"]
