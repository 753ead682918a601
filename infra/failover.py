"""Failover: a Route 53 health check of this region's Triton endpoint and its failover record.

Failover is data-plane only: when the primary's health check fails, Route 53 answers with the
secondary record by itself. Nothing here has to run during an outage; drills force a failover
by inverting the health check, never by editing records.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config import DnsSettings, HealthCheckSettings


@dataclass(frozen=True)
class Endpoint:
    """A regional load balancer: its DNS name and the hosted zone id that alias records need."""

    dns_name: pulumi.Input[str]
    zone_id: pulumi.Input[str]


@dataclass(frozen=True)
class FailoverArgs:
    """Inputs of :class:`Failover`."""

    name: str
    role: str
    region: str
    dns: DnsSettings
    health_check: HealthCheckSettings
    endpoint: Endpoint
    provider: aws.Provider


class Failover(pulumi.ComponentResource):
    """This region's half of the failover pair: PRIMARY in primary, SECONDARY in dr."""

    health_check_id: pulumi.Output[str]
    record_fqdn: pulumi.Output[str]

    def __init__(self, args: FailoverArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("trt-dr:infra:Failover", args.name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        hc = args.health_check
        check = aws.route53.HealthCheck(
            f"{args.name}-health",
            type="HTTP",
            fqdn=args.endpoint.dns_name,
            port=hc.port,
            resource_path=hc.path,
            request_interval=hc.interval,
            failure_threshold=hc.failure_threshold,
            regions=list(hc.regions),
            measure_latency=False,
            invert_healthcheck=False,
            tags={"Name": f"{args.name}-triton-ready"},
            opts=child,
        )
        failover_type = "PRIMARY" if args.role == "primary" else "SECONDARY"
        alias = args.dns.record_type == "alias"
        target = {
            "name": args.endpoint.dns_name,
            "zone_id": args.endpoint.zone_id,
            "evaluate_target_health": True,
        }
        record = aws.route53.Record(
            f"{args.name}-record",
            zone_id=args.dns.hosted_zone_id,
            name=args.dns.hostname,
            set_identifier=f"{args.role}-{args.region}",
            failover_routing_policies=[{"type": failover_type}],
            health_check_id=check.id,
            type="A" if alias else "CNAME",
            aliases=[target] if alias else None,  # type: ignore[list-item]
            ttl=None if alias else args.dns.ttl,
            records=None if alias else [args.endpoint.dns_name],
            opts=child,
        )
        self.health_check_id = check.id
        self.record_fqdn = record.fqdn
        self.register_outputs({"healthCheckId": self.health_check_id, "fqdn": self.record_fqdn})


def load_balancer_zone_id(region: str, provider: aws.Provider) -> pulumi.Output[str]:
    """The canonical hosted zone of network load balancers in ``region`` (for alias records)."""
    result = aws.lb.get_hosted_zone_id_output(
        region=region,
        load_balancer_type="network",
        opts=pulumi.InvokeOptions(provider=provider),
    )
    return result.id
