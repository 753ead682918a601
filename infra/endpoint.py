"""Inference endpoint: the regional network load balancer in front of Triton.

A Kubernetes Service of type LoadBalancer (NLB) for HTTP 8000 and gRPC 8001. Its DNS name is
what the Route 53 health check probes and what the failover record aliases to. A second,
headless Service (``clusterIP: None``) over the same pods gives in-cluster callers every pod's
IP from one DNS name, so a model load request can reach each replica, not one the NLB picks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

NAMESPACE = "triton"
APP_LABELS = {"app.kubernetes.io/name": "triton", "app.kubernetes.io/part-of": "trt-dr"}
HTTP_PORT = 8000
GRPC_PORT = 8001
METRICS_PORT = 8002
TRACK_LABEL = "trt-dr.io/track"
PODS_SERVICE = "triton-pods"
PODS_HOSTNAME = f"{PODS_SERVICE}.{NAMESPACE}.svc.cluster.local"
NLB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
    "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path": "/v2/health/ready",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port": str(HTTP_PORT),
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol": "HTTP",
}


@dataclass(frozen=True)
class InferenceEndpointArgs:
    """Inputs of :class:`InferenceEndpoint`."""

    name: str
    provider: k8s.Provider


class InferenceEndpoint(pulumi.ComponentResource):
    """The namespace Triton runs in and its NLB Service; exposes the NLB's DNS name."""

    namespace: pulumi.Output[str]
    hostname: pulumi.Output[str]

    def __init__(
        self, args: InferenceEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("trt-dr:infra:InferenceEndpoint", args.name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        namespace = k8s.core.v1.Namespace(
            f"{args.name}-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAMESPACE, labels=APP_LABELS),
            opts=child,
        )
        service = k8s.core.v1.Service(
            f"{args.name}-svc",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="triton",
                namespace=namespace.metadata.name,
                labels=APP_LABELS,
                annotations=NLB_ANNOTATIONS,
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="LoadBalancer",
                selector=APP_LABELS,
                ports=[
                    k8s.core.v1.ServicePortArgs(name="http", port=HTTP_PORT, target_port="http"),
                    k8s.core.v1.ServicePortArgs(name="grpc", port=GRPC_PORT, target_port="grpc"),
                ],
            ),
            opts=child,
        )
        self._headless(args.name, namespace.metadata.name, child)
        self.namespace = namespace.metadata.name
        self.hostname = service.status.load_balancer.ingress[0].hostname
        self.pods_hostname = PODS_HOSTNAME
        self.register_outputs(
            {
                "namespace": self.namespace,
                "hostname": self.hostname,
                "podsHostname": self.pods_hostname,
            }
        )

    @staticmethod
    def _headless(name: str, namespace: pulumi.Output[str], opts: pulumi.ResourceOptions) -> None:
        """Every Triton pod (stable and canary) by DNS, not-ready ones too: reloads must reach
        a pod whose model failed to load, since that pod is exactly the one to repair."""
        k8s.core.v1.Service(
            f"{name}-pods-svc",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=PODS_SERVICE,
                namespace=namespace,
                labels={**APP_LABELS, "trt-dr.io/service": "headless"},
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                cluster_ip="None",
                selector=APP_LABELS,
                publish_not_ready_addresses=True,
                ports=[
                    k8s.core.v1.ServicePortArgs(name="http", port=HTTP_PORT, target_port="http")
                ],
            ),
            opts=opts,
        )
