"""How builder code reaches the build containers: a ConfigMap of the project's sources.

The NGC TensorRT image has Python, TensorRT and CUDA but not our code. A ConfigMap (limit
1 MiB) carries the ``engine_build`` and ``drctl.store`` sources plus the pinned requirements;
each Job mounts it at ``/opt/trt-dr``, installs the requirements and runs with
``PYTHONPATH=/opt/trt-dr``. The ConfigMap's name is stable, so a code change alone does not
re-run builds (the build key covers inputs, target, backend version and image, not code).
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

CODE_MOUNT = "/opt/trt-dr"
CODE_CONFIG_MAP = "trt-dr-code"
ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("engine_build", "drctl/store")
SINGLE_FILES = ("drctl/__init__.py", "drctl/publish_job.py")
MAX_BYTES = 900 * 1024


class BundleTooLarge(Exception):
    """The code bundle would not fit in a ConfigMap."""


def flat_key(path: str) -> str:
    """ConfigMap keys cannot hold '/': ``engine_build/x.py`` -> ``engine_build__x.py``."""
    return path.replace("/", "__")


def bundle_files(root: Path = ROOT) -> dict[str, str]:
    """Relative path -> source text of every file the Jobs need."""
    paths = [p for package in SOURCES for p in sorted((root / package).rglob("*.py"))]
    paths += [root / name for name in SINGLE_FILES if (root / name).exists()]
    return {str(p.relative_to(root)): p.read_text() for p in paths if "__pycache__" not in p.parts}


def code_items(files: dict[str, str]) -> list[k8s.core.v1.KeyToPathArgs]:
    """Volume items that put each flattened key back at its package path."""
    return [k8s.core.v1.KeyToPathArgs(key=flat_key(p), path=p) for p in sorted(files)] + [
        k8s.core.v1.KeyToPathArgs(key="requirements.txt", path="requirements.txt")
    ]


def code_config_map(
    name: str, namespace: pulumi.Input[str], requirements: Path, opts: pulumi.ResourceOptions
) -> pulumi.Output[str]:
    """The ConfigMap with sources and requirements; raises BundleTooLarge past ~900 KiB."""
    files = bundle_files()
    data = {flat_key(p): text for p, text in files.items()}
    data["requirements.txt"] = requirements.read_text()
    size = sum(len(v.encode()) for v in data.values())
    if size > MAX_BYTES:
        raise BundleTooLarge(f"builder code is {size} bytes; a ConfigMap holds at most 1 MiB")
    config_map = k8s.core.v1.ConfigMap(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=CODE_CONFIG_MAP, namespace=namespace),
        data=data,
        opts=opts,
    )
    return config_map.metadata.name
