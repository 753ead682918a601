"""Build specifications: what a model is, how it may be built, and for which target.

The same models are used by the Pulumi stack configuration (``trt-dr:models``) and by
``python -m engine_build``, so a model declared once is built identically in every region.
Field names are snake_case in Python and camelCase in YAML/Pulumi config (both accepted).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

Precision = Literal["fp32", "fp16", "int8"]
PRECISIONS: tuple[str, ...] = ("fp32", "fp16", "int8")
TargetKind = Literal["gpu", "portable", "cpu"]
MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class SpecModel(BaseModel):
    """Base for spec objects: immutable, camelCase aliases, unknown keys rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )


class InputSpec(SpecModel):
    """One model input with its optimization-profile shapes (batch dimension first)."""

    name: str
    min: list[int]
    opt: list[int]
    max: list[int]
    dtype: Literal["float32", "float16", "int64", "int32"] = "float32"

    @model_validator(mode="after")
    def _ordered(self) -> InputSpec:
        if not (len(self.min) == len(self.opt) == len(self.max)):
            raise ValueError(f"input {self.name!r}: min/opt/max must have the same rank")
        for lo, mid, hi in zip(self.min, self.opt, self.max, strict=True):
            if not (1 <= lo <= mid <= hi):
                raise ValueError(
                    f"input {self.name!r}: need 1 <= min <= opt <= max in every dimension, "
                    f"got min={self.min} opt={self.opt} max={self.max}"
                )
        return self


class GateSpec(SpecModel):
    """Accuracy thresholds a candidate must meet against the ONNX Runtime FP32 reference."""

    max_rel_l2: float = Field(gt=0)
    max_abs: float | None = Field(default=None, gt=0)
    min_top1_agreement: float | None = Field(default=None, ge=0, le=1)


DEFAULT_GATES: dict[str, GateSpec] = {
    "fp32": GateSpec(max_rel_l2=1e-4, min_top1_agreement=1.0),
    "fp16": GateSpec(max_rel_l2=1e-2, min_top1_agreement=0.99),
    "int8": GateSpec(max_rel_l2=5e-2, min_top1_agreement=0.97),
}


def _default_ladder() -> list[Precision]:
    return ["fp16", "fp32"]


class ModelSpec(SpecModel):
    """One model to build and serve: ONNX source, shapes, precision ladder and gates."""

    name: str
    onnx: str = Field(description="local path, or s3://bucket/key")
    inputs: list[InputSpec] = Field(min_length=1)
    max_batch: int = Field(default=8, ge=0)
    precisions: list[Precision] = Field(default_factory=lambda: _default_ladder(), min_length=1)
    gates: dict[Precision, GateSpec] = Field(default_factory=dict)
    calibration: str | None = None
    validation: str | None = None
    classifier: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not MODEL_NAME.match(value):
            raise ValueError(
                f"model name {value!r} must match {MODEL_NAME.pattern} (a Triton model name)"
            )
        return value

    @model_validator(mode="after")
    def _ladder(self) -> ModelSpec:
        if len(set(self.precisions)) != len(self.precisions):
            raise ValueError(f"model {self.name!r}: precision ladder repeats a precision")
        if "int8" in self.precisions and not self.calibration:
            raise ValueError(
                f"model {self.name!r}: int8 is in the precision ladder but no calibration "
                "data (.npz) is given; add `calibration` or drop int8"
            )
        return self

    def gate(self, precision: str) -> GateSpec:
        """The gate for ``precision``: the spec's own, else the project default."""
        return self.gates.get(precision, DEFAULT_GATES[precision])  # type: ignore[call-overload]


class Target(SpecModel):
    """Where an engine will run: one GPU SKU, any Ampere-or-newer GPU, or the CPU twin."""

    kind: TargetKind
    sku: str | None = None
    compute_capability: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Target:
        if self.kind == "gpu" and not (self.sku and self.compute_capability):
            raise ValueError("a gpu target needs both sku and compute_capability (e.g. H100, 9.0)")
        if self.compute_capability and not re.match(r"^\d+\.\d+$", self.compute_capability):
            raise ValueError(f"compute capability {self.compute_capability!r} must look like '8.9'")
        return self

    @property
    def label(self) -> str:
        """Short, path-safe name: ``sm90``, ``ampere-plus`` or ``cpu``."""
        if self.kind == "gpu":
            return "sm" + str(self.compute_capability).replace(".", "")
        return "ampere-plus" if self.kind == "portable" else "cpu"

    @property
    def backend(self) -> str:
        """The engine_build backend that serves this target."""
        return "onnxruntime" if self.kind == "cpu" else "tensorrt"


def parse_target(text: str) -> Target:
    """Parse ``cpu``, ``ampere+`` or ``gpu:<SKU>:<cc>`` (e.g. ``gpu:L40S:8.9``)."""
    if text == "cpu":
        return Target(kind="cpu")
    if text == "ampere+":
        return Target(kind="portable")
    parts = text.split(":")
    if len(parts) == 3 and parts[0] == "gpu":
        return Target(kind="gpu", sku=parts[1], compute_capability=parts[2])
    raise ValueError(f"unknown target {text!r}: use cpu, ampere+ or gpu:<SKU>:<cc>")
