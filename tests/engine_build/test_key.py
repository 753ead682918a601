from __future__ import annotations

import pytest

from engine_build.errors import BadInputError
from engine_build.key import backend_version_for_release, build_key
from engine_build.spec import ModelSpec, parse_target
from tests.engine_build.conftest import SpecFactory

DIGEST = "a" * 64


def key_of(spec: ModelSpec, **changes: object) -> str:
    args: dict[str, object] = {
        "target": parse_target("gpu:H100:9.0"),
        "onnx_sha256": DIGEST,
        "backend_version": "10.5.0.18",
        "builder_image": "builder:24.10-1",
        "data_sha256": {"validation": "b" * 64},
    }
    args.update(changes)
    target = args.pop("target")
    return build_key(spec, target, **args)  # type: ignore[arg-type]


def test_same_inputs_give_the_same_key(make_spec: SpecFactory) -> None:
    first = key_of(make_spec())
    again = key_of(make_spec())
    assert first == again
    assert len(first) == 64


def test_camel_and_snake_case_specs_give_the_same_key(make_spec: SpecFactory) -> None:
    snake = make_spec(max_batch=4)
    camel = ModelSpec.model_validate({**snake.model_dump(by_alias=True), "maxBatch": 4})
    assert key_of(snake) == key_of(camel)


def test_the_onnx_location_does_not_enter_the_key(make_spec: SpecFactory) -> None:
    assert key_of(make_spec()) == key_of(make_spec(onnx="s3://bucket/models/mlp.onnx"))


@pytest.mark.parametrize(
    "change",
    [
        {"onnx_sha256": "c" * 64},
        {"backend_version": "10.5.0.19"},
        {"builder_image": "builder:24.10-2"},
        {"data_sha256": {"validation": "d" * 64}},
        {"target": parse_target("gpu:L40S:8.9")},
        {"target": parse_target("ampere+")},
    ],
)
def test_any_build_input_changes_the_key(make_spec: SpecFactory, change: dict) -> None:
    assert key_of(make_spec(), **change) != key_of(make_spec())


@pytest.mark.parametrize(
    "spec_change",
    [
        {"max_batch": 4},
        {"precisions": ["fp16", "fp32"]},
        {"gates": {"fp32": {"maxRelL2": 1e-3}}},
        {"classifier": False},
        {"inputs": [{"name": "x", "min": [1, 16], "opt": [2, 16], "max": [8, 16]}]},
    ],
)
def test_any_spec_change_changes_the_key(make_spec: SpecFactory, spec_change: dict) -> None:
    assert key_of(make_spec(**spec_change)) != key_of(make_spec())


def test_release_maps_to_its_tensorrt_build() -> None:
    assert backend_version_for_release("24.10") == "10.5.0.18"


def test_unknown_release_is_bad_input() -> None:
    with pytest.raises(BadInputError, match="pass the backend version explicitly"):
        backend_version_for_release("19.01")


def test_key_needs_a_backend_version(make_spec: SpecFactory) -> None:
    with pytest.raises(BadInputError):
        key_of(make_spec(), backend_version="")
