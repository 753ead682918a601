"""Per-workload IAM through IRSA: one role per Kubernetes service account, least privilege.

IRSA (IAM roles for service accounts) is used rather than EKS Pod Identity because Triton's
S3 client is known to work with web-identity credentials on EKS (triton-inference-server
issue 8090); boto3 in the build Jobs supports both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.iam import policy_document

ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"


@dataclass(frozen=True)
class Oidc:
    """The cluster's IAM OIDC provider: its ARN and issuer host/path (no scheme)."""

    provider_arn: pulumi.Input[str]
    issuer: pulumi.Input[str]


@dataclass(frozen=True)
class WorkloadAccess:
    """How a regional workload reaches its model bucket: bucket, key, IRSA and providers."""

    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    oidc: Oidc
    aws_provider: aws.Provider
    kube_provider: k8s.Provider


def irsa_trust(provider_arn: str, issuer: str, namespace: str, service_account: str) -> str:
    """Trust policy: only this service account of this cluster may assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        }
    )


def workload_role(
    name: str,
    oidc: Oidc,
    namespace: str,
    service_account: str,
    statements: pulumi.Input[list[dict[str, Any]]],
    opts: pulumi.ResourceOptions,
) -> aws.iam.Role:
    """A role for one service account with one inline policy of ``statements``."""
    trust = pulumi.Output.all(oidc.provider_arn, oidc.issuer).apply(
        lambda v: irsa_trust(v[0], v[1], namespace, service_account)
    )
    role = aws.iam.Role(name, assume_role_policy=trust, opts=opts)
    aws.iam.RolePolicy(
        name,
        role=role.id,
        policy=pulumi.Output.from_input(statements).apply(policy_document),
        opts=opts,
    )
    return role


def irsa_service_account(
    name: str,
    access: WorkloadAccess,
    namespace: tuple[str, pulumi.Input[str]],
    account: str,
    statements: pulumi.Input[list[dict[str, Any]]],
    parent: pulumi.Resource,
    automount_token: bool | None = None,
) -> pulumi.Output[str]:
    """A ServiceAccount whose pods get a role of ``statements`` (both named ``name``).

    ``namespace`` is the name the role's trust policy pins and the namespace resource (or
    name) the account is created in; ``automount_token=False`` keeps the Kubernetes API token
    out of pods that never call the API.
    """
    aws_opts = pulumi.ResourceOptions(parent=parent, provider=access.aws_provider)
    role = workload_role(name, access.oidc, namespace[0], account, statements, aws_opts)
    created = k8s.core.v1.ServiceAccount(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=account, namespace=namespace[1], annotations={ROLE_ANNOTATION: role.arn}
        ),
        automount_service_account_token=automount_token,
        opts=pulumi.ResourceOptions(parent=parent, provider=access.kube_provider),
    )
    return created.metadata.name


def s3_statements(
    bucket_arn: str, key_arn: str, read: list[str], write: list[str], delete: bool = False
) -> list[dict[str, Any]]:
    """S3 + KMS statements limited to key prefixes: list and read all, write ``write``."""
    prefixes = sorted({*read, *write})
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket_arn],
            "Condition": {"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}},
        },
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": [f"{bucket_arn}/{p}*" for p in prefixes],
        },
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key_arn]},
    ]
    if write:
        statements += [
            {
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:AbortMultipartUpload"]
                + (["s3:DeleteObject"] if delete else []),
                "Resource": [f"{bucket_arn}/{p}*" for p in write],
            },
            {"Effect": "Allow", "Action": ["kms:GenerateDataKey"], "Resource": [key_arn]},
        ]
    return statements


def tree_read_statements(bucket_arn: str, key_arns: list[str], prefix: str) -> list[dict[str, Any]]:
    """Read one tree (``prefix``) of a bucket: objects, their versions and replication tags.

    ``s3:ListBucket`` is granted on the bucket without a prefix condition: S3 answers a
    HeadObject of a missing key with 404 only to callers allowed to list the bucket (else
    403), and ``drctl store verify`` must tell "missing" from "access denied". Listing
    reveals key names, not contents.
    """
    return [
        {
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
            "Resource": [bucket_arn],
        },
        {
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:GetObjectTagging",
                "s3:GetObjectVersionTagging",
            ],
            "Resource": [f"{bucket_arn}/{prefix}*"],
        },
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": key_arns},
    ]


def object_write_statements(
    bucket_arn: str, key_arn: str, put: list[str], delete: list[str]
) -> list[dict[str, Any]]:
    """Write exactly the key patterns ``put`` (``*`` where meant) and delete only ``delete``."""
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": [f"{bucket_arn}/{p}" for p in put],
        },
        {"Effect": "Allow", "Action": ["kms:GenerateDataKey"], "Resource": [key_arn]},
    ]
    if delete:
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["s3:DeleteObject"],
                "Resource": [f"{bucket_arn}/{p}" for p in delete],
            }
        )
    return statements


def metric_statement(namespace: str) -> dict[str, Any]:
    """PutMetricData into one CloudWatch namespace only (the action has no resource ARN)."""
    return {
        "Effect": "Allow",
        "Action": ["cloudwatch:PutMetricData"],
        "Resource": ["*"],
        "Condition": {"StringEquals": {"cloudwatch:namespace": namespace}},
    }


def amp_query_statement(workspace_arn: str) -> dict[str, Any]:
    """Query one Amazon Managed Service for Prometheus workspace (PromQL over SigV4)."""
    return {
        "Effect": "Allow",
        "Action": ["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"],
        "Resource": [workspace_arn],
    }
