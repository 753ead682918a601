"""Failures of the local rehearsal building blocks, one class per failure, with CLI exit codes.

Exit code 1 means the rehearsal ran and found a problem (a server died, a model did not load);
exit code 2 means the input or the local environment is wrong and the operator must fix it first.
"""

from __future__ import annotations


class RehearsalError(Exception):
    """Base of every rehearsal failure; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class TritonNotInstalled(RehearsalError):
    """The nvidia-pytriton wheel (and its tritonserver binary) is not installed."""

    exit_code = 2


class TritonStartError(RehearsalError):
    """tritonserver exited or did not become ready within its timeout."""


class ModelDirError(RehearsalError):
    """A Triton model directory is missing its config, its ONNX file or is not ONNX."""

    exit_code = 2


class HealthCheckConfigError(RehearsalError):
    """A health check or failover record cannot be used by the Route 53 stand-in."""

    exit_code = 2
