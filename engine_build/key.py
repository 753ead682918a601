"""The content-addressed build key.

A key is the sha256 of canonical JSON (sorted keys, no whitespace) over everything that
can change the built engine: the ONNX content digest, the spec (with data files replaced
by their digests), the target, the backend and its exact version, and the builder image.
It imports no backend, so the Pulumi program can compute it during ``pulumi up`` from the
container release alone (see ``backend_version_for_release``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from engine_build.errors import BadInputError
from engine_build.spec import ModelSpec, Target

KEY_SCHEMA = 1

# NVIDIA container release (Triton / TensorRT NGC tag) -> TensorRT version inside it,
# build number included. Source: NVIDIA TensorRT container release notes (24.10 lists
# TensorRT 10.5.0.18). Only rows checked against that source belong here; pass the version
# explicitly for any other release.
TENSORRT_BY_RELEASE: dict[str, str] = {
    "24.10": "10.5.0.18",
}


def backend_version_for_release(release: str) -> str:
    """The TensorRT version shipped in an NVIDIA container release such as ``24.10``."""
    try:
        return TENSORRT_BY_RELEASE[release]
    except KeyError:
        known = ", ".join(sorted(TENSORRT_BY_RELEASE))
        raise BadInputError(
            f"no TensorRT version recorded for container release {release!r} (known: {known}); "
            "pass the backend version explicitly"
        ) from None


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, compact separators, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_spec(spec: ModelSpec, data_sha256: dict[str, str] | None = None) -> dict[str, Any]:
    """The spec as it enters the key: locations dropped, data files replaced by digests,
    and gates resolved to their effective thresholds (so a changed default changes keys)."""
    body = spec.model_dump(mode="json", exclude={"onnx", "calibration", "validation"})
    body["gates"] = {p: spec.gate(p).model_dump(mode="json") for p in spec.precisions}
    body["data_sha256"] = dict(sorted((data_sha256 or {}).items()))
    return body


def build_key(
    spec: ModelSpec,
    target: Target,
    *,
    onnx_sha256: str,
    backend_version: str,
    builder_image: str,
    data_sha256: dict[str, str] | None = None,
) -> str:
    """sha256 hex key of one build; equal inputs give equal keys, any change a new key.

    ``data_sha256`` maps ``calibration``/``validation`` to the sha256 of those ``.npz``
    files (omit a role the spec does not use). ``backend_version`` is the exact backend
    version (TensorRT build number included); the backend follows from the target.
    """
    if not backend_version:
        raise BadInputError("backend_version is required to compute a build key")
    document = {
        "schema": KEY_SCHEMA,
        "onnx_sha256": onnx_sha256,
        "spec": key_spec(spec, data_sha256),
        "target": target.model_dump(mode="json"),
        "backend": target.backend,
        "backend_version": backend_version,
        "builder_image": builder_image,
    }
    return hashlib.sha256(canonical_json(document)).hexdigest()
