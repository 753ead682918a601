"""One Kubernetes Job as trt-dr runs it: pinned deps, our code, fail fast on real errors."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.cluster import GPU_TAINT_KEY, POOL_LABEL, SKU_LABEL
from infra.code_bundle import CODE_MOUNT, bundle_files, code_items

CONTAINER = "builder"
# Exit codes of engine_build and drctl: 1 gate/verification failed, 2 bad input. Both are
# deterministic, so the Job fails at once instead of retrying on a GPU.
FATAL_EXIT_CODES = [1, 2]


@dataclass(frozen=True)
class JobSpec:
    """What differs between trt-dr's Jobs."""

    name: str
    namespace: pulumi.Input[str]
    image: str
    service_account: pulumi.Input[str]
    command: pulumi.Input[str]
    spec_config_map: pulumi.Input[str]
    code_config_map: pulumi.Input[str]
    gpu: bool
    gpu_sku: str
    region: str
    timeout_minutes: int


def script(command: str) -> str:
    """Shell script of the container: install pinned requirements, then run ``command``."""
    return (
        "set -euo pipefail\n"
        f"python3 -m pip install --no-cache-dir --quiet -r {CODE_MOUNT}/requirements.txt\n"
        f"exec {command}\n"
    )


def _placement(spec: JobSpec) -> dict[str, object]:
    if spec.gpu:
        return {
            "node_selector": {SKU_LABEL: spec.gpu_sku},
            "tolerations": [
                k8s.core.v1.TolerationArgs(
                    key=GPU_TAINT_KEY, operator="Exists", effect="NoSchedule"
                )
            ],
        }
    return {"node_selector": {POOL_LABEL: "system"}}


def _resources(spec: JobSpec) -> k8s.core.v1.ResourceRequirementsArgs:
    if spec.gpu:
        return k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "4", "memory": "24Gi"},
            limits={"nvidia.com/gpu": "1", "memory": "48Gi"},
        )
    return k8s.core.v1.ResourceRequirementsArgs(
        requests={"cpu": "1", "memory": "3Gi"}, limits={"memory": "6Gi"}
    )


def _container(spec: JobSpec) -> k8s.core.v1.ContainerArgs:
    return k8s.core.v1.ContainerArgs(
        name=CONTAINER,
        image=spec.image,
        command=["bash", "-c"],
        args=[pulumi.Output.from_input(spec.command).apply(script)],
        env=[
            k8s.core.v1.EnvVarArgs(name="PYTHONPATH", value=CODE_MOUNT),
            k8s.core.v1.EnvVarArgs(name="AWS_REGION", value=spec.region),
            k8s.core.v1.EnvVarArgs(name="AWS_DEFAULT_REGION", value=spec.region),
        ],
        resources=_resources(spec),
        termination_message_policy="FallbackToLogsOnError",
        security_context=k8s.core.v1.SecurityContextArgs(allow_privilege_escalation=False),
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name="spec", mount_path="/spec", read_only=True),
            k8s.core.v1.VolumeMountArgs(name="code", mount_path=CODE_MOUNT, read_only=True),
        ],
    )


def job(resource_name: str, spec: JobSpec, opts: pulumi.ResourceOptions) -> k8s.batch.v1.Job:
    """The Job; Pulumi awaits its completion and fails the update if it fails."""
    volumes = [
        k8s.core.v1.VolumeArgs(
            name="spec", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=spec.spec_config_map)
        ),
        k8s.core.v1.VolumeArgs(
            name="code",
            config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(
                name=spec.code_config_map, items=code_items(bundle_files())
            ),
        ),
    ]
    timeout = spec.timeout_minutes
    return k8s.batch.v1.Job(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=spec.name,
            namespace=spec.namespace,
            labels={
                "app.kubernetes.io/part-of": "trt-dr",
                "trt-dr.io/job": spec.name.split("-")[0],
            },
            annotations={"pulumi.com/replaceUnready": "true"},
        ),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=2,
            active_deadline_seconds=timeout * 60,
            pod_failure_policy=k8s.batch.v1.PodFailurePolicyArgs(
                rules=[
                    k8s.batch.v1.PodFailurePolicyRuleArgs(
                        action="FailJob",
                        on_exit_codes=k8s.batch.v1.PodFailurePolicyOnExitCodesRequirementArgs(
                            container_name=CONTAINER, operator="In", values=FATAL_EXIT_CODES
                        ),
                    ),
                    k8s.batch.v1.PodFailurePolicyRuleArgs(
                        action="Ignore",
                        on_pod_conditions=[
                            k8s.batch.v1.PodFailurePolicyOnPodConditionsPatternArgs(
                                type="DisruptionTarget", status="True"
                            )
                        ],
                    ),
                ]
            ),
            template=k8s.core.v1.PodTemplateSpecArgs(
                spec=k8s.core.v1.PodSpecArgs(
                    restart_policy="Never",
                    service_account_name=spec.service_account,
                    containers=[_container(spec)],
                    volumes=volumes,
                    **_placement(spec),  # type: ignore[arg-type]
                )
            ),
        ),
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                custom_timeouts=pulumi.CustomTimeouts(create=f"{timeout + 10}m")
            ),
        ),
    )
