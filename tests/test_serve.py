"""`activation serve` as operations run it: one Prefect server, flows in process, a clean stop, an honest /health."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from flows.serve import FlowLoop, Scheduled, Stopper
from flows.server import DirLock, answers
from tests.conftest import at
from tests.web_support import make_web

STOP_SECONDS = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the flow loop and /health, without Prefect ----------------------------------------------------


@dataclass
class FakeState:
    name: str

    def is_completed(self) -> bool:
        return self.name == "Completed"


@dataclass
class FakeFlow:
    """Stands in for a Prefect flow: records its runs, ends as told, stops the loop after `stop_after` runs."""

    runs: list[str]
    name: str
    stopper: Stopper
    stop_after: int
    outcome: str = "Completed"

    async def __call__(self, return_state: bool = False) -> FakeState:
        self.runs.append(self.name)
        if len(self.runs) >= self.stop_after:
            self.stopper.requested = True
        if self.outcome == "raise":
            raise ConnectionError("the Prefect API does not answer")
        return FakeState(self.outcome)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_loop_runs_due_flows_in_order_and_the_sweep_only_at_its_own_interval() -> None:
    stopper, runs = Stopper(), list[str]()
    flows = [
        Scheduled("intake", FakeFlow(runs, "intake", stopper, 5), 0.01),
        Scheduled("deadline-sweep", FakeFlow(runs, "deadline-sweep", stopper, 5), 3600),
        Scheduled("deliver-notifications", FakeFlow(runs, "deliver-notifications", stopper, 5), 0.01),
    ]
    loop = FlowLoop(flows, print)

    loop.run(stopper)

    assert runs == ["intake", "deadline-sweep", "deliver-notifications", "intake", "deliver-notifications"]
    assert loop.status() == "stopped"


def test_the_loop_reports_starting_ok_failing_and_stalled_from_its_runs() -> None:
    clock, stopper, runs, said = Clock(), Stopper(), list[str](), list[str]()
    failing = FakeFlow(runs, "assessment", stopper, 99, outcome="Failed")
    loop = FlowLoop([Scheduled("assessment", failing, 60)], said.append, clock=clock)
    assert loop.status() == "starting"

    stopper.requested = False
    failing.stop_after = 1
    loop.run(stopper)
    loop.stopped = False  # look at what the run left, as /health would while serving
    assert loop.status() == "failing" and said == ["assessment: run Failed; see Prefect's UI; tried again every 60 s"]

    failing.outcome, stopper.requested, failing.stop_after = "Completed", False, 2
    clock.now += 60
    loop.run(stopper)
    loop.stopped = False
    assert loop.status() == "ok" and said[-1] == "assessment: ran again without failing"

    clock.now += 3 * 60 + 121  # no flow started for three intervals and two minutes
    assert loop.status() == "stalled"


def test_a_flow_that_cannot_reach_prefect_counts_as_failing_and_the_others_still_run() -> None:
    stopper, runs, said = Stopper(), list[str](), list[str]()
    flows = [
        Scheduled("intake", FakeFlow(runs, "intake", stopper, 2, outcome="raise"), 60),
        Scheduled("assessment", FakeFlow(runs, "assessment", stopper, 2), 60),
    ]
    loop = FlowLoop(flows, said.append)
    loop.run(stopper)
    assert runs == ["intake", "assessment"]
    assert loop.failing == {"intake": "could not run (ConnectionError: the Prefect API does not answer)"}


@pytest.mark.parametrize(
    ("served", "code", "status"),
    [
        ({"flows": "ok", "prefect": "ok"}, 200, "ok"),
        ({"flows": "starting", "prefect": "ok"}, 200, "degraded"),
        ({"flows": "failing", "prefect": "ok"}, 200, "degraded"),
        ({"flows": "stalled", "prefect": "ok"}, 503, "down"),
        ({"flows": "stopped", "prefect": "ok"}, 503, "down"),
        ({"flows": "ok", "prefect": "unreachable"}, 503, "down"),
    ],
)
def test_health_reports_the_flows_and_their_prefect_server_when_serve_runs_them(
    database_url: str, served: dict[str, str], code: int, status: str
) -> None:
    web = make_web(database_url, at("2026-11-23 09:00"))
    web.settings.serve_status = lambda: served

    response = web.client().get("/health")

    assert (response.status_code, response.json()["status"]) == (code, status)
    assert {k: response.json()[k] for k in served} == served


def test_a_second_holder_of_the_directory_lock_learns_who_holds_it(tmp_path: Path) -> None:
    first, second = DirLock(tmp_path), DirLock(tmp_path)
    assert first.held_by() == {}
    assert first.acquire("serve") == {}
    first.write(role="serve", api_url="http://127.0.0.1:1/api")

    expected = {"pid": os.getpid(), "role": "serve", "api_url": "http://127.0.0.1:1/api"}
    assert second.acquire("serve") == expected and second.held_by() == expected
    first.release()
    assert second.acquire("serve") == {}
    second.release()


def test_the_cli_serve_and_the_web_app_import_no_prefect_before_its_settings_are_set() -> None:
    # Prefect reads its settings at import: an early import started a hidden second server (issue 10).
    code = "import sys, cli, web.app, web.serve, flows.serve, flows.server; print('prefect' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert found.stdout.strip() == "False"


# -- `activation serve` for real -------------------------------------------------------------------


@dataclass
class Project:
    """A project directory with its own database and Prefect home, and the CLI run in it."""

    path: Path
    env: dict[str, str]
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli", "--db", self.db, *args],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    @property
    def db(self) -> str:
        return f"sqlite:///{self.path / 'serve.db'}"

    def serve(self, *args: str, log: str = "serve.log") -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "--db", self.db, "serve", *args],
            cwd=self.path,
            env=self.env,
            # A file, not a pipe: an unread pipe fills up with Prefect's logs and blocks the server.
            stdout=(self.path / log).open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session: every process it might start is found by sid
        )
        self.started.append(process)
        return process

    def log(self, name: str = "serve.log") -> str:
        return (self.path / name).read_text(errors="replace")

    def left_over(self, process: subprocess.Popen[bytes]) -> list[str]:
        """Processes still in serve's session or naming this project directory."""
        found = subprocess.run(["pgrep", "-a", "-s", str(process.pid)], capture_output=True, text=True).stdout
        found += subprocess.run(["pgrep", "-a", "-f", str(self.path)], capture_output=True, text=True).stdout
        return found.splitlines()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "ACTIVATION_CONFIG_DIR")}
    env.update({"PREFECT_HOME": str(tmp_path / ".prefect"), "ACTIVATION_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    p = Project(tmp_path, env)
    yield p
    for process in p.started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _until(what: Callable[[], Any], seconds: float, process: subprocess.Popen[bytes], log: Callable[[], str]) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, log()[-3000:]
        found = what()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"not within {seconds} s; log:\n{log()[-3000:]}")


def _stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> float:
    start = time.monotonic()
    process.send_signal(sig)
    process.wait(timeout=30)
    return time.monotonic() - start


def _health(port: int) -> httpx.Response | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
    except httpx.HTTPError:
        return None


def _completed_runs(port: int, flow_name: str) -> list[dict[str, Any]]:
    if not answers(f"http://127.0.0.1:{port}/api"):
        return []  # not up yet
    response = httpx.post(
        f"http://127.0.0.1:{port}/api/flow_runs/filter",
        json={
            "flows": {"name": {"any_": [flow_name]}},
            "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
            "limit": 50,
        },
        timeout=10,
    )
    response.raise_for_status()
    return list(response.json())


@pytest.mark.prefect
def test_serve_runs_the_flows_until_the_first_meeting_todo_appears_and_stops_on_sigterm_leaving_nothing(
    project: Project,
) -> None:
    port, web_port = _free_port(), _free_port()
    # Before any serve: a tick runs the flow code without Prefect, and starts no server, hidden or not.
    first = json.loads(project.cli("apply", "vaxjo", "ext-serve-0", "--json").stdout)["case_id"]
    ticked = project.cli("tick")
    assert ticked.returncode == 0, ticked.stderr
    assert "without Prefect (no server is up" in ticked.stderr and "the first run" not in ticked.stderr
    assert json.loads(project.cli("todos", "--case", first, "--json").stdout)
    assert not (project.path / ".prefect" / "prefect.db").exists()

    case_id = json.loads(project.cli("apply", "vaxjo", "ext-serve-1", "--json").stdout)["case_id"]
    started = time.monotonic()
    server = project.serve("--interval", "5", "--sweep-interval", "5", "--port", str(port), "--web-port", str(web_port))

    todos = _until(
        lambda: json.loads(project.cli("todos", "--case", case_id, "--json").stdout), 120, server, project.log
    )
    to_do_after = time.monotonic() - started
    assert [t["kind"] for t in todos] == ["first_meeting"]
    intake_runs = _until(lambda: _completed_runs(port, "intake"), 30, server, project.log)
    assert all(str(r["name"]).startswith("intake ") for r in intake_runs)
    runs = intake_runs + _completed_runs(port, "deadline-sweep")
    assert all("ext-serve-1" not in json.dumps(r["parameters"]) + str(r["name"]) for r in runs)
    # The web inbox is served beside the flows, at the address serve printed; /health speaks for both.
    assert f"Inbox: http://127.0.0.1:{web_port}/" in project.log()
    assert httpx.get(f"http://127.0.0.1:{web_port}/sign-in", timeout=10).status_code == 200
    health = _until(lambda: (h := _health(web_port)) and h.json()["flows"] == "ok" and h, 30, server, project.log)
    assert (health.status_code, health.json()["prefect"]) == (200, "ok")
    # One process: the Prefect server and the web server are threads of it, and flow runs no subprocess.
    assert subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True).stdout == b""

    second = project.cli("serve", "--port", str(_free_port()), "--web-port", str(_free_port()), timeout=60)
    assert second.returncode == 2
    assert second.stderr.strip().startswith(f"error: `activation serve` (pid {server.pid}) already runs")
    assert len(second.stderr.strip().splitlines()) == 1
    joined = project.cli("tick")
    assert joined.returncode == 0 and f"the Prefect server of `activation serve` (pid {server.pid})" in joined.stderr

    assert _stop(server, signal.SIGTERM) < STOP_SECONDS
    assert server.returncode == 0, project.log()[-3000:]
    assert project.left_over(server) == []
    assert _health(web_port) is None
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the Prefect server still listens"
    print(f"first to-do {to_do_after:.1f} s after start")


