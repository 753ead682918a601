"""DR policies as plain functions over resource data (no Pulumi import).

Each rule takes the stack's resources (anything with ``type``, ``name``, ``urn`` and ``inputs``:
``infra.offline.Registered`` in tests and drctl, a thin wrapper of ``pulumi_policy``'s resources
in the policy pack) and a :class:`RuleContext`, and returns :class:`Violation` records. Facts the
resources do not carry (RTO objective, DR tier, GPUs per node, the peer's size) come from the
project's validated stack files (``drctl.review.stackfiles``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from infra.config import Settings

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
PUBLIC_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_ACL = "aws:s3/bucketAclV2:BucketAclV2"
RECORD = "aws:route53/record:Record"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
DEFAULT_CAPACITY_FRACTION = 0.25


class Resource(Protocol):
    """What a rule reads of a resource (read-only)."""

    @property
    def type(self) -> str:
        """Type token, e.g. ``aws:s3/bucket:Bucket``."""

    @property
    def name(self) -> str:
        """Logical name."""

    @property
    def urn(self) -> str:
        """Pulumi URN."""

    @property
    def inputs(self) -> Mapping[str, Any]:
        """Input properties with their wire (camelCase) names."""


@dataclass(frozen=True)
class Warmup:
    """Seconds until the failover region answers, after DNS moved: GPU nodes, then Triton pods."""

    node_seconds: int
    pod_seconds: int


# Assumptions (docs/review.md): pilot-light starts GPU nodes (launch, EKS join, driver, device
# plugin) and pulls the Triton image and engines; warm-standby and active-active already serve.
DEFAULT_WARMUP = {
    "pilot-light": Warmup(node_seconds=420, pod_seconds=300),
    "warm-standby": Warmup(node_seconds=0, pod_seconds=0),
    "active-active": Warmup(node_seconds=0, pod_seconds=0),
}


@dataclass(frozen=True)
class RuleContext:
    """Facts rules need beyond the resources: this stack's and the peer's settings, thresholds."""

    settings: Settings | None = None
    peer: Settings | None = None
    warmup: Mapping[str, Warmup] = field(default_factory=lambda: dict(DEFAULT_WARMUP))
    capacity_fraction: float = DEFAULT_CAPACITY_FRACTION
    client_cache_seconds: int = 0


@dataclass(frozen=True)
class Violation:
    """One policy finding on one resource (or on the stack when ``urn`` is empty)."""

    policy: str
    urn: str
    message: str


def _of(resources: Sequence[Resource], type_: str) -> list[Resource]:
    return [r for r in resources if r.type == type_]


def _for_bucket(resources: Sequence[Resource], type_: str, bucket: Resource) -> list[Resource]:
    """Child configurations of ``bucket``, matched by bucket name.

    A lone bucket owns every configuration: during a first preview the configurations' bucket
    input is still unknown (Pulumi's unknown sentinel), so names cannot match yet.
    """
    found = _of(resources, type_)
    if len(_of(resources, BUCKET)) == 1:
        return found
    return [r for r in found if r.inputs.get("bucket") == bucket.inputs.get("bucket")]


def bucket_versioned(resources: Sequence[Resource], ctx: RuleContext) -> list[Violation]:
    """Model buckets keep every version (rollback and replication need versioning)."""
    out = []
    for bucket in _of(resources, BUCKET):
        configs = _for_bucket(resources, VERSIONING, bucket)
        statuses = [(c.inputs.get("versioningConfiguration") or {}).get("status") for c in configs]
        inline = (bucket.inputs.get("versioning") or {}).get("enabled") is True
        if not inline and "Enabled" not in statuses:
            out.append(
                Violation("bucket-versioned", bucket.urn, "bucket versioning is not Enabled")
            )
    return out


def bucket_encrypted(resources: Sequence[Resource], ctx: RuleContext) -> list[Violation]:
    """Model buckets encrypt with SSE-KMS by default (multi-Region keys decrypt replicas)."""
    out = []
    for bucket in _of(resources, BUCKET):
        algorithms = [
            (rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")
            for config in _for_bucket(resources, SSE, bucket)
            for rule in config.inputs.get("rules") or []
        ]
        if "aws:kms" not in algorithms and "aws:kms:dsse" not in algorithms:
            msg = f"default encryption is not SSE-KMS (found {algorithms or 'none'})"
            out.append(Violation("bucket-encrypted-kms", bucket.urn, msg))
    return out


def _rule_has_rtc(rule: Mapping[str, Any]) -> bool:
    dest = rule.get("destination") or {}
    rtc = (dest.get("replicationTime") or {}).get("status") == "Enabled"
    metrics = (dest.get("metrics") or {}).get("status") == "Enabled"
    return rule.get("status") == "Enabled" and rtc and metrics


def bucket_replicated(resources: Sequence[Resource], ctx: RuleContext) -> list[Violation]:
    """Model buckets replicate to the peer with RTC and metrics (the 15-minute RPO)."""
    out = []
    for bucket in _of(resources, BUCKET):
        rules = [
            rule
            for config in _for_bucket(resources, REPLICATION, bucket)
            for rule in config.inputs.get("rules") or []
        ]
        if not rules:
            out.append(Violation("bucket-replicated-rtc", bucket.urn, "bucket is not replicated"))
        elif not any(_rule_has_rtc(rule) for rule in rules):
            msg = "no enabled replication rule has Replication Time Control and metrics enabled"
            out.append(Violation("bucket-replicated-rtc", bucket.urn, msg))
    return out


def _public_statements(policy: Any) -> list[Mapping[str, Any]]:
    doc = json.loads(policy) if isinstance(policy, str) else policy or {}
    statements = doc.get("Statement") or []
    statements = [statements] if isinstance(statements, dict) else statements
    return [
        s
        for s in statements
        if s.get("Effect") == "Allow"
        and s.get("Principal") in ("*", {"AWS": "*"})
        and not s.get("Condition")
    ]


def no_public_buckets(resources: Sequence[Resource], ctx: RuleContext) -> list[Violation]:
    """Model buckets block all public access and grant nothing to everyone."""
    out = []
    for bucket in _of(resources, BUCKET):
        blocks = _for_bucket(resources, PUBLIC_BLOCK, bucket)
        if not any(all(b.inputs.get(flag) is True for flag in BLOCK_FLAGS) for b in blocks):
            msg = f"no public access block with all of {', '.join(BLOCK_FLAGS)} true"
            out.append(Violation("no-public-buckets", bucket.urn, msg))
        acls = [bucket.inputs.get("acl")] + [
            a.inputs.get("acl") for a in _for_bucket(resources, BUCKET_ACL, bucket)
        ]
        if any(acl in PUBLIC_ACLS for acl in acls):
            out.append(Violation("no-public-buckets", bucket.urn, "bucket has a public canned ACL"))
        for policy in _for_bucket(resources, BUCKET_POLICY, bucket):
            if _public_statements(policy.inputs.get("policy")):
                msg = "bucket policy allows everyone (Principal *) without a condition"
                out.append(Violation("no-public-buckets", policy.urn, msg))
    return out


def _is_failover(record: Resource) -> bool:
    return bool(record.inputs.get("failoverRoutingPolicies"))


def failover_records_checked(resources: Sequence[Resource], ctx: RuleContext) -> list[Violation]:
    """Every failover record has a health check, else Route 53 never fails over from it."""
    return [
        Violation("failover-records-health-checked", r.urn, "failover record has no healthCheckId")
        for r in _of(resources, RECORD)
        if _is_failover(r) and not r.inputs.get("healthCheckId")
    ]


@dataclass(frozen=True)
class RtoBudget:
    """Worst-case seconds from a regional failure until the other region answers."""

    detection: int
    ttl: int
    client_cache: int
    node_warmup: int
    pod_warmup: int
    objective: int

    @property
    def total(self) -> int:
        """Detection + TTL + client caching + node and pod warm-up."""
        return self.detection + self.ttl + self.client_cache + self.node_warmup + self.pod_warmup

    @property
    def ok(self) -> bool:
        """Whether the budget fits the stated objective."""
        return self.total <= self.objective


def rto_budget(settings: Settings, ctx: RuleContext) -> RtoBudget:
    """The RTO budget a stack's configuration implies for its DR tier."""
    warm = ctx.warmup[settings.dr_tier]
    hc = settings.health_check
    return RtoBudget(
        detection=hc.interval * hc.failure_threshold,
        ttl=settings.effective_ttl,
        client_cache=ctx.client_cache_seconds,
        node_warmup=warm.node_seconds,
        pod_warmup=warm.pod_seconds,
        objective=settings.rto_objective_seconds,
    )


def _record_ttl(resources: Sequence[Resource]) -> int | None:
    for record in _of(resources, RECORD):
        if _is_failover(record):
            return 60 if record.inputs.get("aliases") else int(record.inputs.get("ttl") or 0)
    return None


def health_check_within_rto(resources: Sequence[Resource], ctx: RuleContext) -> list[Violation]:
    """Health check interval x threshold + TTL + warm-up fits the RTO objective."""
    if ctx.settings is None:
        return []
    base = rto_budget(ctx.settings, ctx)
    ttl = _record_ttl(resources)
    out = []
    for check in _of(resources, HEALTH_CHECK):
        interval = int(check.inputs.get("requestInterval") or 30)
        threshold = int(check.inputs.get("failureThreshold") or 3)
        budget = RtoBudget(
            interval * threshold,
            base.ttl if ttl is None else ttl,
            base.client_cache,
            base.node_warmup,
            base.pod_warmup,
            base.objective,
        )
        if not budget.ok:
            msg = (
                f"RTO budget {budget.total}s ({interval}s x {threshold} + TTL {budget.ttl}s + "
                f"warm-up {budget.node_warmup + budget.pod_warmup}s for {ctx.settings.dr_tier}) "
                f"exceeds the objective {budget.objective}s"
            )
            out.append(Violation("health-check-within-rto", check.urn, msg))
    return out


def image_release(image: str) -> str | None:
    """The NGC release (``24.10``) of an image like ``nvcr.io/nvidia/tritonserver:24.10-py3``."""
    tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
    head = tag.split("-", 1)[0]
    return head if head.count(".") == 1 and head.replace(".", "").isdigit() else None


def _containers(resource: Resource) -> list[Mapping[str, Any]]:
    spec = ((resource.inputs.get("spec") or {}).get("template") or {}).get("spec") or {}
    return list(spec.get("containers") or [])


def releases_equal(resources: Sequence[Resource], ctx: RuleContext) -> list[Violation]:
    """Triton and the TensorRT builder use one NGC release, else engines do not load."""
    found: dict[str, str | None] = {}
    for res in _of(resources, DEPLOYMENT) + _of(resources, JOB):
        for container in _containers(res):
            image = str(container.get("image", ""))
            if "tritonserver" in image or "tensorrt" in image:
                found[f"{res.urn}#{container.get('name')}"] = image_release(image)
    releases = set(found.values())
    if ctx.settings is not None and found:
        releases.add(ctx.settings.release)
    if len(releases) <= 1:
        return []
    detail = ", ".join(sorted(str(r) for r in releases))
    return [Violation("releases-equal", "", f"Triton and builder releases differ: {detail}")]


def _gpu_pools(resources: Sequence[Resource]) -> list[Resource]:
    return [
        r
        for r in _of(resources, NODE_GROUP)
        if (r.inputs.get("labels") or {}).get("trt-dr.io/pool") == "gpu"
    ]


def _build_targets(resources: Sequence[Resource]) -> set[tuple[str, str]]:
    targets = set()
    for job in _of(resources, JOB):
        for container in _containers(job):
            words = " ".join(str(a) for a in container.get("args") or []).split()
            for i, word in enumerate(words[:-1]):
                if word == "--target" and words[i + 1].startswith("gpu:"):
                    _, sku, cc = [*words[i + 1].split(":"), "", ""][:3]
                    targets.add((sku, cc))
    return targets


def engine_build_per_sku(resources: Sequence[Resource], ctx: RuleContext) -> list[Violation]:
    """Each region builds an engine for its own GPU SKU (engines are tied to the architecture)."""
    if ctx.settings is not None and not ctx.settings.models:
        return []
    targets = _build_targets(resources)
    out = []
    for pool in _gpu_pools(resources):
        labels = pool.inputs.get("labels") or {}
        want = (labels.get("trt-dr.io/gpu-sku", ""), labels.get("trt-dr.io/compute-capability", ""))
        if want not in targets:
            msg = f"no engine build Job targets gpu:{want[0]}:{want[1]} (found {sorted(targets)})"
            out.append(Violation("engine-build-per-gpu-sku", pool.urn, msg))
    return out


def primary_gpus(primary: Settings) -> int:
    """GPUs the primary runs in steady state (desired nodes x GPUs per node)."""
    return primary.gpu_nodes[primary.dr_tier].desired * primary.gpu.gpus_per_node


def dr_capacity(resources: Sequence[Resource], ctx: RuleContext) -> list[Violation]:
    """The DR GPU pool can grow to at least the configured fraction of the primary's GPUs."""
    settings, peer = ctx.settings, ctx.peer
    if settings is None or peer is None or settings.role != "dr":
        return []
    out = []
    need = ctx.capacity_fraction * primary_gpus(peer)
    for pool in _gpu_pools(resources):
        max_nodes = int((pool.inputs.get("scalingConfig") or {}).get("maxSize") or 0)
        have = max_nodes * settings.gpu.gpus_per_node
        if have < need:
            msg = (
                f"DR pool reaches {have} {settings.gpu.sku} GPUs at maxSize {max_nodes}; needs "
                f">= {need:g} ({ctx.capacity_fraction:g} x {primary_gpus(peer)} primary GPUs)"
            )
            out.append(Violation("dr-capacity-fraction", pool.urn, msg))
    return out


Policy = Callable[[Sequence[Resource], RuleContext], list[Violation]]
POLICIES: dict[str, Policy] = {
    "bucket-versioned": bucket_versioned,
    "bucket-encrypted-kms": bucket_encrypted,
    "bucket-replicated-rtc": bucket_replicated,
    "no-public-buckets": no_public_buckets,
    "failover-records-health-checked": failover_records_checked,
    "health-check-within-rto": health_check_within_rto,
    "releases-equal": releases_equal,
    "engine-build-per-gpu-sku": engine_build_per_sku,
    "dr-capacity-fraction": dr_capacity,
}


def check_all(resources: Sequence[Resource], ctx: RuleContext) -> list[Violation]:
    """Every policy's violations, in policy order."""
    return [v for policy in POLICIES.values() for v in policy(resources, ctx)]
