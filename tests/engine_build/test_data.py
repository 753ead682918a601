from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine_build.data import batches, load_npz, sample_count
from engine_build.errors import DataShapeError, SourceNotFoundError
from tests.engine_build.conftest import SpecFactory
from tests.engine_build.models import save_npz


def test_good_data_loads(workspace: Path, make_spec: SpecFactory) -> None:
    feed = load_npz(workspace / "val.npz", make_spec(), "validation")
    assert sample_count(feed) == 200
    assert [b["x"].shape[0] for b in batches(feed, 64)] == [64, 64, 64, 8]


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"y": np.zeros((4, 16), np.float32)}, "inputs are"),
        ({"x": np.zeros((4, 15), np.float32)}, "axis 1 is 15"),
        ({"x": np.zeros((4, 16, 1), np.float32)}, "expected rank 2"),
        ({"x": np.zeros((4, 16), np.float64)}, "expected float32"),
        ({"x": np.zeros((0, 16), np.float32)}, "non-zero sample count"),
    ],
)
def test_wrong_data_is_rejected(
    tmp_path: Path, make_spec: SpecFactory, arrays: dict, message: str
) -> None:
    path = save_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataShapeError, match=message):
        load_npz(path, make_spec(), "validation")


def test_missing_and_unreadable_files(tmp_path: Path, make_spec: SpecFactory) -> None:
    with pytest.raises(SourceNotFoundError):
        load_npz(tmp_path / "none.npz", make_spec(), "calibration")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(DataShapeError, match="not a readable"):
        load_npz(tmp_path / "junk.npz", make_spec(), "calibration")
