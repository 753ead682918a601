"""Check a release in every region against its manifest: presence, size, SHA-256, parity, lag.

The store hashes object bytes itself: S3 emulators (moto) accept wrong upload checksums, and a
replica or restored object is only trusted once its bytes hash to the manifest's digest.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from drctl.store.errors import ChecksumMismatch, ObjectMissing, ReleaseNotFound, StoreError
from drctl.store.layout import (
    Release,
    config_key,
    final_key,
    manifest_key,
    pinned_version,
    release_key,
)
from drctl.store.replication import PairState, pair_state
from drctl.store.s3ops import (
    Progress,
    RegionStore,
    get_json,
    get_text,
    head,
    s3_errors,
    sha256_object,
)
from engine_build.manifest import FileEntry, Manifest


@dataclass(frozen=True)
class Finding:
    """One problem: ``kind`` is missing, corrupt, stale, pending, failed or diverged."""

    region: str
    key: str
    kind: str
    detail: str


@dataclass
class RegionReport:
    """What one region holds for the release."""

    region: str
    bucket: str
    released_version: int | None
    files_checked: int = 0
    bytes_hashed: int = 0
    findings: list[Finding] = field(default_factory=list)
    canary: int | None = None  # version on trial in this tree (set by canary.annotate)


@dataclass
class VerifyReport:
    """The outcome of ``verify_release``; ``ok`` is what the CLI's exit code follows."""

    model: str
    version: int
    regions: list[RegionReport]
    replication: list[PairState]
    seconds: float

    @property
    def findings(self) -> list[Finding]:
        """Every finding of every region."""
        return [f for r in self.regions for f in r.findings]

    @property
    def max_lag_seconds(self) -> float:
        """The oldest unreplicated write, in seconds (0 when in sync)."""
        return max((p.lag_seconds for p in self.replication), default=0.0)

    @property
    def ok(self) -> bool:
        """True when nothing is missing, corrupt, stale or unreplicated."""
        return not self.findings


def check_object(
    store: RegionStore,
    key: str,
    entry: FileEntry,
    deep: bool = True,
    progress: Progress | None = None,
) -> Finding | None:
    """None when ``key`` holds exactly ``entry``; else what is wrong with it."""
    info = head(store.s3, store.bucket, key)
    if info is None:
        return Finding(store.name, key, "missing", f"absent; expected {entry.path}")
    if info.size != entry.size:
        return Finding(store.name, key, "corrupt", f"{info.size} bytes, manifest {entry.size}")
    if not deep:
        return None
    try:
        digest, _ = sha256_object(store.s3, store.bucket, key, info.version_id, progress)
    except ObjectMissing:
        return Finding(store.name, key, "missing", "deleted while being verified")
    except ChecksumMismatch:
        return Finding(store.name, key, "corrupt", "bytes do not match the S3 checksum")
    if digest != entry.sha256:
        return Finding(
            store.name, key, "corrupt", f"sha256 {digest[:12]}…, manifest {entry.sha256[:12]}…"
        )
    return None


def read_release(store: RegionStore, model: str) -> tuple[Release | None, str | None]:
    """The region's release pointer and its ETag (None, None when nothing is released)."""
    found = get_json(store.s3, store.bucket, store.key(release_key(model)))
    if found is None:
        return None, None
    try:
        return Release.model_validate(found[0]), found[1]
    except ValidationError as exc:
        raise StoreError(
            f"{store.name}: releases/{model}.json is malformed ({exc.errors()[0]});"
            " roll back to a known version to rewrite it"
        ) from exc


def read_manifest(
    store: RegionStore, model: str, version: int
) -> tuple[Manifest, str, bytes] | None:
    """The published manifest of a version, the hex SHA-256 of its bytes and the bytes."""
    key = store.key(manifest_key(model, version))
    try:
        with s3_errors(store.bucket, key):
            raw = store.s3.get_object(Bucket=store.bucket, Key=key)["Body"].read()
    except ObjectMissing:
        return None
    try:
        return Manifest.model_validate_json(raw), hashlib.sha256(raw).hexdigest(), raw
    except ValidationError:
        return None


