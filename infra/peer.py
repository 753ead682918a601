"""The peer stack: what this stack reads from it, checked before anything depends on it.

Bootstrap order of a first deployment (docs/architecture.md): primary with
``trt-dr:peerDeployed false`` (no replication yet), then dr (reads the primary's multi-Region
key), then primary again with ``peerDeployed true`` (adds primary -> dr replication).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from infra.config import NAMESPACE, ConfigError, Settings
from infra.naming import bucket_name


class PeerNotReady(Exception):
    """The peer stack has not been deployed yet, or does not export what this stack needs."""


@dataclass(frozen=True)
class PeerOutputs:
    """Peer stack outputs this stack consumes, each already checked."""

    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]


def peer_reference_name(settings: Settings) -> str:
    """Fully qualified stack name: ``peerStack`` as given if qualified, else org/project/peer."""
    if "/" in settings.peer_stack:
        return settings.peer_stack
    return f"{pulumi.get_organization()}/{settings.project}/{settings.peer_stack}"


def read_peer(settings: Settings, account_id: pulumi.Output[str]) -> PeerOutputs | None:
    """Read and check the peer stack's outputs; None while the peer is not deployed yet."""
    if not settings.peer_deployed:
        if settings.role == "dr":
            raise ConfigError(
                f"{NAMESPACE}:peerDeployed is false, but the dr stack needs the primary stack "
                "(its multi-Region KMS key): deploy primary first, then "
                f"`pulumi config set {NAMESPACE}:peerDeployed true -s {settings.stack}`"
            )
        return None
    ref = pulumi.StackReference(f"{settings.stack}-peer", stack_name=peer_reference_name(settings))
    names = ("role", "region", "bucketName", "bucketArn", "kmsKeyArn")
    checked = pulumi.Output.all(account_id, *[ref.get_output(n) for n in names]).apply(
        lambda values: check_peer_outputs(
            settings, values[0], dict(zip(names, values[1:], strict=True))
        )
    )
    return PeerOutputs(
        bucket_arn=checked.apply(lambda v: v["bucketArn"]),
        kms_key_arn=checked.apply(lambda v: v["kmsKeyArn"]),
    )


def check_peer_outputs(
    settings: Settings, account_id: str, outputs: dict[str, Any]
) -> dict[str, Any]:
    """Fail with the next step to take when the peer is absent or is not the expected peer."""
    missing = [name for name, value in outputs.items() if not value]
    if missing:
        first = (
            f", or for the very first deployment `pulumi config set {NAMESPACE}:peerDeployed "
            f"false -s {settings.stack}` (docs/architecture.md, bootstrap order)"
            if settings.role == "primary"
            else ""
        )
        raise PeerNotReady(
            f"peer stack {peer_reference_name(settings)!r} has no outputs {missing}: deploy it "
            f"first (`pulumi up -s {settings.peer_stack}`){first}"
        )
    expected = {
        "role": settings.peer_role,
        "region": settings.peer_region,
        "bucketName": bucket_name(settings.name_prefix, account_id, settings.peer_region),
    }
    for name, value in expected.items():
        if outputs[name] != value:
            raise PeerNotReady(
                f"peer stack {peer_reference_name(settings)!r} exports {name}={outputs[name]!r}, "
                f"expected {value!r}: check {NAMESPACE}:peerStack, peerRegion and namePrefix"
            )
    return outputs
