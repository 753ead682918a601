"""Code bundles: they fit a ConfigMap, the ops bundle imports on its own, its pins are tested."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from infra.code_bundle import (
    BUILDER,
    MAX_BYTES,
    OPS,
    Bundle,
    BundleTooLarge,
    bundle_data,
    bundle_files,
)
from infra.monitoring_jobs import REQUIREMENTS as OPS_REQUIREMENTS

BUILDER_REQUIREMENTS = Path(__file__).parents[2] / "infra" / "builder-requirements.txt"
PROJECT_PACKAGES = ("drctl", "engine_build", "infra")


@pytest.mark.parametrize(
    "bundle,requirements", [(BUILDER, BUILDER_REQUIREMENTS), (OPS, OPS_REQUIREMENTS)]
)
def test_bundles_fit_a_config_map(bundle: Bundle, requirements: Path) -> None:
    data = bundle_data(requirements, bundle)
    assert sum(len(v.encode()) for v in data.values()) <= MAX_BYTES
    assert "requirements.txt" in data and all("/" not in key for key in data)


def test_an_oversized_bundle_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "blob.py").write_text("#" * (MAX_BYTES + 1))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("")
    with pytest.raises(BundleTooLarge, match="at most 1 MiB"):
        bundle_data(requirements, Bundle("x", ("big",)), tmp_path)


def test_ops_bundle_runs_its_commands_from_nothing_but_its_files(tmp_path: Path) -> None:
    """What the CronJob mounts at /opt/trt-dr is enough: every project module comes from it."""
    for relative, text in bundle_files(bundle=OPS).items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    check = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from drctl.ops_entry import app\n"
        "for args in (['rollout', 'watch', '--help'], ['store-verify', '--help'],\n"
        "             ['quality-probe', '--help']):\n"
        "    assert CliRunner().invoke(app, args).exit_code == 0, args\n"
        f"names = {PROJECT_PACKAGES!r}\n"
        "for name, module in list(sys.modules.items()):\n"
        "    if name.split('.')[0] in names:\n"
        "        assert (module.__file__ or '').startswith(sys.argv[1]), (name, module.__file__)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", check, str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            found[name.split("[")[0].strip()] = version.strip()
    return found


def test_ops_pins_are_the_versions_the_tests_run() -> None:
    """The controller runs with what this suite proves drctl against, not something newer."""
    pinned = pins(OPS_REQUIREMENTS)
    assert {"boto3", "pydantic", "typer", "rich", "tritonclient", "prometheus-client"} <= set(
        pinned
    )
    for name, version in pinned.items():
        assert metadata.version(name) == version, name


# Imports inside functions the in-cluster commands never reach: the replication stand-in
# (moto), load_settings in the Pulumi program (pulumi, infra.serving_checks) and
# `rollout watch --stack` (infra.offline; the Jobs pass thresholds as a file instead).
LAZY_ONLY = {"moto", "pulumi", "infra.offline", "infra.serving_checks"}


def imports(text: str) -> list[tuple[str, bool]]:
    """(imported module, imported at module level) of every absolute import in ``text``."""
    tree = ast.parse(text)
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top))
    return found


def canonical(name: str) -> str:
    """PEP 503 name: ``Prometheus_Client`` -> ``prometheus-client``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_ops_import_is_bundled_or_pinned() -> None:
    """A module neither in the bundle nor in a pinned wheel breaks only in the cluster."""
    files = bundle_files(bundle=OPS)
    bundled = {p[:-3].replace("/", ".").removesuffix(".__init__") for p in files}
    wheels = metadata.packages_distributions()
    pinned = {canonical(name) for name in pins(OPS_REQUIREMENTS)}
    for path, text in files.items():
        for module, eager in imports(text):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top == "__future__":
                continue
            if module in LAZY_ONLY or top in LAZY_ONLY:
                assert not eager, f"{path} imports {module} at module level"
            elif top in PROJECT_PACKAGES:
                assert module in bundled, f"{path} imports {module}, not in the ops bundle"
            else:
                dists = {canonical(d) for d in wheels.get(top, [])}
                assert dists & pinned, f"{path} imports {top}, not in ops-requirements.txt"
