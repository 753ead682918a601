"""The stand-in replicator: applies the buckets' rules, with injectable lag and failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from drctl.store.replication import SOURCE_VERSION_META, pair_state
from drctl.store.replicator import (
    RealAwsRefused,
    ReplicatorThread,
    parse_rules,
    replicate_all,
    replicate_once,
)
from drctl.store.s3ops import RegionStore, head


def put(store: RegionStore, key: str, body: bytes = b"data") -> str:
    return str(store.s3.put_object(Bucket=store.bucket, Key=key, Body=body)["VersionId"])


def test_copies_new_versions_and_marks_both_sides(regions) -> None:
    primary, dr = regions
    version = put(primary, "repository/m/1/model.onnx")
    result = replicate_once(primary, [dr])
    assert result.copied == ["repository/m/1/model.onnx"]
    copy = head(dr.s3, dr.bucket, "repository/m/1/model.onnx")
    assert copy is not None and copy.metadata[SOURCE_VERSION_META] == version
    tags = primary.s3.get_object_tagging(
        Bucket=primary.bucket, Key="repository/m/1/model.onnx", VersionId=version
    )["TagSet"]
    assert tags == [{"Key": "trtdr-replication", "Value": f"COMPLETED@{version}"}]
    assert replicate_once(primary, [dr]).copied == []


def test_a_server_side_copy_of_a_replicated_object_is_replicated_too(regions) -> None:
    primary, dr = regions
    version = put(primary, "engines/m/cpu/k/model.onnx")
    replicate_once(primary, [dr])
    primary.s3.copy_object(  # the publish step copies build files like this; tags come along
        Bucket=primary.bucket,
        Key="repository/m/2/model.onnx",
        CopySource={
            "Bucket": primary.bucket,
            "Key": "engines/m/cpu/k/model.onnx",
            "VersionId": version,
        },
    )
    assert replicate_once(primary, [dr]).copied == ["repository/m/2/model.onnx"]


def test_replicas_are_not_sent_back(regions) -> None:
    primary, dr = regions
    put(primary, "a.json")
    passes = replicate_all([primary, dr])
    assert passes["primary"].copied == ["a.json"]
    assert replicate_all([primary, dr])["dr"].copied == []


def test_lag_keeps_versions_pending_until_old_enough(regions) -> None:
    primary, dr = regions
    put(primary, "k.json")
    assert replicate_once(primary, [dr], lag_seconds=3600).delayed == ["k.json"]
    state = pair_state("k.json", ("primary", primary.s3, primary.bucket), ("dr", dr.s3, dr.bucket))
    assert state.status == "pending" and state.source_region == "primary"
    later = datetime.now(UTC) + timedelta(hours=2)
    assert replicate_once(primary, [dr], lag_seconds=3600, now=later).copied == ["k.json"]


def test_injected_failure_is_reported_and_not_retried(regions) -> None:
    primary, dr = regions
    put(primary, "bad.bin")
    put(primary, "good.bin")
    result = replicate_once(primary, [dr], fail=lambda key: key == "bad.bin")
    assert (result.failed, result.copied) == (["bad.bin"], ["good.bin"])
    state = pair_state("bad.bin", ("primary", primary.s3, primary.bucket), ("dr", dr.s3, dr.bucket))
    assert state.status == "failed"
    assert replicate_once(primary, [dr]).copied == []


def test_new_source_version_makes_replica_stale_until_next_pass(regions) -> None:
    primary, dr = regions
    first = put(primary, "r.json", b"1")
    replicate_once(primary, [dr])
    second = put(primary, "r.json", b"2")
    state = pair_state("r.json", ("primary", primary.s3, primary.bucket), ("dr", dr.s3, dr.bucket))
    assert (state.status, state.source_version, state.replica_of_version) == (
        "stale",
        second,
        first,
    )
    replicate_once(primary, [dr])
    assert dr.s3.get_object(Bucket=dr.bucket, Key="r.json")["Body"].read() == b"2"


def test_prefix_status_and_delete_markers_from_explicit_config(regions) -> None:
    """moto drops Filter on round-trip, so the rule settings are exercised via ``config=``."""
    primary, dr = regions
    config = {
        "Rules": [
            {
                "ID": "repo",
                "Status": "Enabled",
                "Priority": 2,
                "Filter": {"Prefix": "repository/"},
                "DeleteMarkerReplication": {"Status": "Enabled"},
                "Destination": {"Bucket": f"arn:aws:s3:::{dr.bucket}"},
            },
            {
                "ID": "off",
                "Status": "Disabled",
                "Priority": 1,
                "Filter": {"Prefix": ""},
                "Destination": {"Bucket": f"arn:aws:s3:::{dr.bucket}"},
            },
        ]
    }
    put(primary, "repository/x")
    put(primary, "staging/y")
    assert replicate_once(primary, [dr], config=config).copied == ["repository/x"]
    primary.s3.delete_object(Bucket=primary.bucket, Key="repository/x")
    assert replicate_once(primary, [dr], config=config).deleted == ["repository/x"]
    assert head(dr.s3, dr.bucket, "repository/x") is None
    off = {"Status": "Disabled"}
    no_markers = {"Rules": [dict(config["Rules"][0], DeleteMarkerReplication=off)]}
    put(primary, "repository/z")
    replicate_once(primary, [dr], config=no_markers)
    primary.s3.delete_object(Bucket=primary.bucket, Key="repository/z")
    assert replicate_once(primary, [dr], config=no_markers).deleted == []
    assert head(dr.s3, dr.bucket, "repository/z") is not None


def test_moto_round_trip_drops_filter(regions) -> None:
    """Documents the moto gap the stand-in works around."""
    primary, _ = regions
    rules = parse_rules(
        primary.s3.get_bucket_replication(Bucket=primary.bucket)["ReplicationConfiguration"]
    )
    assert rules[0].prefix == "" and rules[0].delete_markers is False


def test_refuses_real_aws_endpoints(aws_env) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    with pytest.raises(RealAwsRefused, match="real S3 replicates"):
        replicate_once(RegionStore("p", "us-east-1", "some-bucket", s3), [])


def test_background_thread_replicates_until_stopped(regions) -> None:
    primary, dr = regions
    put(primary, "t.json")
    thread = ReplicatorThread([primary, dr], interval=0.05)
    thread.start()
    try:
        for _ in range(100):
            if head(dr.s3, dr.bucket, "t.json"):
                break
            thread._stop_event.wait(0.05)
    finally:
        thread.stop()
    assert head(dr.s3, dr.bucket, "t.json") is not None and thread.errors == []
