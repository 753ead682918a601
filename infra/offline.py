"""Offline evaluation of a stack: run the real ``__main__.py`` under Pulumi's mocks.

No Pulumi CLI, no credentials. Every registered resource is recorded as plain data (type, name,
inputs, provider, parent, dependencies) for tests and for ``drctl plan``. Provider function calls
are answered from an explicit table; any other call fails with :class:`UnmockedCall`. Values the
cloud would assign (ARNs, endpoints, ids) are synthesized and clearly fake (account 123456789012).
"""

from __future__ import annotations

import asyncio
import functools
import json
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config import NAMESPACE
from infra.naming import bucket_name

PROJECT = "trt-dr"
OFFLINE_ACCOUNT = "123456789012"
PROJECT_DIR = Path(__file__).resolve().parent.parent
# Canonical hosted zone ids of network load balancers (AWS Elastic Load Balancing endpoints).
NLB_ZONE_IDS = {
    "us-east-1": "Z26RNL4JYFTOTI",
    "us-east-2": "ZLMOA37VPKANP",
    "us-west-1": "Z24FKFUX50B4VW",
    "us-west-2": "Z18D5FSROUN65G",
    "eu-west-1": "Z2IFOLAFXWLO4F",
    "eu-central-1": "Z3F0SRJ5LGBH90",
}


class UnmockedCall(Exception):
    """The program called a provider function the offline table does not answer."""


@dataclass
class Registered:
    """One resource the program registered, as plain data."""

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    provider: str | None
    parent: str | None
    dependencies: list[str]


@dataclass
class Evaluation:
    """Everything one offline run of a stack produced."""

    stack: str
    resources: list[Registered]
    outputs: dict[str, Any]
    providers: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Registered]:
        """Resources of one type token, e.g. ``aws:s3/bucket:Bucket``."""
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> Registered:
        """The single resource of ``type_``; AssertionError when there are zero or several."""
        found = self.of_type(type_)
        assert len(found) == 1, f"expected one {type_}, found {len(found)}"
        return found[0]

    def region_of(self, resource: Registered) -> str | None:
        """The region of a custom resource, through its explicit provider (None if default)."""
        if resource.provider is None:
            return None
        return self.providers.get(provider_urn(resource.provider))

    @functools.cached_property
    def _by_urn(self) -> dict[str, Registered]:
        return {r.urn: r for r in self.resources}

    def top_owner(self, resource: Registered) -> Registered:
        """The top-level resource that owns ``resource`` (itself when it has no parent)."""
        current = resource
        while current.parent and current.parent in self._by_urn:
            current = self._by_urn[current.parent]
        return current

    def component_of(self, resource: Registered) -> str:
        """The type of the top-level component that owns ``resource`` (its own if none)."""
        return self.top_owner(resource).type

    def component_name(self, resource: Registered) -> str:
        """Logical name of the top-level component owning ``resource`` (``stack`` if none)."""
        owner = self.top_owner(resource)
        return owner.name if owner is not resource else "stack"


def provider_region(type_: str, inputs: dict[str, Any]) -> str:
    """Region of an AWS provider, or of the EKS cluster a Kubernetes provider talks to."""
    if type_ == "pulumi:providers:kubernetes":
        args = json.loads(inputs.get("kubeconfig", "{}"))["users"][0]["user"]["exec"]["args"]
        return str(args[args.index("--region") + 1])
    return str(inputs.get("region", ""))


def provider_urn(reference: str) -> str:
    """The provider URN of a provider reference (``<urn>::<id>``)."""
    return reference.rsplit("::", 1)[0]


class OfflineMocks(pulumi_mocks.Mocks):
    """Answers provider calls from a fixed table and synthesizes cloud-assigned outputs."""

    def __init__(self, peer_outputs: dict[str, Any] | None) -> None:
        self.peer_outputs = peer_outputs
        self.provider_regions: dict[str, str] = {}
        self.calls: list[str] = []
        self.inputs: dict[tuple[str, str], dict[str, Any]] = {}

    def _region(self, provider_ref: str | None) -> str:
        key = provider_urn(provider_ref or "")
        if key not in self.provider_regions:
            raise UnmockedCall(f"no explicit regional provider for {provider_ref!r}")
        return self.provider_regions[key]

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        self.calls.append(args.token)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            arn = f"arn:aws:iam::{OFFLINE_ACCOUNT}:user/offline"
            return {"accountId": OFFLINE_ACCOUNT, "arn": arn, "userId": "OFFLINE", "id": "x"}, []
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            region = self._region(args.provider)
            names = [f"{region}{suffix}" for suffix in "abcdef"]
            return {"names": names, "zoneIds": names, "id": region}, []
        if args.token == "aws:lb/getHostedZoneId:getHostedZoneId":
            region = args.args.get("region") or self._region(args.provider)
            return {"id": NLB_ZONE_IDS[region], "region": region}, []
        raise UnmockedCall(f"provider function {args.token} is not mocked (args {args.args})")

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.inputs[(args.typ, args.name)] = dict(args.inputs)
        state = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            return args.name, {"name": args.inputs.get("name"), "outputs": self.peer_outputs or {}}
        if args.typ.startswith("pulumi:providers:") or not args.custom:
            return f"{args.name}-id", state
        return synthesize(args.typ, args.name, self._region(args.provider), state)


