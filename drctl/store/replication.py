"""Reading replication state of one object pair, for real S3 and for the stand-in replicator.

Real S3 reports ``ReplicationStatus`` on HEAD (PENDING/COMPLETED/FAILED on the source, REPLICA
on the copy) and keeps the source's version id on the replica. The stand-in (``replicator.py``)
cannot set either in moto, so it tags the source version and stamps metadata on the copy; this
module reads both forms so ``verify`` and ``status`` work the same against either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drctl.store.s3ops import ObjectInfo, head, s3_errors

STATUS_TAG = "trtdr-replication"
SOURCE_VERSION_META = "trtdr-source-version"
SOURCE_BUCKET_META = "trtdr-source-bucket"


@dataclass(frozen=True)
class PairState:
    """Replication state of one key between two regions."""

    key: str
    source_region: str | None
    status: str
    lag_seconds: float
    source_version: str | None = None
    replica_of_version: str | None = None


def source_version_of(info: ObjectInfo) -> str | None:
    """The source version a replica was made from, or None when ``info`` is an original."""
    if info.replication_status == "REPLICA":
        return info.version_id
    return info.metadata.get(SOURCE_VERSION_META)


def source_status(s3: Any, bucket: str, info: ObjectInfo) -> str:
    """PENDING/COMPLETED/FAILED of an original, from HEAD or the stand-in's version tag."""
    if info.replication_status:
        return info.replication_status
    with s3_errors(bucket, info.key):
        args = {"Bucket": bucket, "Key": info.key}
        if info.version_id:
            args["VersionId"] = info.version_id
        tags = s3.get_object_tagging(**args).get("TagSet", [])
    value = next((t["Value"] for t in tags if t["Key"] == STATUS_TAG), None)
    if value is None:
        return "PENDING"
    status, _, version = value.partition("@")
    # A tag copied along with the object (CopyObject) describes another version: ignore it.
    return status if version == (info.version_id or "") else "PENDING"


def _age(info: ObjectInfo, now: datetime) -> float:
    """Seconds since ``info`` was written (0 when the store gives no time)."""
    if info.last_modified is None:
        return 0.0
    return max(0.0, (now - info.last_modified).total_seconds())


def pair_state(
    key: str, a: tuple[str, Any, str], b: tuple[str, Any, str], now: datetime | None = None
) -> PairState:
    """Compare ``key`` in two regions given as (name, client, bucket)."""
    now = now or datetime.now(UTC)
    info_a, info_b = head(a[1], a[2], key), head(b[1], b[2], key)
    if info_a is None and info_b is None:
        return PairState(key, None, "absent", 0.0)
    src, src_info, dst_info = a, info_a, info_b
    if info_a is None or (info_b is not None and source_version_of(info_a) is not None):
        src, src_info, dst_info = b, info_b, info_a
    if src_info is None:
        return PairState(key, None, "absent", 0.0)
    if dst_info is not None and source_version_of(dst_info) is None:
        same = src_info.metadata.get("sha256") == dst_info.metadata.get("sha256")
        return PairState(key, None, "in-sync" if same else "diverged", 0.0)
    versions = (src_info.version_id, source_version_of(dst_info) if dst_info else None)
    if dst_info is not None and versions[1] == versions[0]:
        return PairState(key, src[0], "in-sync", 0.0, *versions)
    status = source_status(src[1], src[2], src_info)
    state = "failed" if status == "FAILED" else ("stale" if dst_info else "pending")
    return PairState(key, src[0], state, _age(src_info, now), *versions)
