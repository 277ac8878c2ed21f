"""The deliver-notifications flow, run for real against a temporary Prefect server."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from activation import runtime
from activation.adapters.outbox import Outbox
from tests.test_notifications_delivery import SECRET, SECRET_ENV, T0, WebhookReceiver, add_events, hook, rules_with

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.prefect


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[str]:
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield str(PREFECT_API_URL.value())


def test_the_flow_dispatches_and_delivers_each_event_once_and_a_second_run_sends_nothing(
    prefect_api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.notify import deliver_notifications

    receiver = WebhookReceiver().start()
    try:
        rules_with(tmp_path / "config", {"karlskrona": {"hub": hook(receiver.url)}})
        monkeypatch.setenv("ACTIVATION_CONFIG_DIR", str(tmp_path / "config"))
        monkeypatch.setenv("ACTIVATION_DATABASE_URL", f"sqlite:///{tmp_path / 'flow.db'}")
        monkeypatch.setenv(SECRET_ENV, SECRET)
        runtime.reset()
        rt = runtime.get_runtime()
        events = add_events(rt.engine, 12, "alert")
        first = asyncio.run(deliver_notifications(now=T0, batch_size=5))
        second = asyncio.run(deliver_notifications(now=T0 + timedelta(minutes=5), batch_size=5))
        assert (first["events"], first["deliveries"], first["delivered"]) == (12, 12, 12)
        assert second["claimed"] == 0
        assert receiver.accepted == Counter(dict.fromkeys(events, 1))
        assert Outbox(rt.engine).counts()["delivered"] == 12
    finally:
        receiver.stop()
        runtime.reset()


def test_a_worker_loads_the_flow_from_its_deployment_entrypoint() -> None:
    # A worker imports flows/notify.py as the top-level module `notify` (prefect's load_script_as_module):
    # a package of that name would then be hidden from tasks/notify.py, and the flow would not load.
    script = (
        "from prefect.utilities.importtools import import_object\n"
        "print(import_object('flows/notify.py:deliver_notifications').name)\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip().splitlines()[-1] == "deliver-notifications"
