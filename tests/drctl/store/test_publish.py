"""publish: two-phase, checksummed, conditional, resumable."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest
from botocore.exceptions import ConnectionClosedError

from drctl.store.buildtree import S3Build, parse_location
from drctl.store.errors import BucketNotFound, BuildDirError, PublishConflict, TransferInterrupted
from drctl.store.layout import config_key, final_key, manifest_key, pinned_version, release_key
from drctl.store.publish import publish
from drctl.store.s3ops import RegionStore, get_json, get_text, list_keys
from tests.drctl.store.conftest import write_build


def test_publish_releases_version_one_with_pinned_config(regions, build: Path) -> None:
    primary, _ = regions
    result = publish(primary, build)
    assert (result.model, result.version, result.state) == ("resnet", 1, "released")
    assert result.previous_version is None
    release = get_json(primary.s3, primary.bucket, release_key("resnet"))
    assert release is not None and release[0]["version"] == 1
    config = get_text(primary.s3, primary.bucket, config_key("resnet"))
    assert config is not None and pinned_version(config) == 1
    engine = primary.s3.get_object(Bucket=primary.bucket, Key="repository/resnet/1/model.onnx")
    assert engine["Body"].read() == (build / "triton/resnet/1/model.onnx").read_bytes()
    assert list_keys(primary.s3, primary.bucket, "staging/") == []


def test_second_build_becomes_version_two_with_history(regions, tmp_path: Path) -> None:
    primary, _ = regions
    publish(primary, write_build(tmp_path, seed="a"))
    result = publish(primary, write_build(tmp_path, seed="b"))
    assert (result.version, result.previous_version) == (2, 1)
    release = get_json(primary.s3, primary.bucket, release_key("resnet"))
    assert release is not None and release[0]["previous"] == [1]


def test_republish_same_build_is_a_no_op(regions, build: Path) -> None:
    primary, _ = regions
    publish(primary, build)
    again = publish(primary, build)
    assert (again.version, again.state, again.bytes_uploaded) == (1, "already-released", 0)


def test_interrupted_upload_exposes_nothing_and_rerun_resumes(regions, build: Path) -> None:
    primary, _ = regions
    calls = {"n": 0}

    def flaky(_: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionClosedError(endpoint_url="https://s3.amazonaws.com")

    with pytest.raises(TransferInterrupted, match="re-run to resume"):
        publish(primary, build, progress=flaky)
    assert get_json(primary.s3, primary.bucket, release_key("resnet")) is None
    assert list_keys(primary.s3, primary.bucket, "repository/") == []
    result = publish(primary, build)
    assert (result.version, result.state) == (1, "released")
    assert result.bytes_uploaded < sum(p.stat().st_size for p in build.rglob("*") if p.is_file())


def test_crash_after_copy_before_release_is_invisible_then_resumed(regions, build: Path) -> None:
    primary, _ = regions
    import drctl.store.publish as pub

    original = pub.verify_final

    def crash(*args: object) -> None:
        raise KeyboardInterrupt

    pub.verify_final = crash  # type: ignore[assignment]
    try:
        with pytest.raises(KeyboardInterrupt):
            publish(primary, build)
    finally:
        pub.verify_final = original
    assert get_json(primary.s3, primary.bucket, release_key("resnet")) is None
    assert get_text(primary.s3, primary.bucket, manifest_key("resnet", 1)) is None
    assert publish(primary, build).version == 1


def test_corrupted_upload_is_caught_by_own_hash(regions, build: Path, monkeypatch) -> None:
    """moto accepts a wrong ChecksumSHA256; the store's own hash must refuse the version."""
    primary, _ = regions
    import drctl.store.publish as pub

    real_copy = pub.copy_object

    def corrupting_copy(s3, src, bucket, key, metadata, **kw):  # type: ignore[no-untyped-def]
        real_copy(s3, src, bucket, key, metadata, **kw)
        if key.endswith("model.onnx"):
            s3.put_object(Bucket=bucket, Key=key, Body=b"x" * 4096, Metadata=metadata)

    monkeypatch.setattr(pub, "copy_object", corrupting_copy)
    from drctl.store.errors import ChecksumMismatch

    with pytest.raises(ChecksumMismatch, match="re-run publish"):
        publish(primary, build)
    assert get_json(primary.s3, primary.bucket, release_key("resnet")) is None
    monkeypatch.setattr(pub, "copy_object", real_copy)
    assert publish(primary, build).state == "released"


def test_missing_bucket_is_bad_config(regions, build: Path) -> None:
    primary, _ = regions
    missing = RegionStore("primary", primary.region, "no-such-bucket-here", primary.s3)
    with pytest.raises(BucketNotFound, match="does not exist") as err:
        publish(missing, build)
    assert err.value.exit_code == 2


def test_build_dir_disagreeing_with_manifest_is_refused(regions, build: Path) -> None:
    primary, _ = regions
    (build / "reports/gates.json").write_text("tampered")
    with pytest.raises(BuildDirError, match="rebuild"):
        publish(primary, build)
    assert list_keys(primary.s3, primary.bucket, "") == []


