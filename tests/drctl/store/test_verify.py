"""verify_release: presence, size, own SHA-256, pointer parity, config drift, replication lag."""

from __future__ import annotations

from pathlib import Path

import pytest

from drctl.store.errors import ReleaseNotFound
from drctl.store.layout import config_key, release_key
from drctl.store.publish import publish
from drctl.store.replicator import replicate_all, replicate_once
from drctl.store.verify import verify_release

ENGINE = "repository/resnet/1/model.onnx"


def test_replicated_release_verifies_clean(regions, build: Path) -> None:
    publish(regions[0], build)
    replicate_all(list(regions))
    report = verify_release(regions, "resnet")
    assert report.ok and report.version == 1 and report.max_lag_seconds == 0
    assert [r.released_version for r in report.regions] == [1, 1]
    assert report.regions[0].bytes_hashed == sum(
        p.stat().st_size for p in (build).rglob("*") if p.is_file() and p.name != "manifest.json"
    )


def test_unreplicated_release_reports_missing_stale_and_pending(regions, build: Path) -> None:
    publish(regions[0], build)
    report = verify_release(regions, "resnet")
    kinds = {(f.region, f.kind) for f in report.findings}
    assert ("dr", "missing") in kinds and ("dr", "stale") in kinds
    assert ("primary", "pending") in kinds
    assert not any(
        f.region == "primary" and f.kind in {"missing", "corrupt"} for f in report.findings
    )


def test_wrong_bytes_with_right_size_and_metadata_are_corrupt(regions, build: Path) -> None:
    """moto keeps whatever checksum a client claims; only the store's own hash catches this."""
    primary, dr = regions
    publish(primary, build)
    replicate_all(list(regions))
    size = (build / "triton/resnet/1/model.onnx").stat().st_size
    meta = dr.s3.head_object(Bucket=dr.bucket, Key=ENGINE)["Metadata"]
    dr.s3.put_object(Bucket=dr.bucket, Key=ENGINE, Body=b"\0" * size, Metadata=meta)
    report = verify_release(regions, "resnet")
    assert [(f.region, f.key, f.kind) for f in report.findings if f.kind == "corrupt"] == [
        ("dr", ENGINE, "corrupt")
    ]
    shallow = verify_release(regions, "resnet", deep=False)
    assert not any(f.kind == "corrupt" for f in shallow.findings)


def test_config_drift_is_stale(regions, build: Path) -> None:
    primary, _ = regions
    publish(primary, build)
    primary.s3.put_object(Bucket=primary.bucket, Key=config_key("resnet"), Body=b'name: "x"\n')
    report = verify_release(regions[:1], "resnet")
    assert [(f.key, f.kind) for f in report.findings] == [(config_key("resnet"), "stale")]


def test_lagging_replication_is_reported_with_its_age(regions, build: Path) -> None:
    primary, dr = regions
    publish(primary, build)
    replicate_once(primary, [dr], fail=lambda key: key == ENGINE)
    report = verify_release(regions, "resnet")
    assert ("primary", ENGINE, "failed") in {(f.region, f.key, f.kind) for f in report.findings}


def test_nothing_released_is_bad_input(regions) -> None:
    with pytest.raises(ReleaseNotFound, match="publish it first"):
        verify_release(regions, "resnet")
    with pytest.raises(ReleaseNotFound, match="drctl store versions"):
        verify_release(regions, "resnet", version=3)


def test_pointer_deleted_in_one_region(regions, build: Path) -> None:
    primary, dr = regions
    publish(primary, build)
    replicate_all(list(regions))
    dr.s3.delete_object(Bucket=dr.bucket, Key=release_key("resnet"))
    report = verify_release(regions, "resnet")
    assert ("dr", release_key("resnet"), "stale") in {
        (f.region, f.key, f.kind) for f in report.findings
    }
