"""The AWS environment's fault hooks against moto: the same API calls a real drill makes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from drctl.drill.aws_env import AwsEnvironment, UnsupportedOnAws
from drctl.drill.engine import Timeline
from drctl.store.outputs import load_stack_outputs

REGIONS = {"primary": "us-east-1", "dr": "us-west-2"}


def _bucket(region: str) -> str:
    return f"trt-dr-models-123456789012-{region}"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[AwsEnvironment]:
    with mock_aws():
        route53 = boto3.client("route53")
        files = []
        for role, region in REGIONS.items():
            s3 = boto3.client("s3", region_name=region)
            location = (
                {}
                if region == "us-east-1"
                else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            )
            s3.create_bucket(Bucket=_bucket(region), **location)
            s3.put_bucket_versioning(
                Bucket=_bucket(region), VersioningConfiguration={"Status": "Enabled"}
            )
            check = route53.create_health_check(
                CallerReference=str(uuid.uuid4()),
                HealthCheckConfig={
                    "Type": "HTTP",
                    "FullyQualifiedDomainName": f"{role}.example.com",
                    "Port": 8000,
                    "ResourcePath": "/v2/health/ready",
                },
            )["HealthCheck"]["Id"]
            peer = REGIONS["dr" if role == "primary" else "primary"]
            outputs = {
                "region": region,
                "role": role,
                "peerRegion": peer,
                "bucketName": _bucket(region),
                "bucketArn": f"arn:aws:s3:::{_bucket(region)}",
                "peerBucketName": _bucket(peer),
                "kmsKeyArn": "arn:aws:kms:x",
                "clusterName": "c",
                "healthCheckId": check,
                "serviceHostname": "infer.example.com",
                "inferenceEndpoint": f"http://{role}.example.com:8000",
            }
            path = tmp_path / f"{role}.json"
            path.write_text(json.dumps(outputs))
            files.append(load_stack_outputs(path))
        primary_s3 = boto3.client("s3", region_name="us-east-1")
        primary_s3.put_bucket_replication(
            Bucket=_bucket("us-east-1"),
            ReplicationConfiguration={
                "Role": "arn:aws:iam::123456789012:role/r",
                "Rules": [
                    {
                        "ID": "to-us-west-2",
                        "Status": "Enabled",
                        "Priority": 1,
                        "Filter": {},
                        "DeleteMarkerReplication": {"Status": "Disabled"},
                        "Destination": {"Bucket": f"arn:aws:s3:::{_bucket('us-west-2')}"},
                    }
                ],
            },
        )
        yield AwsEnvironment(files, "classifier", 300.0)


def _inverted(env: AwsEnvironment) -> bool:
    check = env.route53.get_health_check(HealthCheckId=env.outputs["primary"].health_check_id)
    return bool(check["HealthCheck"]["HealthCheckConfig"]["Inverted"])


def test_region_outage_inverts_the_primary_check_and_healing_reverts_it(
    env: AwsEnvironment,
) -> None:
    env.fail_primary_region()
    assert _inverted(env)
    env.heal_primary_region()
    assert not _inverted(env)


def test_replication_pause_disables_rules_and_resume_restores_them(env: AwsEnvironment) -> None:
    s3 = env.trees["primary"][0].s3
    bucket = env.trees["primary"][0].bucket
    env.pause_replication()
    rules = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"]
    assert [r["Status"] for r in rules] == ["Disabled"]
    env.resume_replication()
    rules = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"]
    assert [r["Status"] for r in rules] == ["Enabled"]


def test_gpu_node_loss_is_not_automated_and_says_what_to_do(env: AwsEnvironment) -> None:
    with pytest.raises(UnsupportedOnAws, match="kubectl -n triton delete pod"):
        env.replace_primary_node(Timeline())


def test_trees_follow_the_stack_outputs(env: AwsEnvironment) -> None:
    own, replica = env.trees["primary"]
    assert (own.bucket, own.root, replica.bucket, replica.root) == (
        _bucket("us-east-1"),
        "us-east-1",
        _bucket("us-west-2"),
        "us-east-1",
    )
    assert env.baseline == {"primary": 0, "dr": 0}
