"""Failures of an engine build, one class per failure, each carrying its CLI exit code.

Exit codes follow the project rule: 1 when the operation itself found a problem (a gate
failed, a checksum did not match), 2 when the input or configuration is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence


class EngineBuildError(Exception):
    """Base of every engine_build failure; ``exit_code`` is what the CLI returns."""

    exit_code = 2


class BadInputError(EngineBuildError):
    """The spec, target, model or data given to the build is wrong."""

    exit_code = 2


class SpecFileError(BadInputError):
    """A build spec file cannot be read or does not describe a valid ModelSpec."""


class UnknownTargetError(BadInputError):
    """The target text is not ``cpu``, ``ampere+`` or ``gpu:<SKU>:<cc>``."""


class UnknownPrecisionError(BadInputError):
    """A precision on the ladder is not supported by the chosen backend."""


class InvalidOnnxError(BadInputError):
    """The ONNX source is unreadable or fails the ONNX checker."""


class ShapeMismatchError(BadInputError):
    """The spec's input names, ranks, dtypes or shapes contradict the ONNX graph."""


class CalibrationMissingError(BadInputError):
    """INT8 is on the ladder but no calibration data is available."""


class DataShapeError(BadInputError):
    """A calibration or validation ``.npz`` does not match the model inputs."""


class SourceNotFoundError(BadInputError):
    """An input file (local path or s3:// object) does not exist or cannot be read."""


class StoreAccessError(BadInputError):
    """The output store (a directory or s3:// prefix) cannot be read or written."""


class BackendUnavailableError(BadInputError):
    """The backend's runtime (e.g. ``tensorrt``) cannot be imported on this machine."""


class BackendVersionMismatchError(BadInputError):
    """The backend version given for the key differs from the one actually installed."""


class BackendBuildError(EngineBuildError):
    """The backend failed to produce an engine from a valid model."""

    exit_code = 1


class GateFailedError(EngineBuildError):
    """No precision on the ladder passed its accuracy gate."""

    exit_code = 1

    def __init__(self, message: str, ladder: Sequence[object]) -> None:
        super().__init__(message)
        self.ladder = list(ladder)


class VerificationError(EngineBuildError):
    """Files of a build directory do not match its manifest."""

    exit_code = 1

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class ManifestNotFoundError(BadInputError):
    """The directory given to verify/inspect holds no readable manifest.json."""
