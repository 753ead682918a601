"""Triton serving: stable and canary Deployments on the GPU pool, read-only IRSA role, PDB, HPA.

Triton reads this region's model repository ``s3://<bucket>/<region>/repository`` in explicit
model-control mode; pods are ready only when every configured model is ready, and gRPC
connections are recycled (maximum connection age) so clients re-resolve DNS after a failover.

The canary Deployment runs the same server with ``--model-config-name=canary``: a model
directory's ``configs/canary.pbtxt`` (written by ``drctl store publish --canary``) pins the
version on trial, and without it the pod falls back to ``config.pbtxt``, i.e. serves the
stable version. Both tracks carry the labels the NLB Service selects, so the canary's share
of traffic is its share of the replicas (docs/serving.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from infra.cluster import GPU_TAINT_KEY, SKU_LABEL
from infra.config import Settings
from infra.endpoint import APP_LABELS, GRPC_PORT, HTTP_PORT, METRICS_PORT, TRACK_LABEL
from infra.workload_iam import ROLE_ANNOTATION, WorkloadAccess, s3_statements, workload_role

SERVICE_ACCOUNT = "triton"
PROBE_PERIOD = 10
CANARY_CONFIG_NAME = "canary"
Track = Literal["stable", "canary"]


@dataclass(frozen=True)
class TritonArgs:
    """Inputs of :class:`Triton`."""

    name: str
    settings: Settings
    namespace: pulumi.Input[str]
    access: WorkloadAccess
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)


def repository_prefix(region: str) -> str:
    """Key prefix of a region's Triton model repository inside its bucket."""
    return f"{region}/repository/"


def canary_replicas(settings: Settings) -> int:
    """Canary pods, carved out of the region's Triton replicas (the GPU count stays the same).

    ``canaryShare`` x replicas rounded to the nearest integer (halves up), at least 1 and at
    most replicas - 1 where the region serves traffic; 0 where it does not (a DR region in
    pilot light or warm standby has no traffic to split).
    """
    total = settings.triton_replicas
    if not settings.serves_traffic or total < 2:
        return 0
    wanted = math.floor(settings.monitoring.canary_share * total + 0.5)
    return min(max(wanted, 1), total - 1)


def track_labels(track: Track) -> dict[str, str]:
    """Pod labels of one track: the Service's app labels plus the track."""
    return {**APP_LABELS, TRACK_LABEL: track}


def server_args(settings: Settings, bucket: str, config_name: str | None = None) -> list[str]:
    """tritonserver command-line flags; ``config_name`` selects ``configs/<name>.pbtxt``."""
    age_ms = settings.triton.grpc_max_connection_age_seconds * 1000
    chosen = [f"--model-config-name={config_name}"] if config_name else []
    return [
        f"--model-repository=s3://{bucket}/{repository_prefix(settings.region).rstrip('/')}",
        "--model-control-mode=explicit",
        *[f"--load-model={m.name}" for m in settings.models],
        "--strict-readiness=true",
        "--exit-timeout-secs=30",
        f"--http-port={HTTP_PORT}",
        f"--grpc-port={GRPC_PORT}",
        f"--metrics-port={METRICS_PORT}",
        "--allow-metrics=true",
        "--allow-gpu-metrics=true",
        "--metrics-config=summary_latencies=true",
        f"--grpc-max-connection-age={age_ms}",
        f"--grpc-max-connection-age-grace={min(age_ms, 30_000)}",
        *chosen,
    ]


def readiness_probe(models: list[str]) -> k8s.core.v1.ProbeArgs:
    """Ready only when the models are: one model by HTTP, several by a curl loop."""
    if len(models) == 1:
        handler: dict[str, object] = {
            "http_get": k8s.core.v1.HTTPGetActionArgs(
                path=f"/v2/models/{models[0]}/ready", port="http"
            )
        }
    else:
        checks = (
            " && ".join(f"curl -sf localhost:{HTTP_PORT}/v2/models/{m}/ready" for m in models)
            or f"curl -sf localhost:{HTTP_PORT}/v2/health/ready"
        )
        handler = {"exec_": k8s.core.v1.ExecActionArgs(command=["sh", "-c", checks])}
    return k8s.core.v1.ProbeArgs(period_seconds=5, failure_threshold=2, **handler)  # type: ignore[arg-type]


