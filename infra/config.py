"""Typed, validated stack configuration: read once from ``pulumi.Config`` into ``Settings``.

Every error names the ``pulumi config set`` key to change and the values it accepts, so a bad
stack file stops ``pulumi preview`` before anything is created. Cross-stack rules (both roles
present, regions differ, one release, one hostname) are checked against the peer stack's
``Pulumi.<peer>.yaml`` in the project directory.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from engine_build.spec import ModelSpec

NAMESPACE = "trt-dr"
ROLES = ("primary", "dr")
TIERS = ("pilot-light", "warm-standby", "active-active")
HEALTH_CHECK_REGIONS = (
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
)
ELB_ALIAS_TTL = 60
REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
RELEASE = re.compile(r"^\d{2}\.\d{2}$")


class ConfigError(Exception):
    """A stack configuration value is missing or invalid; the message names the key to set."""


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )


class GpuSettings(_Model):
    """The region's GPU node type: EC2 instance type, GPU SKU and its compute capability."""

    instance_type: str
    sku: str
    compute_capability: str = Field(pattern=r"^\d+\.\d+$")
    gpus_per_node: int = Field(default=1, ge=1, le=16)


class NodeGroupSize(_Model):
    """Managed node group scaling bounds."""

    min: int = Field(ge=0)
    desired: int = Field(ge=0)
    max: int = Field(ge=1)


class NetworkSettings(_Model):
    """Either a VPC to create (cidr, azCount) or an existing VPC and its subnets."""

    cidr: str = "10.0.0.0/16"
    az_count: int = Field(default=2, ge=2, le=6)
    nat: Literal["single", "per-az"] = "per-az"
    vpc_id: str | None = None
    private_subnet_ids: list[str] = Field(default_factory=list)
    public_subnet_ids: list[str] = Field(default_factory=list)

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        net = ipaddress.ip_network(value)
        if net.prefixlen > 20:
            raise ValueError("cidr must be /20 or larger to hold one /24 per subnet")
        return value


class DnsSettings(_Model):
    """The shared hosted zone and the service hostname both regions answer for."""

    hosted_zone_id: str
    hostname: str
    record_type: Literal["alias", "cname"] = "alias"
    ttl: int = Field(default=ELB_ALIAS_TTL, ge=1, le=86400)


class HealthCheckSettings(_Model):
    """Route 53 health check of this region's Triton endpoint."""

    interval: Literal[10, 30] = 10
    failure_threshold: int = Field(default=3, ge=1, le=10)
    regions: list[str] = Field(default_factory=lambda: ["us-east-1", "us-west-2", "eu-west-1"])
    path: str = "/v2/health/ready"
    port: int = Field(default=8000, ge=1, le=65535)


class ClusterSettings(_Model):
    """EKS control plane and system node group settings."""

    version: str = "1.33"
    system_instance_type: str = "m6i.large"
    system_nodes: NodeGroupSize = NodeGroupSize(min=2, desired=2, max=3)
    admin_role_arns: list[str] = Field(default_factory=list)
    public_access_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"])


class StoreSettings(_Model):
    """Model bucket retention and the replication choices documented in docs/architecture.md."""

    noncurrent_days: int = Field(default=30, ge=1)
    noncurrent_versions_kept: int = Field(default=3, ge=1, le=100)
    replicate_delete_markers: bool = False


class TritonSettings(_Model):
    """Triton serving: replicas per DR tier, pod size, probes and gRPC connection age."""

    replicas: dict[str, int] = Field(
        default_factory=lambda: {"pilot-light": 3, "warm-standby": 3, "active-active": 3}
    )
    max_replicas: int = Field(default=10, ge=1)
    gpus_per_pod: int = Field(default=1, ge=1, le=8)
    cpu: str = "4"
    memory: str = "16Gi"
    grpc_max_connection_age_seconds: int = Field(default=300, ge=10)
    startup_seconds: int = Field(default=900, ge=60)
    image: str | None = None


