"""``versions`` and ``rollback``: list a model's versions; move its release pointer back.

Rollback checks the target version byte for byte in every region first, then moves each
region's pointer with a conditional write, and finally asks each given Triton endpoint to load
the model so it serves the pinned version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from drctl.store.errors import ReleaseNotFound, StoreError
from drctl.store.layout import Release, final_key
from drctl.store.release import advance_release, now_iso
from drctl.store.s3ops import RegionStore, get_json, list_keys
from drctl.store.triton import load_model
from drctl.store.verify import check_object, find_manifest, read_manifest, read_release


class VersionIncomplete(StoreError):
    """The rollback target is missing or corrupt in some region; restore it first."""


@dataclass(frozen=True)
class VersionInfo:
    """One claimed version of a model, as listed by ``drctl store versions``."""

    version: int
    build_key: str
    complete: bool
    released: bool
    precision: str | None
    backend: str | None
    created_at: str | None
    claimed_at: str | None
    publisher: str | None


@dataclass
class RollbackResult:
    """Where each region's pointer was and now is, and what Triton said."""

    model: str
    version: int
    before: dict[str, int | None] = field(default_factory=dict)
    loaded: list[str] = field(default_factory=list)


def list_models(store: RegionStore) -> list[str]:
    """Models with a release pointer in the bucket (canary pointers live one level deeper)."""
    prefix = store.key("releases/")
    names = [k.removeprefix(prefix) for k in list_keys(store.s3, store.bucket, prefix)]
    return sorted(n.removesuffix(".json") for n in names if "/" not in n)


def list_versions(store: RegionStore, model: str) -> list[VersionInfo]:
    """Every claimed version of ``model`` with its manifest summary, oldest first."""
    release, _ = read_release(store, model)
    out = []
    for key in list_keys(store.s3, store.bucket, store.key(f"claims/{model}/")):
        claim = (get_json(store.s3, store.bucket, key) or ({}, ""))[0]
        stem = key.rsplit("/", 1)[-1].removesuffix(".json")
        if not stem.isdigit():
            continue
        found = read_manifest(store, model, int(stem))
        manifest = found[0] if found else None
        out.append(
            VersionInfo(
                version=int(stem),
                build_key=str(claim.get("build_key", "")),
                complete=found is not None,
                released=bool(release and release.version == int(stem)),
                precision=manifest.precision if manifest else None,
                backend=manifest.backend if manifest else None,
                created_at=manifest.created_at if manifest else None,
                claimed_at=claim.get("claimed_at"),
                publisher=claim.get("publisher"),
            )
        )
    return sorted(out, key=lambda v: v.version)


def _target(regions: Sequence[RegionStore], model: str, to: int | None) -> tuple[int, bool]:
    """The version to roll back to and whether it is a pop of the history."""
    if to is not None:
        return to, False
    release, _ = read_release(regions[0], model)
    if release is None or not release.previous:
        raise ReleaseNotFound(
            f"{model} has no earlier release in {regions[0].name}; "
            "pass --to N (see `drctl store versions`)"
        )
    return release.previous[-1], True


def _check_everywhere(regions: Sequence[RegionStore], model: str, version: int) -> tuple[str, str]:
    """Hash the target version in every region; returns (build key, manifest digest)."""
    manifest, digest, _ = find_manifest(regions, model, version)
    for store in regions:
        found = read_manifest(store, model, version)
        problems = [] if found and found[1] == digest else ["manifest"]
        for entry in manifest.files:
            key = store.key(final_key(model, version, entry.path))
            if check_object(store, key, entry) is not None:
                problems.append(entry.path)
        if problems:
            raise VersionIncomplete(
                f"{model} version {version} is missing or corrupt in "
                f"{store.name} ({', '.join(problems)}); run `drctl store "
                f"restore --region {store.name} --version {version}` first"
            )
    return manifest.key, digest


def rollback(
    regions: Sequence[RegionStore],
    model: str,
    to: int | None = None,
    *,
    endpoints: Sequence[str] = (),
    loader: Callable[[str, str], None] = load_model,
    who: str = "drctl rollback",
) -> RollbackResult:
    """Point ``model`` at ``to`` (default: the previous release) in every region, then load it."""
    version, pop = _target(regions, model, to)
    build_key, digest = _check_everywhere(regions, model, version)
    result = RollbackResult(model, version)
    for store in regions:
        current, etag = read_release(store, model)
        result.before[store.name] = current.version if current else None
        history = None
        if pop and current is not None and current.previous[-1:] == [version]:
            history = current.previous[:-1]
        target = Release(
            model=model,
            version=version,
            build_key=build_key,
            manifest_sha256=digest,
            updated_at=now_iso(),
            updated_by=who,
        )
        advance_release(store, target, current, etag, history=history)
    for endpoint in endpoints:
        loader(endpoint, model)
        result.loaded.append(endpoint)
    return result