class Triton(pulumi.ComponentResource):
    """The region's Triton Deployment and what keeps it available and least-privileged."""

    def __init__(self, args: TritonArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("trt-dr:infra:Triton", args.name, None, opts)
        self._args = args
        self._k8s = pulumi.ResourceOptions(parent=self, provider=args.access.kube_provider)
        settings = args.settings
        read = [repository_prefix(settings.region)]
        statements = pulumi.Output.all(args.access.bucket_arn, args.access.kms_key_arn).apply(
            lambda v: s3_statements(v[0], v[1], read=read, write=[])
        )
        role = workload_role(
            f"{args.name}-role",
            args.access.oidc,
            "triton",
            SERVICE_ACCOUNT,
            statements,
            pulumi.ResourceOptions(parent=self, provider=args.access.aws_provider),
        )
        account = k8s.core.v1.ServiceAccount(
            f"{args.name}-sa",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=SERVICE_ACCOUNT,
                namespace=args.namespace,
                annotations={ROLE_ANNOTATION: role.arn},
            ),
            opts=self._k8s,
        )
        canary = canary_replicas(settings)
        stable = settings.triton_replicas - canary
        deployment = self._deployment(account.metadata.name, "stable", None if stable else 0)
        self._deployment(account.metadata.name, "canary", canary)
        if stable >= 2:
            self._pdb()
        if stable >= 1:
            self._hpa(deployment, stable, canary)
        self.register_outputs(
            {
                "replicas": settings.triton_replicas,
                "stableReplicas": stable,
                "canaryReplicas": canary,
            }
        )

    def _deployment(
        self, account: pulumi.Output[str], track: Track, replicas: int | None
    ) -> k8s.apps.v1.Deployment:
        """One track's Deployment; ``replicas`` None leaves the count to the HPA."""
        args, settings = self._args, self._args.settings
        labels = track_labels(track)
        suffix = "" if track == "stable" else f"-{track}"
        return k8s.apps.v1.Deployment(
            f"{args.name}{suffix}-deployment",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"triton{suffix}", namespace=args.namespace, labels=labels
            ),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=replicas,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                        max_surge=0, max_unavailable=1
                    ),
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=labels,
                        annotations={
                            "prometheus.io/scrape": "true",
                            "prometheus.io/port": str(METRICS_PORT),
                            "prometheus.io/path": "/metrics",
                        },
                    ),
                    spec=self._pod(account, settings, track),
                ),
            ),
            opts=pulumi.ResourceOptions.merge(
                self._k8s, pulumi.ResourceOptions(depends_on=list(args.depends_on))
            ),
        )

    def _pod(
        self, account: pulumi.Output[str], settings: Settings, track: Track
    ) -> k8s.core.v1.PodSpecArgs:
        spread = [
            k8s.core.v1.TopologySpreadConstraintArgs(
                max_skew=1,
                topology_key=key,
                when_unsatisfiable=mode,
                label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=APP_LABELS),
            )
            for key, mode in (
                ("topology.kubernetes.io/zone", "ScheduleAnyway"),
                ("kubernetes.io/hostname", "DoNotSchedule"),
            )
        ]
        return k8s.core.v1.PodSpecArgs(
            service_account_name=account,
            node_selector={SKU_LABEL: settings.gpu.sku},
            tolerations=[
                k8s.core.v1.TolerationArgs(
                    key=GPU_TAINT_KEY, operator="Exists", effect="NoSchedule"
                )
            ],
            topology_spread_constraints=spread,
            termination_grace_period_seconds=60,
            containers=[self._container(settings, track)],
            volumes=[
                k8s.core.v1.VolumeArgs(
                    name="dshm",
                    empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(
                        medium="Memory", size_limit="1Gi"
                    ),
                )
            ],
        )

    def _container(self, settings: Settings, track: Track) -> k8s.core.v1.ContainerArgs:
        gpus = str(settings.triton.gpus_per_pod)
        startup_failures = settings.triton.startup_seconds // PROBE_PERIOD
        config_name = CANARY_CONFIG_NAME if track == "canary" else None
        return k8s.core.v1.ContainerArgs(
            name="triton",
            image=settings.triton_image,
            command=["tritonserver"],
            args=pulumi.Output.from_input(self._args.access.bucket_name).apply(
                lambda bucket: server_args(settings, bucket, config_name)
            ),
            env=[
                k8s.core.v1.EnvVarArgs(name="AWS_REGION", value=settings.region),
                k8s.core.v1.EnvVarArgs(name="AWS_DEFAULT_REGION", value=settings.region),
            ],
            ports=[
                k8s.core.v1.ContainerPortArgs(name="http", container_port=HTTP_PORT),
                k8s.core.v1.ContainerPortArgs(name="grpc", container_port=GRPC_PORT),
                k8s.core.v1.ContainerPortArgs(name="metrics", container_port=METRICS_PORT),
            ],
            resources=k8s.core.v1.ResourceRequirementsArgs(
                requests={"cpu": settings.triton.cpu, "memory": settings.triton.memory},
                limits={"nvidia.com/gpu": gpus, "memory": settings.triton.memory},
            ),
            startup_probe=k8s.core.v1.ProbeArgs(
                http_get=k8s.core.v1.HTTPGetActionArgs(path="/v2/health/ready", port="http"),
                period_seconds=PROBE_PERIOD,
                failure_threshold=startup_failures,
            ),
            readiness_probe=readiness_probe([m.name for m in settings.models]),
            liveness_probe=k8s.core.v1.ProbeArgs(
                http_get=k8s.core.v1.HTTPGetActionArgs(path="/v2/health/live", port="http"),
                period_seconds=PROBE_PERIOD,
                failure_threshold=3,
            ),
            lifecycle=k8s.core.v1.LifecycleArgs(
                pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                    exec_=k8s.core.v1.ExecActionArgs(command=["sleep", "15"])
                )
            ),
            security_context=k8s.core.v1.SecurityContextArgs(allow_privilege_escalation=False),
            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="dshm", mount_path="/dev/shm")],
        )

    def _pdb(self) -> None:
        """Stable pods only: a PDB spanning two Deployments could not use maxUnavailable."""
        k8s.policy.v1.PodDisruptionBudget(
            f"{self._args.name}-pdb",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="triton", namespace=self._args.namespace),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=track_labels("stable")),
            ),
            opts=self._k8s,
        )

    def _hpa(self, deployment: k8s.apps.v1.Deployment, replicas: int, canary: int) -> None:
        """Scales the stable track only; the canary keeps its fixed count (see docs/serving.md)."""
        settings = self._args.settings
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{self._args.name}-hpa",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="triton", namespace=self._args.namespace),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=deployment.metadata.name
                ),
                min_replicas=replicas,
                max_replicas=max(settings.triton.max_replicas - canary, replicas),
                metrics=[
                    k8s.autoscaling.v2.MetricSpecArgs(
                        type="Resource",
                        resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                            name="cpu",
                            target=k8s.autoscaling.v2.MetricTargetArgs(
                                type="Utilization", average_utilization=70
                            ),
                        ),
                    )
                ],
            ),
            opts=self._k8s,
        )
