"""Explicit regional AWS providers: regions are data, never the ambient default."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.config import Settings


def regional_provider(settings: Settings) -> aws.Provider:
    """The only AWS provider of a stack: pinned to the stack's region and tagged."""
    return aws.Provider(
        f"{settings.stack}-{settings.region}-aws",
        region=settings.region,
        default_tags=aws.ProviderDefaultTagsArgs(
            tags={
                "trt-dr:project": settings.project,
                "trt-dr:stack": settings.stack,
                "trt-dr:role": settings.role,
            }
        ),
    )


def invoke_opts(provider: aws.Provider) -> pulumi.InvokeOptions:
    """Invoke options that route a provider function through the regional provider."""
    return pulumi.InvokeOptions(provider=provider)
