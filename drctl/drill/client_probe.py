"""A probe that sends through the failover-aware client, to compare it with plain DNS clients.

Same schedule and log format as drctl.drill.probe.Probe, so a drill can report failed
requests and latency of both kinds of client side by side.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

import numpy as np

from drctl.drill.client import FailoverClient
from drctl.drill.probe import ProbeLog, RequestLog


class ClientProbe:
    """Calls ``FailoverClient.infer`` at a steady rate and logs each call."""

    def __init__(
        self,
        client: FailoverClient,
        model: str,
        inputs: Callable[[], Mapping[str, np.ndarray]],
        rate_hz: float = 10.0,
    ) -> None:
        self.client = client
        self.model = model
        self.inputs = inputs
        self.interval = 1.0 / rate_hz
        self.log = ProbeLog()

    def once(self) -> RequestLog:
        """One request through the client."""
        sent = time.monotonic()
        try:
            result = self.client.infer(self.model, self.inputs())
        except Exception as error:
            elapsed = (time.monotonic() - sent) * 1000.0
            return RequestLog(sent, "", "", elapsed, False, f"{type(error).__name__}: {error}")
        elapsed = (time.monotonic() - sent) * 1000.0
        return RequestLog(sent, result.endpoint, result.region, elapsed, True)

    def run(
        self, duration_s: float, max_requests: int, stop: threading.Event | None = None
    ) -> ProbeLog:
        """Send until ``duration_s`` passes, ``max_requests`` were sent or ``stop`` is set."""
        start = time.monotonic()
        for index in range(max_requests):
            due = start + index * self.interval
            if due - start >= duration_s or (stop is not None and stop.is_set()):
                break
            time.sleep(max(0.0, due - time.monotonic()))
            self.log.requests.append(self.once())
        return self.log
