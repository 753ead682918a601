"""In-cluster monitoring Jobs: the rollout controller and the store verify metric.

Two kinds of CronJob run ``python -m drctl.ops_entry`` (the pipeline's own commands) in a
plain ``python:3.11-slim`` image, in the Triton namespace, non-root with a read-only root:

* ``rollout-<model>`` (only when ``trt-dr:monitoring.backend`` is not ``none``: it reads
  Prometheus) runs ``rollout watch --from-release`` every ``rolloutEveryMinutes``; with AMP
  a native sidecar (aws-sigv4-proxy) signs its PromQL queries with the Job's IRSA role.
* ``store-verify`` runs ``drctl store verify`` for every model of the region every
  ``verifyEveryMinutes`` and publishes the outcome as a CloudWatch metric
  (StoreVerifyFailed, drctl/monitoring/alarms.py).
* ``quality-<model>`` (only with ``qualityProbe``) sends the model's golden batch to every
  Triton pod every ``qualityEveryMinutes`` and publishes top-1 agreement (ModelAccuracyDrop).

Code and pinned requirements come from a ConfigMap (:data:`infra.code_bundle.OPS`); the
stack outputs and the monitoring thresholds, which the commands read from files outside
Pulumi, from a second ConfigMap. See docs/monitoring-jobs.md.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from drctl.monitoring.quality import NAMESPACE as QUALITY_NAMESPACE
from drctl.store.layout import canary_config_key, canary_key, config_key
from drctl.store.verify_metric import NAMESPACE as VERIFY_NAMESPACE
from infra.cluster import POOL_LABEL
from infra.code_bundle import OPS, code_config_map
from infra.config import Settings
from infra.endpoint import HTTP_PORT, PODS_HOSTNAME
from infra.endpoint import NAMESPACE as TRITON_NAMESPACE
from infra.ops_pod import SIGV4_PORT, container, security, sigv4_sidecar, volumes
from infra.workload_iam import (
    WorkloadAccess,
    amp_query_statement,
    irsa_service_account,
    metric_statement,
    object_write_statements,
    tree_read_statements,
)

REQUIREMENTS = Path(__file__).with_name("ops-requirements.txt")
CONFIG_MAP = "trt-dr-ops-config"
CONTROLLER = "rollout-controller"
VERIFIER = "store-verifier"
MAX_WINDOWS = 10
INSTALL_SECONDS = 600
VERIFY_DEADLINE_SECONDS = 3600
QUALITY_DEADLINE_SECONDS = 900
PROBE = "quality-probe"


@dataclass(frozen=True)
class MonitoringJobsArgs:
    """Inputs of :class:`MonitoringJobs`.

    ``stack_outputs`` are the values ``pulumi stack output --json`` would give (the keys
    drctl.store.outputs reads); the peer's bucket and key let the verifier read the replica.
    """

    name: str
    settings: Settings
    namespace: pulumi.Input[str]
    access: WorkloadAccess
    stack_outputs: dict[str, Any]
    peer_bucket_arn: pulumi.Input[str] | None = None
    peer_kms_key_arn: pulumi.Input[str] | None = None
    amp_workspace: aws.amp.Workspace | None = None
    depends_on: list[pulumi.Resource] = field(default_factory=list)


def cron_name(kind: str, model: str = "") -> str:
    """DNS-1123 CronJob name of at most 52 characters: ``rollout-my-model``."""
    suffix = model.lower().replace("_", "-").replace(".", "-")
    return f"{kind}-{suffix}"[:52].rstrip("-") if suffix else kind


def prometheus_url(settings: Settings, workspace_id: str | None) -> str:
    """Where the controller queries: the operator's Prometheus, or AMP through the sidecar."""
    if settings.monitoring.backend == "amp":
        return f"http://127.0.0.1:{SIGV4_PORT}/workspaces/{workspace_id}"
    return settings.monitoring.prometheus_url


def rollout_command(settings: Settings, model: str, url: str) -> str:
    """The pipeline's ``drctl rollout watch --from-release`` for ``model`` in this region.

    Promote and abort reload the model on every Triton pod through the headless Service.
    """
    monitoring = settings.monitoring
    command = (
        f"python3 -m drctl.ops_entry rollout watch --from-release --model {model} "
        f"--region {settings.role} --prometheus {url} "
        f"--window-seconds {monitoring.canary_window_seconds} --max-windows {MAX_WINDOWS} "
        f"--load-endpoint-set {PODS_HOSTNAME}:{HTTP_PORT}"
    )
    if monitoring.backend == "prometheus-operator":  # a shared Prometheus sees other pods too
        command += " --selector " + shlex.quote(f'namespace="{TRITON_NAMESPACE}"')
    return command


