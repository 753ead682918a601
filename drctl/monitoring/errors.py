"""Errors of the monitoring package; each names what to do next."""

from __future__ import annotations


class MonitoringError(Exception):
    """Base class of monitoring errors."""


class RuleInvalid(MonitoringError):
    """A rendered recording or alerting rule is malformed (bad PromQL, missing field)."""


class MetricsUnavailable(MonitoringError):
    """A metrics endpoint could not be read or did not answer with Prometheus text."""


class RolloutAborted(MonitoringError):
    """The rollout could not act on its decision (store or Triton refused)."""


class MonitoringFileError(MonitoringError):
    """The monitoring settings file ($TRT_DR_MONITORING) is missing or invalid."""
