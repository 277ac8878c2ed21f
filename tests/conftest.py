"""Shared fixtures: a fixed clock, the shipped rules, and stores on SQLite and (when set) PostgreSQL."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from activation import config, runtime
from activation.adapters.db import make_engine, migrate
from activation.adapters.sql import SqlStore

PG_ENV = "ACTIVATION_TEST_DATABASE_URL"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")

# Prefect settings must be in place before anything imports prefect; its state stays out of ~/.prefect.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="activation-prefect-"))
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


def at(text_: str, tz: ZoneInfo = STOCKHOLM) -> datetime:
    """Return a local time from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text_).replace(tzinfo=tz)


@pytest.fixture(scope="session")
def rules() -> config.RuleBook:
    return config.load()


def _database_urls() -> list[str]:
    urls = ["sqlite"]
    if os.environ.get(PG_ENV):
        urls.append("postgresql")
    return urls


@pytest.fixture(params=_database_urls())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'activation.db'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        runtime.forget(url)
        return
    with pg_schema(os.environ[PG_ENV]) as url:
        yield url
        # The web app's runtime keeps an engine per database; its idle connections would pile up
        # past PostgreSQL's max_connections over a thousand tests.
        runtime.forget(url)


@contextmanager
def pg_schema(base: str, prefix: str = "test") -> Iterator[str]:
    """Yield the URL of a fresh, migrated PostgreSQL schema of its own; drop it afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    engine = make_engine(database_url)
    yield SqlStore(engine)
    engine.dispose()


@pytest.fixture
def rules_2017() -> config.RuleBook:
    """The shipped rules with Allerød held to its first version, the 2017 baseline, at every moment.

    Tests of the obligation mechanism (4 in any 12 months, offers every 4 weeks) keep fixed rules this way;
    the law over time (LAB 2019 from 2020 and later) is tested in tests/test_national_versions.py.
    """
    return config.load().pinned("allerod", "allerod-2026.1")
