"""The one Prefect server of a project directory: run in process by `serve`, found and used by `tick`.

Prefect reads its settings when it is imported, so this module imports nothing of Prefect until the
environment is set (`configure`): a process that imported Prefect first would start Prefect's hidden
ephemeral server on the same SQLite file as ours ("database is locked", shared/notes/prefect.md).
One lock file per Prefect home (`$PREFECT_HOME/activation.lock`, held with flock, so a crashed holder
frees it) says which `serve` runs there and where its server answers; a second `serve` refuses, a
`tick` uses that server.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

LOCK_NAME = "activation.lock"

# A local server runs no deployments, work pools, pauses or concurrency limits: their services only
# poll its database. Task runs, events, logs and automations stay on (the UI needs them).
IDLE_SERVICES = ("SCHEDULER", "LATE_RUNS", "FOREMAN", "PAUSE_EXPIRATIONS", "REPOSSESSOR", "CANCELLATION_CLEANUP")


class ServerError(Exception):
    """The Prefect server cannot be started or used here; the message says why in one line."""


def prefect_home() -> Path:
    """Return the Prefect home of this process (cli.common.prefect_env sets it to ./.prefect)."""
    return Path(os.environ.get("PREFECT_HOME", str(Path.home() / ".prefect"))).expanduser()


class DirLock:
    """The lock on a Prefect home: one `serve` (or a `tick` running its own server) at a time."""

    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.path = home / LOCK_NAME
        self._fd: int | None = None

    def holder(self) -> dict[str, Any]:
        """Return what the holder wrote (pid, role, api_url); empty when unreadable."""
        try:
            found = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def acquire(self, role: str) -> dict[str, Any]:
        """Take the lock and return {}; if another process holds it, return what that one wrote."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            return self.holder() or {"pid": "?", "role": "unknown"}
        self._fd = fd
        self.write(role=role)
        return {}

    def held_by(self) -> dict[str, Any]:
        """Return what the holder wrote, or {} when nobody holds the lock."""
        held = self.acquire("none")
        self.release()
        return held

    def write(self, **info: Any) -> None:
        """Record who holds the lock and where its server answers."""
        assert self._fd is not None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, json.dumps({"pid": os.getpid(), **info}).encode(), 0)

    def release(self) -> None:
        """Free the lock (the kernel frees it too if the process dies)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


def bind(port: int, host: str = "127.0.0.1") -> socket.socket:
    """Bind the server's socket now, so that a port in use is one clear error before anything starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerError(
            f"port {port} on {host} is in use ({exc.strerror}): another Prefect server or `activation serve`?"
            " Choose --port, or set PREFECT_API_URL to use that server"
        ) from None
    sock.listen(128)
    return sock


def configure(api_url: str, local: bool) -> None:
    """Set Prefect's settings in the environment; refuse if Prefect was imported before (it read them then)."""
    if "prefect" in sys.modules and os.environ.get("PREFECT_API_URL") != api_url:
        raise RuntimeError("prefect was imported before its settings were set; it would start a second server")
    os.environ["PREFECT_API_URL"] = api_url
    # Never Prefect's hidden ephemeral server: a run without an API must fail, not start one.
    os.environ["PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"] = "false"
    if local:
        os.environ.setdefault("PREFECT_UI_API_URL", api_url)
        for service in IDLE_SERVICES:
            os.environ.setdefault(f"PREFECT_SERVER_SERVICES_{service}_ENABLED", "false")


def answers(api_url: str, seconds: float = 2.0) -> bool:
    """Tell whether a Prefect API answers its health check."""
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=seconds).status_code == 200
    except httpx.HTTPError:
        return False


class LocalServer:
    """Prefect's server (API, UI and services) in a thread of this process, on a socket bound beforehand."""

    def __init__(self, sock: socket.socket) -> None:
        host, port = sock.getsockname()[:2]
        self.sock = sock
        self.url = f"http://{host}:{port}"
        self.api_url = f"{self.url}/api"
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start serving in a background thread; configure() must have run."""
        import uvicorn
        from prefect.server.api.server import create_app

        config = uvicorn.Config(create_app(final=True), log_level="warning", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self.sock]}, name="prefect-server", daemon=True
        )
        self._thread.start()

    def wait_ready(self, seconds: float = 240, give_up: Callable[[], bool] = lambda: False) -> None:
        """Wait until the server has migrated its database and answers (or give_up() says stop waiting)."""
        deadline = time.monotonic() + seconds
        while not (self._server is not None and self._server.started) and not give_up():
            if self._thread is None or not self._thread.is_alive():
                raise ServerError(f"the Prefect server at {self.url} stopped while starting; see the log above")
            if time.monotonic() > deadline:
                raise ServerError(f"the Prefect server at {self.url} did not start within {seconds:.0f} s")
            time.sleep(0.05)

    def alive(self) -> bool:
        """Tell whether the server thread still runs."""
        return self._thread is not None and self._thread.is_alive() and not self._server.should_exit

    def stop(self, seconds: float = 4) -> None:
        """Stop the server: its services end, open connections get `seconds` to finish."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(seconds)
        self.sock.close()


def flush_prefect(seconds: float = 3) -> None:
    """Send the logs and events Prefect still holds while the server is up (else exit waits on them)."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(Exception):
            worker.drain_all(timeout=seconds)


def running_server() -> str | None:
    """Return the Prefect API a tick should use: PREFECT_API_URL, or a running serve's server; else None."""
    if os.environ.get("PREFECT_API_URL"):
        configure(os.environ["PREFECT_API_URL"], local=False)
        return f"the Prefect server at {os.environ['PREFECT_API_URL']} (PREFECT_API_URL)"
    held = DirLock(prefect_home()).held_by()
    url = str(held.get("api_url") or "")
    if held.get("role") == "serve" and url and answers(url):
        configure(url, local=False)
        return f"the Prefect server of `activation serve` (pid {held.get('pid')}) at {url}"
    os.environ["PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"] = "false"  # should anything still ask for an API
    return None
