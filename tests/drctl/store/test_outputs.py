"""The stack outputs loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drctl.store.errors import OutputsError
from drctl.store.outputs import by_role, load_outputs
from tests.drctl.store.conftest import outputs_files


def test_loads_files_with_camel_case_names(tmp_path: Path) -> None:
    stacks = load_outputs(outputs_files(tmp_path, endpoint="http://10.0.0.1:8000"))
    primary = by_role(stacks, "primary")
    assert (primary.stack, primary.bucket_name, primary.peer_region) == (
        "primary",
        "trtdr-models-use1",
        "us-west-2",
    )
    assert primary.inference_endpoint == "http://10.0.0.1:8000"


def test_env_directory_is_the_fallback(tmp_path: Path) -> None:
    outputs_files(tmp_path)
    stacks = load_outputs([], env={"TRT_DR_OUTPUTS": str(tmp_path)})
    assert sorted(s.role for s in stacks) == ["dr", "primary"]
    assert by_role(stacks, "dr").inference_endpoint is None


def test_missing_inputs_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(OutputsError, match="--outputs"):
        load_outputs([], env={})
    with pytest.raises(OutputsError, match="pulumi stack output --json"):
        load_outputs([tmp_path / "nope.json"])
    with pytest.raises(OutputsError, match="not a directory"):
        load_outputs([], env={"TRT_DR_OUTPUTS": str(tmp_path / "none")})


def test_incomplete_or_duplicate_outputs_are_refused(tmp_path: Path) -> None:
    files = outputs_files(tmp_path)
    data = json.loads(files[0].read_text())
    files[0].write_text(json.dumps({k: v for k, v in data.items() if k != "kmsKeyArn"}))
    with pytest.raises(OutputsError, match="kmsKeyArn"):
        load_outputs(files)
    files[0].write_text(json.dumps(data))
    files[1].write_text(json.dumps(data))
    with pytest.raises(OutputsError, match="same role"):
        load_outputs(files)
    files[0].write_text("not json")
    with pytest.raises(OutputsError, match="JSON"):
        load_outputs(files[:1])
    files[0].write_text(json.dumps(data))
    with pytest.raises(OutputsError, match="no stack outputs for 'dr'"):
        by_role(load_outputs(files[:1]), "dr")
