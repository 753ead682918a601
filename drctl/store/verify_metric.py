"""``drctl store verify`` as a CloudWatch metric, so StoreVerifyFailed can be an alarm.

The in-cluster verify CronJob (docs/monitoring-jobs.md) runs the store's verify command for
every model of its region and reports one datapoint per run: how many models failed. The
alarm treats missing data as breaching, so a verify job that stopped running is noticed too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

NAMESPACE = "TrtDr/Store"
METRIC = "VerifyFailedModels"
DIMENSION = "Region"


@dataclass(frozen=True)
class VerifyOutcome:
    """The result of one verify run over a region's models: which ones failed."""

    region: str
    models: tuple[str, ...]
    failed: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Every model's release verified in both copies of the tree."""
        return not self.failed


def put_verify_metric(
    cloudwatch: Any,
    outcome: VerifyOutcome,
    namespace: str = NAMESPACE,
    when: datetime | None = None,
) -> dict[str, Any]:
    """Publish the number of failed models for ``outcome.region``; returns the datapoint sent."""
    datum: dict[str, Any] = {
        "MetricName": METRIC,
        "Dimensions": [{"Name": DIMENSION, "Value": outcome.region}],
        "Value": float(len(outcome.failed)),
        "Unit": "Count",
    }
    if when is not None:
        datum["Timestamp"] = when
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[datum])
    return datum
