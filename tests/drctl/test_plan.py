"""`drctl plan`: both stacks, grouped by region and component, and clear config errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from typer.testing import CliRunner

from drctl.cli import app
from drctl.plan import plan_all
from infra.offline import PROJECT_DIR

runner = CliRunner()
COMPONENTS = ("network", "cluster", "store", "endpoint", "failover", "gpu", "builds", "triton")


def test_plan_groups_both_stacks_by_component() -> None:
    primary, dr = plan_all()
    assert (primary.region, dr.region) == ("us-east-1", "us-west-2")
    for plan in (primary, dr):
        for component in COMPONENTS:
            assert f"{plan.stack}-{plan.region}-{component}" in plan.components
        store = plan.components[f"{plan.stack}-{plan.region}-store"]
        assert ("aws:s3/bucket:Bucket", f"{plan.stack}-{plan.region}-store-bucket") in store
        assert plan.total == sum(len(v) for v in plan.components.values())


def test_cli_prints_both_stacks() -> None:
    result = runner.invoke(app, ["plan"])
    assert result.exit_code == 0, result.output
    assert "primary - region us-east-1" in result.output
    assert "dr - region us-west-2" in result.output
    assert "no cloud account" in result.output


def test_cli_json() -> None:
    result = runner.invoke(app, ["plan", "--json", "-s", "dr"])
    assert result.exit_code == 0
    (plan,) = json.loads(result.output)
    assert plan["region"] == "us-west-2"
    assert plan["outputs"]["role"] == "dr"


def test_bad_config_exits_2_with_the_key(tmp_path: Path) -> None:
    for name in ("__main__.py", "Pulumi.primary.yaml", "Pulumi.dr.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    shutil.copytree(PROJECT_DIR / "models", tmp_path / "models")
    data = yaml.safe_load((tmp_path / "Pulumi.dr.yaml").read_text())
    data["config"]["trt-dr:drTier"] = "cold"
    (tmp_path / "Pulumi.dr.yaml").write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["plan", "-s", "dr", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "trt-dr:drTier" in result.output
