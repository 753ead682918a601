"""The quality probe behind ModelAccuracyDrop: a fixed golden batch through Triton.

A golden batch is an ``.npz`` in the region's tree at ``quality/<model>.npz``: one array per
model input (samples on axis 0) and ``expected_top1``, the class the accepted reference
model gives each sample (e.g. ONNX Runtime FP32 on the validation set; :func:`golden_bytes`
writes the file). The probe sends the batch to every Triton pod, measures the share of
samples whose top-1 class agrees, and publishes the worst pod's agreement as a CloudWatch
metric; the alarm fires below ``trt-dr:monitoring.qualityMinAgreement``
(docs/monitoring-jobs.md). Latency regressions are the rollout's business; this catches
wrong answers served fast: a corrupt or mis-built engine, a precision that broke accuracy.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

NAMESPACE = "TrtDr/Quality"
METRIC = "Top1Agreement"
LABELS = "expected_top1"


class GoldenInvalid(ValueError):
    """The golden batch file is not usable; the message says how to write one."""


@dataclass(frozen=True)
class Golden:
    """Inputs of the golden batch and the top-1 class expected for each sample."""

    inputs: dict[str, np.ndarray]
    expected: np.ndarray

    @property
    def samples(self) -> int:
        """Number of samples in the batch."""
        return int(self.expected.shape[0])


def golden_key(model: str) -> str:
    """Layout key (inside a region's tree) of the model's golden batch."""
    return f"quality/{model}.npz"


def golden_bytes(inputs: Mapping[str, np.ndarray], expected: np.ndarray) -> bytes:
    """The ``.npz`` bytes of a golden batch, checked the way the probe reads it."""
    buffer = io.BytesIO()
    np.savez(buffer, **dict(inputs), **{LABELS: np.asarray(expected, dtype=np.int64)})
    parse_golden(buffer.getvalue(), "new golden batch")
    return buffer.getvalue()


def parse_golden(raw: bytes, where: str) -> Golden:
    """Read and check a golden batch: labels present, inputs present, one sample count."""
    hint = "write it with drctl.monitoring.quality.golden_bytes (docs/monitoring-jobs.md)"
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as exc:
        raise GoldenInvalid(f"{where} is not a readable .npz ({exc}); {hint}") from exc
    expected = arrays.pop(LABELS, None)
    if expected is None or expected.ndim != 1 or expected.dtype.kind not in "iu":
        raise GoldenInvalid(f"{where} needs a 1-D integer array {LABELS!r}; {hint}")
    counts = {a.shape[0] if a.ndim else -1 for a in arrays.values()}
    if not arrays or counts != {expected.shape[0]} or expected.shape[0] == 0:
        raise GoldenInvalid(
            f"{where}: inputs {sorted(arrays)} must hold {expected.shape[0]} samples each; {hint}"
        )
    return Golden(arrays, expected.astype(np.int64))


def top1(logits: np.ndarray) -> np.ndarray:
    """The class with the largest score per sample (any trailing shape is flattened)."""
    return np.asarray(logits).reshape(logits.shape[0], -1).argmax(axis=1)


def agreement(expected: np.ndarray, logits: np.ndarray) -> float:
    """Share of samples whose top-1 class equals the expected one."""
    if logits.shape[0] != expected.shape[0]:
        raise ValueError(f"{logits.shape[0]} answers for {expected.shape[0]} golden samples")
    return float(np.mean(top1(logits) == expected))


def infer_logits(client: Any, model: str, golden: Golden, output: str, batch: int) -> np.ndarray:
    """Send the batch in requests of at most ``batch`` samples; the named output, in order."""
    import tritonclient.http as httpclient
    from tritonclient.utils import np_to_triton_dtype

    parts = []
    for start in range(0, golden.samples, batch):
        tensors = []
        for name, array in golden.inputs.items():
            chunk = np.ascontiguousarray(array[start : start + batch])
            tensor = httpclient.InferInput(name, list(chunk.shape), np_to_triton_dtype(chunk.dtype))
            tensor.set_data_from_numpy(chunk)
            tensors.append(tensor)
        wanted = [httpclient.InferRequestedOutput(output)]
        parts.append(client.infer(model, tensors, outputs=wanted).as_numpy(output))
    return np.concatenate(parts)


def first_output(client: Any, model: str) -> str:
    """The model's first output as Triton reports it (the logits of a classifier)."""
    return str(client.get_model_metadata(model)["outputs"][0]["name"])


@dataclass(frozen=True)
class QualityResult:
    """Agreement per pod endpoint for one model in one region."""

    region: str
    model: str
    per_pod: dict[str, float]

    @property
    def worst(self) -> float:
        """The lowest agreement of any pod: one bad replica is enough to alarm."""
        return min(self.per_pod.values())


def put_quality_metric(
    cloudwatch: Any, result: QualityResult, namespace: str = NAMESPACE
) -> dict[str, Any]:
    """Publish the worst pod's agreement for (region, model); returns the datapoint sent."""
    datum: dict[str, Any] = {
        "MetricName": METRIC,
        "Dimensions": [
            {"Name": "Region", "Value": result.region},
            {"Name": "Model", "Value": result.model},
        ],
        "Value": result.worst,
        "Unit": "None",
    }
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[datum])
    return datum


def read_golden(s3: Any, bucket: str, key: str) -> Golden:
    """The golden batch at ``s3://bucket/key``; StoreError subclasses for AWS failures."""
    from drctl.store.s3ops import s3_errors

    with s3_errors(bucket, key):
        try:
            raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey as exc:
            raise GoldenInvalid(
                f"s3://{bucket}/{key} does not exist; upload the model's golden batch there "
                "(docs/monitoring-jobs.md, ModelAccuracyDrop)"
            ) from exc
    return parse_golden(raw, f"s3://{bucket}/{key}")


def probe(
    clients: Mapping[str, Any], model: str, golden: Golden, output: str | None, batch: int
) -> dict[str, float]:
    """Agreement of every pod (endpoint -> client) that answers; pods that fail are skipped.

    A pod that cannot answer is ModelNotReady's business; with no answer at all the caller
    publishes nothing, and the alarm's missing-data rule takes over.
    """
    from tritonclient.utils import InferenceServerException

    found = {}
    for endpoint, client in clients.items():
        try:
            name = output or first_output(client, model)
            found[endpoint] = agreement(
                golden.expected, infer_logits(client, model, golden, name, batch)
            )
        except (InferenceServerException, OSError, ValueError) as exc:
            print(f"{endpoint}: no answer for {model}: {exc}")
    return found
