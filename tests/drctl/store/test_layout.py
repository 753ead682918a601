"""Key layout, path checks and the Triton config pin."""

from __future__ import annotations

import pytest

from drctl.store.layout import (
    check_model_name,
    check_relative_path,
    final_key,
    pin_config,
    pinned_version,
)


def test_served_files_go_to_the_triton_repository_others_to_versions() -> None:
    assert final_key("m", 7, "triton/m/1/model.plan") == "repository/m/7/model.plan"
    assert final_key("m", 7, "triton/m/config.pbtxt") == "versions/m/7/triton/m/config.pbtxt"
    assert final_key("m", 7, "triton/other/1/x") == "versions/m/7/triton/other/1/x"


def test_pin_replaces_an_existing_nested_version_policy() -> None:
    config = (
        'name: "m"\nversion_policy: { latest { num_versions: 2 } }\n'
        "instance_group [ { kind: KIND_GPU } ]\n"
    )
    pinned = pin_config(config, 5)
    assert pinned_version(pinned) == 5
    assert "latest" not in pinned and "instance_group [ { kind: KIND_GPU } ]" in pinned
    assert pin_config(pinned, 6).count("version_policy") == 1


def test_unpinned_config_has_no_version() -> None:
    assert pinned_version('name: "m"\n') is None


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "a/../b", "a//b", "./a", "a\\b", ""])
def test_escaping_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="relative"):
        check_relative_path(path)


@pytest.mark.parametrize("name", ["", "a/b", "-x", "a b"])
def test_bad_model_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="must match"):
        check_model_name(name)
