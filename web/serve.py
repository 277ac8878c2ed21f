"""Run the web application with uvicorn, in the foreground or beside the flows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from web.app import WebSettings, create_app


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


def start_in_background(server: uvicorn.Server, say: Callable[[str], Any], seconds: float = 30) -> threading.Thread:
    """Start the web server in a thread and wait until it listens."""
    thread = threading.Thread(target=server.run, name="web", daemon=True)
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
