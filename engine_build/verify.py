"""Verifying a build directory: every file the manifest lists, re-hashed from disk."""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

from engine_build.errors import ManifestNotFoundError, VerificationError
from engine_build.graph import sha256_file
from engine_build.manifest import MANIFEST_NAME, FileEntry, Manifest
from engine_build.store import download_build, parse_manifest, s3_location


def load_manifest(build_dir: Path) -> Manifest:
    """The manifest of a local build directory; ManifestNotFoundError when absent/invalid."""
    path = build_dir / MANIFEST_NAME
    if not path.is_file():
        raise ManifestNotFoundError(
            f"{build_dir} has no {MANIFEST_NAME}; pass the directory <out>/<model>/<target>/<key>"
        )
    return parse_manifest(path.read_bytes(), str(path))


def check_entry(build_dir: Path, entry: FileEntry) -> str | None:
    """What is wrong with one listed file, or None when its size and sha256 match."""
    relative = PurePosixPath(entry.path)
    if relative.is_absolute() or ".." in relative.parts:
        return f"{entry.path}: path escapes the build directory"
    path = build_dir / relative
    if not path.is_file():
        return f"{entry.path}: missing"
    if path.stat().st_size != entry.size:
        return f"{entry.path}: size {path.stat().st_size} != {entry.size} in manifest"
    if sha256_file(path) != entry.sha256:
        return f"{entry.path}: sha256 does not match the manifest"
    return None


def verify_local(build_dir: Path) -> Manifest:
    """Check every listed file; VerificationError lists each bad one."""
    manifest = load_manifest(build_dir)
    problems = [p for p in (check_entry(build_dir, e) for e in manifest.files) if p]
    if problems:
        raise VerificationError(
            f"{build_dir}: {len(problems)} of {len(manifest.files)} files fail verification",
            problems,
        )
    return manifest


def verify(build_dir: str) -> Manifest:
    """Verify a local or s3:// build directory (s3 is downloaded to a temp dir first)."""
    if s3_location(build_dir) is None:
        return verify_local(Path(build_dir))
    with tempfile.TemporaryDirectory(prefix="engine-verify-") as tmp:
        return verify_local(download_build(build_dir, Path(tmp)))


def inspect(build_dir: str) -> Manifest:
    """The manifest of a local or s3:// build directory, without re-hashing files."""
    if s3_location(build_dir) is None:
        return load_manifest(Path(build_dir))
    from engine_build.store import read_manifest

    manifest = read_manifest(build_dir)
    if manifest is None:
        raise ManifestNotFoundError(f"{build_dir} has no {MANIFEST_NAME}")
    return manifest
