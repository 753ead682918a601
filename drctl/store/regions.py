"""From stack outputs to the stores drctl works on: each region's tree and its replica.

The stacks replicate whole buckets both ways and give each region its own tree ``<region>/``
(its Triton serves ``s3://<bucket>/<region>/repository``; docs/serving.md). So region R's
tree lives in R's bucket (the source) and, by replication, in the peer's bucket (the replica).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drctl.store.errors import OutputsError
from drctl.store.outputs import StackOutputs
from drctl.store.s3ops import RegionStore, s3_client


@dataclass(frozen=True)
class RegionTrees:
    """One region: its outputs, its own tree and that tree's replica in the peer bucket."""

    stack: StackOutputs
    own: RegionStore
    replica: RegionStore


def tree_root(stack: StackOutputs) -> str:
    """The key prefix of a region's tree in both buckets: the region's name."""
    return stack.region


def _peer_name(stack: StackOutputs, stacks: Sequence[StackOutputs]) -> str:
    """The role of the peer stack (its name in reports), or "peer" if it was not loaded."""
    return next((s.role for s in stacks if s.region == stack.peer_region), "peer")


def region_trees(stacks: Sequence[StackOutputs], root: str | None = None) -> list[RegionTrees]:
    """Every loaded region's trees, primary first; ``root`` overrides the tree prefix."""
    out = []
    for stack in sorted(stacks, key=lambda s: s.role != "primary"):
        prefix = tree_root(stack) if root is None else root
        own = RegionStore(
            stack.role, stack.region, stack.bucket_name, s3_client(stack.region), prefix
        )
        replica = RegionStore(
            _peer_name(stack, stacks),
            stack.peer_region,
            stack.peer_bucket_name,
            s3_client(stack.peer_region),
            prefix,
        )
        out.append(RegionTrees(stack, own, replica))
    return out


def pick(trees: Sequence[RegionTrees], role: str) -> RegionTrees:
    """The region with ``role`` (or stack name)."""
    for tree in trees:
        if role in (tree.stack.role, tree.stack.stack):
            return tree
    loaded = ", ".join(t.stack.role for t in trees)
    raise OutputsError(
        f"no stack outputs for region {role!r} (loaded: {loaded}); pass its --outputs file"
    )


def bucket_stores(stacks: Sequence[StackOutputs]) -> list[RegionStore]:
    """Whole buckets (no tree prefix), for the replication stand-in."""
    return [RegionStore(s.role, s.region, s.bucket_name, s3_client(s.region)) for s in stacks]
