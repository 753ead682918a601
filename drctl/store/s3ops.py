"""S3 primitives the store is built from: typed, checksummed, and with AWS errors translated.

Everything takes a boto3 S3 client, so endpoints and credentials come from the standard AWS
environment (``AWS_ENDPOINT_URL`` points it at moto or another emulator).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from boto3.exceptions import S3TransferFailedError, S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    FlexibleChecksumError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from drctl.store.errors import (
    AccessDenied,
    BucketNotFound,
    ChecksumMismatch,
    ObjectMissing,
    PublishConflict,
    StoreError,
    TransferInterrupted,
)

Progress = Callable[[int], None]
MiB = 1024 * 1024
HASH_CHUNK = 8 * MiB
TRANSFER = TransferConfig(
    multipart_threshold=64 * MiB, multipart_chunksize=64 * MiB, max_concurrency=8
)
_MISSING_CODES = {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}
_DENIED_CODES = {"AccessDenied", "403", "Forbidden", "AllAccessDisabled", "InvalidAccessKeyId"}


@dataclass(frozen=True)
class RegionStore:
    """One model tree: a bucket, the client that reaches it, and the key prefix of the tree.

    ``root`` is the tree's prefix inside the bucket ("" for the bucket's top). The stacks give
    each region its own tree ``<region>/`` (its Triton reads ``s3://<bucket>/<region>/repository``)
    and replicate whole buckets, so a region's tree exists in its own bucket (the source) and
    in the peer's bucket (the replica): same ``root``, two buckets.
    """

    name: str
    region: str
    bucket: str
    s3: Any
    root: str = ""

    def key(self, relative: str) -> str:
        """The bucket key of a layout key (see ``layout.py``) inside this tree."""
        return f"{self.root.strip('/')}/{relative}" if self.root.strip("/") else relative


@dataclass(frozen=True)
class ObjectInfo:
    """What HEAD tells about the current version of an object."""

    key: str
    size: int
    etag: str
    version_id: str | None
    metadata: dict[str, str]
    replication_status: str | None
    last_modified: Any


def s3_client(region: str) -> Any:
    """An S3 client for ``region``; honours ``AWS_ENDPOINT_URL`` and the usual credentials."""
    return boto3.client("s3", region_name=region)


def b64_sha256(hex_digest: str) -> str:
    """The base64 form S3 uses for ``x-amz-checksum-sha256`` of a hex SHA-256 digest."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def error_code(exc: ClientError) -> str:
    """The S3 error code of a ClientError (HTTP status when the body carried none)."""
    err = exc.response.get("Error", {})
    return str(err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))


def translate(exc: Exception, bucket: str, key: str = "") -> StoreError:
    """Map a boto3/botocore failure to the store's own exception with a next step."""
    where = f"s3://{bucket}/{key}"
    if isinstance(exc, ClientError):
        code = error_code(exc)
        if code == "NoSuchBucket":
            return BucketNotFound(f"bucket {bucket} does not exist; check the stack outputs")
        if code in _DENIED_CODES:
            return AccessDenied(f"access denied on {where}: use credentials allowed on the bucket")
        if code in _MISSING_CODES:
            return ObjectMissing(f"{where} is missing (deleted or never written)")
        if code in {"PreconditionFailed", "ConditionalRequestConflict"}:
            return PublishConflict(f"{where} was changed by another writer; re-run to retry")
        return StoreError(f"S3 error {code} on {where}: {exc}")
    if isinstance(exc, FlexibleChecksumError):
        return ChecksumMismatch(f"{where}: bytes do not match the checksum S3 stored ({exc})")
    if isinstance(exc, S3UploadFailedError | S3TransferFailedError) and "NoSuchBucket" in str(exc):
        return BucketNotFound(f"bucket {bucket} does not exist; check the stack outputs")
    if isinstance(exc, S3UploadFailedError | S3TransferFailedError) and "AccessDenied" in str(exc):
        return AccessDenied(f"access denied on {where}: use credentials allowed on the bucket")
    return TransferInterrupted(f"transfer of {where} interrupted ({exc}); re-run to resume")


_TRANSLATED = (
    ClientError,
    BotoCoreError,
    S3UploadFailedError,
    S3TransferFailedError,
    ConnectionError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)


@contextmanager
def s3_errors(bucket: str, key: str = "") -> Iterator[None]:
    """Re-raise AWS failures inside the block as StoreError subclasses."""
    try:
        yield
    except _TRANSLATED as exc:
        raise translate(exc, bucket, key) from exc


def check_bucket(s3: Any, bucket: str) -> None:
    """Fail early and clearly when the bucket is absent or not ours to use."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in {"404", "NoSuchBucket", "NotFound"}:
            raise BucketNotFound(
                f"bucket {bucket} does not exist; check the stack outputs"
            ) from exc
        raise translate(exc, bucket) from exc


def head(s3: Any, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo | None:
    """The object's current (or given) version, or None when it is absent."""
    args = {"Bucket": bucket, "Key": key} | ({"VersionId": version_id} if version_id else {})
    try:
        resp = s3.head_object(**args)
    except ClientError as exc:
        if error_code(exc) in _MISSING_CODES | {"405", "MethodNotAllowed"}:
            return None
        raise translate(exc, bucket, key) from exc
    return ObjectInfo(
        key=key,
        size=int(resp["ContentLength"]),
        etag=resp["ETag"],
        version_id=resp.get("VersionId"),
        metadata=dict(resp.get("Metadata", {})),
        replication_status=resp.get("ReplicationStatus"),
        last_modified=resp.get("LastModified"),
    )


