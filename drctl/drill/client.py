"""A failover-aware Triton client for applications, built on tritonclient.http.

It knows both regional endpoints. Each request goes to the region the service name points at
(resolved through a ``CachingResolver``, TTL honoured; without a resolver, the first region);
a failed request is retried once on the peer region; with ``hedge_after_s`` set, a request
still unanswered after that delay is also sent to the peer and the first good answer wins.
Inference requests are assumed idempotent (the same input twice does no harm). Thread-safe:
each thread keeps its own HTTP connections.

    resolver = CachingResolver(SystemResolver(8000, ttl_s=60))
    client = FailoverClient({"us-east-1": "nlb-use1:8000", "us-west-2": "nlb-usw2:8000"},
                            name="infer.example.com", resolver=resolver, allow_remote=True)
    result = client.infer("resnet", {"input": batch})
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from types import TracebackType

import numpy as np
import tritonclient.http as httpclient

from drctl.drill.errors import AllRegionsFailed, ClientConfigError, ResolveError
from drctl.drill.resolve import CachingResolver
from drctl.drill.triton_call import Answer, call, ensure_loopback, make_client


@dataclass(frozen=True)
class FailoverResult:
    """The answer, who served it, and how much failover it took."""

    outputs: dict[str, np.ndarray]
    region: str
    endpoint: str
    attempts: int
    hedged: bool
    latency_ms: float


class FailoverClient:
    """Two regional endpoints behind one ``infer`` call: DNS-preferred, retry once, hedge."""

    def __init__(
        self,
        regions: Mapping[str, str],
        *,
        name: str | None = None,
        resolver: CachingResolver | None = None,
        hedge_after_s: float | None = None,
        timeout_s: float = 5.0,
        allow_remote: bool = False,
    ) -> None:
        if len(regions) != 2 or len(set(regions.values())) != 2:
            raise ClientConfigError("give exactly two regions with distinct endpoints")
        if (name is None) != (resolver is None):
            raise ClientConfigError("give both the service name and a resolver, or neither")
        self.regions = {r: ensure_loopback(e, allow_remote) for r, e in regions.items()}
        self.name = name
        self.resolver = resolver
        self.hedge_after_s = hedge_after_s
        self.timeout_s = timeout_s
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[httpclient.InferenceServerClient] = []
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="failover")

    def preferred(self) -> str:
        """The region DNS points at now (the first region without a resolver, on no match or
        when the name does not resolve: DNS trouble must not stop requests)."""
        first = next(iter(self.regions))
        if self.resolver is None or self.name is None:
            return first
        try:
            endpoints = self.resolver.resolve(self.name).endpoints
        except ResolveError:
            return first
        by_endpoint = {e: r for r, e in self.regions.items()}
        return next((by_endpoint[e] for e in endpoints if e in by_endpoint), first)

    def peer(self, region: str) -> str:
        """The other region."""
        return next(r for r in self.regions if r != region)

    def infer(self, model: str, inputs: Mapping[str, np.ndarray]) -> FailoverResult:
        """One request with failover; AllRegionsFailed when both regions failed it."""
        started = time.monotonic()
        first = self.preferred()
        if self.hedge_after_s is None:
            return self._sequential(model, inputs, first, started)
        return self._hedged(model, inputs, first, started)

    def _sequential(
        self, model: str, inputs: Mapping[str, np.ndarray], first: str, started: float
    ) -> FailoverResult:
        errors: list[str] = []
        for attempt, region in enumerate((first, self.peer(first)), start=1):
            try:
                answer = self._send(region, model, inputs)
            except Exception as exc:
                errors.append(f"{region}: {type(exc).__name__}: {exc}")
                continue
            return self._result(answer, region, attempt, False, started)
        raise AllRegionsFailed("; ".join(errors))

    def _hedged(
        self, model: str, inputs: Mapping[str, np.ndarray], first: str, started: float
    ) -> FailoverResult:
        peer = self.peer(first)
        pending: dict[Future[Answer], str] = {
            self._pool.submit(self._send, first, model, inputs): first
        }
        done, _ = wait(pending, timeout=self.hedge_after_s)
        hedged = not done
        if hedged or next(iter(done)).exception() is not None:
            pending[self._pool.submit(self._send, peer, model, inputs)] = peer
        sent = len(pending)
        errors: list[str] = []
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                region = pending.pop(future)
                if future.exception() is None:
                    return self._result(future.result(), region, sent, hedged, started)
                errors.append(f"{region}: {future.exception()}")
        raise AllRegionsFailed("; ".join(errors))

    def _send(self, region: str, model: str, inputs: Mapping[str, np.ndarray]) -> Answer:
        endpoint = self.regions[region]
        clients: dict[str, httpclient.InferenceServerClient] | None = getattr(
            self._local, "clients", None
        )
        if clients is None:
            clients = self._local.clients = {}
        if endpoint not in clients:
            clients[endpoint] = make_client(endpoint, self.timeout_s)
            with self._lock:
                self._open.append(clients[endpoint])
        try:
            return call(clients[endpoint], model, inputs)
        except Exception:
            clients.pop(endpoint).close()
            raise

    def _result(
        self, answer: Answer, region: str, attempts: int, hedged: bool, started: float
    ) -> FailoverResult:
        return FailoverResult(
            outputs=answer.outputs,
            region=answer.region or region,
            endpoint=self.regions[region],
            attempts=attempts,
            hedged=hedged,
            latency_ms=(time.monotonic() - started) * 1000.0,
        )

    def close(self) -> None:
        """Stop the hedging threads and close every connection (in-flight ones time out)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            opened, self._open = self._open, []
        for client in opened:
            client.close()

    def __enter__(self) -> FailoverClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
