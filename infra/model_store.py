"""Model store: a versioned SSE-KMS bucket per region, replicated both ways with RTC.

The primary stack owns the multi-Region KMS key; the dr stack owns its replica, so replicas
decrypt locally with the same key material. Bucket names are derived from account and
region, so each stack names its peer without reading it (no dependency cycle).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.config import StoreSettings
from infra.iam import policy_document, trust_policy
from infra.naming import bucket_name, kms_alias

RTC_MINUTES = 15


@dataclass(frozen=True)
class PeerStore:
    """What this store needs of the peer region's store (read from the peer stack)."""

    region: str
    bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]


@dataclass(frozen=True)
class ModelStoreArgs:
    """Inputs of :class:`ModelStore`."""

    name: str
    prefix: str
    role: str
    region: str
    account_id: pulumi.Input[str]
    settings: StoreSettings
    provider: aws.Provider
    peer: PeerStore | None
    primary_key_arn: pulumi.Input[str] | None = None


class ModelStore(pulumi.ComponentResource):
    """The region's model bucket, its KMS key and its replication to the peer region."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    replication: str

    def __init__(self, args: ModelStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("trt-dr:infra:ModelStore", args.name, None, opts)
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        key_arn = self._key()
        name = pulumi.Output.from_input(args.account_id).apply(
            lambda account: bucket_name(args.prefix, account, args.region)
        )
        bucket = aws.s3.Bucket(f"{args.name}-bucket", bucket=name, opts=self._child)
        versioning = self._harden(bucket, key_arn)
        self.replication = "waiting-for-peer"
        if args.peer is not None:
            self._replicate(bucket, key_arn, args.peer, versioning)
            self.replication = f"to {args.peer.region} with RTC {RTC_MINUTES} min"
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.kms_key_arn = key_arn
        self.register_outputs(
            {
                "bucketName": self.bucket_name,
                "bucketArn": self.bucket_arn,
                "kmsKeyArn": self.kms_key_arn,
                "replication": self.replication,
            }
        )

    def _key(self) -> pulumi.Output[str]:
        """Multi-Region primary key in the primary stack, its replica in the dr stack."""
        args = self._args
        description = f"trt-dr model store ({args.role}, {args.region})"
        key: aws.kms.Key | aws.kms.ReplicaKey
        if args.role == "primary":
            key = aws.kms.Key(
                f"{args.name}-key",
                description=description,
                multi_region=True,
                enable_key_rotation=True,
                deletion_window_in_days=30,
                opts=self._child,
            )
        else:
            if args.primary_key_arn is None:
                raise ValueError("the dr model store needs the primary stack's kmsKeyArn")
            key = aws.kms.ReplicaKey(
                f"{args.name}-key",
                description=description,
                primary_key_arn=args.primary_key_arn,
                deletion_window_in_days=30,
                opts=self._child,
            )
        aws.kms.Alias(
            f"{args.name}-key-alias",
            name=kms_alias(args.prefix),
            target_key_id=key.key_id,
            opts=self._child,
        )
        return key.arn

    def _harden(
        self, bucket: aws.s3.Bucket, key_arn: pulumi.Output[str]
    ) -> aws.s3.BucketVersioning:
        """Versioning, SSE-KMS, no public access, owner-enforced, TLS only, noncurrent expiry."""
        name, opts, store = self._args.name, self._child, self._args.settings
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=opts,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-sse",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": key_arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=opts,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=opts,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=opts,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=bucket.arn.apply(tls_only_policy),
            opts=opts,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-noncurrent",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {
                        "noncurrent_days": store.noncurrent_days,
                        "newer_noncurrent_versions": store.noncurrent_versions_kept,
                    },
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=[versioning])
            ),
        )
        return versioning

    def _replicate(
        self,
        bucket: aws.s3.Bucket,
        key_arn: pulumi.Output[str],
        peer: PeerStore,
        versioning: aws.s3.BucketVersioning,
    ) -> None:
        args = self._args
        role = aws.iam.Role(
            f"{args.name}-replication",
            name=f"{args.prefix}-replication-{args.region}",
            assume_role_policy=trust_policy("s3.amazonaws.com"),
            opts=self._child,
        )
        policy = pulumi.Output.all(bucket.arn, key_arn, peer.bucket_arn, peer.kms_key_arn).apply(
            lambda v: replication_policy(v[0], v[1], args.region, v[2], v[3], peer.region)
        )
        aws.iam.RolePolicy(
            f"{args.name}-replication", role=role.id, policy=policy, opts=self._child
        )
        aws.s3.BucketReplicationConfig(
            f"{args.name}-replication",
            bucket=bucket.id,
            role=role.arn,
            rules=[replication_rule(peer, args.settings.replicate_delete_markers)],
            opts=pulumi.ResourceOptions.merge(
                self._child, pulumi.ResourceOptions(depends_on=[versioning])
            ),
        )


def replication_rule(peer: PeerStore, delete_markers: bool) -> Any:
    """Whole-bucket rule: SSE-KMS objects, replica-modification sync (two-way), RTC + metrics."""
    return {
        "id": f"to-{peer.region}",
        "status": "Enabled",
        "priority": 1,
        "filter": {},
        "delete_marker_replication": {"status": "Enabled" if delete_markers else "Disabled"},
        "source_selection_criteria": {
            "sse_kms_encrypted_objects": {"status": "Enabled"},
            "replica_modifications": {"status": "Enabled"},
        },
        "destination": {
            "bucket": peer.bucket_arn,
            "storage_class": "STANDARD",
            "encryption_configuration": {"replica_kms_key_id": peer.kms_key_arn},
            "replication_time": {"status": "Enabled", "time": {"minutes": RTC_MINUTES}},
            "metrics": {"status": "Enabled", "event_threshold": {"minutes": RTC_MINUTES}},
        },
    }


def tls_only_policy(bucket_arn: str) -> str:
    """Deny every request that does not use TLS."""
    return policy_document(
        [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )


def replication_policy(
    source_arn: str, source_key: str, region: str, dest_arn: str, dest_key: str, dest_region: str
) -> str:
    """Least privilege for S3 replication: read versions here, replicate and encrypt there."""
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": [source_arn],
            },
            {
                "Effect": "Allow",
                "Action": [
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                "Resource": [f"{source_arn}/*"],
            },
            {
                "Effect": "Allow",
                "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                "Resource": [f"{dest_arn}/*"],
            },
            {
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [source_key],
                "Condition": {"StringLike": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            },
            {
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": [dest_key],
                "Condition": {"StringLike": {"kms:ViaService": f"s3.{dest_region}.amazonaws.com"}},
            },
        ]
    )
