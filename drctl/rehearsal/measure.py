"""Measure the rehearsal building blocks on this machine and print a table.

    python -m drctl.rehearsal.measure [--runs 5]

Numbers: tritonserver start-to-ready and stop times, python-backend inference latency,
poll-mode pickup of a new version, and one compressed-clock region outage (stand-in +
probe + a killed primary) with its detection, DNS switch and first DR answer. Results go
into docs/rehearsal.md; nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper
from rich.console import Console
from rich.table import Table

from drctl.drill.probe import Probe
from drctl.drill.resolve import CachingResolver, StandInResolver
from drctl.drill.triton_call import call, make_client
from drctl.rehearsal.pymodel import convert_model, convert_version
from drctl.rehearsal.route53_config import FailoverRecord, HealthCheckSpec
from drctl.rehearsal.route53_standin import Route53StandIn
from drctl.rehearsal.triton import TritonProcess

NAME = "infer.rehearsal.local"
CONFIG = """name: "mlp"
platform: "onnxruntime_onnx"
max_batch_size: 8
input { name: "x" data_type: TYPE_FP32 dims: [64] }
output { name: "y" data_type: TYPE_FP32 dims: [16] }
"""
Row = tuple[str, str, str]


def write_mlp(root: Path, version: int = 1) -> Path:
    """A 64-128-16 MLP in the engine_build layout (weights seeded, never downloaded)."""
    rng = np.random.default_rng(version)
    w1 = rng.standard_normal((64, 128)).astype(np.float32)
    w2 = rng.standard_normal((128, 16)).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("MatMul", ["r", "w2"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 16])],
        [
            helper.make_tensor("w1", TensorProto.FLOAT, w1.shape, w1.flatten()),
            helper.make_tensor("w2", TensorProto.FLOAT, w2.shape, w2.flatten()),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    (root / "mlp" / str(version)).mkdir(parents=True, exist_ok=True)
    onnx.save(model, root / "mlp" / str(version) / "model.onnx")
    (root / "mlp" / "config.pbtxt").write_text(CONFIG)
    return root / "mlp"


def inputs() -> dict[str, np.ndarray]:
    """One request: a single 64-float row."""
    return {"x": np.ones((1, 64), dtype=np.float32)}


def _stats(values: list[float], unit: str) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"median {statistics.median(values):.2f} {unit}, p95 {p95:.2f}, n={len(values)}"


def start_stop(repo: Path, work: Path, runs: int) -> list[Row]:
    """Start-to-ready and stop (SIGTERM, idle server) times over ``runs`` servers."""
    ready, stop = [], []
    for i in range(runs):
        server = TritonProcess(repo, work / f"s{i}", region="local").start()
        ready.append(server.start_to_ready_s or 0.0)
        began = time.monotonic()
        server.stop()
        stop.append(time.monotonic() - began)
    return [
        ("tritonserver start-to-ready", _stats(ready, "s"), "explicit mode, 1 python model"),
        ("tritonserver stop (idle)", _stats(stop, "s"), "SIGTERM, process group gone"),
    ]


def latency(server: TritonProcess, count: int = 300) -> Row:
    """Sequential HTTP inference latency through the python backend + onnxruntime."""
    client = make_client(server.http_url, 5.0)
    call(client, "mlp", inputs())
    samples = []
    for _ in range(count):
        began = time.monotonic()
        call(client, "mlp", inputs())
        samples.append((time.monotonic() - began) * 1000.0)
    client.close()
    return ("HTTP infer latency (batch 1)", _stats(samples, "ms"), "python backend + ORT, CPU")


def poll_pickup(src_root: Path, repo: Path, work: Path) -> Row:
    """Seconds from an atomic version publish until the server answers with the new version."""
    with TritonProcess(repo, work, control_mode="poll", poll_secs=1) as server:
        client = make_client(server.http_url, 5.0)
        before = call(client, "mlp", inputs()).outputs["y"]
        convert_version(write_mlp(src_root, 2), 2, repo / "mlp")
        began = time.monotonic()
        while time.monotonic() - began < 30.0:
            if not np.allclose(call(client, "mlp", inputs()).outputs["y"], before):
                break
            time.sleep(0.05)
        client.close()
        return ("poll-mode pickup of version 2", f"{time.monotonic() - began:.2f} s", "poll 1 s")


def two_region_standin(
    primary: TritonProcess, dr: TritonProcess, name: str, scale: float
) -> Route53StandIn:
    """Route 53 over two servers: checks 10 s x3 checkers, threshold 2, TTL 20 s, ``scale``d.

    The NLB names ``nlb-p``/``nlb-d`` stand for the servers (map them with StandInResolver).
    """
    spec = {"request_interval_s": 10.0, "failure_threshold": 2, "checkers": 3}
    checks = [
        HealthCheckSpec("hc-p", f"http://{primary.http_url}/v2/health/ready", **spec),  # type: ignore[arg-type]
        HealthCheckSpec("hc-d", f"http://{dr.http_url}/v2/health/ready", **spec),  # type: ignore[arg-type]
    ]
    records = [
        FailoverRecord(name, "PRIMARY", ("nlb-p",), 20, "hc-p", "primary"),
        FailoverRecord(name, "SECONDARY", ("nlb-d",), 20, "hc-d", "dr"),
    ]
    return Route53StandIn(checks, records, time_scale=scale)


def outage(repo: Path, work: Path, scale: float = 0.05) -> list[Row]:
    """A killed primary under the stand-in: 10 s x3 checkers, threshold 2, TTL 20 s, scaled."""
    primary = TritonProcess(repo, work / "p", region="primary").start()
    dr = TritonProcess(repo, work / "d", region="dr").start()
    stop = threading.Event()
    try:
        r53 = two_region_standin(primary, dr, NAME, scale)
        checker = threading.Thread(target=r53.run, args=(30.0, stop))
        checker.start()
        resolver = CachingResolver(
            StandInResolver(r53, {"nlb-p": primary.http_url, "nlb-d": dr.http_url})
        )
        probe = Probe(NAME, resolver, "mlp", inputs, rate_hz=20.0)
        runner = threading.Thread(target=probe.run, args=(8.0, 400))
        runner.start()
        stop.wait(2.0)
        t_fault = time.monotonic()
        primary.kill()
        runner.join(timeout=30.0)
    finally:
        stop.set()
        primary.stop()
        dr.stop()
    checker.join(timeout=5.0)
    return _outage_rows(r53, probe, t_fault)


def _outage_rows(r53: Route53StandIn, probe: Probe, t_fault: float) -> list[Row]:
    detect = next(e.at for e in r53.timeline if e.kind == "health" and e.value == "unhealthy")
    switch = next(e.at for e in r53.timeline if e.kind == "dns" and e.value == "nlb-d")
    first_dr = next(r.t for r in probe.log.requests if r.ok and r.region == "dr")
    scale = r53.time_scale

    def row(label: str, at: float) -> Row:
        return (label, f"{at - t_fault:.2f} s", f"= {(at - t_fault) / scale:.0f} s at real scale")

    failed = probe.log.failed()
    return [
        row("outage: t_detect - t_fault", detect),
        row("outage: t_dns_switch - t_fault", switch),
        row("outage: first DR answer - t_fault", first_dr),
        ("outage: failed probe requests", f"{failed} of {len(probe.log.requests)}", "20 req/s"),
    ]


def main() -> None:
    """Run every measurement once and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = root / "repo"
        convert_model(write_mlp(root / "onnx"), repo)
        rows += start_stop(repo, root / "starts", args.runs)
        with TritonProcess(repo, root / "lat", region="local") as server:
            rows.append(latency(server))
        rows.append(poll_pickup(root / "onnx2", repo, root / "poll"))
        rows += outage(repo, root / "outage")
    table = Table(title="rehearsal building blocks (this machine)")
    for column in ("measure", "result", "note"):
        table.add_column(column)
    for measure_row in rows:
        table.add_row(*measure_row)
    Console().print(table)


if __name__ == "__main__":
    main()
