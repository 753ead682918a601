"""The rollout decision: a pure function from canary and baseline windows to an action.

Each window is judged on its own (bad, good or unknown) and the decision needs ``windows``
consecutive verdicts of one kind at the end of the series: that is how a flapping canary
waits instead of being promoted or rolled back on one noisy window. Missing data (no
scrape, too few requests, a counter reset, no baseline) is ``unknown`` and never counts
towards promotion; when the watch runs out of time without a promotion, the canary is
rolled back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Action = Literal["promote", "rollback", "wait"]
Verdict = Literal["good", "bad", "unknown"]


@dataclass(frozen=True)
class Window:
    """One observation window of one version: request and failure counts, mean latency."""

    requests: int
    failures: int
    latency_ms: float | None

    @property
    def error_rate(self) -> float:
        """Failed share of the window's requests (0 without requests)."""
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Policy:
    """Thresholds from ``trt-dr:monitoring`` (p99 budget, error rate, latency ratio, windows)."""

    error_rate: float = 0.001
    latency_ms: float = 100.0
    latency_ratio: float = 1.2
    min_requests: int = 100
    windows: int = 3


@dataclass(frozen=True)
class Judged:
    """A window's verdict and the reason, kept as evidence."""

    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class Decision:
    """What to do and why: the action, a one-line reason and every window's verdict."""

    action: Action
    reason: str
    evidence: tuple[Judged, ...]


def judge(canary: Window | None, baseline: Window | None, policy: Policy) -> Judged:
    """Verdict of one window: bad beats unknown (a failing canary is acted on alone)."""
    if canary is None or canary.requests < policy.min_requests:
        got = canary.requests if canary else 0
        return Judged("unknown", f"canary has {got} requests (< {policy.min_requests})")
    bad = _bad(canary, baseline, policy)
    if bad:
        return Judged("bad", bad)
    if baseline is None or baseline.requests < policy.min_requests or baseline.latency_ms is None:
        return Judged("unknown", "no baseline to compare with")
    return Judged(
        "good",
        f"errors {canary.error_rate:.4%} vs {baseline.error_rate:.4%}, "
        f"latency {canary.latency_ms} vs {baseline.latency_ms:.2f} ms",
    )


def _bad(canary: Window, baseline: Window | None, policy: Policy) -> str | None:
    base_errors = baseline.error_rate if baseline and baseline.requests else 0.0
    if canary.error_rate > policy.error_rate and canary.error_rate > base_errors:
        return (
            f"error rate {canary.error_rate:.4%} > {policy.error_rate:.4%} "
            f"(baseline {base_errors:.4%})"
        )
    if canary.latency_ms is None:
        return None
    if canary.latency_ms > policy.latency_ms:
        return f"latency {canary.latency_ms:.2f} ms > {policy.latency_ms:g} ms"
    if (
        baseline
        and baseline.latency_ms
        and canary.latency_ms > baseline.latency_ms * policy.latency_ratio
    ):
        return (
            f"latency {canary.latency_ms:.2f} ms > {policy.latency_ratio:g} x baseline "
            f"{baseline.latency_ms:.2f} ms"
        )
    return None


def decide(
    canary: Sequence[Window | None],
    baseline: Sequence[Window | None],
    policy: Policy,
    final: bool = False,
) -> Decision:
    """promote / rollback / wait from aligned window series; ``final`` ends the watch."""
    if len(canary) != len(baseline):
        raise ValueError("canary and baseline series must have one entry per window")
    judged = tuple(judge(c, b, policy) for c, b in zip(canary, baseline, strict=True))
    tail = judged[-policy.windows :]
    if len(tail) == policy.windows and all(j.verdict == "bad" for j in tail):
        return Decision(
            "rollback", f"{policy.windows} bad windows in a row: {tail[-1].reason}", judged
        )
    if len(tail) == policy.windows and all(j.verdict == "good" for j in tail):
        return Decision("promote", f"{policy.windows} good windows in a row", judged)
    if final:
        return Decision(
            "rollback",
            f"watch ended without {policy.windows} good windows in a row "
            f"({', '.join(j.verdict for j in judged) or 'no data'})",
            judged,
        )
    return Decision("wait", f"need {policy.windows} consistent windows", judged)
