"""SQLite writers queue for a file lock beside the database before they take SQLite's write lock."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from activation.adapters.db import ENV_WRITER_QUEUE, make_engine, reading
from activation.adapters.writer_queue import CHECKPOINT_EVERY, QUEUE_SUFFIX, QueuedConnection


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    with made.begin() as conn:
        conn.execute(text("CREATE TABLE notes (n INTEGER)"))
    yield made
    made.dispose()


def queue_is_free(database: Path) -> bool:
    """Tell whether another open file could take the writers' lock now."""
    fd = os.open(str(database) + QUEUE_SUFFIX, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_a_write_transaction_holds_the_queue_until_it_commits_and_a_read_never_takes_it(
    engine: Engine, tmp_path: Path
) -> None:
    database = tmp_path / "queue.db"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO notes VALUES (1)"))
        assert not queue_is_free(database)
    assert queue_is_free(database)
    with reading(engine) as conn:
        conn.execute(text("SELECT count(*) FROM notes")).scalar_one()
        assert queue_is_free(database)


def test_a_write_transaction_that_fails_lets_the_next_writer_in(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("INSERT INTO notes VALUES (1)"))
        raise RuntimeError("the use case fails half-way")
    assert queue_is_free(tmp_path / "queue.db")
    with reading(engine) as conn:
        assert conn.execute(text("SELECT count(*) FROM notes")).scalar_one() == 0


def test_a_second_writer_waits_in_the_queue_and_goes_in_when_the_first_commits(engine: Engine) -> None:
    entered = threading.Event()

    def second() -> None:
        with engine.begin() as conn:
            entered.set()
            conn.execute(text("INSERT INTO notes VALUES (2)"))

    with engine.begin() as conn:
        conn.execute(text("INSERT INTO notes VALUES (1)"))
        waiting = threading.Thread(target=second)
        waiting.start()
        assert not entered.wait(0.5)  # it queues while the first holds its turn
    waiting.join(30)
    assert entered.is_set()
    with reading(engine) as conn:
        assert conn.execute(text("SELECT n FROM notes ORDER BY n")).scalars().all() == [1, 2]


def test_a_writer_killed_in_its_transaction_leaves_the_queue_free(engine: Engine, tmp_path: Path) -> None:
    database = tmp_path / "queue.db"
    holder = (
        "import sys, time\n"
        "from sqlalchemy import text\n"
        "from activation.adapters.db import make_engine\n"
        f"conn = make_engine({f'sqlite:///{database}'!r}).connect()\n"
        "conn.begin()\n"
        "conn.execute(text('INSERT INTO notes VALUES (9)'))\n"
        "print('holding', flush=True)\n"
        "time.sleep(120)\n"
    )
    root = Path(__file__).resolve().parent.parent
    child = subprocess.Popen([sys.executable, "-c", holder], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "holding"
        assert not queue_is_free(database)
    finally:
        child.kill()  # SIGKILL: no rollback, no cleanup of its own
        child.wait(30)
    assert queue_is_free(database)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO notes VALUES (1)"))
    with reading(engine) as conn:
        assert conn.execute(text("SELECT n FROM notes")).scalars().all() == [1]


def test_the_queue_can_be_turned_off_and_writers_then_meet_only_sqlites_busy_handler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_WRITER_QUEUE, "0")
    plain = make_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    with plain.begin() as conn:
        conn.execute(text("CREATE TABLE notes (n INTEGER)"))
    plain.dispose()
    assert (tmp_path / "plain.db").exists()
    assert not (tmp_path / ("plain.db" + QUEUE_SUFFIX)).exists()


def test_a_queued_writer_checkpoints_the_wal_after_it_has_left_the_queue_not_inside_its_commit(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "queue.db"
    seen: list[bool] = []
    checkpoint = QueuedConnection.checkpoint

    def watched(self: QueuedConnection) -> None:
        seen.append(queue_is_free(database))
        checkpoint(self)

    monkeypatch.setattr(QueuedConnection, "checkpoint", watched)
    with reading(engine) as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 0
    for n in range(2 * CHECKPOINT_EVERY):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO notes VALUES (:n)"), {"n": n})
    assert seen and all(seen), seen
