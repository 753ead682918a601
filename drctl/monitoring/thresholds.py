"""Where a command's thresholds come from: the stack file, the rendered JSON, or defaults.

On a workstation or in a pipeline ``--stack S`` reads ``trt-dr:monitoring`` from
``Pulumi.<S>.yaml``. In the cluster there is no stack file: infra/monitoring_jobs.py renders
the same values as JSON into a ConfigMap and points ``$TRT_DR_MONITORING`` at it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from drctl.monitoring.errors import MonitoringFileError
from infra.config import MonitoringSettings

MONITORING_ENV = "TRT_DR_MONITORING"


def read_monitoring(path: Path) -> MonitoringSettings:
    """The stack's monitoring settings from a JSON file of ``trt-dr:monitoring`` values."""
    try:
        return MonitoringSettings.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError, ValidationError) as exc:
        raise MonitoringFileError(
            f"{path} is not a readable trt-dr:monitoring JSON ({exc}); re-run `pulumi up` to "
            f"re-render the ConfigMap or point {MONITORING_ENV} at another file"
        ) from exc


def rendered_monitoring(env: Mapping[str, str] = os.environ) -> MonitoringSettings | None:
    """The settings ``$TRT_DR_MONITORING`` names, or None when it is unset."""
    path = env.get(MONITORING_ENV)
    return read_monitoring(Path(path)) if path else None