def synthesize(type_: str, name: str, region: str, state: dict[str, Any]) -> tuple[str, dict]:
    """Fake but well-formed values for what AWS or Kubernetes would assign."""
    rid = f"{name}-id"
    state.setdefault(
        "arn", f"arn:aws:{type_.split(':')[1].split('/')[0]}:{region}:{OFFLINE_ACCOUNT}:{name}"
    )
    if type_ == "aws:s3/bucket:Bucket":
        rid = state["bucket"]
        state["arn"] = f"arn:aws:s3:::{rid}"
    elif type_ in ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"):
        state["keyId"] = "mrk-0ff1ine0000000000000000000000000"
        state["arn"] = f"arn:aws:kms:{region}:{OFFLINE_ACCOUNT}:key/{state['keyId']}"
    elif type_ == "aws:eks/cluster:Cluster":
        state["endpoint"] = f"https://{name}.gr7.{region}.eks.amazonaws.com"
        state["certificateAuthority"] = {"data": "T0ZGTElORQ=="}
        issuer = f"https://oidc.eks.{region}.amazonaws.com/id/0FF11NE"
        state["identities"] = [{"oidcs": [{"issuer": issuer}]}]
    elif type_ == "aws:route53/record:Record":
        state["fqdn"] = state.get("name")
    elif type_ == "kubernetes:core/v1:Service":
        host = f"{name}-0123456789.elb.{region}.amazonaws.com"
        state["status"] = {"loadBalancer": {"ingress": [{"hostname": host}]}}
    return rid, state


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that also keeps each registration's parent, provider and dependencies."""

    def __init__(self, mocks: OfflineMocks) -> None:
        super().__init__(mocks)
        self.offline = mocks
        self.registered: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = self.offline.inputs[(request.type, request.name)]
        if request.type.startswith("pulumi:providers:"):
            self.offline.provider_regions[response.urn] = provider_region(request.type, inputs)
        self.registered.append(
            Registered(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=request.custom,
                inputs=inputs,
                provider=request.provider or None,
                parent=request.parent or None,
                dependencies=list(request.dependencies),
            )
        )
        return response

    def ReadResource(self, request: Any) -> Any:
        response = super().ReadResource(request)
        self.registered.append(
            Registered(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=True,
                inputs={"id": request.id},
                provider=request.provider or None,
                parent=request.parent or None,
                dependencies=list(request.dependencies),
            )
        )
        return response


def _cancel_leftovers() -> None:
    """A failed program leaves tasks behind; cancel them so the next evaluation starts clean."""
    loop = asyncio.get_event_loop()
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    pulumi_settings.SETTINGS.outputs.clear()


def stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The ``config:`` mapping of ``Pulumi.<stack>.yaml``."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    return dict((yaml.safe_load(path.read_text()) or {}).get("config", {}))


def peer_outputs_for(config: dict[str, Any]) -> dict[str, Any]:
    """What a deployed peer stack would export, derived from this stack's config."""
    peer_region = str(config.get(f"{NAMESPACE}:peerRegion"))
    role = "dr" if config.get(f"{NAMESPACE}:role") == "primary" else "primary"
    prefix = str(config.get(f"{NAMESPACE}:namePrefix", "trt-dr"))
    name = bucket_name(prefix, OFFLINE_ACCOUNT, peer_region)
    key = f"arn:aws:kms:{peer_region}:{OFFLINE_ACCOUNT}:key/mrk-0ff1ine0000000000000000000000000"
    return {
        "role": role,
        "region": peer_region,
        "bucketName": name,
        "bucketArn": f"arn:aws:s3:::{name}",
        "kmsKeyArn": key,
    }


def evaluate(
    stack: str,
    config: dict[str, Any] | None = None,
    peer_outputs: dict[str, Any] | None = None,
    project_dir: Path = PROJECT_DIR,
) -> Evaluation:
    """Run ``__main__.py`` for ``stack`` under mocks and return what it registered and exported.

    ``config`` replaces the stack file's config; ``peer_outputs`` replaces the synthesized
    outputs of the peer stack (pass ``{}`` to simulate a peer that is not deployed).
    """
    values = stack_config(stack, project_dir) if config is None else config
    mocks = OfflineMocks(peer_outputs_for(values) if peer_outputs is None else peer_outputs)
    monitor = RecordingMonitor(mocks)
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        mocks,
        project=PROJECT,
        stack=stack,
        preview=False,
        monitor=monitor,
        organization="organization",
    )
    pulumi.runtime.set_all_config(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    )
    program = str(project_dir / "__main__.py")

    def run() -> None:
        runpy.run_path(program, run_name="__main__")

    try:
        _sync_await(run_pulumi_func(run))
    except BaseException:
        _cancel_leftovers()
        raise
    root = pulumi_settings.get_root_resource()
    raw_outputs = getattr(root, "outputs", {})
    outputs = {k: _sync_await(pulumi.Output.from_input(v).future()) for k, v in raw_outputs.items()}
    return Evaluation(
        stack=stack,
        resources=monitor.registered,
        outputs=outputs,
        providers=dict(mocks.provider_regions),
        calls=list(mocks.calls),
    )