def find_manifest(
    regions: Sequence[RegionStore], model: str, version: int
) -> tuple[Manifest, str, bytes]:
    """The version's manifest from the first region holding a valid copy."""
    for store in regions:
        found = read_manifest(store, model, version)
        if found:
            return found
    raise ReleaseNotFound(
        f"no region holds a valid manifest of {model} version {version}; "
        "list versions with `drctl store versions`"
    )


def _pick_version(regions: Sequence[RegionStore], model: str, version: int | None) -> int:
    """The version to verify: the one asked for, else the newest released one."""
    if version is not None:
        return version
    released = [r.version for r in (read_release(s, model)[0] for s in regions) if r]
    if not released:
        raise ReleaseNotFound(f"{model} has no release in any region; publish it first")
    return max(released)


def _pointer_findings(store: RegionStore, model: str, version: int) -> list[Finding]:
    """A pointer not at ``version``, or a config not pinning the released version."""
    release, _ = read_release(store, model)
    if release is None or release.version != version:
        now = release.version if release else None
        return [
            Finding(
                store.name,
                store.key(release_key(model)),
                "stale",
                f"releases version {now}, expected {version}",
            )
        ]
    pinned = pinned_version(get_text(store.s3, store.bucket, store.key(config_key(model))) or "")
    if pinned != version:
        return [
            Finding(
                store.name,
                store.key(config_key(model)),
                "stale",
                f"config pins {pinned}, release is {version}",
            )
        ]
    return []


def _check_region(
    store: RegionStore,
    manifest: Manifest,
    digest: str,
    version: int,
    deep: bool,
    progress: Progress | None,
) -> RegionReport:
    """All findings of one region for one version."""
    release, _ = read_release(store, manifest.model)
    report = RegionReport(store.name, store.bucket, release.version if release else None)
    report.findings += _pointer_findings(store, manifest.model, version)
    found = read_manifest(store, manifest.model, version)
    if found is None or found[1] != digest:
        kind = "missing" if found is None else "corrupt"
        key = store.key(manifest_key(manifest.model, version))
        report.findings.append(
            Finding(store.name, key, kind, "version manifest absent or different")
        )
    for entry in manifest.files:
        key = store.key(final_key(manifest.model, version, entry.path))
        if finding := check_object(store, key, entry, deep, progress):
            report.findings.append(finding)
        report.files_checked += 1
        report.bytes_hashed += entry.size if deep else 0
    return report


def _replication(
    regions: Sequence[RegionStore], manifest: Manifest, version: int, now: datetime | None
) -> tuple[list[PairState], list[Finding]]:
    """Pairwise replication state of every key of the version between the first two regions."""
    if len(regions) < 2:
        return [], []
    a, b = regions[0], regions[1]
    keys = [a.key(manifest_key(manifest.model, version))]
    keys += [a.key(final_key(manifest.model, version, e.path)) for e in manifest.files]
    states = [pair_state(k, (a.name, a.s3, a.bucket), (b.name, b.s3, b.bucket), now) for k in keys]
    findings = [
        Finding(
            s.source_region or "both",
            s.key,
            s.status,
            f"replication lag {s.lag_seconds:.0f}s; source version {s.source_version}, "
            f"replica of {s.replica_of_version}",
        )
        for s in states
        if s.status in {"pending", "failed", "stale", "diverged"}
    ]
    return states, findings


def verify_release(
    regions: Sequence[RegionStore],
    model: str,
    version: int | None = None,
    *,
    deep: bool = True,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> VerifyReport:
    """Check ``model`` (the released version unless ``version``) in every region.

    ``deep`` hashes every byte; without it only presence and size are checked.
    """
    start = time.monotonic()
    version = _pick_version(regions, model, version)
    manifest, digest, _ = find_manifest(regions, model, version)
    reports = [_check_region(s, manifest, digest, version, deep, progress) for s in regions]
    states, repl_findings = _replication(regions, manifest, version, now)
    if reports:
        reports[0].findings.extend(repl_findings)
    return VerifyReport(model, version, reports, states, time.monotonic() - start)
