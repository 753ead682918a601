"""Reading and checking an engine_build output directory before anything leaves the machine."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from drctl.store.errors import BuildDirError, ObjectMissing
from drctl.store.layout import build_config_path, check_model_name, check_relative_path
from drctl.store.s3ops import s3_errors
from engine_build.manifest import MANIFEST_NAME, FileEntry, Manifest


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a local file, read in 8 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class S3Build:
    """An engine_build output stored in S3 (``engine_build build --out s3://bucket/prefix``)."""

    bucket: str
    prefix: str

    def key(self, path: str) -> str:
        """The object key of a build file."""
        return f"{self.prefix.strip('/')}/{path}" if self.prefix.strip("/") else path

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix.strip('/')}"


def parse_location(text: str) -> Path | S3Build:
    """A local build directory, or ``s3://bucket/prefix`` of a build in S3."""
    if not text.startswith("s3://"):
        return Path(text)
    bucket, _, prefix = text.removeprefix("s3://").partition("/")
    if not bucket:
        raise BuildDirError(f"{text}: expected s3://bucket/prefix of an engine_build output")
    return S3Build(bucket, prefix)


def read_manifest(build_dir: Path) -> tuple[Manifest, bytes]:
    """The build's manifest and its exact bytes, with paths and model name checked."""
    path = build_dir / MANIFEST_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise BuildDirError(
            f"{build_dir} has no {MANIFEST_NAME}: pass an engine_build output"
        ) from exc
    return parse_manifest(raw, str(path)), raw


def read_s3_manifest(s3: Any, build: S3Build) -> tuple[Manifest, bytes]:
    """The manifest of a build in S3 and its exact bytes, checked like a local one."""
    where = f"{build}/{MANIFEST_NAME}"
    try:
        with s3_errors(build.bucket, build.key(MANIFEST_NAME)):
            raw = s3.get_object(Bucket=build.bucket, Key=build.key(MANIFEST_NAME))["Body"].read()
    except ObjectMissing as exc:
        raise BuildDirError(f"{where} does not exist: pass an engine_build output") from exc
    return parse_manifest(raw, where), raw


def parse_manifest(raw: bytes, path: str) -> Manifest:
    """Validate manifest bytes: schema, model name, relative paths, Triton files present."""
    try:
        manifest = Manifest.model_validate_json(raw)
    except ValidationError as exc:
        raise BuildDirError(
            f"{path} is not a valid manifest: {exc.errors()[0]['msg']} at "
            f"{exc.errors()[0]['loc']}; rebuild it with engine_build"
        ) from exc
    try:
        check_model_name(manifest.model)
        for entry in manifest.files:
            check_relative_path(entry.path)
    except ValueError as exc:
        raise BuildDirError(f"{path}: {exc}") from exc
    _require_triton_files(manifest, path)
    return manifest


def _require_triton_files(manifest: Manifest, path: str) -> None:
    """A publishable build ships its Triton config and at least one version-1 file."""
    paths = {entry.path for entry in manifest.files}
    if MANIFEST_NAME in paths:
        raise BuildDirError(f"{path} must not list {MANIFEST_NAME} itself")
    if len(paths) != len(manifest.files):
        raise BuildDirError(f"{path} lists a file twice")
    if build_config_path(manifest.model) not in paths:
        raise BuildDirError(f"{path} lacks {build_config_path(manifest.model)}")
    if not any(p.startswith(f"triton/{manifest.model}/1/") for p in paths):
        raise BuildDirError(f"{path} lists no file under triton/{manifest.model}/1/")


def check_local_files(build_dir: Path, manifest: Manifest) -> None:
    """Every listed file exists locally with the recorded size and SHA-256."""
    for entry in manifest.files:
        _check_one(build_dir, entry)


def _check_one(build_dir: Path, entry: FileEntry) -> None:
    """One file against its manifest entry."""
    local = build_dir / entry.path
    if not local.is_file():
        raise BuildDirError(f"{local} is listed in the manifest but missing; rebuild")
    size = local.stat().st_size
    if size != entry.size:
        raise BuildDirError(f"{local} has {size} bytes, manifest says {entry.size}; rebuild")
    if sha256_file(local) != entry.sha256:
        raise BuildDirError(f"{local} does not match its manifest SHA-256; rebuild")


def load_build(build_dir: Path) -> tuple[Manifest, bytes]:
    """Manifest plus bytes of a fully checked build directory."""
    manifest, raw = read_manifest(build_dir)
    check_local_files(build_dir, manifest)
    return manifest, raw
