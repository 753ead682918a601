"""The Kubernetes layer: engine build Jobs keyed by build key, Triton, IAM, schemas, checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import yaml

from engine_build import key as engine_key
from engine_build.graph import onnx_digest
from engine_build.key import build_key
from engine_build.spec import ModelSpec, Target
from infra.builds import pinned_version
from infra.config import ConfigError
from infra.offline import Evaluation, Registered, evaluate

from .conftest import config_with, project_copy
from .k8s_schema import validate

JOB = "kubernetes:batch/v1:Job"


def jobs(evaluation: Evaluation) -> dict[str, Registered]:
    return {j.inputs["metadata"]["name"]: j for j in evaluation.of_type(JOB)}


def pod(resource: Registered) -> dict:
    return resource.inputs["spec"]["template"]["spec"]


def triton_deployment(evaluation: Evaluation) -> Registered:
    """The stable Triton Deployment (the canary one is tested in test_triton_canary.py)."""
    (found,) = [
        d
        for d in evaluation.of_type("kubernetes:apps/v1:Deployment")
        if d.inputs["metadata"]["name"] == "triton"
    ]
    return found


def test_every_kubernetes_object_matches_the_openapi_schema(stack: Evaluation) -> None:
    objects = [r for r in stack.resources if r.type.startswith("kubernetes:")]
    assert len(objects) >= 14
    for resource in objects:
        validate(resource.inputs)


def test_one_build_per_target_and_one_publish(primary: Evaluation) -> None:
    names = sorted(jobs(primary))
    assert [n.rsplit("-", 1)[0] for n in names] == [
        "build-classifier-ampere-plus",
        "build-classifier-cpu",
        "build-classifier-sm90",
        "publish-classifier-sm90",
    ]
    keys = primary.outputs["buildKeys"]
    assert f"build-classifier-sm90-{keys['classifier/sm90'][:12]}" in names


def test_gpu_jobs_run_on_the_region_gpu_with_the_release_image(stack: Evaluation) -> None:
    sku = "H100" if stack.stack == "primary" else "L40S"
    for name, job in jobs(stack).items():
        spec = pod(job)
        container = spec["containers"][0]
        assert container["image"] == "nvcr.io/nvidia/tensorrt:24.10-py3"
        assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
        gpu = name.startswith("build-") and "-cpu-" not in name
        if gpu:
            assert spec["nodeSelector"] == {"trt-dr.io/gpu-sku": sku}
            assert spec["tolerations"][0]["key"] == "nvidia.com/gpu"
            assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
        else:
            assert spec["nodeSelector"] == {"trt-dr.io/pool": "system"}
            assert "nvidia.com/gpu" not in container["resources"].get("limits", {})


def test_build_command_targets_and_await(primary: Evaluation) -> None:
    by_name = jobs(primary)
    sm90 = next(j for n, j in by_name.items() if n.startswith("build-classifier-sm90"))
    script = pod(sm90)["containers"][0]["args"][0]
    assert "python3 -m engine_build build --spec /spec/spec.yaml --target gpu:H100:9.0" in script
    assert "--out s3://trt-dr-models-123456789012-us-east-1/us-east-1/engines" in script
    assert "--trt-release 24.10" in script
    cpu = next(j for n, j in by_name.items() if n.startswith("build-classifier-cpu"))
    assert (
        f"--backend-version {pinned_version('onnxruntime')}" in pod(cpu)["containers"][0]["args"][0]
    )
    rules = sm90.inputs["spec"]["podFailurePolicy"]["rules"]
    assert rules[0]["action"] == "FailJob"
    assert sm90.inputs["metadata"]["annotations"] == {"pulumi.com/replaceUnready": "true"}


def test_publish_waits_for_its_build_and_triton_for_publish(primary: Evaluation) -> None:
    by_name = jobs(primary)
    build = next(j for n, j in by_name.items() if n.startswith("build-classifier-sm90"))
    publish = next(j for n, j in by_name.items() if n.startswith("publish-"))
    assert build.urn in publish.dependencies
    deployment = triton_deployment(primary)
    assert publish.urn in deployment.dependencies


def test_the_job_spec_hashes_to_the_key_in_the_job_name(primary: Evaluation) -> None:
    config_map = next(
        c
        for c in primary.of_type("kubernetes:core/v1:ConfigMap")
        if "spec.yaml" in c.inputs["data"]
    )
    spec = ModelSpec.model_validate(yaml.safe_load(config_map.inputs["data"]["spec.yaml"]))
    assert spec.onnx.startswith("s3://trt-dr-models-123456789012-us-east-1/us-east-1/inputs/onnx/")
    key = build_key(
        spec,
        Target(kind="gpu", sku="H100", compute_capability="9.0"),
        onnx_sha256=onnx_digest(Path("models/classifier.onnx")),
        backend_version="10.5.0.18",
        builder_image="nvcr.io/nvidia/tensorrt:24.10-py3",
        data_sha256={},
    )
    assert f"build-classifier-sm90-{key[:12]}" in jobs(primary)


def _names(project: Path, stack: str = "primary") -> set[str]:
    return set(jobs(evaluate(stack, project_dir=project)))


def test_job_names_change_exactly_when_the_key_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = _names(project_copy(_dir(tmp_path, "base")))
    assert _names(project_copy(_dir(tmp_path, "same"))) == base
    ladder = _names(project_copy(_dir(tmp_path, "ladder"), models__0__precisions=["fp32"]))
    assert not ladder & base  # the spec is in every target's key
    gpu = _names(
        project_copy(_dir(tmp_path, "gpu"), gpu__sku="H200", gpu__instanceType="p5e.48xlarge")
    )
    assert sorted(n.rsplit("-", 1)[0] for n in gpu - base) == [
        "build-classifier-sm90",
        "publish-classifier-sm90",
    ]  # the ampere+ and CPU builds do not depend on the GPU type
    monkeypatch.setitem(engine_key.TENSORRT_BY_RELEASE, "24.09", "10.4.0.26")
    release = _names(project_copy(_dir(tmp_path, "release"), release="24.09"))
    assert len(release) == 4 and not release & base


def _dir(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir()
    return path


def test_a_changed_onnx_makes_new_builds(tmp_path: Path) -> None:
    project = project_copy(_dir(tmp_path, "p"))
    before = _names(project)
    model = onnx.load(str(project / "models/classifier.onnx"))
    weights = onnx.numpy_helper.to_array(model.graph.initializer[0]) + np.float32(0.01)
    model.graph.initializer[0].CopyFrom(onnx.numpy_helper.from_array(weights, "conv_w"))
    onnx.save(model, str(project / "models/classifier.onnx"))
    after = _names(project)
    assert len(after) == len(before) == 4
    assert not after & before


def test_triton_serves_the_region_repository(stack: Evaluation) -> None:
    deployment = triton_deployment(stack)
    spec = pod(deployment)
    container = spec["containers"][0]
    region = stack.outputs["region"]
    assert container["image"] == "nvcr.io/nvidia/tritonserver:24.10-py3"
    args = container["args"]
    assert (
        f"--model-repository=s3://trt-dr-models-123456789012-{region}/{region}/repository" in args
    )
    assert "--model-control-mode=explicit" in args
    assert "--load-model=classifier" in args
    assert "--grpc-max-connection-age=300000" in args
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/models/classifier/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 900
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    keys = {c["topologyKey"] for c in spec["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    assert (
        deployment.inputs["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"]
        == "8002"
    )


def test_replicas_follow_role_and_tier(primary: Evaluation, dr: Evaluation) -> None:
    hpa = primary.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]
    assert hpa["minReplicas"] == 2  # 3 replicas, one of them the canary
    assert (
        primary.one("kubernetes:policy/v1:PodDisruptionBudget").inputs["spec"]["maxUnavailable"]
        == 1
    )
    assert (
        dr.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]["minReplicas"]
        == 1
    )
    assert dr.of_type("kubernetes:policy/v1:PodDisruptionBudget") == []


def test_pilot_light_dr_runs_no_gpu_work(tmp_path: Path) -> None:
    evaluation = evaluate("dr", project_dir=project_copy(_dir(tmp_path, "p"), drTier="pilot-light"))
    assert [n.rsplit("-", 1)[0] for n in jobs(evaluation)] == ["build-classifier-cpu"]
    deployment = triton_deployment(evaluation)
    assert deployment.inputs["spec"]["replicas"] == 0
    assert evaluation.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler") == []


def _policy(evaluation: Evaluation, suffix: str) -> dict:
    (policy,) = [
        p for p in evaluation.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith(suffix)
    ]
    return json.loads(policy.inputs["policy"])


def _actions(policy: dict) -> dict[str, list[str]]:
    return {a: s["Resource"] for s in policy["Statement"] for a in s["Action"]}


def test_triton_reads_only_its_repository(primary: Evaluation) -> None:
    actions = _actions(_policy(primary, "triton-role"))
    bucket = "arn:aws:s3:::trt-dr-models-123456789012-us-east-1"
    assert actions["s3:GetObject"] == [f"{bucket}/us-east-1/repository/*"]
    assert "s3:PutObject" not in actions and "s3:DeleteObject" not in actions


def test_builder_writes_only_engines_and_publisher_only_the_store(primary: Evaluation) -> None:
    bucket = "arn:aws:s3:::trt-dr-models-123456789012-us-east-1"
    builder = _actions(_policy(primary, "engine-builder"))
    assert builder["s3:PutObject"] == [f"{bucket}/us-east-1/engines/*"]
    assert "s3:DeleteObject" not in builder
    publisher = _actions(_policy(primary, "model-publisher"))
    assert f"{bucket}/us-east-1/engines/*" not in publisher["s3:PutObject"]
    assert f"{bucket}/us-east-1/releases/*" in publisher["s3:PutObject"]


def test_roles_trust_only_their_service_account(primary: Evaluation) -> None:
    roles = {
        r.name: json.loads(r.inputs["assumeRolePolicy"])
        for r in primary.of_type("aws:iam/role:Role")
    }
    trust = roles["primary-us-east-1-triton-role"]["Statement"][0]
    condition = trust["Condition"]["StringEquals"]
    assert condition["oidc.eks.us-east-1.amazonaws.com/id/0FF11NE:sub"] == (
        "system:serviceaccount:triton:triton"
    )
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"


def test_load_balancer_feeds_the_health_check(stack: Evaluation) -> None:
    (service,) = [
        s.inputs
        for s in stack.of_type("kubernetes:core/v1:Service")
        if s.inputs["spec"].get("type") == "LoadBalancer"
    ]
    annotations = service["metadata"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
    assert [p["port"] for p in service["spec"]["ports"]] == [8000, 8001]
    check = stack.one("aws:route53/healthCheck:HealthCheck").inputs
    assert check["fqdn"] == stack.outputs["inferenceEndpoint"][len("http://") : -len(":8000")]


def test_device_plugin_runs_on_gpu_nodes(stack: Evaluation) -> None:
    daemonset = stack.one("kubernetes:apps/v1:DaemonSet")
    spec = pod(daemonset)
    assert spec["nodeSelector"] == {"trt-dr.io/pool": "gpu"}
    assert spec["tolerations"][0]["key"] == "nvidia.com/gpu"


@pytest.mark.parametrize(
    "changes,message",
    [
        (
            {"triton": {"image": "nvcr.io/nvidia/tritonserver:24.09-py3"}},
            r"triton\.image is release 24\.09",
        ),
        ({"gpu__sku": "V100", "gpu__computeCapability": "7.0"}, r"needs 7\.5\+"),
        ({"gpu__sku": "T4", "gpu__computeCapability": "7.5"}, r"ampere\+ fallback"),
        ({"models__0__inputs__0__name": "pixels"}, r"models\[0\] \(classifier\)"),
        ({"models__0__maxBatch": 4}, r"inputs\[0\]\.max batch 32 exceeds"),
        ({"models__0__onnx": "s3://bucket/model.onnx"}, r"read local files"),
        ({"models__0__onnx": "models/missing.onnx"}, r"missing\.onnx does not exist"),
        ({"triton__replicas__warm-standby": 2}, r"serves traffic in that tier: use at least 3"),
        ({"triton__gpusPerPod": 8}, r"needs 24 GPUs but .* gives 16"),
    ],
)
def test_unservable_config_is_rejected_at_preview(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        evaluate("primary", config=config_with("primary", **changes))


def test_a_release_without_a_known_tensorrt_version_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"trt-dr:release: no TensorRT version recorded"):
        evaluate("primary", project_dir=project_copy(tmp_path, release="23.01"))
