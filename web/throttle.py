"""Failed sign-ins counted per address: guessing from one place slows down without locking anyone out."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

FAILURES_PER_ADDRESS = 10  # within WINDOW; the per-user lock (5 failures, 15 min) stays as well
WINDOW = timedelta(minutes=15)


class AddressThrottle:
    """A sliding window of failed sign-ins per client address, in this process's memory."""

    def __init__(self, limit: int = FAILURES_PER_ADDRESS, window: timedelta = WINDOW) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: datetime) -> deque[datetime]:
        failures = self._failures.setdefault(address, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked(self, address: str, now: datetime) -> bool:
        """Tell whether an address has failed too often lately to try again now."""
        with self._lock:
            return len(self._recent(address, now)) >= self.limit

    def failed(self, address: str, now: datetime) -> None:
        """Count one failed sign-in from an address."""
        with self._lock:
            self._recent(address, now).append(now)
            if len(self._failures) > 100_000:  # bounded memory under a spray from many addresses
                self._failures = {a: f for a, f in self._failures.items() if f and f[-1] > now - self.window}

    def retry_after(self, address: str, now: datetime) -> int:
        """Return the seconds until the address may try again."""
        with self._lock:
            failures = self._recent(address, now)
            return max(1, int((failures[0] + self.window - now).total_seconds())) if failures else 0
