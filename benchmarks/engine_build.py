"""Benchmark: build a ResNet-18-sized CNN with the onnxruntime backend (the CPU twin).

Prints, per precision, the build time, p50/p99 latency measured by the build itself, and
the gate metrics against the ONNX Runtime FP32 reference, plus whether the project's
default gate for that precision would accept it. The network has ResNet-18's layer
shapes (11.7 M parameters, 224x224 input) but seeded random weights and inputs: no
weights are downloaded, so the INT8 metrics describe this synthetic network, not a
trained ImageNet model.

Run: .venv/bin/python -m benchmarks.engine_build [--iterations 30] [--batch 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine_build.backends.ort import OnnxRuntimeBackend
from engine_build.build import BuildResult, build
from engine_build.latency import measure
from engine_build.spec import DEFAULT_GATES, ModelSpec, parse_target


class Net:
    """Collects nodes and He-initialised weights while a graph is described."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0

    def name(self, kind: str) -> str:
        self.count += 1
        return f"{kind}{self.count}"

    def conv(
        self, x: str, cin: int, cout: int, k: int, stride: int, relu: bool, gain: float = 1.0
    ) -> str:
        w, b, y = self.name("w"), self.name("b"), self.name("conv")
        std = gain * np.sqrt(2.0 / (cin * k * k))
        self.inits.append(
            numpy_helper.from_array(
                (self.rng.standard_normal((cout, cin, k, k)) * std).astype(np.float32), w
            )
        )
        self.inits.append(numpy_helper.from_array(np.zeros(cout, np.float32), b))
        pad = k // 2
        self.nodes.append(
            helper.make_node(
                "Conv",
                [x, w, b],
                [y],
                kernel_shape=[k, k],
                strides=[stride, stride],
                pads=[pad] * 4,
            )
        )
        return self.relu(y) if relu else y

    def relu(self, x: str) -> str:
        y = self.name("relu")
        self.nodes.append(helper.make_node("Relu", [x], [y]))
        return y

    def block(self, x: str, cin: int, cout: int, stride: int) -> str:
        h = self.conv(x, cin, cout, 3, stride, relu=True)
        h = self.conv(h, cout, cout, 3, 1, relu=False, gain=0.5)
        skip = x if stride == 1 and cin == cout else self.conv(x, cin, cout, 1, stride, relu=False)
        y = self.name("add")
        self.nodes.append(helper.make_node("Add", [h, skip], [y]))
        return self.relu(y)


def resnet18_like(seed: int = 0) -> onnx.ModelProto:
    """ResNet-18 layer shapes (BatchNorm folded away) with seeded random weights."""
    net = Net(seed)
    x = net.conv("images", 3, 64, 7, 2, relu=True)
    pooled = net.name("pool")
    net.nodes.append(
        helper.make_node(
            "MaxPool", [x], [pooled], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]
        )
    )
    x, cin = pooled, 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        x = net.block(x, cin, cout, stride)
        x = net.block(x, cout, cout, 1)
        cin = cout
    gap, flat = net.name("gap"), net.name("flat")
    net.nodes.append(helper.make_node("GlobalAveragePool", [x], [gap]))
    net.nodes.append(helper.make_node("Flatten", [gap], [flat], axis=1))
    fc_w = (net.rng.standard_normal((512, 1000)) * np.sqrt(1.0 / 512)).astype(np.float32)
    net.inits.append(numpy_helper.from_array(fc_w, "fc_w"))
    net.inits.append(numpy_helper.from_array(np.zeros(1000, np.float32), "fc_b"))
    net.nodes.append(helper.make_node("Gemm", [flat, "fc_w", "fc_b"], ["logits"]))
    graph = helper.make_graph(
        net.nodes,
        "resnet18_like",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])],
        net.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def spec_for(work: Path, precision: str, batch: int) -> ModelSpec:
    """A one-precision spec with a permissive gate, so every precision is measured."""
    return ModelSpec.model_validate(
        {
            "name": f"resnet18-{precision}",
            "onnx": str(work / "resnet18.onnx"),
            "inputs": [
                {
                    "name": "images",
                    "min": [1, 3, 224, 224],
                    "opt": [batch, 3, 224, 224],
                    "max": [8, 3, 224, 224],
                }
            ],
            "maxBatch": 8,
            "precisions": [precision],
            "gates": {precision: {"maxRelL2": 10.0}},
            "calibration": str(work / "cal.npz"),
            "validation": str(work / "val.npz"),
            "classifier": True,
        }
    )


def default_gate_verdict(precision: str, metrics: dict[str, float]) -> str:
    """Would the project's default gate for this precision accept these metrics?"""
    gate = DEFAULT_GATES[precision]
    ok = metrics["rel_l2"] <= gate.max_rel_l2
    if gate.min_top1_agreement is not None:
        ok = ok and metrics["top1_agreement"] >= gate.min_top1_agreement
    return "pass" if ok else "FAIL"


def interleaved_p50(
    results: dict[str, BuildResult], feed: dict[str, np.ndarray], rounds: int, iterations: int
) -> dict[str, list[float]]:
    """Re-measure every built engine ``rounds`` times, interleaved so that load from other
    processes on a shared machine spreads over all precisions alike."""
    backend = OnnxRuntimeBackend()
    found: dict[str, list[float]] = {p: [] for p in results}
    for _ in range(rounds):
        for precision, result in results.items():
            engine = Path(result.build_dir) / "triton" / result.manifest.model / "1" / "model.onnx"
            with backend.runner(engine) as run:
                found[precision].append(measure(run, feed, iterations).p50_ms)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    table = Table(
        title=f"engine_build, onnxruntime backend, ResNet-18-sized CNN, "
        f"batch {args.batch}, {os.cpu_count()} CPUs"
    )
    for column in (
        "precision",
        "build s",
        "build p50 ms",
        "build p99 ms",
        "p50 ms median (min-max) of rounds",
        "rel_l2",
        "max_abs",
        "top1 agree",
        "default gate",
    ):
        table.add_column(column)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        onnx.save(resnet18_like(), str(work / "resnet18.onnx"))
        shape = (args.samples, 3, 224, 224)
        np.savez(work / "cal.npz", images=rng.standard_normal(shape).astype(np.float32))
        np.savez(work / "val.npz", images=rng.standard_normal(shape).astype(np.float32))
        results: dict[str, BuildResult] = {}
        walls: dict[str, float] = {}
        for precision in ("fp32", "fp16", "int8"):
            started = time.perf_counter()
            results[precision] = build(
                spec_for(work, precision, args.batch),
                parse_target("cpu"),
                str(work / "out"),
                "benchmark",
                latency_iterations=args.iterations,
            )
            walls[precision] = time.perf_counter() - started
        feed = {"images": rng.standard_normal((args.batch, 3, 224, 224)).astype(np.float32)}
        rounds = interleaved_p50(results, feed, args.rounds, args.iterations)
        for precision, result in results.items():
            step, latency = result.manifest.ladder[-1], result.manifest.latency
            assert latency is not None
            p50s = rounds[precision]
            table.add_row(
                precision, f"{walls[precision]:.1f}", f"{latency.p50_ms:.2f}",
                f"{latency.p99_ms:.2f}",
                f"{np.median(p50s):.2f} ({min(p50s):.2f}-{max(p50s):.2f})",
                f"{step.metrics['rel_l2']:.2e}", f"{step.metrics['max_abs']:.2e}",
                f"{step.metrics['top1_agreement']:.3f}",
                default_gate_verdict(precision, step.metrics),
            )  # fmt: skip
    Console(width=150).print(table)


if __name__ == "__main__":
    main()