def quality_command(settings: Settings, model: str) -> str:
    """The golden batch of ``model`` through every Triton pod (the headless Service)."""
    return (
        f"python3 -m drctl.ops_entry quality-probe --model {model} --region {settings.role} "
        f"--pods {PODS_HOSTNAME}:{HTTP_PORT} --aws-region {settings.region} "
        f"--min-agreement {settings.monitoring.quality_min_agreement:g} "
        f"--namespace {QUALITY_NAMESPACE}"
    )


def verify_command(settings: Settings) -> str:
    """``drctl store verify`` of every model in this region's tree, published as a metric."""
    models = " ".join(f"--model {spec.name}" for spec in settings.models)
    return (
        f"python3 -m drctl.ops_entry store-verify {models} --region {settings.role} "
        f"--aws-region {settings.region} --namespace {VERIFY_NAMESPACE}"
    )


def rollout_deadline(settings: Settings) -> int:
    """Seconds a rollout run may take: every window it may watch, plus the install."""
    return settings.monitoring.canary_window_seconds * (MAX_WINDOWS + 1) + INSTALL_SECONDS


def controller_statements(
    bucket_arn: str, key_arn: str, region: str, models: list[str], workspace_arn: str | None
) -> list[dict[str, Any]]:
    """Read the region's tree; write release pointers and each model's Triton configs only.

    Deleting is limited to what promote and abort remove: each model's canary pointer and
    canary config (drctl/store/canary.py); keys come from drctl.store.layout.
    """
    put = [f"{region}/releases/*"]
    delete = []
    for model in models:
        configs = config_key(model).rsplit("/", 1)[0] + "/configs/*"
        put += [f"{region}/{config_key(model)}", f"{region}/{configs}"]
        delete += [f"{region}/{canary_key(model)}", f"{region}/{canary_config_key(model)}"]
    statements = tree_read_statements(bucket_arn, [key_arn], f"{region}/")
    statements += object_write_statements(bucket_arn, key_arn, put, delete)
    if workspace_arn:
        statements.append(amp_query_statement(workspace_arn))
    return statements


def verifier_statements(
    region: str, own: tuple[str, str], peer: tuple[str, str] | None
) -> list[dict[str, Any]]:
    """Read the region's tree in its bucket and its replica (bucket, key); one metric namespace."""
    statements = tree_read_statements(own[0], [own[1]], f"{region}/")
    if peer is not None:
        statements += tree_read_statements(peer[0], [peer[1]], f"{region}/")
    return [*statements, metric_statement(VERIFY_NAMESPACE)]


@dataclass(frozen=True)
class CronSpec:
    """What differs between the monitoring CronJobs."""

    name: str
    every_minutes: int
    deadline_seconds: int
    service_account: pulumi.Input[str]
    command: pulumi.Input[str]
    sidecars: list[k8s.core.v1.ContainerArgs] = field(default_factory=list)


