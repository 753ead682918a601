"""``drctl serving``: expected versions from the release pointer, answers from Triton.

Serving a version for real (a real tritonserver reading the tree from moto S3) is exercised
by every runbook test in tests/drctl/runbook/test_runbooks.py; here: the bad-input paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from drctl.cli import app
from drctl.rehearsal.aws_local import reset_moto
from drctl.serving import ServingCheck, check_serving
from tests.drctl.store.conftest import (
    DR_BUCKET,
    DR_REGION,
    PRIMARY_BUCKET,
    PRIMARY_REGION,
    TritonDouble,
    aws_env,
    make_bucket,
    outputs_files,
)

UNREACHABLE = "http://127.0.0.1:9"
__all__ = ["aws_env"]  # the store tests' fixture: fake credentials, no real endpoint


@pytest.fixture
def outputs(aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Both stacks' buckets in a moto server, outputs naming an unreachable Triton."""
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    reset_moto(f"http://{host}:{port}")  # moto's state is process-wide
    for bucket, region in ((PRIMARY_BUCKET, PRIMARY_REGION), (DR_BUCKET, DR_REGION)):
        make_bucket(boto3.client("s3", region_name=region), bucket, region)
    outputs_files(tmp_path, UNREACHABLE)
    monkeypatch.setenv("TRT_DR_OUTPUTS", str(tmp_path))
    yield tmp_path
    moto.stop()


def drctl(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_an_unreachable_triton_serves_nothing() -> None:
    check = check_serving("primary", UNREACHABLE, "classifier", 1)
    assert not check.ok and check.ready_versions == []
    assert check.error.startswith("unreachable")
    assert ServingCheck("dr", UNREACHABLE, "classifier", 2, [1, 2]).ok


def test_nothing_released_is_bad_input(outputs: Path) -> None:
    code, out = drctl("serving", "ready", "--model", "classifier", "--region", "primary")
    assert code == 2 and "no release of classifier" in out


def test_given_version_on_an_unreachable_triton_fails(outputs: Path) -> None:
    code, out = drctl(
        "serving", "ready", "--model", "classifier", "--region", "dr", "--version", "1", "--json"
    )
    assert code == 1
    [row] = json.loads(out)
    assert (row["region"], row["expected"], row["ok"]) == ("dr", 1, False)


def test_missing_endpoint_output_says_what_to_pass(outputs: Path) -> None:
    outputs_files(outputs)  # no inferenceEndpoint
    code, out = drctl("serving", "load", "--model", "classifier", "--region", "primary")
    assert code == 2 and "--endpoint" in out
    code, out = drctl("serving", "load", "--model", "classifier", "--endpoint", UNREACHABLE)
    assert code == 1 and "did not load classifier" in out


def test_endpoint_set_reloads_every_pod_it_resolves_to() -> None:
    pod = TritonDouble()
    try:
        address = pod.url.removeprefix("http://")
        code, out = drctl(
            "serving", "load", "--model", "classifier", "--load-endpoint-set", address
        )
        assert code == 0, out
        assert pod.loaded == ["classifier"]
        pod.refuse_load = True
        code, out = drctl(
            "serving", "load", "--model", "classifier", "--load-endpoint-set", address
        )
        assert code == 1 and "1 of 1 pods did not load classifier" in out
    finally:
        pod.close()
