"""IAM helpers: roles trusted by one service, with managed or inline least-privilege policies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

AWS_MANAGED = "arn:aws:iam::aws:policy/"


def trust_policy(service: str, actions: Sequence[str] = ("sts:AssumeRole",)) -> str:
    """Trust policy letting one AWS service principal assume a role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": list(actions)}
            ],
        }
    )


def policy_document(statements: list[dict[str, Any]]) -> str:
    """An IAM policy document from already-resolved statements."""
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def service_role(
    name: str,
    service: str,
    managed: Sequence[str],
    opts: pulumi.ResourceOptions,
    actions: Sequence[str] = ("sts:AssumeRole",),
) -> aws.iam.Role:
    """A role for ``service`` with the named AWS-managed policies attached."""
    role = aws.iam.Role(name, assume_role_policy=trust_policy(service, actions), opts=opts)
    for policy in managed:
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy.lower().replace('_', '-')}",
            role=role.name,
            policy_arn=AWS_MANAGED + policy,
            opts=opts,
        )
    return role
