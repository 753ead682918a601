"""The parts of the stack configuration: constants and one pydantic model per concern.

``infra.config`` composes them into ``Settings`` and re-exports every name here, so callers
import from ``infra.config`` only. Field names are snake_case; the stack file's keys are
their camelCase aliases (``pulumi config set trt-dr:<key>``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

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
