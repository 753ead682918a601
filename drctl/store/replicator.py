"""STAND-IN for S3 replication, for emulators only (moto stores replication rules, copies nothing).

It reads each source bucket's replication configuration, copies new object versions to the
rule's destination bucket (any region), honours rule status, prefix and delete-marker setting,
and records what real S3 would report: the source version is tagged
``trtdr-replication=COMPLETED|FAILED`` (PENDING while untagged) and the copy carries the source
version id and bucket as metadata (see ``replication.py``). Lag and failure are injectable.

It refuses to run against real AWS endpoints: there, S3 replicates by itself.
Known moto gap: ``get_bucket_replication`` drops ``Filter`` (prefix) and reports delete-marker
replication Disabled, so pass ``config=`` to exercise those settings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from drctl.store.errors import StoreError
from drctl.store.replication import (
    SOURCE_BUCKET_META,
    SOURCE_VERSION_META,
    STATUS_TAG,
    source_status,
    source_version_of,
)
from drctl.store.s3ops import (
    ObjectInfo,
    RegionStore,
    copy_object,
    error_code,
    head,
    list_versions,
    s3_errors,
)


class RealAwsRefused(StoreError):
    """The stand-in replicator was pointed at real AWS, where S3 replicates by itself."""

    exit_code = 2


@dataclass(frozen=True)
class Rule:
    """One enabled-or-not replication rule, reduced to what the stand-in honours."""

    rule_id: str
    enabled: bool
    prefix: str
    delete_markers: bool
    destination: str
    priority: int


@dataclass
class ReplicationPass:
    """What one pass did, by key."""

    copied: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    delayed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def parse_rules(config: Mapping[str, Any]) -> list[Rule]:
    """Rules of a replication configuration, highest priority first."""
    rules = []
    for raw in config.get("Rules", []):
        filt = raw.get("Filter", {})
        prefix = filt.get("Prefix", filt.get("And", {}).get("Prefix", raw.get("Prefix", "")))
        rules.append(
            Rule(
                rule_id=raw.get("ID", ""),
                enabled=raw.get("Status") == "Enabled",
                prefix=prefix or "",
                delete_markers=raw.get("DeleteMarkerReplication", {}).get("Status") == "Enabled",
                destination=raw["Destination"]["Bucket"].removeprefix("arn:aws:s3:::"),
                priority=int(raw.get("Priority", 0)),
            )
        )
    return sorted(rules, key=lambda r: -r.priority)


def rule_for(rules: Sequence[Rule], key: str) -> Rule | None:
    """The highest-priority enabled rule whose prefix matches ``key``."""
    return next((r for r in rules if r.enabled and key.startswith(r.prefix)), None)


def refuse_real_aws(s3: Any) -> None:
    """Raise unless ``s3`` talks to an emulator (custom endpoint or in-process moto)."""
    endpoint = str(s3.meta.endpoint_url)
    if "amazonaws.com" not in endpoint:
        return
    try:
        from moto.core.models import botocore_stubber

        mocked = bool(botocore_stubber.enabled)
    except ImportError:
        mocked = False
    if not mocked:
        raise RealAwsRefused(
            f"the stand-in replicator refuses {endpoint}: real S3 replicates "
            "by itself; set AWS_ENDPOINT_URL to an emulator"
        )


def read_config(store: RegionStore) -> dict[str, Any]:
    """The bucket's replication configuration, or an empty one."""
    try:
        return dict(
            store.s3.get_bucket_replication(Bucket=store.bucket)["ReplicationConfiguration"]
        )
    except ClientError as exc:
        if error_code(exc) == "ReplicationConfigurationNotFoundError":
            return {}
        raise


def _tag(store: RegionStore, key: str, version_id: str, status: str) -> None:
    """Record the replication status on the source version (does not create a new version).

    The value names the version it describes (``COMPLETED@<version id>``): CopyObject copies
    tags, and a copy of a replicated object is a new object that still needs replicating.
    """
    with s3_errors(store.bucket, key):
        store.s3.put_object_tagging(
            Bucket=store.bucket,
            Key=key,
            VersionId=version_id,
            Tagging={"TagSet": [{"Key": STATUS_TAG, "Value": f"{status}@{version_id}"}]},
        )


