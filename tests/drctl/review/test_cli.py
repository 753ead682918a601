"""CliRunner tests of `drctl cost`, `drctl posture` and `drctl review`: exit codes, output."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from drctl.cli import app
from drctl.review.markdown import MARKER
from infra.offline import PROJECT_DIR
from tests.drctl.review.conftest import FIXTURES

runner = CliRunner()
USAGE = str(PROJECT_DIR / "data" / "usage.example.yaml")


def test_cost_diff_of_two_estimates_markdown_and_json() -> None:
    base, head = str(FIXTURES / "cost-base.json"), str(FIXTURES / "cost-head.json")
    result = runner.invoke(app, ["cost", "diff", base, head])
    assert result.exit_code == 0, result.output
    assert "Monthly cost will increase by $1,326.68" in result.output
    as_json = runner.invoke(app, ["cost", "diff", base, head, "--json"])
    assert json.loads(as_json.output)["delta_monthly_usd"] == 1326.68


def test_cost_estimate_json_then_diff_against_itself(tmp_path: Path) -> None:
    out = tmp_path / "estimate.json"
    result = runner.invoke(app, ["cost", "estimate", "--usage", USAGE, "--json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert [s["stack"] for s in doc["stacks"]] == ["primary", "dr"]
    same = runner.invoke(app, ["cost", "diff", str(out), str(out)])
    assert "Monthly cost will not change" in same.output


def test_bad_inputs_exit_2_with_the_fix(tmp_path: Path) -> None:
    bad_usage = tmp_path / "usage.yaml"
    bad_usage.write_text("stacks:\n  dr:\n    gpus: 3\n")
    result = runner.invoke(app, ["cost", "estimate", "--usage", str(bad_usage)])
    assert result.exit_code == 2 and "usage file" in result.output
    missing = runner.invoke(app, ["cost", "diff", str(tmp_path / "nope.json"), str(tmp_path)])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"prices": []}))
    unpriced = runner.invoke(app, ["cost", "estimate", "--prices", str(prices)])
    assert unpriced.exit_code == 2 and "no price for" in unpriced.output


def test_posture_ok_then_failing(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["posture", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["ok"] is True
    for name in ("__main__.py", "Pulumi.primary.yaml", "Pulumi.dr.yaml"):
        (tmp_path / name).write_bytes((PROJECT_DIR / name).read_bytes())
    (tmp_path / "models").symlink_to(PROJECT_DIR / "models")
    for stack in ("primary", "dr"):
        path = tmp_path / f"Pulumi.{stack}.yaml"
        data = yaml.safe_load(path.read_text())
        data["config"]["trt-dr:drTier"] = "pilot-light"
        path.write_text(yaml.safe_dump(data))
    failing = runner.invoke(app, ["posture", "--project-dir", str(tmp_path)])
    assert failing.exit_code == 1
    assert "over objective" in failing.output and "health-check-within-rto" in failing.output


def test_review_from_a_preview_file(tmp_path: Path) -> None:
    out = tmp_path / "comment.md"
    result = runner.invoke(
        app,
        ["review", "--preview", f"dr={FIXTURES / 'preview-dr.json'}", "--no-tiers", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith(MARKER)
    assert "Resources from: pulumi preview." in text
    assert "dr-us-west-2-network-nat-2" in text and "| dr | us-west-2 |" in text
