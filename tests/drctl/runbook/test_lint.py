"""Lint rules, including drctl commands resolved against the real CLI."""

from __future__ import annotations

from pathlib import Path

from drctl.runbook.lint import lint_file
from tests.drctl.runbook.conftest import block, write_runbook

RUNBOOKS = Path(__file__).resolve().parents[3] / "runbooks"


def problems(tmp_path: Path, body: str) -> list[str]:
    return lint_file(write_runbook(tmp_path, body)).errors


def test_every_shipped_runbook_lints() -> None:
    paths = sorted(RUNBOOKS.glob("*.md"))
    assert len(paths) >= 6
    for path in paths:
        assert lint_file(path).errors == [], path


def test_run_without_rollback_or_verify_is_reported(tmp_path: Path) -> None:
    errors = problems(tmp_path, block("run id=act budget=5s", "true"))
    assert any("rollback=<step id> or irreversible=true" in e for e in errors)
    assert any("no verify step has requires=act" in e for e in errors)


def test_unknown_param_and_unused_rollback(tmp_path: Path) -> None:
    body = block("check id=c budget=5s", "echo {{ nope }}") + block(
        "rollback id=orphan budget=5s", "true"
    )
    errors = problems(tmp_path, body)
    assert any("unknown param '{{ nope }}'" in e for e in errors)
    assert any("'orphan' is never used" in e for e in errors)


def test_drctl_commands_are_checked_against_the_cli(tmp_path: Path) -> None:
    body = (
        block("check id=a budget=5s", "drctl store verifyy m")
        + block("check id=b budget=5s", "drctl store verify m --regoin dr")
        + block("check id=c budget=5s", "X=1 drctl status && drctl store verify")
        + block("check id=d budget=5s", "drctl store verify m --region dr --no-hash | cat")
    )
    errors = problems(tmp_path, body)
    assert any("`drctl store verifyy` does not exist" in e for e in errors)
    assert any("has no option --regoin" in e for e in errors)
    assert any("`drctl store verify` takes MODEL" in e for e in errors)
    assert not any("step 'd'" in e for e in errors)


def test_bad_front_matter_and_id_mismatch(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, block("check id=c budget=5s", "true"), "demo")
    renamed = path.rename(tmp_path / "other.md")
    assert any("must equal the file name" in e for e in lint_file(renamed).errors)
    path.write_text("---\nid: x\n---\n")
    assert "front matter" in lint_file(path).errors[0]


def test_requires_must_name_an_earlier_step_and_budgets_fit_rto(tmp_path: Path) -> None:
    body = block("check id=a requires=b budget=50m", "true")
    body += block("check id=b budget=20m", "true")
    errors = problems(tmp_path, body)
    assert any("requires 'b'" in e for e in errors)
    assert any("over the RTO 1h" in e for e in errors)


def test_local_skip_needs_a_reason_and_needs_known_names(tmp_path: Path) -> None:
    errors = problems(tmp_path, block("check id=a budget=5s local=skip needs=kubctl", "true"))
    assert any("local=skip needs reason" in e for e in errors)
    assert any("unknown needs kubctl" in e for e in errors)
