"""Advancing the release pointer: the one conditional write that makes a version live.

The pointer is advanced with If-Match on the ETag the writer read (or If-None-Match for the
first release), so of two concurrent writers exactly one wins; the loser gets PublishConflict.
The Triton config is derived from the pointer and rewritten after it, so a crash in between
leaves a drift that ``verify`` reports and any re-run repairs.
"""

from __future__ import annotations

from datetime import UTC, datetime

from drctl.store.errors import ObjectMissing
from drctl.store.layout import (
    Release,
    build_config_path,
    config_key,
    final_key,
    pin_config,
    pinned_version,
    release_key,
)
from drctl.store.s3ops import RegionStore, get_text, put_bytes, put_json


def now_iso() -> str:
    """UTC now in ISO 8601, second precision."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def advance_release(
    store: RegionStore,
    target: Release,
    current: Release | None,
    etag: str | None,
    history: list[int] | None = None,
) -> Release:
    """Point ``store``'s release at ``target`` if the pointer still has ``etag``.

    The new ``previous`` is ``history`` when given (rollback pops), else ``current``'s history
    plus ``current``; returns the release written.
    """
    if current is not None and current.version == target.version:
        sync_config(store, current)
        return current
    if history is None:
        history = [*current.previous, current.version] if current else []
    release = target.model_copy(update={"previous": history[-20:], "updated_at": now_iso()})
    key = store.key(release_key(target.model))
    if etag:
        put_json(store.s3, store.bucket, key, release.model_dump(), if_match=etag)
    else:
        put_json(store.s3, store.bucket, key, release.model_dump(), if_none_match=True)
    sync_config(store, release)
    return release


def sync_config(store: RegionStore, release: Release) -> bool:
    """Make ``repository/<model>/config.pbtxt`` pin ``release.version``; True if rewritten."""
    return pin_version_config(store, release.model, release.version, config_key(release.model))


def pin_version_config(store: RegionStore, model: str, version: int, layout_key: str) -> bool:
    """Write ``layout_key`` as version ``version``'s build config pinned to it, if it is not.

    Both Triton configs are made this way: ``config.pbtxt`` (the release) and
    ``configs/canary.pbtxt`` (the version on trial). True when rewritten.
    """
    key = store.key(layout_key)
    if pinned_version(get_text(store.s3, store.bucket, key) or "") == version:
        return False
    build_config = store.key(final_key(model, version, build_config_path(model)))
    text = get_text(store.s3, store.bucket, build_config)
    if text is None:
        raise ObjectMissing(
            f"{store.name}: s3://{store.bucket}/{build_config} is missing; run "
            f"`drctl store restore` for {model} version {version}"
        )
    put_bytes(
        store.s3, store.bucket, key, pin_config(text, version).encode(), content_type="text/plain"
    )
    return True