class BuildSettings(_Model):
    """Engine builds during `pulumi up`: Job timeout, builder image and fallbacks."""

    timeout_minutes: int = Field(default=60, ge=5, le=1440)
    image: str | None = None
    fallbacks: bool = True


class MonitoringSettings(_Model):
    """Scraping, alert thresholds and canary rollout (docs/monitoring.md)."""

    backend: Literal["none", "prometheus-operator", "amp"] = "none"
    release_label: str = "kube-prometheus-stack"
    dcgm_exporter: bool = True
    p99_latency_ms: float = Field(default=100.0, gt=0)
    error_rate: float = Field(default=0.001, gt=0, lt=1)
    gpu_util_low: float = Field(default=0.60, ge=0, le=1)
    gpu_util_high: float = Field(default=0.80, ge=0, le=1)
    alarm_email: str | None = None
    canary_share: float = Field(default=0.1, gt=0, lt=1)
    canary_window_seconds: int = Field(default=300, ge=10)
    canary_windows: int = Field(default=3, ge=1, le=20)
    canary_min_requests: int = Field(default=100, ge=1)
    canary_latency_ratio: float = Field(default=1.2, ge=1)
    prometheus_url: str = Field(
        default="http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
        pattern=r"^https?://",
    )
    rollout_every_minutes: int = Field(default=5, ge=1, le=59)
    verify_every_minutes: int = Field(default=15, ge=5, le=59)
    jobs_image: str | None = None
    quality_probe: bool = False
    quality_every_minutes: int = Field(default=15, ge=5, le=59)
    quality_min_agreement: float = Field(default=0.99, gt=0, le=1)

    @model_validator(mode="after")
    def _band(self) -> MonitoringSettings:
        """The GPU utilisation target band must be a band."""
        if self.gpu_util_low >= self.gpu_util_high:
            raise ValueError("gpuUtilLow must be below gpuUtilHigh (e.g. 0.6 and 0.8)")
        return self


class Settings(_Model):
    """Everything one stack needs, validated; built once by :func:`load_settings`."""

    stack: str
    project: str
    role: Literal["primary", "dr"]
    region: str
    peer_region: str
    peer_stack: str
    peer_deployed: bool = True
    name_prefix: str = Field(default="trt-dr", pattern=r"^[a-z][a-z0-9-]{1,20}$")
    dr_tier: Literal["pilot-light", "warm-standby", "active-active"] = "warm-standby"
    release: str
    gpu: GpuSettings
    gpu_nodes: dict[str, NodeGroupSize]
    network: NetworkSettings = NetworkSettings()
    cluster: ClusterSettings = ClusterSettings()
    dns: DnsSettings
    health_check: HealthCheckSettings = HealthCheckSettings()
    store: StoreSettings = StoreSettings()
    rto_objective_seconds: int = Field(default=600, ge=60)
    triton: TritonSettings = TritonSettings()
    builds: BuildSettings = BuildSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    models: list[ModelSpec] = Field(default_factory=list)

    @property
    def gpu_node_size(self) -> NodeGroupSize:
        """The GPU node group size for the configured DR tier."""
        return self.gpu_nodes[self.dr_tier]

    @property
    def effective_ttl(self) -> int:
        """TTL clients see: alias records to a load balancer always answer with 60 s."""
        return ELB_ALIAS_TTL if self.dns.record_type == "alias" else self.dns.ttl

    @property
    def triton_image(self) -> str:
        """Triton image: the override, else the NGC image of the pinned release."""
        return self.triton.image or f"nvcr.io/nvidia/tritonserver:{self.release}-py3"

    @property
    def builder_image(self) -> str:
        """TensorRT builder image: the override, else the NGC image of the pinned release."""
        return self.builds.image or f"nvcr.io/nvidia/tensorrt:{self.release}-py3"

    @property
    def triton_replicas(self) -> int:
        """Triton replicas for the configured DR tier."""
        return self.triton.replicas[self.dr_tier]

    @property
    def serves_traffic(self) -> bool:
        """Whether this region takes traffic in steady state (primary, or active-active)."""
        return self.role == "primary" or self.dr_tier == "active-active"

    @property
    def peer_role(self) -> str:
        """The role the peer stack must have."""
        return "dr" if self.role == "primary" else "primary"


