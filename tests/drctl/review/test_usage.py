"""Usage file: per-stack quantities, zero when absent, clear errors on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from drctl.review.errors import UsageFileError
from drctl.review.usage import Usage, load_usage


def test_example_file_loads_and_unknown_stacks_are_zero(usage: Usage) -> None:
    assert usage.of("primary").hosted_zones == 1
    assert usage.of("staging").s3_storage_gb == 0
    assert load_usage(None).of("primary").replicated_gb_per_month == 0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("stacks:\n  dr:\n    s3_storage_tb: 1\n", "s3_storage_tb"),
        ("stacks:\n  dr:\n    nlb_lcus: -1\n", "nlb_lcus"),
        ("stacks: [", "not YAML"),
    ],
)
def test_bad_usage_files(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "usage.yaml"
    path.write_text(text)
    with pytest.raises(UsageFileError, match=match):
        load_usage(path)


def test_missing_usage_file_points_to_the_example(tmp_path: Path) -> None:
    with pytest.raises(UsageFileError, match=r"usage\.example\.yaml"):
        load_usage(tmp_path / "usage.yaml")
