"""The in-cluster monitoring Jobs under mocks: CronJobs, their commands, roles and config."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from drctl.store.outputs import load_stack_outputs
from infra.config import ConfigError, MonitoringSettings
from infra.offline import Evaluation, Registered, evaluate

from .conftest import config_with
from .k8s_schema import validate

CRON = "kubernetes:batch/v1:CronJob"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/rolePolicy:RolePolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def crons(evaluation: Evaluation) -> dict[str, Registered]:
    return {c.inputs["metadata"]["name"]: c for c in evaluation.of_type(CRON)}


def pod(cron: Registered) -> dict[str, Any]:
    return dict(cron.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"])


def command(cron: Registered) -> list[str]:
    """The command after the pip install: the script's ``exec`` line, split like bash."""
    script = pod(cron)["containers"][0]["args"][0]
    return shlex.split(script.splitlines()[-1])[1:]


def option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def statements(evaluation: Evaluation, account: str) -> list[dict[str, Any]]:
    found = [p for p in evaluation.of_type(POLICY) if p.name.endswith(f"jobs-{account}")]
    assert len(found) == 1, account
    return list(json.loads(found[0].inputs["policy"])["Statement"])


def granted(found: list[dict[str, Any]], action: str) -> list[str]:
    """Every resource pattern a statement grants ``action`` on."""
    return sorted(r for s in found if action in s["Action"] for r in s["Resource"])


@pytest.fixture(scope="module", params=["prometheus-operator", "amp"])
def watched(request: pytest.FixtureRequest) -> Evaluation:
    return evaluate("primary", config_with("primary", monitoring={"backend": request.param}))


def test_default_backend_runs_only_the_verify_job(stack: Evaluation) -> None:
    assert set(crons(stack)) == {"store-verify"}
    assert not [p for p in stack.of_type(POLICY) if "rollout-controller" in p.name]


def test_verify_job_runs_store_verify_for_every_model(stack: Evaluation) -> None:
    cron = crons(stack)["store-verify"]
    words = command(cron)
    settings = stack_settings(stack.stack)
    assert words[:4] == ["python3", "-m", "drctl.ops_entry", "store-verify"]
    assert [words[i + 1] for i, w in enumerate(words) if w == "--model"] == ["classifier"]
    assert option(words, "--region") == settings["role"]
    assert option(words, "--aws-region") == settings["region"]
    assert option(words, "--namespace") == "TrtDr/Store"
    assert cron.inputs["spec"]["schedule"] == "*/15 * * * *"
    assert pod(cron)["serviceAccountName"] == "store-verifier"


def stack_settings(stack: str) -> dict[str, Any]:
    config = config_with(stack)
    return {"role": config["trt-dr:role"], "region": config["trt-dr:region"]}


def test_rollout_job_per_model_renders_the_pipeline_command(watched: Evaluation) -> None:
    assert set(crons(watched)) == {"store-verify", "rollout-classifier"}
    cron = crons(watched)["rollout-classifier"]
    words = command(cron)
    assert words[:6] == ["python3", "-m", "drctl.ops_entry", "rollout", "watch", "--from-release"]
    assert option(words, "--model") == "classifier"
    assert option(words, "--region") == "primary"
    assert option(words, "--window-seconds") == "300"
    assert option(words, "--max-windows") == "10"
    assert option(words, "--load-endpoint-set") == "triton-pods.triton.svc.cluster.local:8000"
    url = option(words, "--prometheus")
    if pod(cron).get("initContainers"):
        workspace = watched.one("aws:amp/workspace:Workspace")
        assert url == f"http://127.0.0.1:8005/workspaces/{workspace.name}-id"  # offline id
        assert "--selector" not in words
    else:
        assert url == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
        assert option(words, "--selector") == 'namespace="triton"'


def test_cron_jobs_never_overlap_and_run_locked_down(watched: Evaluation) -> None:
    for cron in crons(watched).values():
        validate(cron.inputs)
        spec = cron.inputs["spec"]
        assert spec["concurrencyPolicy"] == "Forbid"
        assert spec["successfulJobsHistoryLimit"] == spec["failedJobsHistoryLimit"] == 3
        job = spec["jobTemplate"]["spec"]
        assert job["backoffLimit"] == 0 and job["activeDeadlineSeconds"] > 0
        assert cron.inputs["metadata"]["namespace"] == "triton"
        spec_pod = pod(cron)
        assert spec_pod["securityContext"]["runAsNonRoot"] is True
        assert spec_pod["automountServiceAccountToken"] is False
        for container in spec_pod["containers"] + spec_pod.get("initContainers", []):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
        ops = spec_pod["containers"][0]
        assert ops["image"] == "python:3.11-slim"
        env = {e["name"]: e["value"] for e in ops["env"]}
        assert env["TRT_DR_OUTPUTS"] == "/etc/trt-dr/outputs"
        assert env["TRT_DR_MONITORING"] == "/etc/trt-dr/monitoring.json"


