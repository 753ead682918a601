"""Canary lifecycle in a region's tree: start (publish without releasing), promote, abort.

A canary is two objects next to the release pointer: the canary pointer
``releases/canary/<model>.json`` (version on trial, baseline, who, when), created with
If-None-Match so of two publishers exactly one starts a canary, and the config
``repository/<model>/configs/canary.pbtxt`` pinning the canary version, which Triton's canary
pods read (``--model-config-name=canary``) and stable pods ignore. The config is derived from
the pointer and written after it, and removed before it, so every crash leaves either nothing
or a state that ``canary_findings`` reports and a re-run of the same command repairs.

Promote advances the release pointer to the canary version (the release's conditional write),
re-pins ``config.pbtxt``, then removes the canary config and pointer. Abort only removes them,
so canary pods fall back to ``config.pbtxt`` (the stable version) on their next load.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pydantic import ValidationError

from drctl.store.errors import PublishConflict, ReleaseNotFound, StoreError
from drctl.store.layout import (
    CanaryPointer,
    Release,
    canary_config_key,
    canary_key,
    config_key,
    manifest_key,
    pinned_version,
)
from drctl.store.release import advance_release, now_iso, pin_version_config
from drctl.store.s3ops import RegionStore, delete_keys, get_json, get_text, put_bytes, put_json
from drctl.store.verify import Finding, VerifyReport, read_manifest, read_release
from engine_build.manifest import Manifest


class CanaryInProgress(PublishConflict):
    """Another version is already on trial; promote or abort it before starting a new one."""


@dataclass(frozen=True)
class CanaryResult:
    """What a canary command did: ``state`` is started, promoted, aborted or none."""

    model: str
    region: str
    state: str
    version: int | None
    baseline: int | None


def read_canary(store: RegionStore, model: str) -> tuple[CanaryPointer | None, str | None]:
    """The region's canary pointer and its ETag (None, None when no canary is in progress)."""
    found = get_json(store.s3, store.bucket, store.key(canary_key(model)))
    if found is None:
        return None, None
    try:
        return CanaryPointer.model_validate(found[0]), found[1]
    except ValidationError as exc:
        raise StoreError(
            f"{store.name}: {canary_key(model)} is malformed ({exc.errors()[0]}); run "
            f"`drctl store abort {model} --region {store.name}` to remove it"
        ) from exc


def refuse_other_canary(store: RegionStore, model: str, build_key: str) -> CanaryPointer | None:
    """Fail fast (before any upload) when a different build is already on trial.

    Returns the pointer when this very build is on trial (a re-run), else None.
    """
    pointer, _ = read_canary(store, model)
    if pointer is not None and pointer.build_key != build_key:
        raise CanaryInProgress(
            f"{store.name}: {model} version {pointer.version} is on trial since "
            f"{pointer.started_at}; run `drctl store promote {model} --region {store.name}` "
            f"or `drctl store abort {model} --region {store.name}` first"
        )
    return pointer


def start_canary(
    store: RegionStore, manifest: Manifest, raw: bytes, version: int, who: str
) -> CanaryResult:
    """Write the version manifest, the canary pointer (If-None-Match), then its config."""
    refuse_other_canary(store, manifest.model, manifest.key)
    release, _ = read_release(store, manifest.model)
    if release is None:
        raise ReleaseNotFound(
            f"{store.name}: {manifest.model} has no release to compare a canary with; "
            "publish it without --canary first"
        )
    put_bytes(store.s3, store.bucket, store.key(manifest_key(manifest.model, version)), raw)
    pointer, _ = read_canary(store, manifest.model)
    if pointer is None:
        pointer = CanaryPointer(
            model=manifest.model,
            version=version,
            baseline=release.version,
            build_key=manifest.key,
            manifest_sha256=hashlib.sha256(raw).hexdigest(),
            started_at=now_iso(),
            started_by=who,
        )
        key = store.key(canary_key(manifest.model))
        put_json(store.s3, store.bucket, key, pointer.model_dump(), if_none_match=True)
    sync_canary_config(store, pointer)
    return CanaryResult(manifest.model, store.name, "started", version, pointer.baseline)


