"""The build manifest: the contract between engine_build, the model store and Triton.

A build output is a directory holding ``manifest.json`` plus every file it lists, by path
relative to that directory. The store (``drctl store``) publishes, verifies and restores
exactly the files a manifest lists, so this schema is the one thing both sides share.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = 1


class FileEntry(BaseModel):
    """One file of a build, addressed by its path relative to the build directory."""

    model_config = ConfigDict(frozen=True)

    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class LadderStep(BaseModel):
    """The outcome of one precision on the ladder: its gate thresholds and measured values."""

    model_config = ConfigDict(ser_json_inf_nan="strings")

    precision: str
    passed: bool
    metrics: dict[str, float] = Field(default_factory=dict)
    thresholds: dict[str, float] = Field(default_factory=dict)
    error: str | None = None


class Latency(BaseModel):
    """Latency measured on the target runtime, in milliseconds."""

    p50_ms: float
    p99_ms: float
    batch: int


class Manifest(BaseModel):
    """Everything needed to trust, serve and reproduce one build."""

    schema_version: int = SCHEMA_VERSION
    key: str = Field(pattern=r"^[0-9a-f]{64}$")
    model: str
    spec: dict[str, object]
    target: dict[str, object]
    backend: str
    backend_version: str
    builder_image: str
    builder_version: str
    precision: str
    ladder: list[LadderStep]
    files: list[FileEntry]
    onnx_sha256: str
    build_seconds: float
    latency: Latency | None = None
    created_at: str
    status: str = "accepted"
    engine: dict[str, object] = Field(
        default_factory=dict, description="properties read back from the built engine"
    )
    validation_data: str | None = Field(
        default=None, description="'spec' (the spec's .npz) or 'synthetic' (seeded random)"
    )

    def file(self, path: str) -> FileEntry:
        """The entry for ``path``; KeyError names the missing path."""
        for entry in self.files:
            if entry.path == path:
                return entry
        raise KeyError(path)
