"""The policy pack's thin wrapper, run against a stand-in of ``pulumi_policy``'s API.

pulumi-policy cannot be installed beside the project (protobuf conflict, docs/review.md), so this
double records what the pack registers and calls each validation the way the analyzer does:
``validate(args, report_violation)`` with ``args.resources`` (``resource_type``, ``name``,
``urn``, ``props``) and ``args.get_config()``.
"""

from __future__ import annotations

import copy
import runpy
import sys
import types
from dataclasses import dataclass, field
from typing import Any

import pytest

from drctl.review.rules import POLICIES
from infra.offline import PROJECT_DIR, Evaluation


@dataclass
class FakeResource:
    resource_type: str
    name: str
    urn: str
    props: dict[str, Any]


@dataclass
class FakeArgs:
    resources: list[FakeResource]
    config: dict[str, Any] = field(default_factory=dict)

    def get_config(self) -> dict[str, Any]:
        return self.config


@pytest.fixture(scope="module")
def pack(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, Any]:
    registered: dict[str, Any] = {}
    fake = types.ModuleType("pulumi_policy")

    class EnforcementLevel:
        MANDATORY = "mandatory"

    def policy_pack(name: str, enforcement_level: str, policies: list[Any]) -> None:
        registered.update({p.name: p for p in policies})

    def stack_policy(**kwargs: Any) -> types.SimpleNamespace:
        return types.SimpleNamespace(**kwargs)

    fake.EnforcementLevel = EnforcementLevel  # type: ignore[attr-defined]
    fake.PolicyConfigSchema = lambda **kw: kw  # type: ignore[attr-defined]
    fake.PolicyPack = policy_pack  # type: ignore[attr-defined]
    fake.StackValidationPolicy = stack_policy  # type: ignore[attr-defined]
    monkeypatch_module.setitem(sys.modules, "pulumi_policy", fake)
    runpy.run_path(str(PROJECT_DIR / "policy" / "__main__.py"), run_name="__main__")
    return registered


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


def args_of(evaluation: Evaluation, config: dict[str, Any] | None = None) -> FakeArgs:
    resources = [
        FakeResource(r.type, r.name, r.urn, copy.deepcopy(r.inputs)) for r in evaluation.resources
    ]
    return FakeArgs(resources, config or {})


def run(policy: Any, args: FakeArgs) -> list[tuple[str, str | None]]:
    reports: list[tuple[str, str | None]] = []
    policy.validate(args, lambda message, urn=None: reports.append((message, urn)))
    return reports


def test_every_rule_is_one_policy(pack: dict[str, Any]) -> None:
    assert list(pack) == list(POLICIES)
    assert pack["dr-capacity-fraction"].config_schema["properties"]["fraction"]["default"] == 0.25


def test_real_stacks_pass_in_the_pack(
    pack: dict[str, Any], evaluations: dict[str, Evaluation]
) -> None:
    for evaluation in evaluations.values():
        for policy in pack.values():
            assert run(policy, args_of(evaluation)) == []


def test_violations_are_reported_with_the_urn(
    pack: dict[str, Any], evaluations: dict[str, Evaluation]
) -> None:
    args = args_of(evaluations["dr"])
    for res in args.resources:
        if res.resource_type == "aws:s3/bucketVersioning:BucketVersioning":
            res.props["versioningConfiguration"]["status"] = "Suspended"
    ((message, urn),) = run(pack["bucket-versioned"], args)
    assert message == "bucket versioning is not Enabled" and urn and urn.endswith("store-bucket")
    strict = args_of(evaluations["dr"], {"fraction": 0.9})
    assert run(pack["dr-capacity-fraction"], strict)


def test_unknown_region_is_reported(
    pack: dict[str, Any], evaluations: dict[str, Evaluation]
) -> None:
    args = args_of(evaluations["dr"])
    for res in args.resources:
        if res.resource_type == "pulumi:providers:aws":
            res.props["region"] = "eu-central-1"
    ((message, _),) = run(pack["bucket-versioned"], args)
    assert "matches this stack's region" in message
