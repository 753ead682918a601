"""AWS for the rehearsal: an embedded moto server with what the two stacks declare.

Buckets (versioned, replication configured both ways), the hosted zone, the two Route 53
health checks and the two failover records are created through the ordinary boto3 APIs, from
the same validated stack settings the Pulumi program reads, so drills and drctl commands talk
to them exactly as they would to AWS (``AWS_ENDPOINT_URL`` points at the server).
"""

from __future__ import annotations

import logging
import os
import socket
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from infra.config import Settings
from infra.naming import bucket_name

ACCOUNT = "123456789012"  # moto's default account
ZONE = "example.com."
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "rehearsal",
    "AWS_SECRET_ACCESS_KEY": "rehearsal",
    "AWS_SESSION_TOKEN": "rehearsal",
}


@dataclass(frozen=True)
class DeclaredRegion:
    """One stack's AWS objects as created in the emulator."""

    stack: str
    region: str
    role: str
    bucket: str
    peer_bucket: str
    nlb_name: str
    health_check_id: str


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """Run moto on 127.0.0.1 and point every AWS client of this process at it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    reset_moto(endpoint)  # moto's state is process-wide: start from an empty account
    saved = {k: os.environ.get(k) for k in [*AWS_ENV, "AWS_ENDPOINT_URL"]}
    os.environ.update({**AWS_ENV, "AWS_ENDPOINT_URL": endpoint})
    try:
        yield endpoint
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()


def reset_moto(endpoint: str) -> None:
    """Empty every moto backend of this process (moto's documented reset API)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def nlb_name(settings: Settings) -> str:
    """Stand-in DNS name of a region's load balancer (mapped to its local Triton)."""
    return f"{settings.stack}-nlb.elb.{settings.region}.amazonaws.com"


def create_bucket(settings: Settings) -> str:
    """The region's model bucket, versioned, named as the stack names it."""
    name = bucket_name(settings.name_prefix, ACCOUNT, settings.region)
    s3: Any = boto3.client("s3", region_name=settings.region)
    location = (
        {}
        if settings.region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": settings.region}}
    )
    s3.create_bucket(Bucket=name, **location)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def replicate_to_peer(settings: Settings, source: str, destination: str) -> None:
    """The replication rule infra/model_store.py declares, through the S3 API."""
    rule: dict[str, Any] = {
        "ID": f"to-{settings.peer_region}",
        "Status": "Enabled",
        "Priority": 1,
        "Filter": {},
        "DeleteMarkerReplication": {
            "Status": "Enabled" if settings.store.replicate_delete_markers else "Disabled"
        },
        "Destination": {"Bucket": f"arn:aws:s3:::{destination}", "StorageClass": "STANDARD"},
    }
    s3: Any = boto3.client("s3", region_name=settings.region)
    s3.put_bucket_replication(
        Bucket=source,
        ReplicationConfiguration={
            "Role": (
                f"arn:aws:iam::{ACCOUNT}:role/{settings.name_prefix}-replication-{settings.region}"
            ),
            "Rules": [rule],
        },
    )


def declare_failover(route53: Any, zone_id: str, settings: Settings) -> str:
    """The health check and failover record infra/failover.py declares; returns the check id."""
    hc = settings.health_check
    check = route53.create_health_check(
        CallerReference=str(uuid.uuid4()),
        HealthCheckConfig={
            "Type": "HTTP",
            "FullyQualifiedDomainName": nlb_name(settings),
            "Port": hc.port,
            "ResourcePath": hc.path,
            "RequestInterval": hc.interval,
            "FailureThreshold": hc.failure_threshold,
            "Regions": list(hc.regions),
        },
    )["HealthCheck"]["Id"]
    record = {
        "Name": settings.dns.hostname,
        "Type": "A",
        "SetIdentifier": f"{settings.role}-{settings.region}",
        "Failover": "PRIMARY" if settings.role == "primary" else "SECONDARY",
        "HealthCheckId": check,
        "AliasTarget": {
            "HostedZoneId": "ZNLB" + settings.region.replace("-", "").upper(),
            "DNSName": nlb_name(settings),
            "EvaluateTargetHealth": True,
        },
    }
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": record}]},
    )
    return str(check)


def declare_stacks(primary: Settings, dr: Settings) -> tuple[str, list[DeclaredRegion]]:
    """Create both stacks' buckets, replication and Route 53 objects; return the zone id."""
    buckets = {s.stack: create_bucket(s) for s in (primary, dr)}
    replicate_to_peer(primary, buckets[primary.stack], buckets[dr.stack])
    replicate_to_peer(dr, buckets[dr.stack], buckets[primary.stack])
    route53 = boto3.client("route53", region_name="us-east-1")
    zone_id = route53.create_hosted_zone(Name=ZONE, CallerReference=str(uuid.uuid4()))[
        "HostedZone"
    ]["Id"].split("/")[-1]
    declared = []
    for settings, peer in ((primary, dr), (dr, primary)):
        check = declare_failover(route53, zone_id, settings)
        declared.append(
            DeclaredRegion(
                settings.stack,
                settings.region,
                settings.role,
                buckets[settings.stack],
                buckets[peer.stack],
                nlb_name(settings),
                check,
            )
        )
    return zone_id, declared


def stack_outputs(region: DeclaredRegion, settings: Settings, endpoint: str) -> dict[str, Any]:
    """What `pulumi stack output --json` would print for this stack in the rehearsal."""
    return {
        "region": region.region,
        "role": region.role,
        "peerRegion": settings.peer_region,
        "bucketName": region.bucket,
        "bucketArn": f"arn:aws:s3:::{region.bucket}",
        "peerBucketName": region.peer_bucket,
        "kmsKeyArn": f"arn:aws:kms:{region.region}:{ACCOUNT}:key/rehearsal",
        "clusterName": f"{settings.name_prefix}-{settings.stack}",
        "healthCheckId": region.health_check_id,
        "serviceHostname": settings.dns.hostname,
        "inferenceEndpoint": f"http://{endpoint}",
    }
