"""EKS: GPU node group per region's GPU type, system nodes, access, secret-free kubeconfig."""

from __future__ import annotations

import json

import pytest

from infra.offline import Evaluation, evaluate

from .conftest import config_with


@pytest.mark.parametrize(
    "name,instance,sku,cc",
    [("primary", "p5.48xlarge", "H100", "9.0"), ("dr", "g6e.xlarge", "L40S", "8.9")],
)
def test_gpu_node_group_matches_the_region_gpu(name: str, instance: str, sku: str, cc: str) -> None:
    groups = {g.name: g.inputs for g in evaluate(name).of_type("aws:eks/nodeGroup:NodeGroup")}
    gpu = next(v for k, v in groups.items() if k.endswith("-gpu"))
    assert gpu["amiType"] == "AL2023_x86_64_NVIDIA"
    assert gpu["instanceTypes"] == [instance]
    assert gpu["labels"]["trt-dr.io/gpu-sku"] == sku
    assert gpu["labels"]["trt-dr.io/compute-capability"] == cc
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    system = next(v for k, v in groups.items() if k.endswith("-system"))
    assert system["amiType"] == "AL2023_x86_64_STANDARD"
    assert "taints" not in system


@pytest.mark.parametrize(
    "tier,desired", [("pilot-light", 0), ("warm-standby", 1), ("active-active", 3)]
)
def test_dr_gpu_capacity_follows_the_tier(tier: str, desired: int) -> None:
    config = config_with("dr", drTier=tier)
    gpu = next(
        g
        for g in evaluate("dr", config=config, project_dir=_tier_project(tier)).of_type(
            "aws:eks/nodeGroup:NodeGroup"
        )
        if g.name.endswith("-gpu")
    )
    assert gpu.inputs["scalingConfig"]["desiredSize"] == desired


def _tier_project(tier: str):  # type: ignore[no-untyped-def]
    """A copy of the project whose primary stack file uses ``tier`` too (tiers must match)."""
    import shutil
    import tempfile
    from pathlib import Path

    import yaml

    from infra.offline import PROJECT_DIR

    target = Path(tempfile.mkdtemp(prefix="trt-dr-tier-"))
    shutil.copy(PROJECT_DIR / "__main__.py", target / "__main__.py")
    shutil.copytree(PROJECT_DIR / "models", target / "models")
    for stack in ("primary", "dr"):
        data = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
        data["config"]["trt-dr:drTier"] = tier
        (target / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(data))
    return target


def test_cluster_uses_api_access_and_encrypts_secrets(stack: Evaluation) -> None:
    cluster = stack.one("aws:eks/cluster:Cluster").inputs
    assert cluster["accessConfig"]["authenticationMode"] == "API"
    assert cluster["accessConfig"]["bootstrapClusterCreatorAdminPermissions"] is False
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    addons = {a.inputs["addonName"] for a in stack.of_type("aws:eks/addon:Addon")}
    assert addons == {"vpc-cni", "coredns", "kube-proxy"}
    oidc = stack.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs
    assert oidc["clientIdLists"] == ["sts.amazonaws.com"]
    assert oidc["url"].startswith(f"https://oidc.eks.{stack.outputs['region']}.amazonaws.com/")


def test_admin_roles_get_access_entries() -> None:
    arn = "arn:aws:iam::123456789012:role/platform-admin"
    config = config_with("primary", cluster__adminRoleArns=[arn])
    evaluation = evaluate("primary", config=config)
    entry = evaluation.one("aws:eks/accessEntry:AccessEntry").inputs
    assert entry["principalArn"] == arn
    association = evaluation.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation").inputs
    assert association["policyArn"].endswith("AmazonEKSClusterAdminPolicy")


def test_kubernetes_provider_holds_no_credentials(stack: Evaluation) -> None:
    provider = stack.one("pulumi:providers:kubernetes").inputs
    kubeconfig = json.loads(provider["kubeconfig"])
    user = kubeconfig["users"][0]["user"]
    assert set(user) == {"exec"}
    assert user["exec"]["args"][:2] == ["eks", "get-token"]
    assert stack.outputs["region"] in user["exec"]["args"]
