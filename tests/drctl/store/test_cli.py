"""CLI tests through ``ThreadedMotoServer`` and ``AWS_ENDPOINT_URL``, as operators run drctl."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from drctl.cli import app
from tests.drctl.store.conftest import (
    DR_BUCKET,
    DR_REGION,
    PRIMARY_BUCKET,
    PRIMARY_REGION,
    make_bucket,
    outputs_files,
    replicate_to,
    write_build,
)

runner = CliRunner()
ENGINE = "repository/resnet/1/model.onnx"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """One moto server on a free port for this module."""
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    yield f"http://{host}:{port}"
    moto.stop()


@pytest.fixture
def server(aws_env: None, moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Fresh moto state with both buckets; drctl reaches it through AWS_ENDPOINT_URL."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    pairs = ((PRIMARY_BUCKET, PRIMARY_REGION, DR_BUCKET), (DR_BUCKET, DR_REGION, PRIMARY_BUCKET))
    for bucket, region, _ in pairs:
        make_bucket(boto3.client("s3", region_name=region), bucket, region)
    for bucket, region, peer in pairs:
        replicate_to(boto3.client("s3", region_name=region), bucket, peer)
    return moto_url


def drctl(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def with_outputs(tmp_path: Path, *args: str | Path) -> tuple[int, str]:
    files = outputs_files(tmp_path)
    return drctl(*args, "--outputs", files[0], "--outputs", files[1])


def test_publish_verify_replicate_restore_rollback(server: str, tmp_path: Path) -> None:
    code, out = with_outputs(
        tmp_path, "store", "publish", write_build(tmp_path, seed="a"), "--json"
    )
    assert code == 0 and json.loads(out)["version"] == 1
    assert with_outputs(tmp_path, "store", "publish", write_build(tmp_path, seed="b"))[0] == 0
    dr_build = write_build(tmp_path, seed="l40s")
    assert with_outputs(tmp_path, "store", "publish", dr_build, "--region", "dr")[0] == 0
    code, out = with_outputs(tmp_path, "store", "verify", "resnet", "--json")
    assert code == 1 and not json.loads(out)["primary"]["ok"]
    assert with_outputs(tmp_path, "store", "replicate-standin")[0] == 0
    assert with_outputs(tmp_path, "store", "verify", "resnet")[0] == 0
    dr_s3 = boto3.client("s3", region_name=DR_REGION)
    dr_s3.put_object(Bucket=DR_BUCKET, Key=f"{DR_REGION}/{ENGINE}", Body=b"broken")
    code, out = with_outputs(tmp_path, "store", "verify", "resnet", "--region", "dr", "--json")
    findings = {(f["region"], f["kind"]) for f in json.loads(out)["dr"]["findings"]}
    assert code == 1 and ("dr", "corrupt") in findings
    code, out = with_outputs(tmp_path, "store", "restore", "resnet", "--region", "dr")
    assert code == 0 and "peer primary" in out
    code, out = with_outputs(tmp_path, "store", "verify", "resnet", "--region", "dr", "--json")
    assert code == 1 and {f["kind"] for f in json.loads(out)["dr"]["findings"]} == {"stale"}
    assert with_outputs(tmp_path, "store", "replicate-standin")[0] == 0
    assert with_outputs(tmp_path, "store", "verify", "resnet")[0] == 0
    code, out = with_outputs(tmp_path, "store", "versions", "resnet", "--json")
    assert [v["released"] for v in json.loads(out)] == [False, True]
    code, out = with_outputs(
        tmp_path, "store", "rollback", "resnet", "--region", "primary", "--json"
    )
    assert code == 0 and json.loads(out)["primary"]["before"] == {"primary": 2}
    code, out = with_outputs(tmp_path, "status", "--json")
    assert code == 1 and json.loads(out)["rows"][0]["problems"] > 0
    assert with_outputs(tmp_path, "store", "replicate-standin")[0] == 0
    code, out = with_outputs(tmp_path, "status", "--json")
    rows = json.loads(out)["rows"]
    assert code == 0 and [(r["region"], r["released"], r["parity"]) for r in rows] == [
        ("primary", 1, True),
        ("dr", 1, True),
    ]
    keys = {o["Key"] for o in dr_s3.list_objects_v2(Bucket=DR_BUCKET)["Contents"]}
    assert f"{PRIMARY_REGION}/{ENGINE}" in keys and f"{DR_REGION}/{ENGINE}" in keys


def test_outputs_from_environment_directory(server: str, tmp_path: Path, monkeypatch) -> None:
    outputs_files(tmp_path)
    monkeypatch.setenv("TRT_DR_OUTPUTS", str(tmp_path))
    code, out = drctl("store", "publish", write_build(tmp_path), "--region", "dr", "--json")
    assert code == 0 and json.loads(out)["version"] == 1


def test_bad_input_exits_2_with_next_step(server: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TRT_DR_OUTPUTS", raising=False)
    code, out = drctl("store", "verify", "resnet")
    assert code == 2 and "--outputs" in out
    code, out = with_outputs(tmp_path, "store", "publish", tmp_path / "nope")
    assert code == 2 and "engine_build output" in out
    code, out = with_outputs(tmp_path, "store", "verify", "resnet", "--json")
    assert code == 2 and "publish it first" in json.loads(out)["error"]
    files = outputs_files(tmp_path)
    data = json.loads(files[0].read_text())
    files[0].write_text(json.dumps(data | {"bucketName": "missing-bucket-x"}))
    code, out = drctl("store", "publish", write_build(tmp_path), "--outputs", files[0])
    assert code == 2 and "does not exist" in out
    del data["bucketName"]
    files[0].write_text(json.dumps(data))
    code, out = drctl("store", "versions", "resnet", "--outputs", files[0])
    assert code == 2 and "bucketName" in out


def test_access_denied_is_bad_config(server: str, tmp_path: Path) -> None:
    s3 = boto3.client("s3", region_name=PRIMARY_REGION)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{PRIMARY_BUCKET}", f"arn:aws:s3:::{PRIMARY_BUCKET}/*"],
            }
        ],
    }
    s3.put_bucket_policy(Bucket=PRIMARY_BUCKET, Policy=json.dumps(policy))
    code, out = with_outputs(tmp_path, "store", "publish", write_build(tmp_path))
    if code == 0:
        pytest.skip("this moto build does not enforce bucket policies")
    assert code == 2 and "access denied" in out


def test_tables_render_for_every_command(server: str, tmp_path: Path, triton) -> None:
    files = outputs_files(tmp_path, endpoint=triton.url)
    opts = ["--outputs", str(files[0]), "--outputs", str(files[1])]
    for seed in ("a", "b"):
        assert drctl("store", "publish", write_build(tmp_path, seed=seed), *opts)[0] == 0
        assert (
            drctl("store", "publish", write_build(tmp_path, seed=seed), "--region", "dr", *opts)[0]
            == 0
        )
    assert drctl("store", "replicate-standin", *opts)[0] == 0
    code, out = drctl("store", "versions", "resnet", *opts)
    assert code == 0 and "versions of resnet" in out
    code, out = drctl("store", "rollback", "resnet", "--load", *opts)
    assert code == 0 and "rolled back" in out and triton.loaded == ["resnet"] * 2
    assert drctl("store", "replicate-standin", *opts)[0] == 0
    code, out = drctl("status", *opts)
    assert code == 0 and "status: OK" in out
    triton.ready_models.clear()
    code, out = drctl("status", *opts)
    assert code == 1 and "ATTENTION" in out


def test_standin_failure_injection_shows_in_verify(server: str, tmp_path: Path) -> None:
    assert with_outputs(tmp_path, "store", "publish", write_build(tmp_path))[0] == 0
    code, _ = with_outputs(
        tmp_path, "store", "replicate-standin", "--fail", f"{PRIMARY_REGION}/repository/"
    )
    assert code == 0
    code, out = with_outputs(tmp_path, "store", "verify", "resnet", "--region", "primary", "--json")
    kinds = {(f["key"], f["kind"]) for f in json.loads(out)["primary"]["findings"]}
    assert code == 1 and (f"{PRIMARY_REGION}/{ENGINE}", "failed") in kinds


def test_canary_publish_status_promote_abort(server: str, tmp_path: Path, triton) -> None:
    files = outputs_files(tmp_path, endpoint=triton.url)
    opts = ["--outputs", str(files[0]), "--outputs", str(files[1]), "--region", "primary"]
    assert drctl("store", "publish", write_build(tmp_path, seed="a"), *opts)[0] == 0
    code, out = drctl("store", "publish", write_build(tmp_path, seed="b"), "--canary", *opts)
    assert code == 0 and "version 2 canary" in out
    code, out = drctl("store", "publish", write_build(tmp_path, seed="c"), "--canary", *opts)
    assert code == 1 and "drctl store promote resnet --region primary" in out
    assert drctl("store", "replicate-standin", *opts[:4])[0] == 0
    code, out = drctl("store", "verify", "resnet", "--json", *opts)
    assert code == 0 and json.loads(out)["primary"]["regions"][0]["canary"] == 2
    code, out = drctl("status", "--json", *opts[:4])
    assert [(r["region"], r["released"], r["canary"]) for r in json.loads(out)["rows"]] == [
        ("primary", 1, 2),
        ("dr", None, None),
    ]
    code, out = drctl("store", "abort", "resnet", "--endpoint", triton.url, *opts)
    assert code == 0 and "version 2 aborted" in out and triton.loaded == ["resnet"]
    code, out = drctl("store", "abort", "resnet", *opts)
    assert code == 0 and "nothing to do" in out
    assert drctl("store", "publish", write_build(tmp_path, seed="b"), "--canary", *opts)[0] == 0
    code, out = drctl("store", "promote", "resnet", "--json", *opts)
    assert code == 0 and json.loads(out)["result"]["state"] == "promoted"
    code, out = drctl("store", "versions", "resnet", "--json", *opts)
    assert [v["released"] for v in json.loads(out)] == [False, True]


def test_status_watch_keeps_going_through_a_failed_refresh(
    server: str, tmp_path: Path, triton, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = outputs_files(tmp_path, endpoint=triton.url)
    opts = ["--outputs", str(files[0]), "--outputs", str(files[1])]
    assert drctl("store", "publish", write_build(tmp_path, seed="a"), *opts)[0] == 0
    assert drctl("store", "publish", write_build(tmp_path, seed="b"), "--canary", *opts)[0] == 0
    import drctl.store.cli as store_cli

    calls = {"n": 0}
    real = store_cli.status

    def flaky(*args: object, **kw: object) -> object:
        calls["n"] += 1
        if calls["n"] >= 2:  # the 2nd fails and the watch goes on; the 3rd is drawn last
            raise OSError("connection reset by peer")
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(store_cli, "status", flaky)
    code, out = drctl("status", "--watch", "--interval", "0", "--iterations", "2", *opts)
    assert code == 0 and calls["n"] == 3
    assert "refresh failed: connection reset by peer" in out
