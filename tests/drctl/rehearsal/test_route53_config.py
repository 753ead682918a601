"""Loading health checks and failover records from Route 53 (moto) as the stacks declare them."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from drctl.rehearsal.clock import ManualClock
from drctl.rehearsal.errors import HealthCheckConfigError
from drctl.rehearsal.route53_config import DEFAULT_CHECKERS, load_route53
from drctl.rehearsal.route53_standin import Route53StandIn

NAME = "infer.trtdr.example.com"
ENDPOINTS = {
    "nlb-p.elb.amazonaws.com": "127.0.0.1:8101",
    "nlb-d.elb.amazonaws.com": "127.0.0.1:8102",
}


def _check(client: Any, ref: str, host: str, **extra: Any) -> str:
    config = {
        "Type": "HTTP",
        "FullyQualifiedDomainName": host,
        "Port": 8000,
        "ResourcePath": "/v2/health/ready",
        "RequestInterval": 10,
        "FailureThreshold": 2,
        **extra,
    }
    return str(
        client.create_health_check(CallerReference=ref, HealthCheckConfig=config)["HealthCheck"][
            "Id"
        ]
    )


def _zone(client: Any) -> tuple[str, str, str]:
    zone = client.create_hosted_zone(Name="trtdr.example.com", CallerReference="z")["HostedZone"][
        "Id"
    ]
    regions = ["us-east-1", "us-west-1", "eu-west-1"]
    primary = _check(client, "p", "nlb-p.elb.amazonaws.com", Regions=regions)
    dr = _check(client, "d", "nlb-d.elb.amazonaws.com")
    changes = [
        {
            "Name": NAME,
            "Type": "CNAME",
            "SetIdentifier": "primary",
            "Failover": "PRIMARY",
            "TTL": 30,
            "HealthCheckId": primary,
            "ResourceRecords": [{"Value": "nlb-p.elb.amazonaws.com"}],
        },
        {
            "Name": NAME,
            "Type": "A",
            "SetIdentifier": "dr",
            "Failover": "SECONDARY",
            "HealthCheckId": dr,
            "AliasTarget": {
                "HostedZoneId": "Z26RNL4JYFTOTI",
                "DNSName": "nlb-d.elb.amazonaws.com.",
                "EvaluateTargetHealth": True,
            },
        },
        {
            "Name": "other.trtdr.example.com",
            "Type": "A",
            "TTL": 60,
            "ResourceRecords": [{"Value": "10.0.0.1"}],
        },
    ]
    batch = {"Changes": [{"Action": "CREATE", "ResourceRecordSet": c} for c in changes]}
    client.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=batch)
    return zone, primary, dr


@mock_aws
def test_moto_stores_what_the_stand_in_needs() -> None:
    client = boto3.client("route53", region_name="us-east-1")
    zone, primary, dr = _zone(client)
    checks, records = load_route53(client, zone, ENDPOINTS)
    by_id = {c.id: c for c in checks}
    assert by_id[primary].url == "http://127.0.0.1:8101/v2/health/ready"
    assert (by_id[primary].request_interval_s, by_id[primary].failure_threshold) == (10.0, 2)
    assert by_id[primary].checkers == 3
    assert by_id[dr].checkers == DEFAULT_CHECKERS
    roles = {r.role: r for r in records}
    assert len(records) == 2
    assert (roles["PRIMARY"].values, roles["PRIMARY"].ttl) == (("nlb-p.elb.amazonaws.com",), 30)
    assert (roles["SECONDARY"].values, roles["SECONDARY"].ttl) == (("nlb-d.elb.amazonaws.com",), 60)
    assert roles["SECONDARY"].health_check_id == dr


@mock_aws
def test_inverting_in_route53_reaches_the_stand_in() -> None:
    client = boto3.client("route53", region_name="us-east-1")
    zone, primary, _ = _zone(client)
    checks, records = load_route53(client, zone, ENDPOINTS)
    r53 = Route53StandIn(checks, records, clock=ManualClock(), prober=lambda *_: True)
    assert r53.resolve(NAME).role == "PRIMARY"
    client.update_health_check(HealthCheckId=primary, Inverted=True)
    r53.sync_flags(client)
    assert r53.resolve(NAME).role == "SECONDARY"
    client.update_health_check(HealthCheckId=primary, Inverted=False)
    r53.run(5.0, on_tick=lambda: r53.sync_flags(client))
    assert r53.resolve(NAME).role == "PRIMARY"


@mock_aws
def test_unmapped_endpoint_is_a_clear_error() -> None:
    client = boto3.client("route53", region_name="us-east-1")
    zone, _, _ = _zone(client)
    with pytest.raises(HealthCheckConfigError, match="no local endpoint"):
        load_route53(client, zone, {"nlb-p.elb.amazonaws.com": "127.0.0.1:8101"})
