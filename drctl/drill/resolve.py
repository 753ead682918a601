"""Resolve the service name as clients do: ask a resolver, keep the answer for its TTL.

Two sources: ``StandInResolver`` asks the Route 53 stand-in (local rehearsal) and maps its
answer values (NLB names) to the loopback endpoint of the Triton playing that region;
``SystemResolver`` asks the operating system (``socket.getaddrinfo``) for a real-AWS drill.
``getaddrinfo`` does not expose the TTL, so the system path re-resolves every ``ttl_s``
seconds (set it to the record's TTL); OS-level caches may add to that, as for real clients.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from drctl.drill.errors import ResolveError
from drctl.rehearsal.clock import Clock, MonotonicClock
from drctl.rehearsal.route53_standin import Route53StandIn


@dataclass(frozen=True)
class Resolution:
    """Endpoints (``host:port``) a name resolved to, their TTL and who answered."""

    endpoints: tuple[str, ...]
    ttl_s: float
    source: str = ""


class Resolver(Protocol):
    """Anything that answers a name with endpoints and a TTL."""

    def lookup(self, name: str) -> Resolution:
        """A fresh answer (no caching)."""
        ...


class StandInResolver:
    """Answers from the Route 53 stand-in, values mapped to local endpoints."""

    def __init__(self, standin: Route53StandIn, targets: Mapping[str, str]) -> None:
        self.standin = standin
        self.targets = dict(targets)

    def lookup(self, name: str) -> Resolution:
        """The stand-in's current failover answer; unknown values are a ResolveError."""
        answer = self.standin.resolve(name)
        missing = [v for v in answer.values if v not in self.targets]
        if missing:
            raise ResolveError(f"{name} answered {missing}, which map to no local endpoint")
        endpoints = tuple(self.targets[v] for v in answer.values)
        return Resolution(endpoints, answer.ttl_s, f"{answer.role} {answer.set_identifier}")


class SystemResolver:
    """Real DNS through ``socket.getaddrinfo``; every address gets ``port``."""

    def __init__(self, port: int, ttl_s: float = 60.0) -> None:
        self.port = port
        self.ttl_s = ttl_s

    def lookup(self, name: str) -> Resolution:
        """Addresses in the order the OS returns them (clients use the first)."""
        try:
            infos = socket.getaddrinfo(name, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ResolveError(f"{name} does not resolve: {exc}") from exc
        hosts = dict.fromkeys(str(info[4][0]) for info in infos)
        endpoints = tuple(f"[{h}]:{self.port}" if ":" in h else f"{h}:{self.port}" for h in hosts)
        return Resolution(endpoints, self.ttl_s, "system")


@dataclass(frozen=True)
class DnsLog:
    """One fresh lookup a client made: when, what it got, for how long."""

    t: float
    name: str
    endpoints: tuple[str, ...]
    ttl_s: float
    source: str


@dataclass
class CachingResolver:
    """Keeps each answer for its TTL like a stub resolver, and logs every fresh lookup."""

    resolver: Resolver
    clock: Clock = field(default_factory=MonotonicClock)
    log: list[DnsLog] = field(default_factory=list)
    _cache: dict[str, tuple[float, Resolution]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def resolve(self, name: str) -> Resolution:
        """The cached answer while its TTL lasts, else a fresh lookup (logged)."""
        now = self.clock.now()
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and now < cached[0]:
                return cached[1]
        fresh = self.resolver.lookup(name)
        if not fresh.endpoints:
            raise ResolveError(f"{name} resolved to no endpoint")
        with self._lock:
            self._cache[name] = (now + fresh.ttl_s, fresh)
            self.log.append(DnsLog(now, name, fresh.endpoints, fresh.ttl_s, fresh.source))
        return fresh

    def flush(self) -> None:
        """Forget cached answers (a client restart)."""
        with self._lock:
            self._cache.clear()