def sha256_object(
    s3: Any, bucket: str, key: str, version_id: str | None = None, progress: Progress | None = None
) -> tuple[str, int]:
    """Stream the object and return (hex SHA-256, size): the store trusts only its own hash."""
    args = {"Bucket": bucket, "Key": key} | ({"VersionId": version_id} if version_id else {})
    digest, size = hashlib.sha256(), 0
    with s3_errors(bucket, key):
        body = s3.get_object(**args)["Body"]
        for chunk in body.iter_chunks(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if progress:
                progress(len(chunk))
    return digest.hexdigest(), size


def upload_file(
    s3: Any, bucket: str, key: str, path: str, sha256: str, progress: Progress | None = None
) -> None:
    """Upload with S3 SHA-256 checksums: whole-object when single-part, per part when multipart.

    The manifest digest travels as metadata too, so later runs can tell what a key should hold.
    """
    extra: dict[str, Any] = {"ChecksumAlgorithm": "SHA256", "Metadata": {"sha256": sha256}}
    if Path(path).stat().st_size < TRANSFER.multipart_threshold:
        extra["ChecksumSHA256"] = b64_sha256(sha256)
    with s3_errors(bucket, key):
        s3.upload_file(path, bucket, key, ExtraArgs=extra, Config=TRANSFER, Callback=progress)


def copy_object(
    s3: Any,
    src: tuple[str, str, str | None],
    bucket: str,
    key: str,
    metadata: dict[str, str],
    src_client: Any = None,
    progress: Progress | None = None,
) -> None:
    """Managed server-side copy of ``src`` (bucket, key, version) to ``bucket/key``.

    Large objects are copied in parts; ``src_client`` reaches a source in another region.
    """
    source: dict[str, str] = {"Bucket": src[0], "Key": src[1]}
    if src[2]:
        source["VersionId"] = src[2]
    extra = {"Metadata": metadata, "MetadataDirective": "REPLACE", "ChecksumAlgorithm": "SHA256"}
    with s3_errors(bucket, key):
        s3.copy(
            source,
            bucket,
            key,
            ExtraArgs=extra,
            Config=TRANSFER,
            SourceClient=src_client or s3,
            Callback=progress,
        )


def get_json(s3: Any, bucket: str, key: str) -> tuple[dict[str, Any], str] | None:
    """The JSON document at ``key`` and its ETag, or None when absent."""
    try:
        resp = s3.get_object(Bucket=bucket, Key=key)
        return json.loads(resp["Body"].read()), resp["ETag"]
    except ClientError as exc:
        if error_code(exc) in _MISSING_CODES:
            return None
        raise translate(exc, bucket, key) from exc
    except json.JSONDecodeError as exc:
        raise StoreError(f"s3://{bucket}/{key} is not valid JSON; restore it ({exc})") from exc


def get_text(s3: Any, bucket: str, key: str) -> str | None:
    """The UTF-8 text at ``key``, or None when absent."""
    try:
        return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())
    except ClientError as exc:
        if error_code(exc) in _MISSING_CODES:
            return None
        raise translate(exc, bucket, key) from exc


def put_bytes(
    s3: Any,
    bucket: str,
    key: str,
    body: bytes,
    *,
    if_match: str | None = None,
    if_none_match: bool = False,
    content_type: str = "application/json",
) -> str:
    """Atomic single PUT with a SHA-256 checksum, optionally conditional; returns the ETag.

    A lost condition raises PublishConflict: another writer got there first.
    """
    digest = hashlib.sha256(body).hexdigest()
    args: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "Body": body,
        "ContentType": content_type,
        "ChecksumSHA256": b64_sha256(digest),
        "Metadata": {"sha256": digest},
    }
    if if_match:
        args["IfMatch"] = if_match
    if if_none_match:
        args["IfNoneMatch"] = "*"
    with s3_errors(bucket, key):
        return str(s3.put_object(**args)["ETag"])


def put_json(s3: Any, bucket: str, key: str, data: dict[str, Any], **cond: Any) -> str:
    """``put_bytes`` of a JSON document (sorted keys, so equal content gives equal bytes)."""
    return put_bytes(s3, bucket, key, json.dumps(data, sort_keys=True, indent=1).encode(), **cond)


def list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    """Every current key under ``prefix``."""
    keys: list[str] = []
    with s3_errors(bucket, prefix):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys


def list_versions(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    """Every object version and delete marker under ``prefix`` (``IsDeleteMarker`` tells which)."""
    out: list[dict[str, Any]] = []
    with s3_errors(bucket, prefix):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
            out.extend(v | {"IsDeleteMarker": False} for v in page.get("Versions", []))
            out.extend(m | {"IsDeleteMarker": True} for m in page.get("DeleteMarkers", []))
    return out


def delete_keys(s3: Any, bucket: str, keys: list[str]) -> None:
    """Delete current versions of ``keys`` (versioned buckets keep the data as old versions)."""
    with s3_errors(bucket):
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
