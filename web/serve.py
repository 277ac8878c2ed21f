"""Run the web application with uvicorn, in the foreground or beside the flows, in one or more processes."""

from __future__ import annotations

import json
import multiprocessing
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.sharedctypes import SynchronizedString
from typing import Any

import uvicorn

from web.app import WebSettings, create_app

STATUS_BYTES = 1024  # room for serve's status ({"flows": ..., "prefect": ...}) shared with the other workers


def web_server(host: str, port: int, settings: WebSettings | None = None) -> uvicorn.Server:
    """Build a uvicorn server for the web application."""
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # URLs carry case ids; access logs would pile them up outside the audit log
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_graceful_shutdown=2,  # a browser's keep-alive connection must not hold up a stop
    )
    return uvicorn.Server(config)


def start_in_background(
    server: uvicorn.Server, say: Callable[[str], Any], seconds: float = 30, sock: socket.socket | None = None
) -> threading.Thread:
    """Start the web server in a thread (on `sock` if given) and wait until it listens."""
    sockets = [sock] if sock is not None else None
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, name="web", daemon=True)
    thread.start()
    deadline = time.monotonic() + seconds
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the web server did not start on {server.config.host}:{server.config.port}")
        time.sleep(0.1)
    return thread


def stop_in_background(server: uvicorn.Server, thread: threading.Thread, seconds: float = 4) -> None:
    """Ask the web server to stop and wait (at most `seconds`) for its thread."""
    server.should_exit = True
    thread.join(seconds)


def listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket the workers share.

    Made with IPPROTO_TCP, not uvicorn's `bind_socket` (protocol 0): asyncio sets TCP_NODELAY only on
    connections of a socket that says it is TCP, and without it every answer on a kept-alive
    connection waited ~40 ms for the client's delayed ACK (Nagle).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def read_status(status: SynchronizedString) -> Callable[[], dict[str, str]] | None:
    """Return how a worker process reads serve's status (None when serve runs no flows)."""
    if not status.value:
        return None
    return lambda: dict(json.loads(status.value or b"{}"))


def _worker(host: str, port: int, overrides: dict[str, Any], sock: socket.socket, status: SynchronizedString) -> None:
    """Serve the web application on the shared socket in a child process until told to stop."""
    settings = WebSettings.from_env(**overrides, serve_status=read_status(status))
    web_server(host, port, settings).run(sockets=[sock])


class WebService:
    """The web application on one listening socket: a thread of this process and `workers - 1` child processes.

    One Python process answers at most what one core and its GIL allow; more worker processes share
    the socket (the kernel hands each connection to one) and the database, as uvicorn's own workers do.
    """

    def __init__(
        self,
        host: str,
        port: int,
        overrides: dict[str, Any],
        workers: int = 1,
        serve_status: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        self.host, self.port, self.overrides, self.workers = host, port, overrides, workers
        self.serve_status = serve_status
        self.server = web_server(host, port, WebSettings.from_env(**overrides, serve_status=serve_status))
        self.thread: threading.Thread | None = None
        self.children: list[Any] = []
        self._spawn = multiprocessing.get_context("spawn")
        # Only with other workers: a shared array brings multiprocessing's resource tracker process along.
        self._status: SynchronizedString | None = (
            self._spawn.Array("c", STATUS_BYTES) if workers > 1 else None  # type: ignore[assignment]
        )
        self._stopping = threading.Event()

    def start(self, say: Callable[[str], Any]) -> None:
        """Listen, start the workers and wait until the first answers."""
        sock = listen(self.host, self.port)
        self._share_status()
        self.thread = start_in_background(self.server, say, sock=sock)
        for _ in range(self.workers - 1):
            child = self._spawn.Process(
                target=_worker,
                args=(self.host, self.port, self.overrides, sock, self._status),
                name="activation-web",
                daemon=True,
            )
            child.start()
            self.children.append(child)
        if self.children:
            threading.Thread(target=self._keep_status, name="web-status", daemon=True).start()

    def _share_status(self) -> None:
        if self.serve_status is not None and self._status is not None:
            self._status.value = json.dumps(self.serve_status()).encode()[: STATUS_BYTES - 1]

    def _keep_status(self) -> None:
        # The other workers answer /health too: they read serve's status from here, a second old at most.
        while not self._stopping.wait(1.0):
            self._share_status()

    def stop(self, seconds: float = 4) -> None:
        """Stop every worker: children get SIGTERM, then SIGKILL after `seconds`; none is left behind."""
        self._stopping.set()
        for child in self.children:
            if child.is_alive():
                child.terminate()
        if self.thread is not None:
            stop_in_background(self.server, self.thread, seconds)
        deadline = time.monotonic() + seconds
        for child in self.children:
            child.join(max(0.1, deadline - time.monotonic()))
            if child.is_alive():
                child.kill()
                child.join(1)
