"""Against real S3 (skipped unless TRT_DR_AWS_TESTS=1): what moto cannot prove.

Needs ``TRT_DR_TEST_BUCKET``, an existing versioned bucket the credentials may write; the test
works under a unique prefix and deletes what it wrote.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import boto3
import pytest

from drctl.store.errors import PublishConflict
from drctl.store.publish import publish
from drctl.store.s3ops import RegionStore, list_versions, put_bytes
from drctl.store.verify import verify_release
from tests.drctl.store.conftest import write_build


@pytest.mark.aws
def test_publish_checksums_and_conditional_writes_on_real_s3(tmp_path: Path) -> None:
    bucket = os.environ.get("TRT_DR_TEST_BUCKET")
    if not bucket:
        pytest.skip("set TRT_DR_TEST_BUCKET to a versioned bucket for this test")
    s3 = boto3.client("s3")
    root = f"trtdr-test-{uuid.uuid4().hex[:8]}"
    store = RegionStore("real", s3.meta.region_name, bucket, s3, root)
    try:
        assert publish(store, write_build(tmp_path, engine_bytes=70 * 1024 * 1024)).version == 1
        assert verify_release([store], "resnet").ok
        key = store.key("conditional.json")
        etag = put_bytes(s3, bucket, key, b"{}", if_none_match=True)
        with pytest.raises(PublishConflict):
            put_bytes(s3, bucket, key, b"{}", if_none_match=True)
        with pytest.raises(PublishConflict):
            put_bytes(s3, bucket, key, b"[]", if_match=etag.replace("a", "b") + "x")
        put_bytes(s3, bucket, key, b"[]", if_match=etag)
    finally:
        for version in list_versions(s3, bucket, f"{root}/"):
            s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
