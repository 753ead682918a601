"""verify_release: presence, size, own SHA-256, pointer parity, config drift, replication lag."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from drctl.store.errors import ReleaseNotFound
from drctl.store.layout import config_key, release_key
from drctl.store.publish import publish
from drctl.store.replicator import replicate_all, replicate_once
from drctl.store.s3ops import RegionStore, b64_sha256
from drctl.store.verify import check_object, verify_release
from engine_build.manifest import Manifest

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


def test_moto_accepts_a_wrong_checksum_but_verify_does_not(regions, build: Path) -> None:
    """The premise of hashing ourselves: moto stores whatever SHA-256 the client claims."""
    primary, _ = regions
    publish(primary, build)
    good = (build / "triton/resnet/1/model.onnx").read_bytes()
    bad = bytes(reversed(good))
    claimed = b64_sha256(hashlib.sha256(good).hexdigest())
    primary.s3.put_object(
        Bucket=primary.bucket,
        Key=ENGINE,
        Body=bad,
        ChecksumSHA256=claimed,
        ChecksumAlgorithm="SHA256",
    )
    head = primary.s3.head_object(Bucket=primary.bucket, Key=ENGINE, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == claimed
    report = verify_release(regions[:1], "resnet")
    assert [(f.key, f.kind) for f in report.findings] == [(ENGINE, "corrupt")]


class VanishingClient:
    """Wraps an S3 client; deletes the object right after HEAD, as a concurrent delete would."""

    def __init__(self, s3) -> None:  # type: ignore[no-untyped-def]
        self.s3 = s3

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.s3, name)

    def head_object(self, **kw):  # type: ignore[no-untyped-def]
        response = self.s3.head_object(**kw)
        for version in self.s3.list_object_versions(Bucket=kw["Bucket"], Prefix=kw["Key"])[
            "Versions"
        ]:
            self.s3.delete_object(
                Bucket=kw["Bucket"], Key=kw["Key"], VersionId=version["VersionId"]
            )
        return response


def test_object_deleted_mid_verify_is_missing(regions, build: Path) -> None:
    primary, _ = regions
    publish(primary, build)
    vanishing = RegionStore(
        primary.name, primary.region, primary.bucket, VanishingClient(primary.s3)
    )
    entry = Manifest.model_validate_json((build / "manifest.json").read_text()).file(
        "triton/resnet/1/model.onnx"
    )
    finding = check_object(vanishing, ENGINE, entry)
    assert finding is not None and finding.detail == "deleted while being verified"
