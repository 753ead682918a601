"""Calibration and validation data: ``.npz`` files with one array per model input.

Each array holds samples along axis 0 (the batch axis). Arrays are checked against the
spec before any build starts, so wrong data fails fast with a message naming the input.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from engine_build.errors import DataShapeError, SourceNotFoundError
from engine_build.spec import ModelSpec

Feed = dict[str, np.ndarray]


def load_npz(path: Path, spec: ModelSpec, role: str) -> Feed:
    """Load ``path`` and check it holds one array per input, in the spec's shape range."""
    if not path.is_file():
        raise SourceNotFoundError(f"{role} data {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as exc:
        raise DataShapeError(f"{role} data {path} is not a readable .npz: {exc}") from exc
    check_feed(arrays, spec, f"{role} data {path}")
    return arrays


def check_feed(arrays: Feed, spec: ModelSpec, where: str) -> None:
    """Raise DataShapeError unless ``arrays`` matches the spec's inputs (names, dtypes,
    ranks, non-batch dims inside min..max, one shared sample count)."""
    names = {inp.name for inp in spec.inputs}
    if set(arrays) != names:
        raise DataShapeError(f"{where}: arrays {sorted(arrays)} but the inputs are {sorted(names)}")
    counts = set()
    for inp in spec.inputs:
        array = arrays[inp.name]
        if array.dtype != np.dtype(inp.dtype):
            raise DataShapeError(f"{where}: {inp.name!r} is {array.dtype}, expected {inp.dtype}")
        if array.ndim != len(inp.max):
            raise DataShapeError(
                f"{where}: {inp.name!r} has shape {list(array.shape)}, expected rank "
                f"{len(inp.max)} like {inp.opt}"
            )
        for axis in range(1, array.ndim):
            if not inp.min[axis] <= array.shape[axis] <= inp.max[axis]:
                raise DataShapeError(
                    f"{where}: {inp.name!r} axis {axis} is {array.shape[axis]}, outside "
                    f"{inp.min[axis]}..{inp.max[axis]}"
                )
        counts.add(array.shape[0])
    if len(counts) != 1 or 0 in counts:
        raise DataShapeError(f"{where}: inputs need the same non-zero sample count, got {counts}")


def batches(arrays: Feed, size: int) -> Iterator[Feed]:
    """Consecutive batches of at most ``size`` samples from a checked feed."""
    total = next(iter(arrays.values())).shape[0]
    for start in range(0, total, size):
        yield {name: array[start : start + size] for name, array in arrays.items()}


def sample_count(arrays: Feed) -> int:
    """Number of samples in a checked feed."""
    return int(next(iter(arrays.values())).shape[0])
