"""Each class of bad stack configuration stops the program with the key and allowed values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import ConfigError, check_peer, parse_settings
from infra.offline import PROJECT_DIR, evaluate

from .conftest import config_with


def raw(stack: str = "primary", **changes: Any) -> dict[str, Any]:
    """Config values without the namespace, as `pulumi.Config` would hand them over."""
    return {
        k.split(":", 1)[1]: v
        for k, v in config_with(stack, **changes).items()
        if k.startswith("trt-dr:")
    }


def test_the_shipped_stack_files_are_valid() -> None:
    for stack in ("primary", "dr"):
        settings = parse_settings(raw(stack), stack, "trt-dr")
        check_peer(settings, PROJECT_DIR)
        assert settings.gpu_node_size.max >= settings.gpu_node_size.desired


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"healthCheck__interval": 15}, r"trt-dr:healthCheck\.interval: .*10 or 30"),
        ({"healthCheck__failureThreshold": 11}, r"trt-dr:healthCheck\.failureThreshold"),
        ({"healthCheck__regions": ["us-east-1", "us-west-2"]}, r"at least 3 distinct"),
        ({"healthCheck__regions": ["us-east-1", "us-west-2", "mars-1"]}, r"unknown: \['mars-1'\]"),
        ({"role": "backup"}, r"trt-dr:role: .*'primary' or 'dr'"),
        ({"drTier": "cold"}, r"trt-dr:drTier: .*'pilot-light', 'warm-standby' or 'active-active'"),
        ({"gpuNodes__cold": {"min": 0, "desired": 0, "max": 1}}, r"unknown: \['cold'\]"),
        ({"gpuNodes__warm-standby": {"min": 2, "desired": 1, "max": 3}}, r"min <= desired <= max"),
        ({"peerRegion": "us-east-1"}, r"trt-dr:region and trt-dr:peerRegion must differ"),
        ({"region": "useast1"}, r"trt-dr:region 'useast1' is not an AWS region"),
        ({"release": "latest"}, r"trt-dr:release 'latest' must be an NGC release tag"),
        ({"dns__ttl": 30}, r"set trt-dr:dns\.ttl to 60 or trt-dr:dns\.recordType to cname"),
        ({"gpu__computeCapability": "nine"}, r"trt-dr:gpu\.computeCapability"),
        ({"network__vpcId": "vpc-1"}, r"also set trt-dr:network\.privateSubnetIds"),
        ({"models": [{"name": "Bad Name", "onnx": "x", "inputs": []}]}, r"trt-dr:models\[0\]"),
    ],
)
def test_bad_values_name_their_key(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_settings(raw(**changes), "primary", "trt-dr")


def test_missing_required_keys_are_listed() -> None:
    values = raw()
    del values["gpu"], values["dns"]
    with pytest.raises(ConfigError, match=r"missing required config trt-dr:gpu, trt-dr:dns"):
        parse_settings(values, "primary", "trt-dr")


def _project(tmp_path: Path, **peer_changes: Any) -> Path:
    data = yaml.safe_load((PROJECT_DIR / "Pulumi.dr.yaml").read_text())
    for key, value in peer_changes.items():
        data["config"][f"trt-dr:{key}"] = value
    (tmp_path / "Pulumi.dr.yaml").write_text(yaml.safe_dump(data))
    return tmp_path


@pytest.mark.parametrize(
    "peer_changes,message",
    [
        ({"role": "primary"}, r"trt-dr:role='primary' but this stack needs 'dr'"),
        ({"region": "eu-west-1"}, r"trt-dr:region='eu-west-1'"),
        ({"release": "24.09"}, r"trt-dr:release='24.09'.*one release"),
        (
            {"dns": {"hostedZoneId": "Z1", "hostname": "other.example.com"}},
            r"dns\.hostname differs",
        ),
        ({"drTier": "active-active"}, r"drTier must be the same"),
    ],
)
def test_peer_stack_file_must_agree(tmp_path: Path, peer_changes: dict, message: str) -> None:
    settings = parse_settings(raw(), "primary", "trt-dr")
    with pytest.raises(ConfigError, match=message):
        check_peer(settings, _project(tmp_path, **peer_changes))


def test_both_roles_must_be_present(tmp_path: Path) -> None:
    settings = parse_settings(raw(), "primary", "trt-dr")
    with pytest.raises(ConfigError, match=r"Pulumi\.dr\.yaml does not exist; both roles"):
        check_peer(settings, tmp_path)


def test_bad_config_stops_the_program_before_any_resource() -> None:
    with pytest.raises(ConfigError, match=r"trt-dr:healthCheck\.interval"):
        evaluate("primary", config=config_with("primary", healthCheck__interval=20))


def test_dr_cannot_deploy_before_primary() -> None:
    with pytest.raises(ConfigError, match=r"deploy primary first"):
        evaluate("dr", config=config_with("dr", peerDeployed="false"))
