"""trt-dr: one region of the two-region GPU inference deployment. Composition only."""

from pathlib import Path

import pulumi
import pulumi_aws as aws

from infra.builds import EngineBuilds, EngineBuildsArgs
from infra.cluster import Cluster, ClusterArgs
from infra.config import load_settings
from infra.endpoint import InferenceEndpoint, InferenceEndpointArgs
from infra.failover import Endpoint, Failover, FailoverArgs, load_balancer_zone_id
from infra.gpu import DevicePlugin, DevicePluginArgs
from infra.model_store import ModelStore, ModelStoreArgs, PeerStore
from infra.monitoring import Monitoring, MonitoringArgs
from infra.monitoring_jobs import MonitoringJobs, MonitoringJobsArgs
from infra.naming import bucket_name, cluster_name, logical
from infra.network import Network, NetworkArgs
from infra.peer import read_peer
from infra.providers import invoke_opts, regional_provider
from infra.triton import Triton, TritonArgs
from infra.workload_iam import Oidc, WorkloadAccess

project_dir = Path(__file__).resolve().parent
settings = load_settings(project_dir)
stack, region = settings.stack, settings.region
provider = regional_provider(settings)
account_id = aws.get_caller_identity_output(opts=invoke_opts(provider)).account_id
peer = read_peer(settings, account_id)
eks_name = cluster_name(settings.name_prefix, stack)

network = Network(
    NetworkArgs(
        name=logical(stack, region, "network"),
        cluster_name=eks_name,
        settings=settings.network,
        provider=provider,
    )
)
cluster = Cluster(
    ClusterArgs(
        name=logical(stack, region, "cluster"),
        cluster_name=eks_name,
        region=region,
        settings=settings.cluster,
        gpu=settings.gpu,
        gpu_size=settings.gpu_node_size,
        private_subnet_ids=network.private_subnet_ids,
        public_subnet_ids=network.public_subnet_ids,
        provider=provider,
    )
)
store = ModelStore(
    ModelStoreArgs(
        name=logical(stack, region, "store"),
        prefix=settings.name_prefix,
        role=settings.role,
        region=region,
        account_id=account_id,
        settings=settings.store,
        provider=provider,
        peer=PeerStore(settings.peer_region, peer.bucket_arn, peer.kms_key_arn) if peer else None,
        primary_key_arn=peer.kms_key_arn if peer and settings.role == "dr" else None,
    )
)
access = WorkloadAccess(
    bucket_name=store.bucket_name,
    bucket_arn=store.bucket_arn,
    kms_key_arn=store.kms_key_arn,
    oidc=Oidc(cluster.oidc_provider_arn, cluster.oidc_issuer),
    aws_provider=provider,
    kube_provider=cluster.kube_provider,
)
device_plugin = DevicePlugin(
    DevicePluginArgs(name=logical(stack, region, "gpu"), provider=cluster.kube_provider)
)
endpoint = InferenceEndpoint(
    InferenceEndpointArgs(name=logical(stack, region, "endpoint"), provider=cluster.kube_provider)
)
builds = EngineBuilds(
    EngineBuildsArgs(
        name=logical(stack, region, "builds"),
        settings=settings,
        project_dir=project_dir,
        access=access,
        depends_on=[device_plugin, cluster.gpu_node_group],
    )
)
triton = Triton(
    TritonArgs(
        name=logical(stack, region, "triton"),
        settings=settings,
        namespace=endpoint.namespace,
        access=access,
        depends_on=builds.publish_jobs,
    )
)
failover = Failover(
    FailoverArgs(
        name=logical(stack, region, "failover"),
        role=settings.role,
        region=region,
        dns=settings.dns,
        health_check=settings.health_check,
        endpoint=Endpoint(endpoint.hostname, load_balancer_zone_id(region, provider)),
        provider=provider,
    )
)
monitoring = Monitoring(
    MonitoringArgs(
        name=logical(stack, region, "monitoring"),
        settings=settings,
        namespace=endpoint.namespace,
        health_check_id=failover.health_check_id,
        bucket_name=store.bucket_name,
        peer_bucket_name=account_id.apply(
            lambda a: bucket_name(settings.name_prefix, a, settings.peer_region)
        ),
        cluster_arn=pulumi.Output.concat(
            "arn:aws:eks:", region, ":", account_id, ":cluster/", cluster.name
        ),
        cluster_name=cluster.name,
        subnet_ids=network.private_subnet_ids,
        aws_provider=provider,
        kube_provider=cluster.kube_provider,
    )
)

# What drctl reads from `pulumi stack output --json` (drctl/store/outputs.py); the in-cluster
# monitoring Jobs get the same values from a ConfigMap.
drctl_outputs = {
    "region": region,
    "role": settings.role,
    "peerRegion": settings.peer_region,
    "bucketName": store.bucket_name,
    "bucketArn": store.bucket_arn,
    "peerBucketName": account_id.apply(
        lambda a: bucket_name(settings.name_prefix, a, settings.peer_region)
    ),
    "kmsKeyArn": store.kms_key_arn,
    "clusterName": cluster.name,
    "healthCheckId": failover.health_check_id,
    "serviceHostname": settings.dns.hostname,
    "inferenceEndpoint": endpoint.hostname.apply(lambda h: f"http://{h}:8000"),
}
monitoring_jobs = MonitoringJobs(
    MonitoringJobsArgs(
        name=logical(stack, region, "monitoring-jobs"),
        settings=settings,
        namespace=endpoint.namespace,
        access=access,
        stack_outputs=drctl_outputs,
        peer_bucket_arn=peer.bucket_arn if peer else None,
        peer_kms_key_arn=peer.kms_key_arn if peer else None,
        amp_workspace=monitoring.workspace,
        depends_on=[triton],
    )
)

for key, value in drctl_outputs.items():
    pulumi.export(key, value)
pulumi.export("replication", store.replication)
pulumi.export("clusterEndpoint", cluster.endpoint)
pulumi.export("modelRepository", store.bucket_name.apply(lambda b: f"s3://{b}/{region}/repository"))
pulumi.export("buildKeys", builds.build_keys)
pulumi.export("alertTopicArn", monitoring.topic.arn)
