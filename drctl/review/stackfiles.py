"""Stack facts for the rules: validated settings from the stack files and the rule context.

The policy pack cannot ask Pulumi for the stack's configuration, so both the pack and drctl
read ``Pulumi.<stack>.yaml`` through ``infra.config.parse_settings`` (no Pulumi import).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from drctl.review.rules import (
    DEFAULT_CAPACITY_FRACTION,
    DEFAULT_WARMUP,
    Resource,
    RuleContext,
    Warmup,
)
from infra.config import NAMESPACE, Settings, parse_settings


def stack_settings(project_dir: Path) -> dict[str, Settings]:
    """Validated settings of every ``Pulumi.<stack>.yaml``, primary first (ConfigError if bad)."""
    result = {}
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        stack = path.name.split(".")[1]
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        prefix = f"{NAMESPACE}:"
        raw = {k.removeprefix(prefix): v for k, v in config.items() if k.startswith(prefix)}
        result[stack] = parse_settings(raw, stack, "trt-dr")
    return dict(sorted(result.items(), key=lambda item: item[1].role != "primary"))


def context_for(
    stack: str, settings: Mapping[str, Settings], config: Mapping[str, Any] | None = None
) -> RuleContext:
    """The rule context of ``stack``: its settings, its peer's, and the policy configuration."""
    own = settings.get(stack)
    peer = settings.get(own.peer_stack) if own else None
    cfg = config or {}
    rto = cfg.get("health-check-within-rto") or {}
    warm = {
        tier: Warmup(int(v["node"]), int(v["pod"])) for tier, v in (rto.get("warmup") or {}).items()
    }
    fraction = (cfg.get("dr-capacity-fraction") or {}).get("fraction", DEFAULT_CAPACITY_FRACTION)
    return RuleContext(
        settings=own,
        peer=peer,
        warmup={**DEFAULT_WARMUP, **warm},
        capacity_fraction=float(fraction),
        client_cache_seconds=int(rto.get("clientCacheSeconds", 0)),
    )


def stack_of_region(resources: Sequence[Resource], settings: Mapping[str, Settings]) -> str | None:
    """The stack whose region is the region of the resources' AWS provider (policy pack use)."""
    regions = {str(r.inputs.get("region")) for r in resources if r.type == "pulumi:providers:aws"}
    return next((name for name, s in settings.items() if s.region in regions), None)
