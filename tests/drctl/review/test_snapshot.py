"""A base checkout is evaluated with its own code in a subprocess; the diff sees config changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from drctl.review.diff import diff_costs
from drctl.review.errors import SnapshotError
from drctl.review.prices import PriceTable
from drctl.review.report import load_costs
from drctl.review.snapshot import evaluate_project, evaluation_from_dict, evaluation_to_dict
from drctl.review.usage import Usage
from infra.offline import PROJECT_DIR, Evaluation


def base_checkout(target: Path, dr_desired: int) -> Path:
    """A copy of the code and stack files with the DR warm-standby GPU nodes changed."""
    for name in ("infra", "engine_build", "models"):
        shutil.copytree(
            PROJECT_DIR / name, target / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in ("__main__.py", "Pulumi.yaml", "Pulumi.primary.yaml", "Pulumi.dr.yaml"):
        shutil.copy(PROJECT_DIR / name, target / name)
    path = target / "Pulumi.dr.yaml"
    data = yaml.safe_load(path.read_text())
    data["config"]["trt-dr:gpuNodes"]["warm-standby"]["desired"] = dr_desired
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


@pytest.mark.slow
def test_base_checkout_in_a_subprocess(
    tmp_path: Path, evaluations: dict[str, Evaluation], prices: PriceTable, usage: Usage
) -> None:
    base = load_costs(base_checkout(tmp_path, dr_desired=3), prices, usage)
    head = load_costs(PROJECT_DIR, prices, usage)
    diff = diff_costs(base, head)
    hourly = prices.lookup("ec2_instance", "g6e.xlarge", "us-west-2").usd
    assert diff.delta == pytest.approx(-2 * hourly * 730, abs=0.02)
    (changed,) = [r for s in diff.stacks for r in s.changed]
    assert changed.resource == "dr-us-west-2-cluster-gpu"


def test_round_trip_of_an_evaluation(evaluations: dict[str, Evaluation]) -> None:
    data = json.loads(json.dumps(evaluation_to_dict(evaluations["dr"]), default=str))
    again = evaluation_from_dict(data)
    assert evaluation_to_dict(again) == data
    assert len(again.resources) == len(evaluations["dr"].resources)


def test_not_a_checkout(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="not a trt-dr checkout"):
        evaluate_project(tmp_path)


def test_broken_base_checkout_reports_the_error(tmp_path: Path) -> None:
    base_checkout(tmp_path, dr_desired=1)
    (tmp_path / "__main__.py").write_text("raise SystemExit('broken program')\n")
    with pytest.raises(SnapshotError, match="evaluating"):
        evaluate_project(tmp_path, ("dr",))