# Keys whose value is an object or list in Pulumi.<stack>.yaml.
_OBJECT_KEYS = (
    "gpu",
    "gpuNodes",
    "network",
    "cluster",
    "dns",
    "healthCheck",
    "store",
    "triton",
    "builds",
    "models",
    "monitoring",
)
_SCALAR_KEYS = (
    "role",
    "region",
    "peerRegion",
    "peerStack",
    "peerDeployed",
    "namePrefix",
    "drTier",
    "release",
    "rtoObjectiveSeconds",
)
_REQUIRED = ("role", "region", "peerRegion", "release", "gpu", "gpuNodes", "dns")


def read_raw(get: Any, get_object: Any) -> dict[str, Any]:
    """Collect the stack's ``trt-dr:*`` values through two lookups (string and object)."""
    raw: dict[str, Any] = {}
    for key in _SCALAR_KEYS:
        value = get(key)
        if value is not None:
            raw[key] = value
    for key in _OBJECT_KEYS:
        value = get_object(key)
        if value is not None:
            raw[key] = value
    return raw


def _key_of(loc: tuple[Any, ...]) -> str:
    """Turn a pydantic error location into a `pulumi config set` path (trt-dr:dns.ttl)."""
    head, *rest = [str(part) for part in loc]
    path = head + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in rest)
    return f"{NAMESPACE}:{path}"