def test_rollout_deadline_covers_every_window() -> None:
    config = config_with(
        "primary",
        monitoring={"backend": "prometheus-operator", "canaryWindowSeconds": 120},
    )
    cron = crons(evaluate("primary", config))["rollout-classifier"]
    assert option(command(cron), "--window-seconds") == "120"
    assert cron.inputs["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] >= 120 * 10
    assert cron.inputs["spec"]["schedule"] == "*/5 * * * *"


def test_amp_rollout_signs_queries_with_a_native_sidecar() -> None:
    evaluation = evaluate("primary", config_with("primary", monitoring={"backend": "amp"}))
    sidecar = pod(crons(evaluation)["rollout-classifier"])["initContainers"][0]
    assert sidecar["restartPolicy"] == "Always"
    assert sidecar["args"][sidecar["args"].index("--host") + 1] == (
        "aps-workspaces.us-east-1.amazonaws.com"
    )
    query = [
        s for s in statements(evaluation, "rollout-controller") if "aps:QueryMetrics" in s["Action"]
    ]
    scraper = evaluation.one("aws:amp/scraper:Scraper")  # writes to the same workspace
    assert query[0]["Resource"] == [scraper.inputs["destination"]["amp"]["workspaceArn"]]
    assert "initContainers" not in pod(crons(evaluation)["store-verify"])


def test_controller_writes_only_pointers_and_configs(watched: Evaluation) -> None:
    found = statements(watched, "rollout-controller")
    bucket = watched.outputs["bucketArn"]
    assert granted(found, "s3:PutObject") == [
        f"{bucket}/us-east-1/releases/*",
        f"{bucket}/us-east-1/repository/classifier/config.pbtxt",
        f"{bucket}/us-east-1/repository/classifier/configs/*",
    ]
    assert granted(found, "s3:DeleteObject") == [
        f"{bucket}/us-east-1/releases/canary/classifier.json",
        f"{bucket}/us-east-1/repository/classifier/configs/canary.pbtxt",
    ]
    assert granted(found, "s3:GetObject") == [f"{bucket}/us-east-1/*"]
    key = watched.outputs["kmsKeyArn"]
    assert granted(found, "kms:Decrypt") == granted(found, "kms:GenerateDataKey") == [key]
    assert not [s for s in found if any(a.endswith("*") for a in s["Action"])]
    trust = next(r for r in watched.of_type(ROLE) if r.name.endswith("jobs-rollout-controller"))
    condition = json.loads(trust.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]
    assert "system:serviceaccount:triton:rollout-controller" in condition["StringEquals"].values()


def test_verifier_reads_both_copies_and_puts_one_metric_namespace(stack: Evaluation) -> None:
    found = statements(stack, "store-verifier")
    region = stack_settings(stack.stack)["region"]
    own, peer = stack.outputs["bucketArn"], f"arn:aws:s3:::{stack.outputs['peerBucketName']}"
    assert granted(found, "s3:GetObject") == sorted([f"{own}/{region}/*", f"{peer}/{region}/*"])
    assert granted(found, "s3:PutObject") == granted(found, "s3:DeleteObject") == []
    assert len(granted(found, "kms:Decrypt")) == 2
    metric = [s for s in found if s["Action"] == ["cloudwatch:PutMetricData"]]
    assert metric[0]["Condition"] == {"StringEquals": {"cloudwatch:namespace": "TrtDr/Store"}}


def test_config_map_feeds_drctl_its_outputs_and_thresholds(
    stack: Evaluation, tmp_path: Path
) -> None:
    config = next(
        c
        for c in stack.of_type("kubernetes:core/v1:ConfigMap")
        if c.inputs["metadata"]["name"] == "trt-dr-ops-config"
    )
    saved = tmp_path / f"{stack.stack}.json"
    saved.write_text(config.inputs["data"][f"{stack.stack}.json"])
    outputs = load_stack_outputs(saved)
    assert (outputs.bucket_name, outputs.kms_key_arn) == (
        stack.outputs["bucketName"],
        stack.outputs["kmsKeyArn"],
    )
    assert outputs.role == stack.stack
    thresholds = MonitoringSettings.model_validate_json(config.inputs["data"]["monitoring.json"])
    assert thresholds == MonitoringSettings()


def test_verify_schedule_and_alarm_period_follow_the_config_key() -> None:
    config = config_with("dr", monitoring={"verifyEveryMinutes": 10})
    evaluation = evaluate("dr", config)
    assert crons(evaluation)["store-verify"].inputs["spec"]["schedule"] == "*/10 * * * *"
    alarm = next(a for a in evaluation.of_type(ALARM) if a.inputs["name"] == "dr-StoreVerifyFailed")
    assert alarm.inputs["period"] == 1200
    assert alarm.inputs["namespace"] == "TrtDr/Store"
    assert alarm.inputs["dimensions"] == {"Region": "us-west-2"}
    assert alarm.inputs["treatMissingData"] == "breaching"
    assert alarm.inputs["tags"] == {"runbook": "engine-corruption"}


def test_default_image_installs_the_pins_and_a_baked_image_does_not() -> None:
    plain = pod(crons(evaluate("primary"))["store-verify"])["containers"][0]
    assert "pip install" in plain["args"][0] and "--no-deps" in plain["args"][0]
    config = config_with("primary", monitoring={"jobsImage": "registry.example/trt-dr-ops:1"})
    baked = pod(crons(evaluate("primary", config))["store-verify"])["containers"][0]
    assert baked["image"] == "registry.example/trt-dr-ops:1"
    assert "pip install" not in baked["args"][0]
    assert baked["args"][0].splitlines()[-1] == plain["args"][0].splitlines()[-1]


@pytest.mark.parametrize(
    "changes,key",
    [
        ({"verifyEveryMinutes": 2}, "verifyEveryMinutes"),
        ({"rolloutEveryMinutes": 60}, "rolloutEveryMinutes"),
        ({"prometheusUrl": "prometheus:9090"}, "prometheusUrl"),
        ({"qualityMinAgreement": 1.5}, "qualityMinAgreement"),
        ({"qualityEveryMinutes": 1}, "qualityEveryMinutes"),
    ],
)
def test_bad_job_settings_name_the_key(changes: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=rf"trt-dr:monitoring\.{key}"):
        evaluate("primary", config_with("primary", monitoring=changes))


def test_quality_probe_only_when_enabled(stack: Evaluation) -> None:
    assert not [name for name in crons(stack) if name.startswith("quality")]
    assert not [a for a in stack.of_type(ALARM) if "ModelAccuracyDrop" in a.inputs["name"]]


def test_quality_probe_job_role_and_alarm() -> None:
    monitoring = {"qualityProbe": True, "qualityEveryMinutes": 10, "qualityMinAgreement": 0.97}
    evaluation = evaluate("dr", config_with("dr", monitoring=monitoring))
    cron = crons(evaluation)["quality-classifier"]
    validate(cron.inputs)
    words = command(cron)
    assert words[:4] == ["python3", "-m", "drctl.ops_entry", "quality-probe"]
    assert option(words, "--model") == "classifier" and option(words, "--region") == "dr"
    assert option(words, "--pods") == "triton-pods.triton.svc.cluster.local:8000"
    assert option(words, "--min-agreement") == "0.97"
    assert option(words, "--namespace") == "TrtDr/Quality"
    assert cron.inputs["spec"]["schedule"] == "*/10 * * * *"
    assert pod(cron)["serviceAccountName"] == "quality-probe"
    found = statements(evaluation, "quality-probe")
    bucket = evaluation.outputs["bucketArn"]
    assert granted(found, "s3:GetObject") == [f"{bucket}/us-west-2/quality/*"]
    assert granted(found, "s3:PutObject") == granted(found, "s3:DeleteObject") == []
    metric = [s for s in found if s["Action"] == ["cloudwatch:PutMetricData"]]
    assert metric[0]["Condition"] == {"StringEquals": {"cloudwatch:namespace": "TrtDr/Quality"}}
    alarm = next(a for a in evaluation.of_type(ALARM) if "ModelAccuracyDrop" in a.inputs["name"])
    assert alarm.inputs["name"] == "dr-ModelAccuracyDrop-classifier"
    assert alarm.inputs["dimensions"] == {"Region": "us-west-2", "Model": "classifier"}
    assert (alarm.inputs["comparisonOperator"], alarm.inputs["threshold"]) == (
        "LessThanThreshold",
        0.97,
    )
    assert (alarm.inputs["period"], alarm.inputs["treatMissingData"]) == (1200, "breaching")
    assert alarm.inputs["tags"] == {"runbook": "model-regression"}


def test_rendered_commands_run_with_the_rendered_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CronJobs' own argv and ConfigMap files, through the real entry, on moto.

    No canary is in progress, so the rollout ends at once (exit 0); the empty tree has no
    release, so verify cannot run and publishes nothing (exit 2). Both parse every option.
    """
    import boto3
    from moto import mock_aws
    from typer.testing import CliRunner

    from drctl.ops_entry import app

    config = config_with("primary", monitoring={"backend": "prometheus-operator"})
    evaluation = evaluate("primary", config)
    data = next(
        c.inputs["data"]
        for c in evaluation.of_type("kubernetes:core/v1:ConfigMap")
        if c.inputs["metadata"]["name"] == "trt-dr-ops-config"
    )
    (tmp_path / "outputs").mkdir()
    (tmp_path / "outputs" / "primary.json").write_text(data["primary.json"])
    (tmp_path / "monitoring.json").write_text(data["monitoring.json"])
    env = {
        "TRT_DR_OUTPUTS": str(tmp_path / "outputs"),
        "TRT_DR_MONITORING": str(tmp_path / "monitoring.json"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    runner = CliRunner()
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(
            Bucket=evaluation.outputs["bucketName"]
        )
        rollout = runner.invoke(app, command(crons(evaluation)["rollout-classifier"])[3:], env=env)
        verify = runner.invoke(app, command(crons(evaluation)["store-verify"])[3:], env=env)
    assert rollout.exit_code == 0 and "no canary in progress" in rollout.output
    assert verify.exit_code == 2 and "no metric published" in " ".join(verify.output.split())
