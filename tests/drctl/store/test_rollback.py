"""versions and rollback in both regions, with a Triton load request."""

from __future__ import annotations

from pathlib import Path

import pytest

from drctl.store.errors import ReleaseNotFound, TritonLoadFailed
from drctl.store.layout import config_key, pinned_version
from drctl.store.publish import publish
from drctl.store.replicator import replicate_all
from drctl.store.rollback import VersionIncomplete, list_versions, rollback
from drctl.store.s3ops import get_text
from drctl.store.triton import load_model
from drctl.store.verify import read_release
from tests.drctl.store.conftest import write_build


def two_versions(regions, tmp_path: Path) -> None:
    publish(regions[0], write_build(tmp_path, seed="a"))
    publish(regions[0], write_build(tmp_path, seed="b"))
    replicate_all(list(regions))


def test_versions_lists_manifests_and_the_released_one(regions, tmp_path: Path) -> None:
    two_versions(regions, tmp_path)
    versions = list_versions(regions[0], "resnet")
    assert [(v.version, v.complete, v.released, v.precision) for v in versions] == [
        (1, True, False, "fp32"),
        (2, True, True, "fp32"),
    ]


def test_rollback_moves_both_regions_and_loads_triton(regions, tmp_path: Path, triton) -> None:
    two_versions(regions, tmp_path)
    result = rollback(regions, "resnet", endpoints=[triton.url])
    assert result.version == 1 and result.before == {"primary": 2, "dr": 2}
    for store in regions:
        release = read_release(store, "resnet")[0]
        assert release is not None and (release.version, release.previous) == (1, [])
        assert pinned_version(get_text(store.s3, store.bucket, config_key("resnet")) or "") == 1
    assert triton.loaded == ["resnet"]
    with pytest.raises(ReleaseNotFound, match="--to"):
        rollback(regions, "resnet")
    assert rollback(regions, "resnet", to=2).version == 2


def test_rollback_refuses_a_version_corrupt_in_one_region(regions, tmp_path: Path) -> None:
    two_versions(regions, tmp_path)
    dr = regions[1]
    dr.s3.put_object(Bucket=dr.bucket, Key="repository/resnet/1/model.onnx", Body=b"bad")
    with pytest.raises(VersionIncomplete, match="restore --region dr --version 1"):
        rollback(regions, "resnet")
    assert all(read_release(s, "resnet")[0].version == 2 for s in regions)  # type: ignore[union-attr]


def test_triton_refusal_and_unreachable_are_clear_errors(triton) -> None:
    triton.refuse_load = True
    with pytest.raises(TritonLoadFailed, match="failed to load"):
        load_model(triton.url, "resnet")
    with pytest.raises(TritonLoadFailed, match="did not load"):
        load_model("http://127.0.0.1:9", "resnet")
