"""The whole program per stack: resource inventory, explicit providers, regional isolation."""

from __future__ import annotations

from collections import Counter

import pytest

from infra.offline import Evaluation, evaluate

EXPECTED_TYPES = {
    "pulumi:providers:aws": 1,
    "pulumi:providers:kubernetes": 1,
    "pulumi:pulumi:StackReference": 1,
    "aws:ec2/vpc:Vpc": 1,
    "aws:ec2/subnet:Subnet": 6,
    "aws:ec2/natGateway:NatGateway": 3,
    "aws:eks/cluster:Cluster": 1,
    "aws:eks/nodeGroup:NodeGroup": 2,
    "aws:eks/addon:Addon": 3,
    "aws:s3/bucket:Bucket": 1,
    "aws:s3/bucketVersioning:BucketVersioning": 1,
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": 1,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
    "aws:route53/healthCheck:HealthCheck": 1,
    "aws:route53/record:Record": 1,
    "kubernetes:core/v1:Service": 2,  # the NLB and the headless one over the pods
}


def test_inventory(stack: Evaluation) -> None:
    counts = Counter(r.type for r in stack.resources)
    for type_, count in EXPECTED_TYPES.items():
        assert counts[type_] == count, type_


def test_key_types_differ_by_role(primary: Evaluation, dr: Evaluation) -> None:
    assert len(primary.of_type("aws:kms/key:Key")) == 2  # cluster secrets + multi-Region primary
    assert primary.of_type("aws:kms/replicaKey:ReplicaKey") == []
    assert len(dr.of_type("aws:kms/key:Key")) == 1  # cluster secrets only
    assert len(dr.of_type("aws:kms/replicaKey:ReplicaKey")) == 1


def test_every_custom_resource_has_an_explicit_provider(stack: Evaluation) -> None:
    explicit = set(stack.providers)
    for resource in stack.resources:
        if not resource.custom or resource.type.startswith("pulumi:"):
            continue
        assert resource.provider is not None, resource.name
        assert resource.provider.rsplit("::", 1)[0] in explicit, resource.name
        assert "::default" not in resource.provider, resource.name


@pytest.mark.parametrize("name,region", [("primary", "us-east-1"), ("dr", "us-west-2")])
def test_a_stack_touches_only_its_own_region(name: str, region: str) -> None:
    evaluation = evaluate(name)
    regions = {evaluation.region_of(r) for r in evaluation.resources if r.custom}
    regions.discard(None)  # providers themselves and the stack reference
    assert regions == {region}
    aws_providers = evaluation.of_type("pulumi:providers:aws")
    assert [p.inputs["region"] for p in aws_providers] == [region]


def test_every_resource_is_parented_by_a_component(stack: Evaluation) -> None:
    top_level = {"pulumi:providers:aws", "pulumi:pulumi:StackReference"}
    for resource in stack.resources:
        if resource.type in top_level or resource.type.startswith("trt-dr:"):
            continue
        assert stack.component_of(resource).startswith("trt-dr:infra:"), resource.name


def test_only_the_mocked_provider_functions_are_called(stack: Evaluation) -> None:
    assert set(stack.calls) == {
        "aws:index/getCallerIdentity:getCallerIdentity",
        "aws:index/getAvailabilityZones:getAvailabilityZones",
        "aws:lb/getHostedZoneId:getHostedZoneId",
    }


def test_outputs_for_peer_and_drctl(primary: Evaluation, dr: Evaluation) -> None:
    assert primary.outputs["role"] == "primary"
    assert primary.outputs["bucketName"] == "trt-dr-models-123456789012-us-east-1"
    assert primary.outputs["peerBucketName"] == dr.outputs["bucketName"]
    assert dr.outputs["peerBucketName"] == primary.outputs["bucketName"]
    for key in ("kmsKeyArn", "clusterName", "healthCheckId", "serviceHostname", "bucketArn"):
        assert primary.outputs[key] and dr.outputs[key], key
    assert dr.outputs["kmsKeyArn"].startswith("arn:aws:kms:us-west-2:")
    assert primary.outputs["inferenceEndpoint"].endswith(".elb.us-east-1.amazonaws.com:8000")
