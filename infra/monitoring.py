"""Monitoring of one region: scraping, recording rules, alerts, alarms and the dashboard.

``trt-dr:monitoring.backend`` chooses where Triton (8002) and DCGM metrics go:
``prometheus-operator`` (the user's kube-prometheus-stack: PodMonitors, a PrometheusRule and
a Grafana dashboard ConfigMap; its CRDs must exist), ``amp`` (an Amazon Managed Service for
Prometheus workspace, its rule groups and an EKS managed scraper), or ``none``. CloudWatch
alarms (store verify, S3 replication, Route 53 health) exist in every case; all rules and alarms are
rendered by :mod:`drctl.monitoring` so ``drctl monitoring lint`` checks what is deployed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import yaml

from drctl.monitoring.alarms import ROUTE53_METRICS_REGION, alarm_specs, quality_specs
from drctl.monitoring.dashboard import dashboard
from drctl.monitoring.rules import rule_groups
from infra.cluster import GPU_TAINT_KEY, SKU_LABEL
from infra.config import Settings
from infra.endpoint import APP_LABELS

DCGM_IMAGE = "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.9-3.6.1-ubuntu22.04"
DCGM_PORT = 9400
DCGM_LABELS = {"app.kubernetes.io/name": "dcgm-exporter", "app.kubernetes.io/part-of": "trt-dr"}
SCRAPER_USER = "aps-collector-user"


@dataclass(frozen=True)
class MonitoringArgs:
    """Inputs of :class:`Monitoring`: settings, what to watch, and the two providers."""

    name: str
    settings: Settings
    namespace: pulumi.Input[str]
    health_check_id: pulumi.Input[str]
    bucket_name: pulumi.Input[str]
    peer_bucket_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    aws_provider: aws.Provider
    kube_provider: k8s.Provider


def scrape_config() -> str:
    """AMP scraper configuration: pods annotated ``prometheus.io/scrape`` (Triton, DCGM)."""
    keep = {
        "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
        "action": "keep",
        "regex": "true",
    }
    port = {
        "source_labels": ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
        "action": "replace",
        "regex": r"([^:]+)(?::\d+)?;(\d+)",
        "replacement": "$1:$2",
        "target_label": "__address__",
    }
    job = {
        "job_name": "pods",
        "kubernetes_sd_configs": [{"role": "pod"}],
        "relabel_configs": [keep, port],
    }
    return yaml.safe_dump({"global": {"scrape_interval": "30s"}, "scrape_configs": [job]})


def dcgm_template() -> k8s.core.v1.PodTemplateSpecArgs:
    """DCGM exporter pod: GPU nodes only (SKU label), tolerates the GPU taint, annotated."""
    container = k8s.core.v1.ContainerArgs(
        name="dcgm-exporter",
        image=DCGM_IMAGE,
        ports=[k8s.core.v1.ContainerPortArgs(name="metrics", container_port=DCGM_PORT)],
        env=[
            k8s.core.v1.EnvVarArgs(name="DCGM_EXPORTER_KUBERNETES", value="true"),
            k8s.core.v1.EnvVarArgs(name="NVIDIA_VISIBLE_DEVICES", value="all"),
        ],
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "100m", "memory": "128Mi"}, limits={"memory": "512Mi"}
        ),
    )
    affinity = k8s.core.v1.AffinityArgs(
        node_affinity=k8s.core.v1.NodeAffinityArgs(
            required_during_scheduling_ignored_during_execution=k8s.core.v1.NodeSelectorArgs(
                node_selector_terms=[
                    k8s.core.v1.NodeSelectorTermArgs(
                        match_expressions=[
                            k8s.core.v1.NodeSelectorRequirementArgs(
                                key=SKU_LABEL, operator="Exists"
                            )
                        ]
                    )
                ]
            )
        )
    )
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            labels=DCGM_LABELS,
            annotations={"prometheus.io/scrape": "true", "prometheus.io/port": str(DCGM_PORT)},
        ),
        spec=k8s.core.v1.PodSpecArgs(
            containers=[container],
            affinity=affinity,
            tolerations=[
                k8s.core.v1.TolerationArgs(
                    key=GPU_TAINT_KEY, operator="Exists", effect="NoSchedule"
                )
            ],
        ),
    )


class Monitoring(pulumi.ComponentResource):
    """The region's metrics pipeline, alert rules, CloudWatch alarms and dashboard."""

    def __init__(self, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("trt-dr:infra:Monitoring", args.name, None, opts)
        self._args = args
        self._aws = pulumi.ResourceOptions(parent=self, provider=args.aws_provider)
        self._k8s = pulumi.ResourceOptions(parent=self, provider=args.kube_provider)
        settings = args.settings.monitoring
        self.workspace: aws.amp.Workspace | None = None
        self.topic = aws.sns.Topic(f"{args.name}-alerts", opts=self._aws)
        if settings.alarm_email:
            aws.sns.TopicSubscription(
                f"{args.name}-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=settings.alarm_email,
                opts=self._aws,
            )
        self._alarms()
        if settings.backend != "none" and settings.dcgm_exporter:
            self._dcgm()
        if settings.backend == "prometheus-operator":
            self._operator()
        elif settings.backend == "amp":
            self._amp()
        self.register_outputs({"alertTopicArn": self.topic.arn})

    def _alarms(self) -> None:
        args = self._args
        specs = alarm_specs(
            args.settings.role,
            args.health_check_id,
            args.bucket_name,
            args.peer_bucket_name,
            args.settings.peer_region,
            args.settings.region,
            args.settings.monitoring.verify_every_minutes,
        )
        specs += quality_specs(
            args.settings.monitoring,
            args.settings.role,
            args.settings.region,
            [m.name for m in args.settings.models],
        )
        for spec in specs:
            if spec.global_metric and args.settings.region != ROUTE53_METRICS_REGION:
                pulumi.log.warn(
                    f"{spec.alert}: Route 53 metrics exist only in "
                    f"{ROUTE53_METRICS_REGION}; alarm not created (docs/monitoring.md)"
                )
                continue
            named = f"{spec.alert}-{spec.suffix}" if spec.suffix else spec.alert
            aws.cloudwatch.MetricAlarm(
                f"{args.name}-{named}",
                name=f"{args.settings.stack}-{named}",
                alarm_description=spec.description,
                namespace=spec.namespace,
                metric_name=spec.metric,
                dimensions=spec.dimensions,
                statistic=spec.statistic,
                comparison_operator=spec.comparison,
                threshold=spec.threshold,
                evaluation_periods=spec.periods,
                period=spec.period_s,
                treat_missing_data=spec.treat_missing,
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
                tags={"runbook": spec.runbook},
                opts=self._aws,
            )

    def _dcgm(self) -> None:
        """DCGM exporter on every GPU node: utilisation, memory and XID errors on port 9400."""
        k8s.apps.v1.DaemonSet(
            f"{self._args.name}-dcgm",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="dcgm-exporter", namespace=self._args.namespace, labels=DCGM_LABELS
            ),
            spec=k8s.apps.v1.DaemonSetSpecArgs(
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=DCGM_LABELS),
                template=dcgm_template(),
            ),
            opts=self._k8s,
        )

    def _operator(self) -> None:
        """PodMonitors, the PrometheusRule and the dashboard ConfigMap for kube-prometheus-stack."""
        args, settings = self._args, self._args.settings
        labels = {"release": settings.monitoring.release_label, **APP_LABELS}
        targets = {"triton": APP_LABELS}
        if settings.monitoring.dcgm_exporter:
            targets["dcgm"] = DCGM_LABELS
        for name, selector in targets.items():
            k8s.apiextensions.CustomResource(
                f"{args.name}-{name}-podmonitor",
                api_version="monitoring.coreos.com/v1",
                kind="PodMonitor",
                metadata={"name": f"trt-dr-{name}", "namespace": args.namespace, "labels": labels},
                spec={
                    "selector": {"matchLabels": selector},
                    "podMetricsEndpoints": [
                        {"port": "metrics", "path": "/metrics", "interval": "30s"}
                    ],
                },
                opts=self._k8s,
            )
        k8s.apiextensions.CustomResource(
            f"{args.name}-rules",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={"name": "trt-dr", "namespace": args.namespace, "labels": labels},
            spec={"groups": rule_groups(settings.monitoring, settings.role)},
            opts=self._k8s,
        )
        k8s.core.v1.ConfigMap(
            f"{args.name}-dashboard",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="trt-dr-dashboard",
                namespace=args.namespace,
                labels={"grafana_dashboard": "1", **APP_LABELS},
            ),
            data={"trt-dr.json": json.dumps(dashboard(settings.monitoring))},
            opts=self._k8s,
        )

    def _amp(self) -> None:
        """An AMP workspace with the rules, an EKS managed scraper and its cluster access."""
        args, settings = self._args, self._args.settings
        workspace = aws.amp.Workspace(
            f"{args.name}-amp", alias=f"{settings.stack}-trt-dr", opts=self._aws
        )
        self.workspace = workspace
        aws.amp.RuleGroupNamespace(
            f"{args.name}-amp-rules",
            name="trt-dr",
            workspace_id=workspace.id,
            data=yaml.safe_dump({"groups": rule_groups(settings.monitoring, settings.role)}),
            opts=self._aws,
        )
        scraper = aws.amp.Scraper(
            f"{args.name}-amp-scraper",
            scrape_configuration=scrape_config(),
            source={"eks": {"cluster_arn": args.cluster_arn, "subnet_ids": args.subnet_ids}},
            destination={"amp": {"workspace_arn": workspace.arn}},
            opts=self._aws,
        )
        aws.eks.AccessEntry(
            f"{args.name}-amp-access",
            cluster_name=args.cluster_name,
            principal_arn=scraper.role_arn,
            user_name=SCRAPER_USER,
            opts=self._aws,
        )
        self._scraper_rbac()

    def _scraper_rbac(self) -> None:
        rules: list[Any] = [
            k8s.rbac.v1.PolicyRuleArgs(
                api_groups=[""],
                verbs=["get", "list", "watch"],
                resources=[
                    "nodes",
                    "nodes/proxy",
                    "nodes/metrics",
                    "services",
                    "endpoints",
                    "pods",
                ],
            ),
            k8s.rbac.v1.PolicyRuleArgs(non_resource_urls=["/metrics"], verbs=["get"]),
        ]
        role = k8s.rbac.v1.ClusterRole(
            f"{self._args.name}-scraper-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="aps-collector-role"),
            rules=rules,
            opts=self._k8s,
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{self._args.name}-scraper-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="aps-collector-user-role-binding"),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=role.metadata.name
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(
                    kind="User", name=SCRAPER_USER, api_group="rbac.authorization.k8s.io"
                )
            ],
            opts=self._k8s,
        )
