"""Offline plan: what each stack would create, per region and component, without a cloud account.

It runs the real Pulumi program under the SDK's mocks (infra.offline), so the plan is exactly
what ``pulumi up`` would register; cloud-assigned values (ARNs, ids) are placeholders.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from infra.offline import PROJECT_DIR, Evaluation, evaluate

STACKS = ("primary", "dr")


@dataclass
class StackPlan:
    """One stack's planned resources, grouped by the component that owns them."""

    stack: str
    region: str
    role: str
    components: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    outputs: dict[str, object] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)
    ops: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Number of resources (components themselves not counted)."""
        return sum(len(items) for items in self.components.values())

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "stack": self.stack,
            "region": self.region,
            "role": self.role,
            "total": self.total,
            "components": {
                k: [{"type": t, "name": n} for t, n in v] for k, v in self.components.items()
            },
            "outputs": self.outputs,
            **({"changes": self.changes, "ops": self.ops} if self.changes else {}),
        }


def plan_stack(stack: str, project_dir: Path = PROJECT_DIR) -> StackPlan:
    """Evaluate one stack offline and group what it registers by top-level component."""
    evaluation = evaluate(stack, project_dir=project_dir)
    return group(evaluation)


def group(evaluation: Evaluation) -> StackPlan:
    """Group an evaluation's resources under their top-level component's logical name."""
    components: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for resource in evaluation.resources:
        if resource.type.startswith("trt-dr:"):
            continue
        components[evaluation.component_name(resource)].append((resource.type, resource.name))
    outputs = evaluation.outputs
    return StackPlan(
        stack=evaluation.stack,
        region=str(outputs.get("region")),
        role=str(outputs.get("role")),
        components=dict(components),
        outputs=dict(outputs),
    )


def plan_all(stacks: tuple[str, ...] = STACKS, project_dir: Path = PROJECT_DIR) -> list[StackPlan]:
    """Plans of every stack of the project, primary first."""
    return [plan_stack(stack, project_dir) for stack in stacks]


def plan_preview(path: Path, stack: str | None = None) -> StackPlan:
    """A stack's plan read from ``pulumi preview --json``: resources and their operations.

    Deleted resources stay listed under their component so the plan shows what goes away.
    """
    from drctl.review.preview import load_preview

    preview = load_preview(path, stack)
    after_urns = {r.urn for r in preview.after.resources}
    gone = [r for r in preview.before.resources if r.urn not in after_urns]
    merged = Evaluation(
        stack=preview.stack,
        resources=[*preview.after.resources, *gone],
        outputs=preview.after.outputs or preview.before.outputs,
        providers={**preview.before.providers, **preview.after.providers},
    )
    plan = group(merged)
    plan.changes = preview.counts()
    plan.ops = {step.name: step.op for step in preview.steps if step.op != "same"}
    return plan
