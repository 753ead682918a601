"""Validate rendered Kubernetes objects against the Kubernetes OpenAPI models.

The official ``kubernetes`` client's models are generated from the API's OpenAPI schema.
An object is valid here when it deserializes into its model (required fields present,
types convertible) and serializes back to the same document (no unknown or misspelt field,
nothing misplaced).
"""

from __future__ import annotations

from typing import Any

import kubernetes.client.models as models
from kubernetes.client import ApiClient


class SchemaError(AssertionError):
    """A rendered object does not match its Kubernetes OpenAPI model."""


def _plain(value: Any) -> Any:
    """Protobuf structs carry numbers as floats; integral floats become ints again."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def model_class(api_version: str, kind: str) -> type:
    """``apps/v1`` + ``Deployment`` -> ``V1Deployment``."""
    version = api_version.rsplit("/", 1)[-1]
    name = version[0].upper() + version[1:] + kind
    klass = getattr(models, name, None)
    if klass is None:
        raise SchemaError(f"no OpenAPI model {name} for {api_version} {kind}")
    return klass


def validate(document: dict[str, Any]) -> None:
    """Raise SchemaError when ``document`` is not a valid object of its kind."""
    obj = _plain(document)
    client = ApiClient()
    klass = model_class(obj["apiVersion"], obj["kind"])
    try:
        instance = client._ApiClient__deserialize(obj, klass)  # type: ignore[attr-defined]
    except (ValueError, TypeError) as error:
        raise SchemaError(f"{obj['kind']} {obj['metadata'].get('name')}: {error}") from error
    again = client.sanitize_for_serialization(instance)
    if again != obj:
        raise SchemaError(f"{obj['kind']} {obj['metadata'].get('name')}: {_diff(obj, again)}")


def _diff(expected: Any, actual: Any, path: str = "") -> str:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if expected.get(key) != actual.get(key):
                return _diff(expected.get(key), actual.get(key), f"{path}.{key}")
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            if left != right:
                return _diff(left, right, f"{path}[{index}]")
    return f"field {path or '.'} is not in the schema (rendered {expected!r}, schema {actual!r})"