class MonitoringJobs(pulumi.ComponentResource):
    """The region's rollout, store-verify and quality CronJobs, their roles and config."""

    def __init__(
        self, args: MonitoringJobsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("trt-dr:infra:MonitoringJobs", args.name, None, opts)
        self._args = args
        self._aws = pulumi.ResourceOptions(parent=self, provider=args.access.aws_provider)
        self._k8s = pulumi.ResourceOptions(
            parent=self, provider=args.access.kube_provider, depends_on=args.depends_on
        )
        self._code = code_config_map(
            f"{args.name}-code", args.namespace, REQUIREMENTS, self._k8s, OPS
        )
        self._config = self._config_map()
        self.crons = [self._verify()]
        if args.settings.monitoring.backend != "none":
            self.crons += self._rollouts()
        if args.settings.monitoring.quality_probe:
            self.crons += self._quality()
        self.register_outputs({"cronJobs": [c.metadata.name for c in self.crons]})

    def _config_map(self) -> pulumi.Output[str]:
        args = self._args
        settings = args.settings.monitoring.model_dump(mode="json", by_alias=True)
        config_map = k8s.core.v1.ConfigMap(
            f"{args.name}-config",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=CONFIG_MAP, namespace=args.namespace),
            data={
                f"{args.settings.stack}.json": pulumi.Output.from_input(args.stack_outputs).apply(
                    lambda outputs: json.dumps(outputs, sort_keys=True)
                ),
                "monitoring.json": json.dumps(settings, sort_keys=True),
            },
            opts=self._k8s,
        )
        return config_map.metadata.name

    def _service_account(
        self, name: str, statements: pulumi.Output[list[dict[str, Any]]]
    ) -> pulumi.Output[str]:
        args = self._args
        namespace = (TRITON_NAMESPACE, args.namespace)
        return irsa_service_account(
            f"{args.name}-{name}", args.access, namespace, name, statements, self, False
        )

    def _verify(self) -> k8s.batch.v1.CronJob:
        args = self._args
        access = args.access
        peer = (
            pulumi.Output.all(args.peer_bucket_arn, args.peer_kms_key_arn)
            if args.peer_bucket_arn and args.peer_kms_key_arn
            else pulumi.Output.from_input([None, None])
        )
        statements = pulumi.Output.all(access.bucket_arn, access.kms_key_arn, peer).apply(
            lambda v: verifier_statements(
                args.settings.region, (v[0], v[1]), (v[2][0], v[2][1]) if v[2][0] else None
            )
        )
        spec = CronSpec(
            name=cron_name("store-verify"),
            every_minutes=args.settings.monitoring.verify_every_minutes,
            deadline_seconds=VERIFY_DEADLINE_SECONDS,
            service_account=self._service_account(VERIFIER, statements),
            command=verify_command(args.settings),
        )
        return self._cron(spec)

    def _quality(self) -> list[k8s.batch.v1.CronJob]:
        """One probe CronJob per model; the role reads only the golden batches."""
        args, settings = self._args, self._args.settings
        statements = pulumi.Output.all(args.access.bucket_arn, args.access.kms_key_arn).apply(
            lambda v: [
                *tree_read_statements(v[0], [v[1]], f"{settings.region}/quality/"),
                metric_statement(QUALITY_NAMESPACE),
            ]
        )
        account = self._service_account(PROBE, statements)
        return [
            self._cron(
                CronSpec(
                    name=cron_name("quality", spec.name),
                    every_minutes=settings.monitoring.quality_every_minutes,
                    deadline_seconds=QUALITY_DEADLINE_SECONDS,
                    service_account=account,
                    command=quality_command(settings, spec.name),
                )
            )
            for spec in settings.models
        ]

    def _rollouts(self) -> list[k8s.batch.v1.CronJob]:
        args, settings = self._args, self._args.settings
        workspace = args.amp_workspace
        models = [spec.name for spec in settings.models]
        statements = pulumi.Output.all(
            args.access.bucket_arn, args.access.kms_key_arn, workspace.arn if workspace else None
        ).apply(lambda v: controller_statements(v[0], v[1], settings.region, models, v[2]))
        account = self._service_account(CONTROLLER, statements)
        url = (
            workspace.id.apply(lambda w: prometheus_url(settings, w))
            if workspace
            else pulumi.Output.from_input(prometheus_url(settings, None))
        )
        sidecars = [sigv4_sidecar(settings.region)] if workspace else []
        return [
            self._cron(
                CronSpec(
                    name=cron_name("rollout", model),
                    every_minutes=settings.monitoring.rollout_every_minutes,
                    deadline_seconds=rollout_deadline(settings),
                    service_account=account,
                    command=url.apply(partial(rollout_command, settings, model)),
                    sidecars=sidecars,
                )
            )
            for model in models
        ]

    def _cron(self, spec: CronSpec) -> k8s.batch.v1.CronJob:
        """One CronJob: never two runs at once, a deadline, short history, system nodes."""
        args = self._args
        pod_security, _ = security()
        pod = k8s.core.v1.PodSpecArgs(
            restart_policy="Never",
            service_account_name=spec.service_account,
            automount_service_account_token=False,
            security_context=pod_security,
            init_containers=spec.sidecars or None,
            containers=[container(spec.command, args.settings)],
            volumes=volumes(self._code, self._config, args.settings.stack),
            node_selector={POOL_LABEL: "system"},
        )
        labels = {"app.kubernetes.io/part-of": "trt-dr", "trt-dr.io/job": spec.name}
        return k8s.batch.v1.CronJob(
            f"{args.name}-{spec.name}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=spec.name, namespace=args.namespace, labels=labels
            ),
            spec=k8s.batch.v1.CronJobSpecArgs(
                schedule=f"*/{spec.every_minutes} * * * *",
                concurrency_policy="Forbid",
                starting_deadline_seconds=spec.every_minutes * 60,
                successful_jobs_history_limit=3,
                failed_jobs_history_limit=3,
                job_template=k8s.batch.v1.JobTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.batch.v1.JobSpecArgs(
                        backoff_limit=0,
                        active_deadline_seconds=spec.deadline_seconds,
                        template=k8s.core.v1.PodTemplateSpecArgs(
                            metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels), spec=pod
                        ),
                    ),
                ),
            ),
            opts=self._k8s,
        )
