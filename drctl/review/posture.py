"""DR posture: RTO budget against the objective, RPO, DR GPU capacity and policy findings."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from drctl.review.errors import ReviewError
from drctl.review.rules import RtoBudget, Violation, check_all, primary_gpus, rto_budget
from drctl.review.stackfiles import context_for
from infra.config import Settings
from infra.offline import Evaluation

POLICY_CONFIG = Path(__file__).resolve().parent.parent.parent / "policy" / "config.json"


@dataclass(frozen=True)
class Capacity:
    """DR GPUs against the primary's: steady state (desired) and at the pool's max size."""

    primary_gpus: int
    primary_sku: str
    dr_desired_gpus: int
    dr_max_gpus: int
    dr_sku: str
    fraction: float

    @property
    def desired_ratio(self) -> float:
        """DR desired GPUs / primary GPUs."""
        return round(self.dr_desired_gpus / self.primary_gpus, 3) if self.primary_gpus else 0.0

    @property
    def max_ratio(self) -> float:
        """DR GPUs at max size / primary GPUs."""
        return round(self.dr_max_gpus / self.primary_gpus, 3) if self.primary_gpus else 0.0

    @property
    def ok(self) -> bool:
        """Whether the DR pool can reach the configured fraction."""
        return self.max_ratio >= self.fraction


@dataclass
class Posture:
    """Everything the posture section of a review shows."""

    tier: str
    rto: dict[str, RtoBudget]
    rpo_minutes: dict[str, int | None]
    capacity: Capacity | None
    findings: dict[str, list[Violation]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No RTO overrun, enough DR capacity and no policy violation."""
        rto_ok = all(b.ok for b in self.rto.values())
        cap_ok = self.capacity is None or self.capacity.ok
        return rto_ok and cap_ok and not any(self.findings.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "tier": self.tier,
            "ok": self.ok,
            "rto": {s: {**asdict(b), "total": b.total, "ok": b.ok} for s, b in self.rto.items()},
            "rpo_minutes": self.rpo_minutes,
            "capacity": None
            if self.capacity is None
            else {
                **asdict(self.capacity),
                "desired_ratio": self.capacity.desired_ratio,
                "max_ratio": self.capacity.max_ratio,
                "ok": self.capacity.ok,
            },
            "findings": {s: [asdict(v) for v in vs] for s, vs in self.findings.items()},
        }


def load_policy_config(path: Path | None = POLICY_CONFIG) -> dict[str, Any]:
    """The policy pack's configuration (the file `pulumi preview --policy-pack-config` reads)."""
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ReviewError(f"policy config {path} is not JSON: {error}") from None
    return dict(data)


def rpo_minutes(evaluation: Evaluation) -> int | None:
    """The RTC replication window of the stack's bucket (None: no RTC, so no RPO bound)."""
    windows = []
    for config in evaluation.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig"):
        for rule in config.inputs.get("rules") or []:
            time = (rule.get("destination") or {}).get("replicationTime") or {}
            if rule.get("status") == "Enabled" and time.get("status") == "Enabled":
                windows.append(int((time.get("time") or {}).get("minutes", 15)))
    return max(windows) if windows else None


def capacity(primary: Settings, dr: Settings, fraction: float) -> Capacity:
    """DR GPU capacity for the configured tier against the primary's steady state."""
    size = dr.gpu_nodes[dr.dr_tier]
    per_node = dr.gpu.gpus_per_node
    return Capacity(
        primary_gpus=primary_gpus(primary),
        primary_sku=primary.gpu.sku,
        dr_desired_gpus=size.desired * per_node,
        dr_max_gpus=size.max * per_node,
        dr_sku=dr.gpu.sku,
        fraction=fraction,
    )


def build_posture(
    evaluations: dict[str, Evaluation], settings: dict[str, Settings], config: dict[str, Any]
) -> Posture:
    """Posture of the evaluated stacks under their settings and the policy configuration."""
    rto, rpo, findings = {}, {}, {}
    for stack, evaluation in evaluations.items():
        ctx = context_for(stack, settings, config)
        if ctx.settings is not None:
            rto[stack] = rto_budget(ctx.settings, ctx)
        rpo[stack] = rpo_minutes(evaluation)
        findings[stack] = check_all(evaluation.resources, ctx)
    by_role = {s.role: s for name, s in settings.items() if name in evaluations}
    cap = None
    if "primary" in by_role and "dr" in by_role:
        fraction = context_for(by_role["dr"].stack, settings, config).capacity_fraction
        cap = capacity(by_role["primary"], by_role["dr"], fraction)
    tier = next(iter(by_role.values())).dr_tier if by_role else "unknown"
    return Posture(tier, rto, rpo, cap, findings)
