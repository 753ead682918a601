"""Cluster: EKS with a tainted GPU node group, a small CPU system node group and access entries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.config import ClusterSettings, GpuSettings, NodeGroupSize
from infra.iam import service_role

GPU_TAINT_KEY = "nvidia.com/gpu"
SKU_LABEL = "trt-dr.io/gpu-sku"
CC_LABEL = "trt-dr.io/compute-capability"
POOL_LABEL = "trt-dr.io/pool"
GPU_AMI = "AL2023_x86_64_NVIDIA"
CPU_AMI = "AL2023_x86_64_STANDARD"
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
ADDONS = ("vpc-cni", "coredns", "kube-proxy")


@dataclass(frozen=True)
class ClusterArgs:
    """Inputs of :class:`Cluster`."""

    name: str
    cluster_name: str
    region: str
    settings: ClusterSettings
    gpu: GpuSettings
    gpu_size: NodeGroupSize
    private_subnet_ids: pulumi.Input[list[str]]
    public_subnet_ids: pulumi.Input[list[str]]
    provider: aws.Provider


class Cluster(pulumi.ComponentResource):
    """The regional EKS cluster and a Kubernetes provider that holds no secret."""

    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    kube_provider: k8s.Provider
    gpu_node_group: aws.eks.NodeGroup

    def __init__(self, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("trt-dr:infra:Cluster", args.name, None, opts)
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        cluster = self._control_plane()
        node_role = service_role(
            f"{args.name}-node",
            "ec2.amazonaws.com",
            [
                "AmazonEKSWorkerNodePolicy",
                "AmazonEC2ContainerRegistryReadOnly",
                "AmazonEKS_CNI_Policy",
            ],
            self._child,
        )
        self.gpu_node_group = self._gpu_nodes(cluster, node_role)
        self._system_nodes(cluster, node_role)
        for addon in ADDONS:
            aws.eks.Addon(
                f"{args.name}-{addon}",
                cluster_name=cluster.name,
                addon_name=addon,
                resolve_conflicts_on_update="OVERWRITE",
                opts=self._child,
            )
        self._admins(cluster)
        self._oidc(cluster)
        self.name = cluster.name
        self.endpoint = cluster.endpoint
        self.kube_provider = k8s.Provider(
            f"{args.name}-k8s",
            kubeconfig=kubeconfig(cluster, args.region),
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"name": self.name, "endpoint": self.endpoint})

    def _control_plane(self) -> aws.eks.Cluster:
        args = self._args
        role = service_role(
            f"{args.name}-control-plane",
            "eks.amazonaws.com",
            ["AmazonEKSClusterPolicy"],
            self._child,
        )
        secrets_key = aws.kms.Key(
            f"{args.name}-secrets",
            description=f"EKS secrets envelope encryption for {args.cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=self._child,
        )
        subnets = pulumi.Output.all(args.private_subnet_ids, args.public_subnet_ids).apply(
            lambda ids: [*ids[0], *ids[1]]
        )
        return aws.eks.Cluster(
            f"{args.name}-eks",
            name=args.cluster_name,
            version=args.settings.version,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=subnets,
                endpoint_private_access=True,
                endpoint_public_access=True,
                public_access_cidrs=args.settings.public_access_cidrs,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=secrets_key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=["api", "audit", "authenticator"],
            opts=self._child,
        )

    def _node_group(
        self,
        pool: str,
        cluster: aws.eks.Cluster,
        role: aws.iam.Role,
        instance_type: str,
        ami_type: str,
        size: NodeGroupSize,
        labels: dict[str, str],
        **extra: Any,
    ) -> aws.eks.NodeGroup:
        """A managed node group of one pool in the private subnets, on demand."""
        args = self._args
        return aws.eks.NodeGroup(
            f"{args.name}-{pool}",
            cluster_name=cluster.name,
            node_group_name=f"{args.cluster_name}-{pool}",
            node_role_arn=role.arn,
            subnet_ids=args.private_subnet_ids,
            instance_types=[instance_type],
            ami_type=ami_type,
            capacity_type="ON_DEMAND",
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=size.min, desired_size=size.desired, max_size=size.max
            ),
            labels={**labels, POOL_LABEL: pool},
            opts=self._child,
            **extra,
        )

    def _gpu_nodes(self, cluster: aws.eks.Cluster, role: aws.iam.Role) -> aws.eks.NodeGroup:
        gpu = self._args.gpu
        return self._node_group(
            "gpu",
            cluster,
            role,
            gpu.instance_type,
            GPU_AMI,
            self._args.gpu_size,
            {SKU_LABEL: gpu.sku, CC_LABEL: gpu.compute_capability},
            disk_size=200,
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            taints=[
                aws.eks.NodeGroupTaintArgs(key=GPU_TAINT_KEY, value="true", effect="NO_SCHEDULE")
            ],
        )

    def _system_nodes(self, cluster: aws.eks.Cluster, role: aws.iam.Role) -> None:
        settings = self._args.settings
        self._node_group(
            "system",
            cluster,
            role,
            settings.system_instance_type,
            CPU_AMI,
            settings.system_nodes,
            {},
        )

    def _oidc(self, cluster: aws.eks.Cluster) -> None:
        """IAM OIDC provider of the cluster, so service accounts assume roles (IRSA)."""
        issuer_url = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)  # type: ignore[index]
        provider = aws.iam.OpenIdConnectProvider(
            f"{self._args.name}-oidc",
            url=issuer_url,
            client_id_lists=["sts.amazonaws.com"],
            opts=self._child,
        )
        self.oidc_provider_arn = provider.arn
        self.oidc_issuer = issuer_url.apply(lambda url: str(url).removeprefix("https://"))

    def _admins(self, cluster: aws.eks.Cluster) -> None:
        for index, arn in enumerate(self._args.settings.admin_role_arns):
            entry = aws.eks.AccessEntry(
                f"{self._args.name}-admin-{index}",
                cluster_name=cluster.name,
                principal_arn=arn,
                type="STANDARD",
                opts=self._child,
            )
            aws.eks.AccessPolicyAssociation(
                f"{self._args.name}-admin-{index}",
                cluster_name=cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=ADMIN_POLICY,
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=self._child,
            )


def kubeconfig(cluster: aws.eks.Cluster, region: str) -> pulumi.Output[str]:
    """A kubeconfig whose credentials come from `aws eks get-token`: nothing secret in state."""
    return pulumi.Output.all(
        cluster.name, cluster.endpoint, cluster.certificate_authority.data
    ).apply(lambda values: render_kubeconfig(values[0], values[1], values[2], region))


def render_kubeconfig(name: str, endpoint: str, ca_data: str, region: str) -> str:
    """The kubeconfig JSON for one cluster with an exec credential plugin."""
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", name, "--region", region],
        }
    }
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
                }
            ],
            "users": [{"name": name, "user": user}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
        }
    )
