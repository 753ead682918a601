"""Read a ``pulumi preview --json`` file into what the review needs: steps, before and after.

Shape read (other fields ignored, missing ones tolerated)::

    {"steps": [{"op": "create|update|replace|create-replacement|delete-replaced|delete|same",
                "urn": "...",
                "newState": {"type", "custom", "inputs", "parent", "provider", "dependencies"},
                "oldState": {... same fields ...}}],
     "changeSummary": {"create": 3, ...}}

``before`` holds every resource with an ``oldState``, ``after`` every resource with a
``newState`` that is not deleted, both as :class:`infra.offline.Evaluation` so cost and policy
rules apply unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drctl.review.errors import PreviewFileError
from infra.offline import Evaluation, Registered

REPLACE_OPS = ("replace", "create-replacement", "delete-replaced")
DELETE_OPS = ("delete", "discard", "delete-replaced")


@dataclass(frozen=True)
class Step:
    """One planned change: normalized op, urn, type and name."""

    op: str
    urn: str
    type: str
    name: str


@dataclass
class Preview:
    """A parsed preview: its steps and the stack before and after it."""

    stack: str
    steps: list[Step]
    before: Evaluation
    after: Evaluation

    def counts(self) -> dict[str, int]:
        """Number of resources per op (create, update, replace, delete, same)."""
        result: dict[str, int] = {}
        for step in self.steps:
            result[step.op] = result.get(step.op, 0) + 1
        return result


def urn_parts(urn: str) -> tuple[str, str, str]:
    """(stack, type, name) of a URN ``urn:pulumi:<stack>::<project>::<types>::<name>``."""
    parts = urn.split("::")
    if len(parts) < 4 or not parts[0].startswith("urn:pulumi:"):
        return "", "", urn
    return parts[0].removeprefix("urn:pulumi:"), parts[2].split("$")[-1], parts[3]


def _registered(urn: str, state: dict[str, Any]) -> Registered:
    _, type_, name = urn_parts(urn)
    return Registered(
        urn=urn,
        type=str(state.get("type") or type_),
        name=name,
        custom=bool(state.get("custom", True)),
        inputs=dict(state.get("inputs") or {}),
        provider=state.get("provider") or None,
        parent=state.get("parent") or None,
        dependencies=list(state.get("dependencies") or []),
    )


def _evaluation(stack: str, resources: list[Registered]) -> Evaluation:
    providers = {
        r.urn: str(r.inputs["region"])
        for r in resources
        if r.type == "pulumi:providers:aws" and r.inputs.get("region")
    }
    region = next(iter(providers.values()), "")
    for r in resources:  # Kubernetes providers: their cluster sits in the stack's AWS region
        if r.type.startswith("pulumi:providers:") and r.urn not in providers and region:
            providers[r.urn] = region
    outputs = {"region": region} if region else {}
    return Evaluation(stack=stack, resources=resources, outputs=outputs, providers=providers)


def _op(raw: str) -> str:
    if raw in REPLACE_OPS:
        return "replace"
    return "delete" if raw in DELETE_OPS else raw


def load_preview(path: Path, stack: str | None = None) -> Preview:
    """Parse a preview file; ``stack`` defaults to the stack named in the URNs."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise PreviewFileError(f"preview file {path} does not exist") from None
    except json.JSONDecodeError as error:
        raise PreviewFileError(
            f"{path} is not JSON ({error}); use `pulumi preview --json`"
        ) from None
    raw_steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(raw_steps, list) or not raw_steps:
        raise PreviewFileError(f"{path} has no `steps`; produce it with `pulumi preview --json`")
    return _from_steps(raw_steps, stack)


def _from_steps(raw_steps: list[dict[str, Any]], stack: str | None) -> Preview:
    ops: dict[str, str] = {}
    before: dict[str, Registered] = {}
    after: dict[str, Registered] = {}
    for raw in raw_steps:
        urn = str(
            raw.get("urn") or (raw.get("newState") or raw.get("oldState") or {}).get("urn", "")
        )
        if not urn:
            continue
        op = _op(str(raw.get("op", "same")))
        ops[urn] = "replace" if ops.get(urn) == "replace" else op
        if raw.get("oldState"):
            before[urn] = _registered(urn, raw["oldState"])
        new = raw.get("newState")
        if op == "same" and urn in before and not (new or {}).get("inputs"):
            after[urn] = before[urn]  # unchanged: the old state is the whole truth
        elif new and op != "delete":
            after[urn] = _registered(urn, new)
    name = stack or next((urn_parts(u)[0] for u in ops if urn_parts(u)[0]), "unknown")
    steps = [Step(op, urn, *urn_parts(urn)[1:]) for urn, op in ops.items()]
    kept = [r for r in after.values() if not r.type.startswith("pulumi:pulumi:Stack")]
    old = [r for r in before.values() if not r.type.startswith("pulumi:pulumi:Stack")]
    return Preview(name, steps, _evaluation(name, old), _evaluation(name, kept))
