"""``publish``: a build directory becomes a new, verified, released model version.

Two phases. Phase 1 uploads every file to ``staging/`` (SHA-256 checksums, multipart and
parallel for big files); nothing there is visible to Triton. Phase 2 claims a version number
with a conditional create, copies the staged files to their final keys, hashes every final
object, writes the version manifest (the completion mark) and only then advances the release
pointer with a conditional write. Each step skips work already done, so re-running after any
crash resumes; a crash never exposes a partial version because Triton's config pins the
released version only.
"""

from __future__ import annotations

import getpass
import hashlib
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from drctl.store.buildtree import S3Build, load_build, read_s3_manifest
from drctl.store.canary import refuse_other_canary, start_canary, sync_canary_config
from drctl.store.errors import ChecksumMismatch, PublishConflict, ReleaseNotFound, StoreError
from drctl.store.layout import (
    CanaryPointer,
    Claim,
    Release,
    claim_key,
    final_key,
    manifest_key,
    staging_key,
)
from drctl.store.release import advance_release, now_iso, sync_config
from drctl.store.s3ops import (
    Progress,
    RegionStore,
    check_bucket,
    copy_object,
    delete_keys,
    get_json,
    head,
    list_keys,
    put_bytes,
    put_json,
    upload_file,
)
from drctl.store.verify import check_object, read_release
from engine_build.manifest import Manifest

MAX_CLAIM_ATTEMPTS = 50


@dataclass(frozen=True)
class PublishResult:
    """What ``publish`` did; ``state`` is "released", "already-released" or "canary"."""

    model: str
    version: int
    build_key: str
    state: str
    previous_version: int | None
    files: int
    bytes_uploaded: int
    upload_seconds: float
    copy_seconds: float
    verify_seconds: float
    total_seconds: float


def default_publisher() -> str:
    """user@host, recorded in claims and release pointers for audit."""
    return f"{getpass.getuser()}@{socket.gethostname()}"


def stage(
    store: RegionStore,
    build: Path | S3Build,
    manifest: Manifest,
    progress: Progress | None = None,
) -> int:
    """Phase 1: upload (or, from S3, copy) files not yet staged with the right digest.

    Returns the bytes transferred.
    """
    sent = 0
    for entry in manifest.files:
        key = store.key(staging_key(manifest.model, manifest.key, entry.path))
        info = head(store.s3, store.bucket, key)
        if info and info.size == entry.size and info.metadata.get("sha256") == entry.sha256:
            if progress:
                progress(entry.size)
            continue
        if isinstance(build, S3Build):
            src = (build.bucket, build.key(entry.path), None)
            meta = {"sha256": entry.sha256}
            copy_object(store.s3, src, store.bucket, key, meta, progress=progress)
        else:
            path = str(build / entry.path)
            upload_file(store.s3, store.bucket, key, path, entry.sha256, progress)
        sent += entry.size
    return sent


def claim_version(store: RegionStore, manifest: Manifest, publisher: str) -> int:
    """The version number of this build: its existing claim, else a new conditional claim."""
    prefix = store.key(f"claims/{manifest.model}/")
    numbers = []
    for key in list_keys(store.s3, store.bucket, prefix):
        stem = key[len(prefix) :].removesuffix(".json")
        if not stem.isdigit():
            continue
        numbers.append(int(stem))
        found = get_json(store.s3, store.bucket, key)
        if found and found[0].get("build_key") == manifest.key:
            return int(stem)
    candidate = max(numbers, default=0) + 1
    for _ in range(MAX_CLAIM_ATTEMPTS):
        claim = Claim(
            model=manifest.model,
            version=candidate,
            build_key=manifest.key,
            claimed_at=now_iso(),
            publisher=publisher,
        )
        try:
            key = store.key(claim_key(manifest.model, candidate))
            put_json(store.s3, store.bucket, key, claim.model_dump(), if_none_match=True)
            return candidate
        except PublishConflict:
            candidate += 1
    raise PublishConflict(
        f"could not claim a version of {manifest.model} after "
        f"{MAX_CLAIM_ATTEMPTS} attempts; too many concurrent publishers"
    )


def promote(store: RegionStore, manifest: Manifest, version: int) -> None:
    """Copy staged files to their final keys (skipping copies already in place)."""
    for entry in manifest.files:
        dst = store.key(final_key(manifest.model, version, entry.path))
        info = head(store.s3, store.bucket, dst)
        if info and info.size == entry.size and info.metadata.get("sha256") == entry.sha256:
            continue
        staged = store.key(staging_key(manifest.model, manifest.key, entry.path))
        src = (store.bucket, staged, None)
        copy_object(store.s3, src, store.bucket, dst, {"sha256": entry.sha256})


