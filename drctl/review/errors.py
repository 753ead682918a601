"""Errors of the review package; each is one failure with its own exit code in the CLI."""

from __future__ import annotations


class ReviewError(Exception):
    """Base class: a review input is unusable (the CLI exits 2 and says what to fix)."""


class PriceTableError(ReviewError):
    """The price table file is missing, unreadable or has an invalid entry."""


class PriceNotFound(ReviewError):
    """No price entry matches an item, key and region the stacks use."""


class UsageFileError(ReviewError):
    """The usage file is unreadable or has unknown keys or negative quantities."""


class PreviewFileError(ReviewError):
    """A `pulumi preview --json` file cannot be read or has no steps."""


class SnapshotError(ReviewError):
    """A cost or resource snapshot (a directory or JSON file) cannot be produced or read."""
