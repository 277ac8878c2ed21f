"""`activation serve`: the flows run in this process on a schedule, one Prefect server beside them, until stopped.

Every `interval` seconds the loop runs intake, one flow per stage and the notification delivery (the
sweep every `sweep_interval` s), one after another, each as its own flow run: Prefect's UI shows
which stage's work ran or failed, under the same flow names as the production deployments. The runs
are plain calls in this process, not deployments: a deployment run is a new process of ~2 CPU-s,
which for ten flows a minute kept a core half busy doing nothing (BENCHMARKS.md, serve_idle).

Stopping: SIGINT and SIGTERM end a flow run in progress at once (Prefect records it as Crashed; its
database work rolls back, each batch being one transaction) and stop the web and Prefect servers,
which run in threads of this process: no child process is left. If that takes longer than 7 s (Prefect
retrying a server that is gone), or on a second signal, the process exits at once.
"""

from __future__ import annotations

import _thread
import asyncio
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from flows.server import DirLock, LocalServer, ServerError, answers, bind, configure, flush_prefect, prefect_home

Status = Callable[[], dict[str, str]]
STOP_GRACE = 7.0  # seconds an orderly stop may take before the process exits anyway
StartWeb = Callable[[Status | None], Callable[[], None]]


class Stopper:
    """Turn SIGINT and SIGTERM into a stop request, interrupt a flow run in progress, bound the stop."""

    def __init__(self) -> None:
        self.requested = False
        self.in_flow = False

    def install(self, grace: float = STOP_GRACE) -> None:
        """Block the signals in every thread but one that waits for them; call before starting threads."""
        # Not a Python handler in the main thread: Prefect swaps in its own SIGTERM handler during a
        # flow run and, with its server gone, retries reporting the crash for minutes before passing
        # the signal on. A thread of our own always gets it.
        signals = {signal.SIGINT, signal.SIGTERM}
        signal.signal(signal.SIGINT, self._interrupt)  # what interrupt_main() below runs
        signal.signal(signal.SIGTERM, self._interrupt)
        signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        threading.Thread(target=self._wait, args=(signals, grace), name="signals", daemon=True).start()

    def _wait(self, signals: set[signal.Signals], grace: float) -> None:
        signal.sigwait(signals)
        self.requested = True
        if self.in_flow:
            _thread.interrupt_main(signal.SIGINT)
        again = signal.sigtimedwait(signals, grace)
        if again is None:
            # The database is safe (every batch is one transaction); Prefect's retries are not worth waiting for.
            print(f"The stop took longer than {grace:.0f} s; exiting now.", file=sys.stderr, flush=True)
        os._exit(0 if again is None else 128 + again.si_signo)  # a second signal: out at once

    def _interrupt(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        if self.in_flow:
            raise KeyboardInterrupt  # Prefect records the run as Crashed

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking within 0.2 s of a stop request; tell whether one came."""
        end = time.monotonic() + seconds
        while not self.requested and (left := end - time.monotonic()) > 0:
            time.sleep(min(0.2, left))
        return self.requested


@dataclass
class Scheduled:
    """A flow the loop runs every `every` seconds."""

    name: str
    flow: Any
    every: float
    last: float | None = None


class FlowLoop:
    """Run due flows one after another in this thread; remember enough for /health to judge it."""

    def __init__(
        self, schedule: list[Scheduled], say: Callable[[str], Any], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.schedule = schedule
        self.say = say
        self.clock = clock
        interval = min(s.every for s in schedule)
        # A loop that has not started a flow for three intervals (and two minutes for a long batch)
        # is stuck; /health says so.
        self.stale_after = 3 * interval + 120
        self.started_at = clock()
        self.beat: float | None = None
        self.failing: dict[str, str] = {}
        self.completed = 0
        self.stopped = False

    def status(self) -> str:
        """ok, starting, failing (a flow's last run failed), stalled (no run for a while) or stopped."""
        if self.stopped:
            return "stopped"
        if self.clock() - (self.beat or self.started_at) > self.stale_after:
            return "stalled"
        if self.failing:
            return "failing"
        return "ok" if self.completed else "starting"

    def run(self, stopper: Stopper) -> None:
        """Run until a stop is requested."""
        try:
            while not stopper.requested:
                now = self.clock()
                due = [s for s in self.schedule if s.last is None or now - s.last >= s.every - 0.05]
                if due:
                    stopper.in_flow = True
                    try:
                        asyncio.run(self._run(due, stopper))
                    except KeyboardInterrupt:  # the stop interrupted a run; Prefect recorded it as Crashed
                        stopper.requested = True
                        break
                    finally:
                        stopper.in_flow = False
                wake = min((s.last or now) + s.every for s in self.schedule)
                stopper.wait(max(0.0, wake - self.clock()))
        finally:
            self.stopped = True

    async def _run(self, due: list[Scheduled], stopper: Stopper) -> None:
        for item in due:
            if stopper.requested:
                return
            item.last = self.beat = self.clock()
            try:
                state = await item.flow(return_state=True)
                problem = "" if state.is_completed() else f"run {state.name}"
            except Exception as exc:  # the API did not answer, say: the next interval tries again
                problem = f"could not run ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''})"
            if problem:
                if item.name not in self.failing:
                    self.say(f"{item.name}: {problem}; see Prefect's UI; tried again every {item.every:.0f} s")
                self.failing[item.name] = problem
            else:
                if self.failing.pop(item.name, None):
                    self.say(f"{item.name}: ran again without failing")
                self.completed += 1


def schedule(interval: int, sweep_interval: int) -> list[Scheduled]:
    """Intake, each stage, the sweep and notification delivery, in the order a cycle runs them."""
    from flows.intake import intake
    from flows.notify import deliver_notifications
    from flows.stages import STAGE_FLOWS
    from flows.sweep import deadline_sweep

    return [
        Scheduled("intake", intake, interval),
        *(Scheduled(name.replace("_", "-"), f, interval) for name, f in STAGE_FLOWS.items()),
        Scheduled("deadline-sweep", deadline_sweep, sweep_interval),
        # Last, so that the events this cycle raised go out in it.
        Scheduled("deliver-notifications", deliver_notifications, interval),
    ]


def health_check(loop: FlowLoop, api_url: str, server: LocalServer | None) -> Status:
    """What /health reports of the flows and of their Prefect server."""

    def status() -> dict[str, str]:
        up = (server is None or server.alive()) and answers(api_url)
        return {"flows": loop.status(), "prefect": "ok" if up else "unreachable"}

    return status


def serve_all(
    interval: int = 60,
    sweep_interval: int = 300,
    start_server: bool = True,
    port: int = 4200,
    start_web: StartWeb | None = None,
    run_flows: bool = True,
    say: Callable[[str], Any] = print,
) -> None:
    """Serve the flows (and the web app, if given) until SIGINT or SIGTERM; then stop everything."""
    stopper = Stopper()
    stopper.install()
    if not run_flows:
        assert start_web is not None
        stop_alone = start_web(None)
        say("Serving the web application alone (Ctrl-C stops).")
        while not stopper.wait(3600):
            pass
        stop_alone()
        return
    lock = DirLock(prefect_home())
    held = lock.acquire("serve")
    if held:
        raise ServerError(
            f"`activation {held.get('role', 'serve')}` (pid {held.get('pid', '?')}) already runs in this directory"
            f" ({lock.path}); stop it first, or serve the web alone with --no-flows"
        )
    server: LocalServer | None = None
    stop_web: Callable[[], None] | None = None
    try:
        api_url = os.environ.get("PREFECT_API_URL", "")
        if not api_url:
            if not start_server:
                raise ServerError("no Prefect server: set PREFECT_API_URL or leave --server on")
            server = LocalServer(bind(port))
            api_url = server.api_url
        configure(api_url, local=server is not None)
        lock.write(role="serve", api_url=api_url)
        if server is not None:
            say(f"Starting the Prefect server on {server.url} in this process...")
            server.start()
        loop = FlowLoop(schedule(interval, sweep_interval), say)
        if start_web is not None:
            stop_web = start_web(health_check(loop, api_url, server))
        if server is not None:
            server.wait_ready(give_up=lambda: stopper.requested)
            say(f"Prefect UI: {server.url}  (operations watch the runs there)")
        elif not answers(api_url):
            say(f"The Prefect API at {api_url} does not answer yet; the flows try again every {interval} s")
        say(f"Flows: intake, the stages and notifications every {interval} s, the sweep every {sweep_interval} s.")
        if not stopper.requested:
            loop.run(stopper)
        say("Stopping...")
        if answers(api_url, 1):
            flush_prefect()
    finally:
        if stop_web is not None:
            stop_web()
        if server is not None:
            server.stop()
        lock.release()
