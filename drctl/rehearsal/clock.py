"""Clocks for the rehearsal: the real monotonic clock and a manual one for deterministic tests.

The Route 53 stand-in and the probe read time only through a ``Clock`` so unit tests can run
minutes of simulated health checks without sleeping.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Seconds since an arbitrary origin, and a way to wait."""

    def now(self) -> float:
        """Current time in seconds."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a manual clock just advances)."""
        ...


class MonotonicClock:
    """Real time from ``time.monotonic``; sleeping can be cut short by ``wake``."""

    def __init__(self) -> None:
        self._wake = threading.Event()

    def now(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Sleep, returning early once ``wake`` was called."""
        if seconds > 0:
            self._wake.wait(seconds)

    def wake(self) -> None:
        """Cut every current and future sleep short (used on shutdown)."""
        self._wake.set()


class ManualClock:
    """A clock that only moves when told to: ``sleep`` and ``advance`` add to ``now``."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        """The current simulated time."""
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        """Advance simulated time instead of waiting."""
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move simulated time forward (never backward)."""
        with self._lock:
            self._now += max(0.0, seconds)
