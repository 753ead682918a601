"""Each DR policy passes on the real stacks and fails on a precise mutation of them."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from drctl.review.rules import (
    DEFAULT_WARMUP,
    POLICIES,
    RuleContext,
    check_all,
    image_release,
)
from drctl.review.stackfiles import context_for, stack_of_region
from infra.config import Settings
from infra.offline import Evaluation, Registered


def edit(
    resources: list[Registered], name: str, change: Callable[[dict], Any], type_: str = ""
) -> list[Registered]:
    """A deep copy with ``change`` applied to the inputs of resource ``name`` (of ``type_``)."""
    out = copy.deepcopy(resources)
    (target,) = [r for r in out if r.name == name and r.type.endswith(type_)]
    change(target.inputs)
    return out


def without(
    resources: list[Registered], predicate: Callable[[Registered], bool]
) -> list[Registered]:
    return [r for r in copy.deepcopy(resources) if not predicate(r)]


def violations(policy: str, resources: list[Registered], ctx: RuleContext) -> list[str]:
    return [v.message for v in POLICIES[policy](resources, ctx)]


@pytest.fixture(scope="module")
def dr(evaluations: dict[str, Evaluation]) -> list[Registered]:
    return evaluations["dr"].resources


@pytest.fixture(scope="module")
def ctx(settings: dict[str, Settings]) -> RuleContext:
    return context_for("dr", settings)


def test_real_stacks_pass_every_policy(
    evaluations: dict[str, Evaluation], settings: dict[str, Settings]
) -> None:
    for stack, evaluation in evaluations.items():
        assert check_all(evaluation.resources, context_for(stack, settings)) == []
        assert stack_of_region(evaluation.resources, settings) == stack


def test_bucket_versioned(dr: list[Registered], ctx: RuleContext) -> None:
    def suspend(i: dict) -> None:
        i["versioningConfiguration"]["status"] = "Suspended"

    bad = edit(dr, "dr-us-west-2-store-versioning", suspend)
    assert violations("bucket-versioned", bad, ctx) == ["bucket versioning is not Enabled"]


def test_bucket_encrypted_kms(dr: list[Registered], ctx: RuleContext) -> None:
    def aes(i: dict) -> None:
        i["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "AES256"}

    bad = edit(dr, "dr-us-west-2-store-sse", aes)
    assert "not SSE-KMS" in violations("bucket-encrypted-kms", bad, ctx)[0]
    gone = without(dr, lambda r: r.name == "dr-us-west-2-store-sse")
    assert violations("bucket-encrypted-kms", gone, ctx)


def test_bucket_replicated_with_rtc(dr: list[Registered], ctx: RuleContext) -> None:
    def no_rtc(i: dict) -> None:
        i["rules"][0]["destination"]["replicationTime"]["status"] = "Disabled"

    bad = edit(dr, "dr-us-west-2-store-replication", no_rtc, "BucketReplicationConfig")
    assert "Replication Time Control" in violations("bucket-replicated-rtc", bad, ctx)[0]
    gone = without(dr, lambda r: r.type.endswith("BucketReplicationConfig"))
    assert violations("bucket-replicated-rtc", gone, ctx) == ["bucket is not replicated"]


def test_no_public_buckets(dr: list[Registered], ctx: RuleContext) -> None:
    def open_block(i: dict) -> None:
        i["blockPublicPolicy"] = False

    def allow_all(i: dict) -> None:
        stmt = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
        i["policy"] = json.dumps({"Statement": [stmt]})

    assert violations(
        "no-public-buckets", edit(dr, "dr-us-west-2-store-public-access", open_block), ctx
    )
    assert (
        "Principal *"
        in violations("no-public-buckets", edit(dr, "dr-us-west-2-store-tls-only", allow_all), ctx)[
            0
        ]
    )
    acl = edit(dr, "dr-us-west-2-store-bucket", lambda i: i.update(acl="public-read"))
    assert violations("no-public-buckets", acl, ctx) == ["bucket has a public canned ACL"]


def test_failover_records_health_checked(dr: list[Registered], ctx: RuleContext) -> None:
    bad = edit(dr, "dr-us-west-2-failover-record", lambda i: i.pop("healthCheckId"))
    assert violations("failover-records-health-checked", bad, ctx) == [
        "failover record has no healthCheckId"
    ]


def test_health_check_within_rto(dr: list[Registered], ctx: RuleContext) -> None:
    slow = edit(
        dr,
        "dr-us-west-2-failover-health",
        lambda i: i.update(requestInterval=30, failureThreshold=9),
    )
    (message,) = violations("health-check-within-rto", slow, ctx)
    assert "330s" in message and "objective 300s" in message  # 30 x 9 + TTL 60
    settings = ctx.settings
    assert settings is not None
    pilot = RuleContext(settings.model_copy(update={"dr_tier": "pilot-light"}), ctx.peer)
    warm = DEFAULT_WARMUP["pilot-light"]
    (message,) = violations("health-check-within-rto", dr, pilot)
    assert f"{30 + 60 + warm.node_seconds + warm.pod_seconds}s" in message


def test_releases_equal(dr: list[Registered], ctx: RuleContext) -> None:
    def older(i: dict) -> None:
        i["spec"]["template"]["spec"]["containers"][0]["image"] = (
            "nvcr.io/nvidia/tritonserver:24.09-py3"
        )

    (message,) = violations(
        "releases-equal", edit(dr, "dr-us-west-2-triton-deployment", older), ctx
    )
    assert "24.09" in message and "24.10" in message


def test_engine_build_for_each_gpu_sku(dr: list[Registered], ctx: RuleContext) -> None:
    no_sm89 = without(dr, lambda r: "build-classifier-sm89" in r.name)
    (message,) = violations("engine-build-per-gpu-sku", no_sm89, ctx)
    assert "gpu:L40S:8.9" in message
    other = edit(
        dr, "dr-us-west-2-cluster-gpu", lambda i: i["labels"].update({"trt-dr.io/gpu-sku": "A10G"})
    )
    assert violations("engine-build-per-gpu-sku", other, ctx)


def test_dr_capacity_fraction(
    dr: list[Registered], ctx: RuleContext, settings: dict[str, Settings]
) -> None:
    small = edit(dr, "dr-us-west-2-cluster-gpu", lambda i: i["scalingConfig"].update(maxSize=3))
    (message,) = violations("dr-capacity-fraction", small, ctx)
    assert "3 L40S" in message and "16 primary GPUs" in message
    strict = context_for("dr", settings, {"dr-capacity-fraction": {"fraction": 0.5}})
    assert violations("dr-capacity-fraction", dr, strict)
    # the rule concerns the DR stack only
    assert violations("dr-capacity-fraction", small, context_for("primary", settings)) == []


def test_policy_config_overrides_warmup(settings: dict[str, Settings]) -> None:
    cfg = {
        "health-check-within-rto": {
            "clientCacheSeconds": 5,
            "warmup": {"pilot-light": {"node": 1, "pod": 2}},
        }
    }
    ctx = context_for("dr", settings, cfg)
    assert ctx.warmup["pilot-light"].node_seconds == 1 and ctx.client_cache_seconds == 5
    assert ctx.warmup["warm-standby"] == DEFAULT_WARMUP["warm-standby"]


@pytest.mark.parametrize(
    ("image", "release"),
    [
        ("nvcr.io/nvidia/tritonserver:24.10-py3", "24.10"),
        ("nvcr.io/nvidia/tensorrt:24.10-py3", "24.10"),
        ("registry:5000/tritonserver", None),
        ("tritonserver:latest", None),
    ],
)
def test_image_release(image: str, release: str | None) -> None:
    assert image_release(image) == release


def test_unknown_bucket_input_during_a_first_preview(
    dr: list[Registered], ctx: RuleContext
) -> None:
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # Pulumi's unknown-value sentinel
    pending = copy.deepcopy(dr)
    for res in pending:
        if res.type.startswith("aws:s3/bucket") and res.type != "aws:s3/bucket:Bucket":
            res.inputs["bucket"] = unknown
    for policy in (
        "bucket-versioned",
        "bucket-encrypted-kms",
        "bucket-replicated-rtc",
        "no-public-buckets",
    ):
        assert violations(policy, pending, ctx) == []
