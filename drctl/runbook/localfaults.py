"""Faults ``drctl runbook test`` injects before running a runbook (its ``local_fault``).

Each one breaks the local environment the way the runbook's trigger describes, so the
runbook's recovery is exercised for real, and returns the params the fault determines.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from drctl.store.publish import publish
from drctl.store.replicator import replicate_all

if TYPE_CHECKING:
    from drctl.runbook.localenv import LocalEnvironment

Fault = Callable[["LocalEnvironment"], dict[str, str]]


def engine_corruption(env: LocalEnvironment) -> dict[str, str]:
    """Overwrite the primary's released engine with same-size wrong bytes (a new S3 version)."""
    tree = env.store("primary", "us-east-1")
    prefix = tree.key(f"repository/{env.builds.model}/1/")
    listed = tree.s3.list_objects_v2(Bucket=tree.bucket, Prefix=prefix)["Contents"]
    biggest = max(listed, key=lambda o: o["Size"])
    tree.s3.put_object(Bucket=tree.bucket, Key=biggest["Key"], Body=b"\0" * biggest["Size"])
    return {"region": "primary"}


def bad_version(env: LocalEnvironment) -> dict[str, str]:
    """Release a second build in the primary tree: version 2 is the 'regressed' one."""
    result = publish(env.store("primary", "us-east-1"), env.builds.fallback)
    return {
        "region": "primary",
        "good_version": str(result.previous_version),
        "bad_version": str(result.version),
    }


def replication_failure(env: LocalEnvironment) -> dict[str, str]:
    """Publish version 2 in the primary while every replication of it is marked FAILED."""
    env.stop_replication()
    publish(env.store("primary", "us-east-1"), env.builds.fallback)
    replicate_all([env.store("primary"), env.store("dr")], fail=lambda _key: True)
    env.start_replication()
    return {"region": "primary"}


def dr_no_gpu_capacity(env: LocalEnvironment) -> dict[str, str]:
    """No capacity error exists locally (moto's EKS node groups are ACTIVE at once).

    Nothing is broken; the fault only reports the DR version serving "the GPU engine" now
    (locally a CPU build too), which the runbook restores at the end.
    """
    release = env.store("dr", "us-west-2")
    body = release.s3.get_object(
        Bucket=release.bucket, Key=release.key(f"releases/{env.builds.model}.json")
    )
    return {"gpu_version": str(json.loads(body["Body"].read())["version"])}


FAULTS: dict[str, Fault] = {
    "dr-no-gpu-capacity": dr_no_gpu_capacity,
    "engine-corruption": engine_corruption,
    "bad-version": bad_version,
    "replication-failure": replication_failure,
}
