"""The output store and remote inputs: a local directory or ``s3://bucket/prefix``.

Publishing is two-phase so a reader never sees a half build: locally the finished
directory is renamed into place; on S3 every file is uploaded first and ``manifest.json``
last, so "an accepted manifest exists" implies every file it lists exists.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from engine_build.errors import ManifestNotFoundError, SourceNotFoundError, StoreAccessError
from engine_build.manifest import MANIFEST_NAME, Manifest


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix (no leading or trailing slash)."""

    bucket: str
    prefix: str

    def key(self, relative: str) -> str:
        """The object key of ``relative`` under this prefix."""
        return f"{self.prefix}/{relative}" if self.prefix else relative


def s3_location(uri: str) -> S3Location | None:
    """Parse ``s3://bucket/prefix``; None for a local path."""
    if not uri.startswith("s3://"):
        return None
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    return S3Location(bucket, prefix.strip("/"))


def s3_client() -> Any:
    """A boto3 S3 client from the standard AWS environment (region, credentials)."""
    import boto3

    return boto3.client("s3")


@contextmanager
def s3_errors(action: str) -> Iterator[None]:
    """Turn boto errors (credentials, permissions, missing bucket) into StoreAccessError."""
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise StoreAccessError(
            f"cannot {action}: {exc}; check the AWS credentials, region and bucket policy"
        ) from exc


def join(out: str, relative: str) -> str:
    """``out`` joined with a relative path, for local paths and s3:// URIs alike."""
    return f"{out.rstrip('/')}/{relative}" if s3_location(out) else str(Path(out) / relative)


def fetch(uri: str, dest_dir: Path, name: str | None = None) -> Path:
    """A local path for ``uri``: itself when local, else downloaded into ``dest_dir``
    (as ``name`` when given, a relative path, else as the object's base name)."""
    location = s3_location(uri)
    if location is None:
        path = Path(uri)
        if not path.is_file():
            raise SourceNotFoundError(f"{uri} does not exist or is not a file")
        return path
    dest = dest_dir / (name or Path(location.prefix).name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        s3_client().download_file(location.bucket, location.prefix, str(dest))
    except Exception as exc:
        raise SourceNotFoundError(f"cannot download {uri}: {exc}") from exc
    return dest


def parse_manifest(text: str | bytes, where: str) -> Manifest:
    """Parse manifest JSON; ManifestNotFoundError names ``where`` when it is not one."""
    try:
        return Manifest.model_validate_json(text)
    except ValidationError as exc:
        raise ManifestNotFoundError(f"{where} is not a valid build manifest: {exc}") from exc


def read_manifest(build_dir: str) -> Manifest | None:
    """The manifest at ``build_dir`` (local or s3://), or None when there is none."""
    location = s3_location(build_dir)
    if location is None:
        path = Path(build_dir) / MANIFEST_NAME
        return parse_manifest(path.read_bytes(), str(path)) if path.is_file() else None
    client = s3_client()
    with s3_errors(f"read {join(build_dir, MANIFEST_NAME)}"):
        try:
            body = client.get_object(Bucket=location.bucket, Key=location.key(MANIFEST_NAME))
        except client.exceptions.NoSuchKey:
            return None
        return parse_manifest(body["Body"].read(), join(build_dir, MANIFEST_NAME))


def accepted(build_dir: str) -> Manifest | None:
    """The manifest at ``build_dir`` if it exists, is valid and its status is accepted
    (an unreadable manifest counts as absent, so the build is redone and replaces it)."""
    try:
        manifest = read_manifest(build_dir)
    except ManifestNotFoundError:
        return None
    return manifest if manifest is not None and manifest.status == "accepted" else None


def publish(stage: Path, build_dir: str) -> None:
    """Move the finished ``stage`` directory to ``build_dir`` atomically (see module doc)."""
    location = s3_location(build_dir)
    if location is None:
        _publish_local(stage, Path(build_dir))
        return
    client = s3_client()
    files = sorted(p for p in stage.rglob("*") if p.is_file() and p.name != MANIFEST_NAME)
    with s3_errors(f"upload to {build_dir}"):
        for path in [*files, stage / MANIFEST_NAME]:
            relative = path.relative_to(stage).as_posix()
            client.upload_file(str(path), location.bucket, location.key(relative))


def _publish_local(stage: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    incoming = dest.parent / f".{dest.name}.incoming-{uuid.uuid4().hex[:8]}"
    try:
        shutil.copytree(stage, incoming)
    except BaseException:
        shutil.rmtree(incoming, ignore_errors=True)
        raise
    if dest.exists():
        if accepted(str(dest)) is not None:
            shutil.rmtree(incoming)
            return
        shutil.rmtree(dest)
    incoming.rename(dest)


def download_build(build_dir: str, dest: Path) -> Path:
    """A local copy of a build directory (s3:// downloaded, local returned as is)."""
    location = s3_location(build_dir)
    if location is None:
        return Path(build_dir)
    client = s3_client()
    paginator = client.get_paginator("list_objects_v2")
    found = False
    with s3_errors(f"download {build_dir}"):
        for page in paginator.paginate(Bucket=location.bucket, Prefix=location.key("")):
            for item in page.get("Contents", []):
                target = dest / item["Key"][len(location.key("")) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                client.download_file(location.bucket, item["Key"], str(target))
                found = True
    if not found:
        raise ManifestNotFoundError(f"{build_dir} holds no objects")
    return dest
