"""Failures of model-store operations, one class per failure, each with its CLI exit code.

Exit code 1 means the operation ran and found a problem (corruption, conflict, lag);
exit code 2 means the input or configuration is wrong and the operator must fix it first.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every model-store failure; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class OutputsError(StoreError):
    """Stack outputs are missing, unreadable or incomplete."""

    exit_code = 2


class BuildDirError(StoreError):
    """A build directory or its manifest is missing, invalid or disagrees with its files."""

    exit_code = 2


class BucketNotFound(StoreError):
    """The bucket named by the stack outputs does not exist."""

    exit_code = 2


class AccessDenied(StoreError):
    """The AWS credentials in use may not perform an S3 operation."""

    exit_code = 2


class ObjectMissing(StoreError):
    """An object the operation needs is absent (never written, or deleted mid-run)."""


class ChecksumMismatch(StoreError):
    """An object's bytes do not hash to the SHA-256 its manifest records."""


class TransferInterrupted(StoreError):
    """An upload, download or copy stopped before it finished; re-running resumes it."""


class PublishConflict(StoreError):
    """Another writer changed the release pointer first (conditional write lost)."""


class ReleaseNotFound(StoreError):
    """The model has no release pointer (nothing published yet) or the version is unknown."""

    exit_code = 2


class RestoreFailed(StoreError):
    """No verified source could repair an object; a rebuild was requested instead."""


class TritonLoadFailed(StoreError):
    """Triton refused or could not be reached for a repository load request."""