def sync_canary_config(store: RegionStore, pointer: CanaryPointer) -> bool:
    """Make ``configs/canary.pbtxt`` pin the canary version; True if rewritten."""
    return pin_version_config(
        store, pointer.model, pointer.version, canary_config_key(pointer.model)
    )


def _clear(store: RegionStore, model: str) -> None:
    """Remove the canary config, mark the model directory changed, then remove the pointer.

    Triton 2.51 re-reads a model on a load request only when a file in its directory is newer
    than at the last load (measured: a deleted file is no change), so ``config.pbtxt`` is
    rewritten with its own bytes after the canary config is gone.
    """
    delete_keys(store.s3, store.bucket, [store.key(canary_config_key(model))])
    key = store.key(config_key(model))
    text = get_text(store.s3, store.bucket, key)
    if text is not None:
        put_bytes(store.s3, store.bucket, key, text.encode(), content_type="text/plain")
    delete_keys(store.s3, store.bucket, [store.key(canary_key(model))])


def promote_canary(store: RegionStore, model: str, who: str) -> CanaryResult:
    """Release the canary version, then end the canary; a re-run finishes a crashed promote."""
    pointer, _ = read_canary(store, model)
    if pointer is None:
        _clear(store, model)  # an orphaned config left by a crash would keep serving
        return CanaryResult(model, store.name, "none", None, None)
    release, etag = read_release(store, model)
    if release is None or release.version not in (pointer.baseline, pointer.version):
        now = release.version if release else None
        raise PublishConflict(
            f"{store.name}: {model}'s release moved to {now} since the canary of version "
            f"{pointer.version} started from {pointer.baseline}; run `drctl store abort "
            f"{model} --region {store.name}` and publish the canary again"
        )
    target = Release(
        model=model,
        version=pointer.version,
        build_key=pointer.build_key,
        manifest_sha256=pointer.manifest_sha256,
        updated_at=now_iso(),
        updated_by=who,
    )
    advance_release(store, target, release, etag)
    _clear(store, model)
    return CanaryResult(model, store.name, "promoted", pointer.version, pointer.baseline)


def abort_canary(store: RegionStore, model: str) -> CanaryResult:
    """End the canary without releasing it; canary pods then load the stable config."""
    pointer, _ = read_canary(store, model)
    _clear(store, model)
    if pointer is None:
        return CanaryResult(model, store.name, "none", None, None)
    return CanaryResult(model, store.name, "aborted", pointer.version, pointer.baseline)


def canary_findings(store: RegionStore, model: str) -> list[Finding]:
    """Drift between the canary pointer, its config and its version (none when consistent)."""
    pointer, _ = read_canary(store, model)
    canary_config = store.key(canary_config_key(model))
    pinned = pinned_version(get_text(store.s3, store.bucket, canary_config) or "")
    fix = f"`drctl store abort {model} --region {store.name}`"
    republish = "re-run `drctl store publish --canary`"
    if pointer is None:
        if pinned is None:
            return []
        detail = f"canary config pins {pinned} without a canary pointer; run {fix}"
        return [Finding(store.name, canary_config, "stale", detail)]
    findings = []
    if pinned != pointer.version:
        detail = f"canary config pins {pinned}, canary is {pointer.version}; {republish} or {fix}"
        findings.append(Finding(store.name, canary_config, "stale", detail))
    found = read_manifest(store, model, pointer.version)
    if found is None or found[1] != pointer.manifest_sha256:
        key = store.key(manifest_key(model, pointer.version))
        findings.append(Finding(store.name, key, "missing", f"canary version absent; run {fix}"))
    return findings


def annotate(report: VerifyReport, store: RegionStore) -> VerifyReport:
    """Add the tree's canary (version on trial, drift findings) to a verify report."""
    pointer, _ = read_canary(store, report.model)
    for region in report.regions:
        if region.region == store.name:
            region.canary = pointer.version if pointer else None
            region.findings += canary_findings(store, report.model)
    return report
