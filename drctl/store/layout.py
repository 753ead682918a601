"""Where everything lives in a model bucket, and the small records the store writes.

Layout (per bucket, identical in both regions; see docs/model-store.md)::

    staging/<model>/<build key>/<manifest path>   uploads in flight (phase 1), removed after publish
    claims/<model>/<N>.json                       number N taken (If-None-Match create)
    versions/<model>/<N>/manifest.json            the build manifest of version N (written last)
    versions/<model>/<N>/<manifest path>          build files that Triton does not serve
    repository/<model>/<N>/<file>                 Triton version directory (from triton/<model>/1/)
    repository/<model>/config.pbtxt               Triton config pinned to the released version
    repository/<model>/configs/canary.pbtxt       canary pods' config, pinned to the canary version
    releases/<model>.json                         the release pointer (advanced with If-Match)
    releases/canary/<model>.json                  the canary pointer while a canary is in progress
    rebuild-requests/<model>/<build key>.json     restore's last resort: ask engine_build to rebuild
"""

from __future__ import annotations

import re
import uuid

from pydantic import BaseModel, Field

from engine_build.manifest import MANIFEST_NAME

REPOSITORY = "repository"
CANARY_CONFIG_NAME = "canary"  # what the canary pods pass as --model-config-name
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class Claim(BaseModel):
    """Who took version number N, for which build (makes a re-run of publish idempotent)."""

    model: str
    version: int
    build_key: str
    claimed_at: str
    publisher: str


class Release(BaseModel):
    """The release pointer: which version Triton serves, and the versions served before it."""

    model: str
    version: int
    build_key: str
    manifest_sha256: str
    previous: list[int] = Field(default_factory=list)
    updated_at: str
    updated_by: str


class CanaryPointer(BaseModel):
    """A version on trial on the canary pods, next to the released ``baseline``."""

    model: str
    version: int
    baseline: int
    build_key: str
    manifest_sha256: str
    started_at: str
    started_by: str
    trial: str = Field(default_factory=lambda: uuid.uuid4().hex[:16])  # tells trials apart


def staging_key(model: str, build_key: str, path: str) -> str:
    """Key of a staged (phase 1) upload of ``path`` of a build."""
    return f"staging/{model}/{build_key}/{path}"


def claim_key(model: str, version: int) -> str:
    """Key whose creation reserves version number ``version``."""
    return f"claims/{model}/{version}.json"


def manifest_key(model: str, version: int) -> str:
    """Key of the manifest of a published version; its presence marks the version complete."""
    return f"versions/{model}/{version}/{MANIFEST_NAME}"


def release_key(model: str) -> str:
    """Key of the model's release pointer."""
    return f"releases/{model}.json"


def canary_key(model: str) -> str:
    """Key of the model's canary pointer (under ``releases/`` so the same IAM grants cover it)."""
    return f"releases/canary/{model}.json"


def canary_config_key(model: str) -> str:
    """Key of the config Triton's canary pods read instead of ``config.pbtxt`` when present."""
    return f"{REPOSITORY}/{model}/configs/{CANARY_CONFIG_NAME}.pbtxt"


def config_key(model: str) -> str:
    """Key of the Triton config that pins the released version."""
    return f"{REPOSITORY}/{model}/config.pbtxt"


def rebuild_request_key(model: str, build_key: str) -> str:
    """Key of a rebuild request left for engine_build when no copy of a file survives."""
    return f"rebuild-requests/{model}/{build_key}.json"


def build_config_path(model: str) -> str:
    """Manifest path of the Triton config a build ships."""
    return f"triton/{model}/config.pbtxt"


def final_key(model: str, version: int, path: str) -> str:
    """Where a manifest file of version ``version`` lives once published.

    Files of the build's Triton version directory (``triton/<model>/1/``) go into Triton's
    repository; everything else (the build's config, reports, ONNX source) under ``versions/``.
    """
    served = f"triton/{model}/1/"
    if path.startswith(served):
        return f"{REPOSITORY}/{model}/{version}/{path[len(served) :]}"
    return f"versions/{model}/{version}/{path}"


def check_model_name(model: str) -> str:
    """Return ``model`` if it is usable as a Triton model name and S3 key segment."""
    if not MODEL_NAME.match(model):
        raise ValueError(f"model name {model!r} must match {MODEL_NAME.pattern}")
    return model


def check_relative_path(path: str) -> str:
    """Return ``path`` if it is a plain relative path that cannot escape its prefix."""
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in path:
        raise ValueError(f"manifest path {path!r} must be relative without '.', '..' or '//'")
    return path


def _strip_block(text: str, name: str) -> str:
    """Remove every top-level ``name { ... }`` block (balanced braces) from pbtxt ``text``."""
    pattern = re.compile(rf"(^|\n)[ \t]*{name}\s*:?\s*{{")
    while match := pattern.search(text):
        depth, i = 1, match.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        text = text[: match.start()] + text[i:]
    return text


def pin_config(build_config: str, version: int) -> str:
    """The build's Triton config with its version policy replaced by exactly ``version``."""
    body = _strip_block(build_config, "version_policy").rstrip()
    return f"{body}\nversion_policy {{ specific {{ versions: [{version}] }} }}\n"


def pinned_version(config: str) -> int | None:
    """The single version a pinned config serves, or None if it is not pinned by drctl."""
    match = re.search(r"version_policy\s*\{\s*specific\s*\{\s*versions:\s*\[(\d+)\]", config)
    return int(match.group(1)) if match else None
