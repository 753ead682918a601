"""``restore``: repair missing or corrupt objects of a version in one region.

Sources, in order: the peer region's copy, an earlier version of the object in either bucket
(versioning keeps overwritten bytes), and as a last resort a rebuild request for engine_build.
A source is used only if its bytes hash to the manifest digest, and every repaired object is
hashed again before the region's release pointer is moved to the version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from drctl.store.errors import PublishConflict, ReleaseNotFound, StoreError
from drctl.store.layout import Release, final_key, manifest_key, rebuild_request_key
from drctl.store.release import advance_release, now_iso
from drctl.store.s3ops import (
    Progress,
    RegionStore,
    copy_object,
    list_versions,
    put_bytes,
    put_json,
    sha256_object,
)
from drctl.store.verify import check_object, find_manifest, read_manifest, read_release
from engine_build.manifest import FileEntry, Manifest

RESTORED_FROM_META = "trtdr-restored-from"


@dataclass(frozen=True)
class Repair:
    """One object that needed repair and where its good bytes came from."""

    key: str
    problem: str
    source: str


@dataclass
class RestoreResult:
    """What ``restore`` found and did in the target region."""

    model: str
    version: int
    region: str
    repairs: list[Repair] = field(default_factory=list)
    rebuild_requested: bool = False
    repointed: bool = False

    @property
    def ok(self) -> bool:
        """True when every object of the version is now verified in the region."""
        return not self.rebuild_requested


def _candidates(
    target: RegionStore, peer: RegionStore | None, key: str, entry: FileEntry
) -> list[tuple[str, RegionStore, str | None]]:
    """Possible sources: (label, store, version id); peer's current copy first."""
    found: list[tuple[str, RegionStore, str | None]] = []
    if peer is not None:
        found.append((f"peer {peer.name}", peer, None))
    for store in (target, peer):
        if store is None:
            continue
        versions = [
            v
            for v in list_versions(store.s3, store.bucket, key)
            if v["Key"] == key and not v["IsDeleteMarker"] and v["Size"] == entry.size
        ]
        versions.sort(key=lambda v: v["LastModified"], reverse=True)
        found += [
            (f"earlier version {v['VersionId']} in {store.name}", store, v["VersionId"])
            for v in versions
            if not (store is peer and v.get("IsLatest"))
        ]
    return found


def _good(store: RegionStore, key: str, version_id: str | None, entry: FileEntry) -> bool:
    """True when that object version exists and hashes to the manifest digest."""
    try:
        digest, size = sha256_object(store.s3, store.bucket, key, version_id)
    except StoreError:  # an unreadable or vanished source is simply not a source
        return False
    return (digest, size) == (entry.sha256, entry.size)


def repair_object(
    target: RegionStore,
    peer: RegionStore | None,
    key: str,
    entry: FileEntry,
    progress: Progress | None = None,
) -> str | None:
    """Write a verified good copy of ``entry`` at ``key``; the source's label, or None."""
    for label, store, version_id in _candidates(target, peer, key, entry):
        if not _good(store, key, version_id, entry):
            continue
        meta = {"sha256": entry.sha256, RESTORED_FROM_META: label}
        copy_object(
            target.s3,
            (store.bucket, key, version_id),
            target.bucket,
            key,
            meta,
            src_client=store.s3,
            progress=progress,
        )
        if check_object(target, key, entry) is None:
            return label
    return None


def request_rebuild(store: RegionStore, manifest: Manifest, version: int, paths: list[str]) -> None:
    """Leave a rebuild request for engine_build (idempotent: an existing request is kept)."""
    body = {
        "model": manifest.model,
        "version": version,
        "build_key": manifest.key,
        "onnx_sha256": manifest.onnx_sha256,
        "spec": manifest.spec,
        "target": manifest.target,
        "missing": paths,
        "requested_at": now_iso(),
    }
    try:
        put_json(
            store.s3,
            store.bucket,
            store.key(rebuild_request_key(manifest.model, manifest.key)),
            body,
            if_none_match=True,
        )
    except PublishConflict:
        return


def _repair_manifest(
    target: RegionStore, manifest: Manifest, version: int, digest: str, raw: bytes
) -> Repair | None:
    """Rewrite the version manifest in the target when it is absent or differs."""
    found = read_manifest(target, manifest.model, version)
    if found is not None and found[1] == digest:
        return None
    key = target.key(manifest_key(manifest.model, version))
    put_bytes(target.s3, target.bucket, key, raw)
    return Repair(key, "missing" if found is None else "corrupt", "manifest held by a peer")


def _repoint(
    target: RegionStore, peer: RegionStore | None, manifest: Manifest, version: int, digest: str
) -> bool:
    """Move the target's release pointer to ``version`` if it points elsewhere; True if moved."""
    current, etag = read_release(target, manifest.model)
    if current is not None and current.version == version:
        advance_release(target, current, current, etag)
        return False
    template = read_release(peer, manifest.model)[0] if peer else None
    release = Release(
        model=manifest.model,
        version=version,
        build_key=manifest.key,
        manifest_sha256=digest,
        updated_at=now_iso(),
        updated_by="drctl restore",
    )
    history = template.previous if template and template.version == version else None
    advance_release(target, release, current, etag, history=history)
    return True


def restore(
    target: RegionStore,
    peer: RegionStore | None,
    model: str,
    version: int | None = None,
    *,
    repoint: bool = True,
    progress: Progress | None = None,
) -> RestoreResult:
    """Repair ``model`` (the peer's released version unless ``version``) in ``target``.

    Returns with ``rebuild_requested`` set when some file has no verified copy anywhere; the
    pointer is then left alone. Otherwise, with ``repoint``, the target's pointer is moved
    to the version after every object verified.
    """
    stores = [s for s in (peer, target) if s is not None]
    version = version if version is not None else _released(stores, model)
    manifest, digest, raw = find_manifest(stores, model, version)
    result = RestoreResult(model, version, target.name)
    if fixed := _repair_manifest(target, manifest, version, digest, raw):
        result.repairs.append(fixed)
    lost = []
    for entry in manifest.files:
        key = target.key(final_key(model, version, entry.path))
        finding = check_object(target, key, entry)
        if finding is None:
            continue
        source = repair_object(target, peer, key, entry, progress)
        result.repairs.append(Repair(key, finding.kind, source or "rebuild requested"))
        if source is None:
            lost.append(entry.path)
    if lost:
        request_rebuild(target, manifest, version, lost)
        result.rebuild_requested = True
    elif repoint:
        result.repointed = _repoint(target, peer, manifest, version, digest)
    return result


def _released(stores: Sequence[RegionStore], model: str) -> int:
    """The version released first among ``stores`` (peer first)."""
    for store in stores:
        release, _ = read_release(store, model)
        if release is not None:
            return release.version
    raise ReleaseNotFound(f"{model} has no release in any region; pass --version")
