"""Typed, validated stack configuration: read once from ``pulumi.Config`` into ``Settings``.

Every error names the ``pulumi config set`` key to change and the values it accepts, so a bad
stack file stops ``pulumi preview`` before anything is created. Cross-stack rules (both roles
present, regions differ, one release, one hostname) are checked against the peer stack's
``Pulumi.<peer>.yaml`` in the project directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError

from engine_build.spec import ModelSpec
from infra.config_models import (
    ELB_ALIAS_TTL,
    HEALTH_CHECK_REGIONS,
    NAMESPACE,
    REGION,
    RELEASE,
    ROLES,
    TIERS,
    BuildSettings,
    ClusterSettings,
    ConfigError,
    DnsSettings,
    GpuSettings,
    HealthCheckSettings,
    MonitoringSettings,
    NetworkSettings,
    NodeGroupSize,
    StoreSettings,
    TritonSettings,
    _Model,
)

__all__ = [
    "ELB_ALIAS_TTL",
    "HEALTH_CHECK_REGIONS",
    "NAMESPACE",
    "REGION",
    "RELEASE",
    "ROLES",
    "TIERS",
    "BuildSettings",
    "ClusterSettings",
    "ConfigError",
    "DnsSettings",
    "GpuSettings",
    "MonitoringSettings",
    "NetworkSettings",
    "NodeGroupSize",
    "Settings",
    "StoreSettings",
    "TritonSettings",
    "check_peer",
    "check_settings",
    "load_settings",
    "parse_settings",
    "read_raw",
    "settings_from_file",
    "stack_file_values",
]


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


def stack_file_values(path: Path) -> dict[str, Any]:
    """The ``trt-dr:*`` values of a ``Pulumi.<stack>.yaml``, keyed without the namespace."""
    config = (yaml.safe_load(path.read_text()) or {}).get("config", {})
    return {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(f"{NAMESPACE}:")}


def settings_from_file(stack: str, project_dir: Path) -> Settings:
    """A stack's validated settings read from its stack file, without the Pulumi engine.

    What drctl uses outside ``pulumi up``: the rehearsal, runbook tests, ``--stack`` options.
    """
    values = stack_file_values(project_dir / f"Pulumi.{stack}.yaml")
    return parse_settings(values, stack, NAMESPACE)


def check_peer(settings: Settings, project_dir: Path) -> None:
    """Check the peer stack file: both roles present, regions crossed, one release and hostname."""
    path = project_dir / f"Pulumi.{settings.peer_stack}.yaml"
    if not path.exists():
        raise ConfigError(
            f"{NAMESPACE}:peerStack is {settings.peer_stack!r} but {path.name} does not exist; "
            f"both roles (primary and dr) must be present in this project"
        )
    peer = stack_file_values(path)
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
