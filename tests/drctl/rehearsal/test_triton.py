"""TritonProcess: a real tritonserver on 127.0.0.1 serving the converted ONNX model."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.http as httpclient

from drctl.rehearsal import triton as triton_module
from drctl.rehearsal.errors import TritonStartError
from drctl.rehearsal.pymodel import REGION_OUTPUT, convert_version
from drctl.rehearsal.triton import Ports, TritonProcess, find_dist, free_ports, server_env
from tests.drctl.rehearsal.onnx_models import expected, write_onnx_model_dir


def infer(url: str, x: np.ndarray) -> httpclient.InferResult:
    client = httpclient.InferenceServerClient(url, network_timeout=10.0)
    try:
        tensor = httpclient.InferInput("x", list(x.shape), "FP32")
        tensor.set_data_from_numpy(x)
        return client.infer("tiny", [tensor])
    finally:
        client.close()


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_command_binds_loopback_only_and_env_uses_this_interpreter(tmp_path: Path) -> None:
    dist = find_dist()
    server = TritonProcess(tmp_path / "repo", tmp_path / "work", control_mode="poll")
    ports = free_ports(3)
    assert len(set(ports)) == 3
    cmd = " ".join(server.command(dist, Ports(*ports)))
    assert cmd.count("=127.0.0.1") == 3
    assert "0.0.0.0" not in cmd
    assert "--repository-poll-secs=1" in cmd
    assert (tmp_path / "work" / "backends" / "python" / "triton_python_backend_stub").is_file()
    env = server_env(dist, "us-west-2", {"EXTRA": "1"})
    assert env["LD_LIBRARY_PATH"].split(":")[0] == sysconfig.get_config_var("LIBDIR")
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)
    assert (env["TRT_DR_REGION"], env["EXTRA"]) == ("us-west-2", "1")


@pytest.mark.slow
def test_serves_like_onnxruntime_and_stops_everything(py_repo: Path, tmp_path: Path) -> None:
    x = np.random.default_rng(0).random((3, 4), dtype=np.float32)
    session = ort.InferenceSession(str(py_repo / "tiny" / "1" / "model.onnx"))
    want = session.run(["y"], {"x": x})[0]
    server = TritonProcess(py_repo, tmp_path / "work", region="us-east-1")
    with pytest.raises(RuntimeError, match="boom"), server:
        assert server.start_to_ready_s is not None
        pgid = server.pid
        assert pgid is not None
        result = infer(server.http_url, x)
        np.testing.assert_allclose(result.as_numpy("y"), want, rtol=1e-6)
        np.testing.assert_allclose(want, expected(x), rtol=1e-5)
        assert result.as_numpy(REGION_OUTPUT).tolist() == [[b"us-east-1"]] * 3
        assert server.ready("tiny")
        raise RuntimeError("boom")
    assert not server.running()
    assert pgid is not None
    assert not group_alive(pgid)
    assert not list(Path("/dev/shm").glob(f"{server.shm_prefix}*"))
    assert "Started HTTPService at 127.0.0.1" in server.log_path.read_text()


@pytest.mark.slow
def test_poll_mode_picks_up_a_new_version(py_repo: Path, tmp_path: Path) -> None:
    src = write_onnx_model_dir(tmp_path / "onnx2", versions=(2,))
    x = np.ones((1, 4), dtype=np.float32)
    with TritonProcess(py_repo, tmp_path / "work", control_mode="poll") as server:
        np.testing.assert_allclose(infer(server.http_url, x).as_numpy("y"), expected(x), rtol=1e-5)
        convert_version(src, 2, py_repo / "tiny")
        published = time.monotonic()
        answer = np.zeros((1, 3), dtype=np.float32)
        while time.monotonic() - published < 20.0:
            answer = infer(server.http_url, x).as_numpy("y")
            if np.allclose(answer, expected(x, 2.0), rtol=1e-5):
                break
            time.sleep(0.2)
        np.testing.assert_allclose(answer, expected(x, 2.0), rtol=1e-5)


@pytest.mark.slow
def test_a_server_that_cannot_start_is_reported_with_its_log(py_repo: Path, tmp_path: Path) -> None:
    server = TritonProcess(tmp_path / "no-such-repo", tmp_path / "work", ready_timeout=30.0)
    with pytest.raises(TritonStartError, match="exited early"):
        server.start()
    assert not server.running()
    (py_repo / "tiny" / "1" / "model.onnx").write_bytes(b"corrupted engine")
    corrupt = TritonProcess(py_repo, tmp_path / "work2", ready_timeout=30.0)
    with pytest.raises(TritonStartError, match="failed to load 'tiny' version 1"):
        corrupt.start()
    assert not corrupt.running()


CHILD = """
import signal, sys, time
from pathlib import Path
from drctl.rehearsal.triton import TritonProcess, install_signal_handlers
install_signal_handlers()
signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C even if the runner ignores it
with TritonProcess(Path(sys.argv[1]), Path(sys.argv[2])) as server:
    print(server.pid, flush=True)
    time.sleep(60)
"""


def wait_gone(pgid: int, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_server_dies_with_its_parent(py_repo: Path, tmp_path: Path, sig: signal.Signals) -> None:
    """Ctrl-C and SIGTERM: the context manager stops it; SIGKILL: PR_SET_PDEATHSIG kills it."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(py_repo), str(tmp_path / "work")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[3],
    )
    try:
        assert child.stdout is not None
        pgid = int(child.stdout.readline())
        assert group_alive(pgid)
        child.send_signal(sig)
        child.wait(timeout=30.0)
        assert wait_gone(pgid)
    finally:
        child.kill()
        child.wait(timeout=10.0)


@pytest.mark.slow
def test_a_port_lost_to_a_race_is_retried(
    py_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    taken = busy.getsockname()[1]
    picks: list[list[int]] = []

    def first_pick_taken(count: int = 3) -> list[int]:
        ports = free_ports(count)
        picks.append([taken, *ports[1:]] if not picks else ports)
        return picks[-1]

    monkeypatch.setattr(triton_module, "free_ports", first_pick_taken)
    try:
        with TritonProcess(py_repo, tmp_path / "work") as server:
            assert server.ports is not None
            assert server.ports.http != taken
            assert len(picks) == 2
        monkeypatch.setattr(triton_module, "free_ports", lambda count=3: [taken, *free_ports(2)])
        monkeypatch.setattr(triton_module, "PORT_ATTEMPTS", 1)
        with pytest.raises(TritonStartError, match="already in use"):
            TritonProcess(py_repo, tmp_path / "work2").start()
    finally:
        busy.close()
