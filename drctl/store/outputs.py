"""Typed loader for the stacks' outputs (``pulumi stack output --json`` saved per stack).

drctl never talks to Pulumi: operators save each stack's outputs to ``<stack>.json`` and pass
them with ``--outputs`` or point ``TRT_DR_OUTPUTS`` at the directory holding them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from drctl.store.errors import OutputsError

OUTPUTS_ENV = "TRT_DR_OUTPUTS"


class StackOutputs(BaseModel):
    """One stack's exported outputs, by the names the infra program exports."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    stack: str = ""
    region: str
    role: Literal["primary", "dr"]
    peer_region: str = Field(alias="peerRegion")
    bucket_name: str = Field(alias="bucketName")
    bucket_arn: str = Field(alias="bucketArn")
    peer_bucket_name: str = Field(alias="peerBucketName")
    kms_key_arn: str = Field(alias="kmsKeyArn")
    cluster_name: str = Field(alias="clusterName")
    health_check_id: str = Field(alias="healthCheckId")
    service_hostname: str = Field(alias="serviceHostname")
    inference_endpoint: str | None = Field(default=None, alias="inferenceEndpoint")


def load_stack_outputs(path: Path) -> StackOutputs:
    """Read one saved ``pulumi stack output --json`` file; the stack name is the file stem."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise OutputsError(
            f"outputs file {path} does not exist; save it with "
            f"`pulumi stack output --json > {path.name}`"
        ) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise OutputsError(f"outputs file {path} is not readable JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise OutputsError(f"outputs file {path} must hold a JSON object")
    try:
        return StackOutputs.model_validate({**data, "stack": path.stem})
    except ValidationError as exc:
        fields = ", ".join(str(err["loc"][0]) for err in exc.errors())
        raise OutputsError(
            f"outputs file {path} lacks or has invalid: {fields}; "
            "re-export it from the stack after `pulumi up`"
        ) from exc


def load_outputs(
    paths: Sequence[Path] = (), env: dict[str, str] | None = None
) -> list[StackOutputs]:
    """All stacks' outputs, from explicit files or else every ``*.json`` in ``$TRT_DR_OUTPUTS``."""
    env = dict(os.environ) if env is None else env
    files = list(paths)
    if not files and env.get(OUTPUTS_ENV):
        folder = Path(env[OUTPUTS_ENV])
        if not folder.is_dir():
            raise OutputsError(f"{OUTPUTS_ENV}={folder} is not a directory")
        files = sorted(folder.glob("*.json"))
    if not files:
        raise OutputsError(
            f"no stack outputs given: pass --outputs primary.json --outputs dr.json "
            f"or set {OUTPUTS_ENV} to a directory of <stack>.json files"
        )
    stacks = [load_stack_outputs(p) for p in files]
    roles = [s.role for s in stacks]
    if len(set(roles)) != len(roles):
        raise OutputsError(f"two outputs files claim the same role: {roles}")
    return stacks


def by_role(stacks: Sequence[StackOutputs], role: str) -> StackOutputs:
    """The stack with ``role`` ("primary" or "dr"), or a clear error naming what was loaded."""
    for stack in stacks:
        if stack.role == role or stack.stack == role:
            return stack
    loaded = ", ".join(f"{s.stack} ({s.role})" for s in stacks)
    raise OutputsError(f"no stack outputs for '{role}'; loaded: {loaded or 'none'}")