def verify_final(store: RegionStore, manifest: Manifest, version: int) -> None:
    """Hash every final object; a bad one is removed from both places so a re-run redoes it."""
    for entry in manifest.files:
        key = store.key(final_key(manifest.model, version, entry.path))
        finding = check_object(store, key, entry)
        if finding is None:
            continue
        staged = store.key(staging_key(manifest.model, manifest.key, entry.path))
        delete_keys(store.s3, store.bucket, [key, staged])
        cls = ChecksumMismatch if finding.kind == "corrupt" else StoreError
        raise cls(
            f"{store.name}: s3://{store.bucket}/{key} {finding.kind} after upload "
            f"({finding.detail}); nothing was released; re-run publish to upload it again "
            "(if it fails again, the build itself is corrupt: rebuild it)"
        )


def _load(store: RegionStore, build: Path | S3Build) -> tuple[Manifest, bytes]:
    """The build's checked manifest; local inputs are checked before the bucket is touched."""
    if isinstance(build, S3Build):
        check_bucket(store.s3, store.bucket)
        return read_s3_manifest(store.s3, build)
    loaded = load_build(build)
    check_bucket(store.s3, store.bucket)
    return loaded


def complete_and_release(
    store: RegionStore,
    manifest: Manifest,
    raw: bytes,
    version: int,
    who: str,
    current: tuple[Release | None, str | None],
) -> None:
    """Write the version manifest (completion mark), then advance the pointer from ``current``."""
    put_bytes(store.s3, store.bucket, store.key(manifest_key(manifest.model, version)), raw)
    target = Release(
        model=manifest.model,
        version=version,
        build_key=manifest.key,
        manifest_sha256=hashlib.sha256(raw).hexdigest(),
        updated_at=now_iso(),
        updated_by=who,
    )
    advance_release(store, target, current[0], current[1])


def _canary_rerun(
    store: RegionStore, manifest: Manifest, current: Release | None
) -> CanaryPointer | None:
    """Checks before a canary upload; the pointer (config repaired) if this build is on trial."""
    on_trial = refuse_other_canary(store, manifest.model, manifest.key)
    if on_trial is not None:
        sync_canary_config(store, on_trial)
        return on_trial
    if current is None:
        raise ReleaseNotFound(
            f"{store.name}: {manifest.model} has no release to compare a canary with; "
            "publish it without --canary first"
        )
    return None


def publish(
    store: RegionStore,
    build: Path | S3Build,
    *,
    publisher: str | None = None,
    progress: Progress | None = None,
    keep_staging: bool = False,
    canary: bool = False,
) -> PublishResult:
    """Publish an engine_build output as a new version of its model in ``store``'s tree.

    ``build`` is a local directory (every file is hashed before upload) or an S3 location
    (files are copied server-side; the final hash check covers them). With ``canary`` the
    version is not released but put on trial on the canary pods (``drctl.store.canary``).
    """
    start = time.monotonic()
    manifest, raw = _load(store, build)
    current, etag = read_release(store, manifest.model)
    if canary and (rerun := _canary_rerun(store, manifest, current)):
        return _result(manifest, rerun.version, "canary", rerun.baseline, 0, (start,) * 3)
    if current and current.build_key == manifest.key:
        sync_config(store, current)
        previous = current.previous[-1] if current.previous else None
        marks = (start, start, start)
        return _result(manifest, current.version, "already-released", previous, 0, marks)
    sent = stage(store, build, manifest, progress)
    uploaded = time.monotonic()
    who = publisher or default_publisher()
    version = claim_version(store, manifest, who)
    promote(store, manifest, version)
    copied = time.monotonic()
    verify_final(store, manifest, version)
    if canary:
        start_canary(store, manifest, raw, version, who)
    else:
        complete_and_release(store, manifest, raw, version, who, (current, etag))
    if not keep_staging:
        staged = [staging_key(manifest.model, manifest.key, e.path) for e in manifest.files]
        delete_keys(store.s3, store.bucket, [store.key(k) for k in staged])
    previous = current.version if current else None
    state = "canary" if canary else "released"
    return _result(manifest, version, state, previous, sent, (start, uploaded, copied))


def _result(
    manifest: Manifest,
    version: int,
    state: str,
    previous: int | None,
    sent: int,
    marks: tuple[float, float, float],
) -> PublishResult:
    """Assemble a PublishResult from the (start, uploaded, copied) time marks.

    Upload time includes the local manifest check; copy time the version claim; verify time
    the hashing of every final object, the manifest write and the release.
    """
    start, uploaded, copied = marks
    end = time.monotonic()
    return PublishResult(
        model=manifest.model,
        version=version,
        build_key=manifest.key,
        state=state,
        previous_version=previous,
        files=len(manifest.files) + 1,
        bytes_uploaded=sent,
        upload_seconds=uploaded - start,
        copy_seconds=copied - uploaded,
        verify_seconds=end - copied,
        total_seconds=end - start,
    )
