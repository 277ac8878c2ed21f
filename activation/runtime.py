"""Wiring for entry points (CLI, flows, tasks): the store and the rule book, built once per process."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from activation import config
from activation.adapters.db import database_url, make_engine, migrate
from activation.adapters.sql import SqlStore


@dataclass
class Runtime:
    """What an entry point needs to run use cases."""

    engine: Engine
    store: SqlStore
    rules: config.RuleBook


_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_rules: dict[str, tuple[float, config.RuleBook]] = {}
_looked: dict[tuple[str, str], tuple[float, Runtime]] = {}
# A running service re-reads the config directory at most this often: a manager's edit is seen
# within seconds, and a busy web process does not scan the directory on every request.
RECHECK_SECONDS = 2.0


def _stamp(directory: Path) -> float:
    # Rules are re-read when a file in the config directory changes, so a long-running
    # `activation serve` picks up a manager's edit without a restart.
    files = list(directory.rglob("*.yaml"))
    return max((f.stat().st_mtime for f in files), default=0.0) + len(files)


def get_runtime(db_url: str | None = None, config_directory: str | Path | None = None) -> Runtime:
    """Return the store (schema migrated) and the validated rules for this process."""
    url = database_url(db_url)
    directory = config.config_dir(config_directory)
    asked = (url, str(directory))
    now = time.monotonic()
    looked = _looked.get(asked)
    if looked is not None and now - looked[0] < RECHECK_SECONDS:
        return looked[1]
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            migrate(engine)
            _engines[url] = engine
        key = str(directory.resolve())
        stamp = _stamp(directory) if directory.is_dir() else 0.0
        cached = _rules.get(key)
        if cached is None or cached[0] != stamp:
            cached = (stamp, config.load(directory))
            _rules[key] = cached
        found = Runtime(engine, SqlStore(engine), cached[1])
        _looked[asked] = (now, found)
    return found


def forget(db_url: str) -> None:
    """Close and forget the engine of one database (a test's database is dropped after it)."""
    url = database_url(db_url)
    with _lock:
        engine = _engines.pop(url, None)
        for asked in [k for k in _looked if k[0] == url]:
            del _looked[asked]
    if engine is not None:
        engine.dispose()


def reset() -> None:
    """Forget cached engines and rules (tests switch databases)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _rules.clear()
        _looked.clear()
