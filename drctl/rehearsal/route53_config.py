"""Health checks and failover records as the Route 53 stand-in sees them, and loading them.

``load_route53`` reads what the stacks declared from a Route 53 API (moto's server during a
rehearsal) with the ordinary boto3 ``route53`` client, and maps each declared endpoint (the
NLB name or IP of a region) to the loopback address of the local Triton playing that region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from drctl.rehearsal.errors import HealthCheckConfigError

DEFAULT_CHECKERS = 8  # AWS's default checker-region list has eight regions
ALIAS_TTL = 60  # an alias to an ELB answers with the ELB's own TTL of 60 s
Role = Literal["PRIMARY", "SECONDARY"]


@dataclass(frozen=True)
class HealthCheckSpec:
    """One Route 53 HTTP health check; ``url`` is the loopback endpoint actually probed."""

    id: str
    url: str
    request_interval_s: float = 30.0
    failure_threshold: int = 3
    inverted: bool = False
    disabled: bool = False
    checkers: int = DEFAULT_CHECKERS

    def __post_init__(self) -> None:
        if not 1 <= self.failure_threshold <= 10:
            raise HealthCheckConfigError(f"{self.id}: failure threshold must be 1-10")
        if self.request_interval_s <= 0 or self.checkers < 1:
            raise HealthCheckConfigError(f"{self.id}: interval and checker count must be > 0")


@dataclass(frozen=True)
class FailoverRecord:
    """One failover record: its role, the check guarding it, its TTL and the values it answers."""

    name: str
    role: Role
    values: tuple[str, ...]
    ttl: int
    health_check_id: str | None = None
    set_identifier: str = ""
    type: str = "A"


def _check_url(config: Mapping[str, Any], endpoints: Mapping[str, str]) -> str:
    if config.get("Type") not in ("HTTP", "HTTPS"):
        raise HealthCheckConfigError(
            f"health check type {config.get('Type')!r} is not HTTP(S): the stand-in probes HTTP"
        )
    host = config.get("FullyQualifiedDomainName") or config.get("IPAddress") or ""
    if host not in endpoints:
        raise HealthCheckConfigError(
            f"no local endpoint for {host!r}: map it to the 127.0.0.1:<port> of its region"
        )
    return f"http://{endpoints[host]}{config.get('ResourcePath') or '/'}"


def health_check_from_api(item: Mapping[str, Any], endpoints: Mapping[str, str]) -> HealthCheckSpec:
    """A HealthCheckSpec from one ``list_health_checks`` entry."""
    config = item["HealthCheckConfig"]
    return HealthCheckSpec(
        id=item["Id"],
        url=_check_url(config, endpoints),
        request_interval_s=float(config.get("RequestInterval", 30)),
        failure_threshold=int(config.get("FailureThreshold", 3)),
        inverted=bool(config.get("Inverted", False)),
        disabled=bool(config.get("Disabled", False)),
        checkers=len(config.get("Regions") or []) or DEFAULT_CHECKERS,
    )


def record_from_api(item: Mapping[str, Any]) -> FailoverRecord:
    """A FailoverRecord from one ``list_resource_record_sets`` entry that has ``Failover``."""
    alias = item.get("AliasTarget")
    if alias:
        values: tuple[str, ...] = (alias["DNSName"].rstrip("."),)
        ttl = ALIAS_TTL
    else:
        values = tuple(r["Value"] for r in item.get("ResourceRecords", []))
        ttl = int(item.get("TTL", ALIAS_TTL))
    return FailoverRecord(
        name=item["Name"].rstrip(".").lower(),
        role=item["Failover"],
        values=values,
        ttl=ttl,
        health_check_id=item.get("HealthCheckId"),
        set_identifier=item.get("SetIdentifier", ""),
        type=item["Type"],
    )


def load_route53(
    client: Any, zone_id: str, endpoints: Mapping[str, str]
) -> tuple[list[HealthCheckSpec], list[FailoverRecord]]:
    """Health checks used by the zone's failover records, and those records, from the API."""
    records = [
        record_from_api(item)
        for page in client.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id)
        for item in page["ResourceRecordSets"]
        if item.get("Failover")
    ]
    wanted = {r.health_check_id for r in records if r.health_check_id}
    checks = [
        health_check_from_api(item, endpoints)
        for page in client.get_paginator("list_health_checks").paginate()
        for item in page["HealthChecks"]
        if item["Id"] in wanted
    ]
    missing = wanted - {c.id for c in checks}
    if missing:
        raise HealthCheckConfigError(f"records name health checks that do not exist: {missing}")
    return checks, records


def read_flags(client: Any) -> dict[str, tuple[bool, bool]]:
    """``{check id: (inverted, disabled)}`` as the API says now (drills flip these)."""
    return {
        item["Id"]: (
            bool(item["HealthCheckConfig"].get("Inverted", False)),
            bool(item["HealthCheckConfig"].get("Disabled", False)),
        )
        for page in client.get_paginator("list_health_checks").paginate()
        for item in page["HealthChecks"]
    }