def test_manifest_with_escaping_path_is_refused(regions, build: Path) -> None:
    primary, _ = regions
    data = json.loads((build / "manifest.json").read_text())
    data["files"][2]["path"] = "../outside.json"
    (build / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(BuildDirError, match="relative"):
        publish(primary, build)


def test_concurrent_publishers_cannot_both_win(regions, tmp_path: Path) -> None:
    primary, _ = regions
    builds = [write_build(tmp_path, seed=s) for s in ("x", "y")]
    barrier = threading.Barrier(2)
    import drctl.store.publish as pub

    real_claim = pub.claim_version

    def synced_claim(*args):  # type: ignore[no-untyped-def]
        barrier.wait(timeout=10)
        return real_claim(*args)

    outcomes: list[object] = []

    def run(build: Path) -> None:
        try:
            outcomes.append(publish(primary, build))
        except PublishConflict as exc:
            outcomes.append(exc)

    pub.claim_version = synced_claim  # type: ignore[assignment]
    try:
        threads = [threading.Thread(target=run, args=(b,)) for b in builds]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        pub.claim_version = real_claim
    conflicts = [o for o in outcomes if isinstance(o, PublishConflict)]
    winners = [o for o in outcomes if not isinstance(o, PublishConflict)]
    assert len(conflicts) == 1 and len(winners) == 1
    claims = list_keys(primary.s3, primary.bucket, "claims/resnet/")
    assert claims == ["claims/resnet/1.json", "claims/resnet/2.json"]


def test_final_keys_layout(regions, build: Path) -> None:
    primary, _ = regions
    publish(primary, build)
    keys = set(list_keys(primary.s3, primary.bucket, ""))
    assert final_key("resnet", 1, "triton/resnet/1/model.onnx") in keys
    assert "versions/resnet/1/triton/resnet/config.pbtxt" in keys
    assert "versions/resnet/1/reports/gates.json" in keys
    raw = primary.s3.get_object(Bucket=primary.bucket, Key=manifest_key("resnet", 1))["Body"]
    assert (
        hashlib.sha256(raw.read()).hexdigest()
        == hashlib.sha256((build / "manifest.json").read_bytes()).hexdigest()
    )


def upload_build(store: RegionStore, build: Path, prefix: str) -> S3Build:
    """Put a build where engine_build --out s3://... would."""
    for path in build.rglob("*"):
        if path.is_file():
            key = f"{prefix}/{path.relative_to(build).as_posix()}"
            store.s3.upload_file(str(path), store.bucket, key)
    return S3Build(store.bucket, prefix)


def test_publish_from_an_s3_build_location(regions, build: Path) -> None:
    primary, _ = regions
    tree = RegionStore("primary", primary.region, primary.bucket, primary.s3, "us-east-1")
    source = upload_build(primary, build, "us-east-1/engines/resnet/cpu/abc")
    result = publish(tree, source)
    assert (result.version, result.state) == (1, "released")
    engine = "us-east-1/repository/resnet/1/model.onnx"
    body = primary.s3.get_object(Bucket=primary.bucket, Key=engine)["Body"].read()
    assert body == (build / "triton/resnet/1/model.onnx").read_bytes()
    assert publish(tree, source).state == "already-released"


def test_corrupt_s3_build_is_refused_by_the_final_hash(regions, build: Path) -> None:
    primary, _ = regions
    source = upload_build(primary, build, "engines/x")
    primary.s3.put_object(
        Bucket=primary.bucket,
        Key="engines/x/triton/resnet/1/model.onnx",
        Body=b"\0" * (build / "triton/resnet/1/model.onnx").stat().st_size,
    )
    from drctl.store.errors import ChecksumMismatch

    with pytest.raises(ChecksumMismatch):
        publish(primary, source)
    assert get_json(primary.s3, primary.bucket, release_key("resnet")) is None


def test_s3_location_without_manifest_is_bad_input(regions) -> None:
    primary, _ = regions
    with pytest.raises(BuildDirError, match="does not exist") as err:
        publish(primary, parse_location(f"s3://{primary.bucket}/engines/none"))
    assert err.value.exit_code == 2


def test_crash_between_pointer_and_config_is_reported_and_repaired(
    regions, build: Path, monkeypatch
) -> None:
    primary, _ = regions
    publish(primary, write_build(build.parent, seed="old"))
    import drctl.store.release as rel

    real_sync = rel.sync_config

    def crash(*args: object) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(rel, "sync_config", crash)
    with pytest.raises(KeyboardInterrupt):
        publish(primary, build)
    monkeypatch.setattr(rel, "sync_config", real_sync)
    from drctl.store.verify import verify_release

    report = verify_release([primary], "resnet")
    assert [(f.key, f.kind) for f in report.findings] == [(config_key("resnet"), "stale")]
    config = get_text(primary.s3, primary.bucket, config_key("resnet"))
    assert config is not None and pinned_version(config) == 1
    assert publish(primary, build).state == "already-released"
    assert verify_release([primary], "resnet").ok


def test_large_files_go_multipart_with_part_checksums(regions, tmp_path: Path, monkeypatch) -> None:
    """Multipart path with small parts (5 MiB, the S3 minimum) instead of the default 64 MiB."""
    from boto3.s3.transfer import TransferConfig

    import drctl.store.s3ops as ops

    mib = 1024 * 1024
    small = TransferConfig(
        multipart_threshold=5 * mib, multipart_chunksize=5 * mib, max_concurrency=4
    )
    monkeypatch.setattr(ops, "TRANSFER", small)
    primary, _ = regions
    build = write_build(tmp_path, engine_bytes=11 * mib)
    publish(primary, build, keep_staging=True)
    staged = primary.s3.head_object(
        Bucket=primary.bucket,
        Key=next(
            k for k in list_keys(primary.s3, primary.bucket, "staging/") if k.endswith(".onnx")
        ),
    )
    assert staged["ETag"].endswith('-3"')
    from drctl.store.verify import verify_release

    assert verify_release([primary], "resnet").ok
