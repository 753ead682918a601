"""Model bucket hardening, the multi-Region key, and replication in both directions."""

from __future__ import annotations

import json

import pytest

from infra.offline import Evaluation, evaluate
from infra.peer import PeerNotReady

from .conftest import config_with


def test_bucket_is_versioned_encrypted_private_and_tls_only(stack: Evaluation) -> None:
    key_arn = stack.outputs["kmsKeyArn"]
    versioning = stack.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    sse = stack.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    default = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn}
    block = stack.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls"))
    assert block["restrictPublicBuckets"] is True
    policy = json.loads(stack.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    statement = policy["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_noncurrent_versions_expire(stack: Evaluation) -> None:
    rules = stack.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs[
        "rules"
    ]
    assert rules[0]["noncurrentVersionExpiration"] == {
        "noncurrentDays": 30,
        "newerNoncurrentVersions": 3,
    }


def test_primary_owns_the_multi_region_key_and_dr_its_replica(
    primary: Evaluation, dr: Evaluation
) -> None:
    keys = [k for k in primary.of_type("aws:kms/key:Key") if k.inputs.get("multiRegion")]
    assert len(keys) == 1
    replica = dr.one("aws:kms/replicaKey:ReplicaKey")
    assert replica.inputs["primaryKeyArn"].startswith("arn:aws:kms:us-east-1:")


@pytest.mark.parametrize("name,peer", [("primary", "us-west-2"), ("dr", "us-east-1")])
def test_replicates_to_the_peer_with_rtc(name: str, peer: str) -> None:
    evaluation = evaluate(name)
    config = evaluation.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    (rule,) = config.inputs["rules"]
    destination = rule["destination"]
    assert destination["bucket"] == f"arn:aws:s3:::trt-dr-models-123456789012-{peer}"
    assert destination["encryptionConfiguration"]["replicaKmsKeyId"].startswith(
        f"arn:aws:kms:{peer}:"
    )
    assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert destination["metrics"] == {"status": "Enabled", "eventThreshold": {"minutes": 15}}
    assert rule["deleteMarkerReplication"] == {"status": "Disabled"}
    criteria = rule["sourceSelectionCriteria"]
    assert criteria["replicaModifications"] == {"status": "Enabled"}
    assert criteria["sseKmsEncryptedObjects"] == {"status": "Enabled"}
    versioning = evaluation.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.urn in config.dependencies


def test_replication_role_is_least_privilege(primary: Evaluation) -> None:
    (replication,) = [
        p
        for p in primary.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.name.endswith("store-replication")
    ]
    policy = json.loads(replication.inputs["policy"])
    by_action = {a: s for s in policy["Statement"] for a in s["Action"]}
    assert by_action["s3:ReplicateObject"]["Resource"] == [
        "arn:aws:s3:::trt-dr-models-123456789012-us-west-2/*"
    ]
    assert by_action["kms:Decrypt"]["Resource"][0].startswith("arn:aws:kms:us-east-1:")
    assert by_action["kms:Encrypt"]["Resource"][0].startswith("arn:aws:kms:us-west-2:")
    assert all("*" not in a for a in by_action)


def test_delete_marker_replication_can_be_enabled() -> None:
    config = config_with("primary", store={"replicateDeleteMarkers": True})
    evaluation = evaluate("primary", config=config)
    rule = evaluation.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig").inputs["rules"][
        0
    ]
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}


def test_first_primary_deployment_skips_replication_until_the_peer_exists() -> None:
    config = config_with("primary", peerDeployed="false")
    evaluation = evaluate("primary", config=config)
    assert evaluation.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig") == []
    assert evaluation.of_type("pulumi:pulumi:StackReference") == []
    assert evaluation.outputs["replication"] == "waiting-for-peer"


def test_missing_peer_stack_fails_with_the_bootstrap_step() -> None:
    with pytest.raises(
        PeerNotReady, match=r"no outputs .* deploy it first \(`pulumi up -s primary`\)"
    ):
        evaluate("dr", peer_outputs={})
    with pytest.raises(
        PeerNotReady, match=r"pulumi config set trt-dr:peerDeployed false -s primary"
    ):
        evaluate("primary", peer_outputs={})


def test_peer_in_the_wrong_region_is_rejected() -> None:
    outputs = {
        "role": "primary",
        "region": "eu-west-1",
        "bucketName": "x",
        "bucketArn": "arn:aws:s3:::x",
        "kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/mrk-1",
    }
    with pytest.raises(PeerNotReady, match="exports region='eu-west-1', expected 'us-east-1'"):
        evaluate("dr", peer_outputs=outputs)
