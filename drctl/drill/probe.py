"""The probe: steady inference traffic through the service name, every request logged.

It behaves like a simple real client: it resolves the name through a ``CachingResolver``
(the TTL is honoured), sends to the first endpoint of the answer, keeps one HTTP connection
per endpoint and drops it after an error. Requests go out at ``rate_hz`` on a fixed schedule
(a slow request delays the next, never piles up), bounded by ``max_requests`` and by time.
The log is the raw material of the drill report: which region served each request, when,
how fast, and which requests failed.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import tritonclient.http as httpclient

from drctl.drill.errors import RemoteTargetRefused
from drctl.drill.resolve import CachingResolver, DnsLog
from drctl.drill.triton_call import call, ensure_loopback, make_client
from drctl.rehearsal.clock import Clock, MonotonicClock

Inputs = Callable[[], Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class RequestLog:
    """One probe request: send time, endpoint, serving region, latency, outcome."""

    t: float
    endpoint: str
    region: str
    latency_ms: float
    ok: bool
    error: str = ""


@dataclass
class ProbeLog:
    """Everything one probe run saw; safe to read while the probe runs in another thread."""

    requests: list[RequestLog] = field(default_factory=list)
    dns: list[DnsLog] = field(default_factory=list)

    def served_by(self) -> Counter[str]:
        """Successful requests per region."""
        return Counter(r.region for r in self.requests if r.ok)

    def failed(self) -> int:
        """How many requests failed."""
        return sum(not r.ok for r in self.requests)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the JSON report."""
        return {
            "requests": [asdict(r) for r in self.requests],
            "dns": [asdict(d) for d in self.dns],
        }


class Probe:
    """Sends inference requests to ``name`` at a steady rate and logs each one."""

    def __init__(
        self,
        name: str,
        resolver: CachingResolver,
        model: str,
        inputs: Inputs,
        *,
        rate_hz: float = 10.0,
        timeout_s: float = 2.0,
        regions: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        allow_remote: bool = False,
    ) -> None:
        self.name = name
        self.resolver = resolver
        self.model = model
        self.inputs = inputs
        self.interval = 1.0 / rate_hz
        self.timeout_s = timeout_s
        self.regions = dict(regions or {})
        self.clock = clock or MonotonicClock()
        self.allow_remote = allow_remote
        self.log = ProbeLog(dns=resolver.log)
        self._clients: dict[str, httpclient.InferenceServerClient] = {}

    def run(
        self, duration_s: float, max_requests: int, stop: threading.Event | None = None
    ) -> ProbeLog:
        """Probe until ``duration_s`` passes, ``max_requests`` were sent or ``stop`` is set."""
        start = self.clock.now()
        try:
            for i in range(max_requests):
                due = start + i * self.interval
                if due - start >= duration_s or (stop is not None and stop.is_set()):
                    break
                self.clock.sleep(due - self.clock.now())
                self.log.requests.append(self.once())
        finally:
            self.close()
        return self.log

    def once(self) -> RequestLog:
        """Resolve (cached per TTL), send one request, return its log entry."""
        sent = self.clock.now()
        endpoint = ""
        try:
            endpoint = ensure_loopback(
                self.resolver.resolve(self.name).endpoints[0], self.allow_remote
            )
            answer = call(self._client(endpoint), self.model, self.inputs())
        except RemoteTargetRefused:
            raise
        except Exception as exc:
            self._drop(endpoint)
            return RequestLog(
                sent, endpoint, self.regions.get(endpoint, ""), self._ms(sent), False, _why(exc)
            )
        region = answer.region or self.regions.get(endpoint, "")
        return RequestLog(sent, endpoint, region, self._ms(sent), True)

    def _ms(self, sent: float) -> float:
        return (self.clock.now() - sent) * 1000.0

    def _client(self, endpoint: str) -> httpclient.InferenceServerClient:
        if endpoint not in self._clients:
            self._clients[endpoint] = make_client(endpoint, self.timeout_s)
        return self._clients[endpoint]

    def _drop(self, endpoint: str) -> None:
        client = self._clients.pop(endpoint, None)
        if client is not None:
            client.close()

    def close(self) -> None:
        """Close every connection the probe holds."""
        for endpoint in list(self._clients):
            self._drop(endpoint)


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:200]