def _explain(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = _key_of(tuple(item["loc"]))
        allowed = item.get("ctx", {}).get("expected")
        hint = f" (allowed: {allowed})" if allowed else ""
        lines.append(f"  {key}: {item['msg']}{hint}; fix with `pulumi config set {key} ...`")
    return "invalid stack configuration:\n" + "\n".join(lines)


def parse_settings(raw: dict[str, Any], stack: str, project: str) -> Settings:
    """Validate raw config values into Settings, or raise ConfigError naming each bad key."""
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        keys = ", ".join(f"{NAMESPACE}:{k}" for k in missing)
        raise ConfigError(f"missing required config {keys}; set with `pulumi config set`")
    values = dict(raw)
    values.setdefault("peerStack", "dr" if raw.get("role") == "primary" else "primary")
    if isinstance(values.get("peerDeployed"), str):
        values["peerDeployed"] = values["peerDeployed"].lower() == "true"
    try:
        settings = Settings.model_validate({**values, "stack": stack, "project": project})
    except ValidationError as error:
        raise ConfigError(_explain(error)) from None
    check_settings(settings)
    return settings


def check_settings(settings: Settings) -> None:
    """Rules that span several fields; each failure names its key and the allowed values."""
    _check_regions(settings)
    missing_tiers = [t for t in TIERS if t not in settings.gpu_nodes]
    unknown_tiers = [t for t in settings.gpu_nodes if t not in TIERS]
    if missing_tiers or unknown_tiers:
        raise ConfigError(
            f"{NAMESPACE}:gpuNodes must have exactly the tiers {', '.join(TIERS)} "
            f"(missing: {missing_tiers or 'none'}, unknown: {unknown_tiers or 'none'})"
        )
    for tier, size in settings.gpu_nodes.items():
        if not size.min <= size.desired <= size.max:
            raise ConfigError(
                f"{NAMESPACE}:gpuNodes.{tier}: need min <= desired <= max, got "
                f"{size.min}/{size.desired}/{size.max}"
            )
    if not RELEASE.match(settings.release):
        raise ConfigError(
            f"{NAMESPACE}:release {settings.release!r} must be an NGC release tag like 24.10; "
            "it pins both the Triton image and the TensorRT builder image"
        )
    _check_dns(settings)
    _check_network(settings)


def _check_regions(settings: Settings) -> None:
    for key, region in (("region", settings.region), ("peerRegion", settings.peer_region)):
        if not REGION.match(region):
            raise ConfigError(f"{NAMESPACE}:{key} {region!r} is not an AWS region like us-east-1")
    if settings.region == settings.peer_region:
        raise ConfigError(
            f"{NAMESPACE}:region and {NAMESPACE}:peerRegion must differ (both {settings.region})"
        )
    checkers = settings.health_check.regions
    bad = [r for r in checkers if r not in HEALTH_CHECK_REGIONS]
    if bad or len(set(checkers)) < 3:
        raise ConfigError(
            f"{NAMESPACE}:healthCheck.regions needs at least 3 distinct Route 53 checker regions "
            f"from {', '.join(HEALTH_CHECK_REGIONS)} (unknown: {bad or 'none'})"
        )


def _check_dns(settings: Settings) -> None:
    if settings.dns.record_type == "alias" and settings.dns.ttl != ELB_ALIAS_TTL:
        raise ConfigError(
            f"{NAMESPACE}:dns.ttl is {settings.dns.ttl}, but alias records to a load balancer "
            f"always answer with TTL {ELB_ALIAS_TTL}; set {NAMESPACE}:dns.ttl to "
            f"{ELB_ALIAS_TTL} or {NAMESPACE}:dns.recordType to cname"
        )


def _check_network(settings: Settings) -> None:
    net = settings.network
    if net.vpc_id and (len(net.private_subnet_ids) < 2 or len(net.public_subnet_ids) < 2):
        raise ConfigError(
            f"{NAMESPACE}:network.vpcId is set: also set {NAMESPACE}:network.privateSubnetIds "
            f"and {NAMESPACE}:network.publicSubnetIds with at least 2 subnets each (2 AZs)"
        )


def check_peer(settings: Settings, project_dir: Path) -> None:
    """Check the peer stack file: both roles present, regions crossed, one release and hostname."""
    path = project_dir / f"Pulumi.{settings.peer_stack}.yaml"
    if not path.exists():
        raise ConfigError(
            f"{NAMESPACE}:peerStack is {settings.peer_stack!r} but {path.name} does not exist; "
            f"both roles (primary and dr) must be present in this project"
        )
    config = (yaml.safe_load(path.read_text()) or {}).get("config", {})
    peer = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(f"{NAMESPACE}:")}
    expected = {
        "role": settings.peer_role,
        "region": settings.peer_region,
        "peerRegion": settings.region,
        "release": settings.release,
    }
    for key, value in expected.items():
        if str(peer.get(key)) != str(value):
            raise ConfigError(
                f"{path.name} has {NAMESPACE}:{key}={peer.get(key)!r} but this stack needs "
                f"{value!r} there (both roles present, regions crossed, one release)"
            )
    peer_host = (peer.get("dns") or {}).get("hostname")
    if peer_host != settings.dns.hostname:
        raise ConfigError(
            f"{NAMESPACE}:dns.hostname differs between stacks ({settings.dns.hostname!r} vs "
            f"{peer_host!r} in {path.name}); both regions must answer for one hostname"
        )
    if peer.get("drTier", "warm-standby") != settings.dr_tier:
        raise ConfigError(f"{NAMESPACE}:drTier must be the same in both stacks")


def load_settings(project_dir: Path) -> Settings:
    """Read this stack's ``trt-dr:*`` config once and validate it, peer file included."""
    import pulumi

    config = pulumi.Config(NAMESPACE)
    raw = read_raw(config.get, config.get_object)
    settings = parse_settings(raw, pulumi.get_stack(), pulumi.get_project())
    check_peer(settings, project_dir)
    from infra.serving_checks import check_serving  # imports engine_build: not at module load

    check_serving(settings, project_dir)
    return settings
