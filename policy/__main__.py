"""trt-dr policy pack: a thin wrapper of the plain rules in ``drctl/review/rules.py``.

Run from the project directory:
``pulumi preview --policy-pack policy --policy-pack-config policy/config.json``.
Each rule becomes one stack validation policy. Facts the resources do not carry (RTO objective,
DR tier, GPUs per node, the peer stack's size) are read from the project's stack files; the
current stack is the one whose region matches the stack's AWS provider.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(os.environ.get("TRT_DR_PROJECT_DIR", Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(PROJECT_DIR))

from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    StackValidationPolicy,
)

from drctl.review.rules import POLICIES, Policy  # noqa: E402
from drctl.review.stackfiles import context_for, stack_of_region, stack_settings  # noqa: E402

SCHEMAS = {
    "dr-capacity-fraction": PolicyConfigSchema(
        properties={"fraction": {"type": "number", "minimum": 0, "default": 0.25}}
    ),
    "health-check-within-rto": PolicyConfigSchema(
        properties={
            "clientCacheSeconds": {"type": "integer", "minimum": 0, "default": 0},
            "warmup": {"type": "object"},
        }
    ),
}


@dataclass(frozen=True)
class PackResource:
    """A policy-pack resource in the shape the rules read (``props`` are the inputs)."""

    type: str
    name: str
    urn: str
    inputs: Any


def adapt(resource: Any) -> PackResource:
    """Wrap a ``pulumi_policy`` resource; unknown preview values still raise when read."""
    return PackResource(resource.resource_type, resource.name, resource.urn, resource.props)


def validator(name: str, rule: Policy) -> Any:
    """The stack validation callback of one rule."""

    def validate(args: Any, report_violation: Any) -> None:
        resources = [adapt(r) for r in args.resources]
        settings = stack_settings(PROJECT_DIR)
        stack = stack_of_region(resources, settings)
        if stack is None:
            report_violation(f"no Pulumi.<stack>.yaml in {PROJECT_DIR} matches this stack's region")
            return
        ctx = context_for(stack, settings, {name: dict(args.get_config() or {})})
        for violation in rule(resources, ctx):
            report_violation(violation.message, violation.urn or None)

    return validate


PolicyPack(
    name="trt-dr-policies",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        StackValidationPolicy(
            name=name,
            description=(rule.__doc__ or name).strip().splitlines()[0],
            validate=validator(name, rule),
            config_schema=SCHEMAS.get(name),
        )
        for name, rule in POLICIES.items()
    ],
)
