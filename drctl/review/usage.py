"""Usage-based quantities per stack (storage, replicated GB, NAT GB, LCUs, hosted zones).

The price table gives unit prices; these quantities come from the operator (see
``data/usage.example.yaml``). Omitted values count as zero so a missing file still gives the
fixed monthly cost.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from drctl.review.errors import UsageFileError

USAGE_EXAMPLE = Path(__file__).resolve().parent.parent.parent / "data" / "usage.example.yaml"


class StackUsage(BaseModel):
    """Monthly usage of one stack."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    s3_storage_gb: float = Field(default=0, ge=0)
    replicated_gb_per_month: float = Field(default=0, ge=0)
    nat_processed_gb: float = Field(default=0, ge=0)
    nlb_lcus: float = Field(default=0, ge=0)
    hosted_zones: int = Field(default=0, ge=0)


class Usage(BaseModel):
    """Usage of every stack, by stack name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    stacks: dict[str, StackUsage] = Field(default_factory=dict)

    def of(self, stack: str) -> StackUsage:
        """Usage of ``stack`` (all zero when the file does not mention it)."""
        return self.stacks.get(stack, StackUsage())


def load_usage(path: Path | None) -> Usage:
    """Read a usage file; ``None`` means no usage (fixed costs only)."""
    if path is None:
        return Usage()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise UsageFileError(
            f"usage file {path} does not exist; start from {USAGE_EXAMPLE.name}"
        ) from None
    except yaml.YAMLError as error:
        raise UsageFileError(f"usage file {path} is not YAML: {error}") from None
    try:
        return Usage.model_validate(data)
    except ValidationError as error:
        raise UsageFileError(f"usage file {path} is invalid: {error}") from None
