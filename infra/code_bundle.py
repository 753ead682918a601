"""How project code reaches trt-dr's containers: a ConfigMap of the project's sources.

The NGC TensorRT image (build and publish Jobs) and the plain ``python:3.11-slim`` image of
the in-cluster monitoring Jobs (docs/monitoring-jobs.md) have Python but not our code. A
ConfigMap (limit 1 MiB) carries the sources a :class:`Bundle` names plus its pinned
requirements; each Job mounts it at ``/opt/trt-dr``, installs the requirements and runs with
``PYTHONPATH=/opt/trt-dr``. The ConfigMap's name is stable, so a code change alone does not
re-run builds (the build key covers inputs, target, backend version and image, not code).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

CODE_MOUNT = "/opt/trt-dr"
CODE_CONFIG_MAP = "trt-dr-code"
ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 900 * 1024


@dataclass(frozen=True)
class Bundle:
    """The packages (every ``*.py`` below them) and single files one kind of Job imports."""

    config_map: str
    sources: tuple[str, ...]
    single_files: tuple[str, ...] = ()


BUILDER = Bundle(
    CODE_CONFIG_MAP, ("engine_build", "drctl/store"), ("drctl/__init__.py", "drctl/publish_job.py")
)
# What ``python -m drctl.ops_entry`` imports (tests/infra/test_code_bundle.py imports it from
# nothing but these files): the rollout CLI, the store CLI and their config and manifest types.
OPS = Bundle(
    "trt-dr-ops-code",
    ("drctl/monitoring", "drctl/store"),
    (
        "drctl/__init__.py",
        "drctl/atomic.py",
        "drctl/ops_entry.py",
        "drctl/runbook/__init__.py",
        "drctl/runbook/errors.py",
        "drctl/runbook/model.py",
        "drctl/runbook/parse.py",
        "engine_build/__init__.py",
        "engine_build/errors.py",
        "engine_build/manifest.py",
        "engine_build/spec.py",
        "infra/__init__.py",
        "infra/config.py",
        "infra/config_models.py",
    ),
)


class BundleTooLarge(Exception):
    """The code bundle would not fit in a ConfigMap."""


def flat_key(path: str) -> str:
    """ConfigMap keys cannot hold '/': ``engine_build/x.py`` -> ``engine_build__x.py``."""
    return path.replace("/", "__")


def bundle_files(root: Path = ROOT, bundle: Bundle = BUILDER) -> dict[str, str]:
    """Relative path -> source text of every file the bundle's Jobs need."""
    paths = [p for package in bundle.sources for p in sorted((root / package).rglob("*.py"))]
    paths += [root / name for name in bundle.single_files if (root / name).exists()]
    return {str(p.relative_to(root)): p.read_text() for p in paths if "__pycache__" not in p.parts}


def code_items(files: dict[str, str]) -> list[k8s.core.v1.KeyToPathArgs]:
    """Volume items that put each flattened key back at its package path."""
    return [k8s.core.v1.KeyToPathArgs(key=flat_key(p), path=p) for p in sorted(files)] + [
        k8s.core.v1.KeyToPathArgs(key="requirements.txt", path="requirements.txt")
    ]


def bundle_data(requirements: Path, bundle: Bundle = BUILDER, root: Path = ROOT) -> dict[str, str]:
    """The ConfigMap's data; raises BundleTooLarge past ~900 KiB (the API's limit is 1 MiB)."""
    data = {flat_key(p): text for p, text in bundle_files(root, bundle).items()}
    data["requirements.txt"] = requirements.read_text()
    size = sum(len(v.encode()) for v in data.values())
    if size > MAX_BYTES:
        raise BundleTooLarge(
            f"{bundle.config_map} code is {size} bytes; a ConfigMap holds at most 1 MiB"
        )
    return data


def code_config_map(
    name: str,
    namespace: pulumi.Input[str],
    requirements: Path,
    opts: pulumi.ResourceOptions,
    bundle: Bundle = BUILDER,
) -> pulumi.Output[str]:
    """The ConfigMap with the bundle's sources and requirements; its name as an output."""
    config_map = k8s.core.v1.ConfigMap(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=bundle.config_map, namespace=namespace),
        data=bundle_data(requirements, bundle),
        opts=opts,
    )
    return config_map.metadata.name
