"""What the benchmarks share: the error that voids a run, the machine they ran on, progress on stderr."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata as importlib_metadata
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import __version__ as sqlalchemy_version


class BenchError(RuntimeError):
    """A check failed: the figures would be meaningless."""


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        prefect_version = importlib_metadata.version("prefect")
    except importlib_metadata.PackageNotFoundError:
        prefect_version = None
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy_version,
        "prefect": prefect_version,
    }


@contextmanager
def phase(what: str) -> Iterator[None]:
    """Show progress on stderr, with the time the phase took."""
    print(f"... {what}", file=sys.stderr, flush=True)
    start = perf_counter()
    yield
    print(f"    done in {perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