@pytest.mark.prefect
def test_ctrl_c_stops_serve_within_seconds_while_runs_are_in_flight(project: Project) -> None:
    port = _free_port()
    server = project.serve(
        "--interval", "1", "--sweep-interval", "1", "--port", str(port), "--web-port", str(_free_port())
    )
    _until(lambda: _completed_runs(port, "deliver-notifications"), 120, server, project.log)

    assert _stop(server, signal.SIGINT) < STOP_SECONDS  # runs follow each other: one is in flight
    assert server.returncode == 0, project.log()[-3000:]
    assert project.left_over(server) == []
    assert "Stopped." in project.log()


@pytest.mark.prefect
def test_serve_uses_the_prefect_server_at_prefect_api_url_and_health_is_down_when_that_server_goes(
    project: Project,
) -> None:
    port, web_port = _free_port(), _free_port()
    home = project.path / "server-home"
    prefect = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env={**project.env, "PREFECT_HOME": str(home)},
        stdout=(project.path / "prefect.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    project.started.append(prefect)
    api = f"http://127.0.0.1:{port}/api"
    _until(lambda: answers(api), 120, prefect, lambda: (project.path / "prefect.log").read_text(errors="replace"))
    project.env["PREFECT_API_URL"] = api
    server = project.serve("--interval", "2", "--web-port", str(web_port))
    _until(lambda: _completed_runs(port, "intake"), 120, server, project.log)
    assert (_health(web_port) or pytest.fail("no /health")).json()["prefect"] == "ok"
    # Exactly that server: serve started none of its own, hidden or not, on its directory.
    assert not (project.path / ".prefect" / "prefect.db").exists()

    os.killpg(prefect.pid, signal.SIGKILL)
    prefect.wait()
    health = _until(lambda: (h := _health(web_port)) and h.status_code == 503 and h, 30, server, project.log)
    assert health.json()["status"] == "down" and health.json()["prefect"] == "unreachable"

    assert _stop(server, signal.SIGTERM) < STOP_SECONDS
    assert server.returncode == 0, project.log()[-3000:]
    assert project.left_over(server) == []


def test_serve_with_two_web_workers_answers_from_both_and_stops_on_sigterm_leaving_nothing(project: Project) -> None:
    web_port = _free_port()
    server = project.serve("--no-flows", "--web-port", str(web_port), "--web-workers", "2")
    _until(lambda: _health(web_port), 60, server, project.log)
    assert f"Inbox: http://127.0.0.1:{web_port}/ (2 processes)" in project.log()
    children = subprocess.run(["pgrep", "-f", "-P", str(server.pid), "spawn_main"], capture_output=True, text=True)
    assert len(children.stdout.split()) == 1, project.log()
    # Both processes share one socket: every request is answered, whichever process takes it.
    with httpx.Client(timeout=10) as client:
        assert {client.get(f"http://127.0.0.1:{web_port}/sign-in").status_code for _ in range(20)} == {200}

    assert _stop(server, signal.SIGTERM) < STOP_SECONDS
    assert server.returncode == 0, project.log()[-3000:]
    deadline = time.monotonic() + 5  # multiprocessing's resource tracker leaves when it sees serve gone
    while project.left_over(server) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert project.left_over(server) == []
    assert _health(web_port) is None


def test_the_other_web_workers_read_the_flows_status_serve_shares_with_them() -> None:
    from web.serve import WebService, read_status

    now = {"flows": "starting", "prefect": "ok"}
    service = WebService("127.0.0.1", _free_port(), {}, workers=2, serve_status=lambda: dict(now))
    service._share_status()
    assert service._status is not None
    seen = read_status(service._status)
    assert seen is not None and seen() == {"flows": "starting", "prefect": "ok"}
    now["flows"] = "failing"
    service._share_status()
    assert seen() == {"flows": "failing", "prefect": "ok"}
    alone = WebService("127.0.0.1", _free_port(), {}, workers=2)
    assert alone._status is not None and read_status(alone._status) is None
    assert WebService("127.0.0.1", _free_port(), {}, workers=1)._status is None


def test_the_web_service_answers_kept_alive_connections_without_nagles_delay() -> None:
    from web.serve import WebService

    service = WebService("127.0.0.1", _free_port(), {}, workers=1)
    service.start(print)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{service.port}", timeout=10) as client:
            assert client.get("/sign-in").status_code == 200
            connections = list(service.server.server_state.connections)
            assert connections, "the kept-alive connection is open"
            for connection in connections:
                accepted = connection.transport.get_extra_info("socket")
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        service.stop()
