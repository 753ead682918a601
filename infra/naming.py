"""Deterministic names: each stack can name its peer's resources without reading them."""

from __future__ import annotations


def logical(stack: str, region: str, what: str) -> str:
    """Pulumi logical name, kebab-case: ``primary-us-east-1-gpu``."""
    return f"{stack}-{region}-{what}"


def bucket_name(prefix: str, account_id: str, region: str) -> str:
    """Globally unique model bucket name, derivable from account and region alone."""
    return f"{prefix}-models-{account_id}-{region}"


def bucket_arn(prefix: str, account_id: str, region: str) -> str:
    """ARN of the model bucket that :func:`bucket_name` names."""
    return f"arn:aws:s3:::{bucket_name(prefix, account_id, region)}"


def cluster_name(prefix: str, stack: str) -> str:
    """EKS cluster name (cluster names are per region and account)."""
    return f"{prefix}-{stack}"


def kms_alias(prefix: str) -> str:
    """Alias of the model store's multi-Region key; the same in both regions."""
    return f"alias/{prefix}-models"
