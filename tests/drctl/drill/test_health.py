"""Per-region health status: the stand-in locally, Route 53's API (moto, Stubber) on AWS."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from drctl.drill.health import HealthWatcher, Route53Health, StandInHealth
from drctl.rehearsal.clock import ManualClock
from drctl.rehearsal.route53_config import FailoverRecord, HealthCheckSpec
from drctl.rehearsal.route53_standin import Route53StandIn, verdict

NAME = "infer.trtdr.example.com"
CHECK: dict[str, Any] = {
    "Type": "HTTP",
    "FullyQualifiedDomainName": "nlb-p.elb.amazonaws.com",
    "Port": 8000,
    "ResourcePath": "/v2/health/ready",
    "RequestInterval": 10,
    "FailureThreshold": 3,
}


@pytest.mark.parametrize(
    ("healthy", "total", "inverted", "disabled", "want"),
    [
        (1, 3, False, False, True),
        (0, 3, False, False, False),
        (2, 11, False, False, True),
        (9, 50, False, False, False),
        (3, 3, True, False, False),
        (0, 3, True, False, True),
        (0, 3, True, True, True),
        (0, 0, False, False, False),
    ],
)
def test_route53_rule(healthy: int, total: int, inverted: bool, disabled: bool, want: bool) -> None:
    assert verdict(healthy, total, inverted, disabled) is want


def test_stand_in_health_and_a_bounded_watcher() -> None:
    clock = ManualClock()
    up = {"ok": True}
    r53 = Route53StandIn(
        [HealthCheckSpec("hc-p", "http://127.0.0.1:1/", 10.0, 1, checkers=3)],
        [FailoverRecord(NAME, "PRIMARY", ("nlb-p",), 60, "hc-p")],
        clock=clock,
        prober=lambda *_: up["ok"],
    )
    watcher = HealthWatcher(StandInHealth(r53), {"us-east-1": "hc-p"}, interval_s=5.0, clock=clock)
    watcher.run(duration_s=12.0, max_polls=100)
    assert [entry.t for entry in watcher.log] == [0.0, 5.0, 10.0]
    up["ok"] = False
    r53.run(10.0)
    reading = watcher.poll()[0].reading
    assert (reading.healthy, reading.healthy_checkers, reading.checkers) == (False, 0, 3)
    r53.set_flags("hc-p", inverted=True, disabled=False)
    assert watcher.poll()[0].reading.healthy


@mock_aws
def test_route53_health_applies_inverted_and_disabled_to_moto() -> None:
    client: Any = boto3.client("route53", region_name="us-east-1")
    check_id = client.create_health_check(CallerReference="p", HealthCheckConfig=CHECK)[
        "HealthCheck"
    ]["Id"]
    health = Route53Health(client)
    assert health.read(check_id).healthy  # moto's observations always say Success
    client.update_health_check(HealthCheckId=check_id, Inverted=True)
    assert not health.read(check_id).healthy
    client.update_health_check(HealthCheckId=check_id, Disabled=True)
    assert health.read(check_id).healthy


def _observation(region: str, ok: bool) -> dict[str, Any]:
    status = "Success: HTTP Status Code 200, OK" if ok else "Failure: Connection timed out."
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return {
        "Region": region,
        "IPAddress": "203.0.113.7",
        "StatusReport": {"Status": status, "CheckedTime": when},
    }


@pytest.mark.parametrize(
    ("ok", "want"), [((True, False, False), True), ((False, False, False), False)]
)
def test_route53_health_counts_checker_observations(ok: tuple[bool, ...], want: bool) -> None:
    client = boto3.client("route53", region_name="us-east-1")
    regions = ("us-east-1", "us-west-2", "eu-west-1")
    with Stubber(client) as stub:  # botocore validates both sides against the Route 53 API model
        stub.add_response(
            "get_health_check",
            {
                "HealthCheck": {
                    "Id": "hc-1",
                    "CallerReference": "p",
                    "HealthCheckConfig": CHECK,
                    "HealthCheckVersion": 1,
                }
            },
            {"HealthCheckId": "hc-1"},
        )
        stub.add_response(
            "get_health_check_status",
            {
                "HealthCheckObservations": [
                    _observation(r, o) for r, o in zip(regions, ok, strict=True)
                ]
            },
            {"HealthCheckId": "hc-1"},
        )
        reading = Route53Health(client).read("hc-1")
    assert (reading.healthy, reading.healthy_checkers, reading.checkers) == (want, sum(ok), 3)
