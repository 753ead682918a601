"""Failures of drill building blocks, one class per failure, each with its CLI exit code.

Exit code 1 means the drill ran and found a problem (every region failed a request);
exit code 2 means the input is wrong (a non-loopback target in a local run, a bad name).
"""

from __future__ import annotations


class DrillError(Exception):
    """Base of every drill failure; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class RemoteTargetRefused(DrillError):
    """A local run was asked to send traffic somewhere other than 127.0.0.1."""

    exit_code = 2


class ResolveError(DrillError):
    """The service name did not resolve to any endpoint."""


class AllRegionsFailed(DrillError):
    """A request failed in the region DNS points at and again on its peer."""


class ClientConfigError(DrillError):
    """The failover client was not given exactly two distinct regional endpoints."""

    exit_code = 2