def _copy_version(src: RegionStore, dst: RegionStore, info: ObjectInfo) -> None:
    """Copy one source version to the destination bucket, stamped as a replica."""
    meta = info.metadata | {
        SOURCE_VERSION_META: str(info.version_id),
        SOURCE_BUCKET_META: src.bucket,
    }
    copy_object(
        dst.s3,
        (src.bucket, info.key, info.version_id),
        dst.bucket,
        info.key,
        meta,
        src_client=src.s3,
    )


def _replicate_version(
    src: RegionStore,
    dst: RegionStore,
    version: dict[str, Any],
    now: datetime,
    lag_seconds: float,
    fail: Callable[[str], bool],
    result: ReplicationPass,
) -> None:
    """Handle one source object version."""
    key = version["Key"]
    info = head(src.s3, src.bucket, key, version["VersionId"])
    if info is None or source_version_of(info) is not None:
        return
    if source_status(src.s3, src.bucket, info) in {"COMPLETED", "FAILED"}:
        return
    if (now - version["LastModified"]).total_seconds() < lag_seconds:
        result.delayed.append(key)
    elif fail(key):
        _tag(src, key, version["VersionId"], "FAILED")
        result.failed.append(key)
    else:
        _copy_version(src, dst, info)
        _tag(src, key, version["VersionId"], "COMPLETED")
        result.copied.append(key)


def _replicate_marker(dst: RegionStore, marker: dict[str, Any], result: ReplicationPass) -> None:
    """Mirror a current delete marker when the destination still shows the key."""
    if marker.get("IsLatest") and head(dst.s3, dst.bucket, marker["Key"]) is not None:
        with s3_errors(dst.bucket, marker["Key"]):
            dst.s3.delete_object(Bucket=dst.bucket, Key=marker["Key"])
        result.deleted.append(marker["Key"])


def replicate_once(
    src: RegionStore,
    destinations: Sequence[RegionStore],
    *,
    lag_seconds: float = 0.0,
    fail: Callable[[str], bool] | None = None,
    config: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> ReplicationPass:
    """One replication pass from ``src`` to the destination buckets its rules name.

    Versions younger than ``lag_seconds`` stay PENDING; keys for which ``fail`` is true are
    marked FAILED and, like real S3, never retried.
    """
    refuse_real_aws(src.s3)
    rules = parse_rules(config if config is not None else read_config(src))
    by_bucket = {d.bucket: d for d in destinations}
    now, fail = now or datetime.now(UTC), fail or (lambda _key: False)
    result = ReplicationPass()
    listed = list_versions(src.s3, src.bucket, "")
    # oldest first; ties of LastModified (1 s resolution) go by IsLatest, then by S3's
    # newest-first listing order
    ordered = sorted(
        enumerate(listed), key=lambda iv: (iv[1]["LastModified"], iv[1]["IsLatest"], -iv[0])
    )
    for _, version in ordered:
        rule = rule_for(rules, version["Key"])
        if rule is None:
            continue
        if rule.destination not in by_bucket:
            raise StoreError(
                f"rule {rule.rule_id} replicates to {rule.destination}, which is "
                "not among the given destination stores"
            )
        dst = by_bucket[rule.destination]
        if version["IsDeleteMarker"]:
            if rule.delete_markers:
                _replicate_marker(dst, version, result)
        else:
            _replicate_version(src, dst, version, now, lag_seconds, fail, result)
    return result


def replicate_all(stores: Sequence[RegionStore], **faults: Any) -> dict[str, ReplicationPass]:
    """One pass for every store toward the others (two-way replication), by store name."""
    return {s.name: replicate_once(s, [d for d in stores if d is not s], **faults) for s in stores}


class ReplicatorThread(threading.Thread):
    """Runs ``replicate_all`` every ``interval`` seconds until ``stop()``; for rehearsals."""

    def __init__(self, stores: Sequence[RegionStore], interval: float = 1.0, **faults: Any):
        super().__init__(name="standin-replicator", daemon=True)
        self.stores, self.interval, self.faults = list(stores), interval, faults
        self.errors: list[Exception] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        """Replicate until stopped; errors are kept in ``errors`` and the loop goes on."""
        while not self._stop_event.is_set():
            try:
                replicate_all(self.stores, **self.faults)
            except (StoreError, ClientError) as exc:
                self.errors.append(exc)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        """Ask the loop to finish and wait for it."""
        self._stop_event.set()
        self.join()
