"""Monthly cost of a stack from what it registers, the price table and the usage file.

Fixed items are priced from resource inputs (node group desired size x instance hour, NAT
gateways, the NLB a LoadBalancer Service creates, health checks and their options); usage items
(storage, replicated GB, NAT GB, LCUs, hosted zones) from the usage file. Steady state only:
autoscaling above ``desiredSize`` is not counted (see docs/review.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from drctl.review.prices import Price, PriceTable
from drctl.review.usage import StackUsage
from infra.offline import Evaluation, Registered

NLB_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-type"


@dataclass(frozen=True)
class CostLine:
    """One priced quantity of one resource."""

    resource: str
    type: str
    component: str
    description: str
    quantity: float
    unit: str
    unit_usd: float
    monthly_usd: float
    source: str
    as_of: str
    unverified: bool = False


@dataclass
class StackCost:
    """The monthly estimate of one stack."""

    stack: str
    region: str
    role: str
    tier: str
    lines: list[CostLine] = field(default_factory=list)

    @property
    def total(self) -> float:
        """Monthly total in USD."""
        return round(sum(line.monthly_usd for line in self.lines), 2)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "stack": self.stack,
            "region": self.region,
            "role": self.role,
            "tier": self.tier,
            "monthly_usd": self.total,
            "lines": [asdict(line) for line in self.lines],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StackCost:
        """Inverse of :meth:`as_dict`."""
        lines = [CostLine(**line) for line in data.get("lines", [])]
        return cls(data["stack"], data["region"], data["role"], data["tier"], lines)


@dataclass(frozen=True)
class _Ctx:
    prices: PriceTable
    usage: StackUsage
    region: str
    hours: float


def _line(ctx: _Ctx, res: Registered, component: str, what: str, qty: float, p: Price) -> CostLine:
    per_month = ctx.hours if p.unit in ("hour", "LCU-hour") else 1.0
    monthly = round(qty * p.usd * per_month, 4)
    return CostLine(
        resource=res.name,
        type=res.type,
        component=component,
        description=what,
        quantity=qty,
        unit=p.unit,
        unit_usd=p.usd,
        monthly_usd=monthly,
        source=p.source,
        as_of=p.as_of,
        unverified=p.unverified,
    )


Rule = Callable[[_Ctx, Registered, str], Iterator[CostLine]]


def _node_group(ctx: _Ctx, res: Registered, comp: str) -> Iterator[CostLine]:
    size = int((res.inputs.get("scalingConfig") or {}).get("desiredSize", 0))
    for instance in res.inputs.get("instanceTypes") or []:
        price = ctx.prices.lookup("ec2_instance", instance, ctx.region)
        yield _line(ctx, res, comp, f"{instance} x{size} (desired)", size, price)
        break


def _service(ctx: _Ctx, res: Registered, comp: str) -> Iterator[CostLine]:
    spec = res.inputs.get("spec") or {}
    annotations = (res.inputs.get("metadata") or {}).get("annotations") or {}
    if spec.get("type") != "LoadBalancer" or annotations.get(NLB_ANNOTATION) != "nlb":
        return
    yield _line(
        ctx, res, comp, "network load balancer", 1, ctx.prices.lookup("nlb", "hour", ctx.region)
    )


def _bucket(ctx: _Ctx, res: Registered, comp: str) -> Iterator[CostLine]:
    price = ctx.prices.lookup("s3_storage", "standard", ctx.region)
    yield _line(ctx, res, comp, "S3 Standard storage (usage)", ctx.usage.s3_storage_gb, price)


def _replication(ctx: _Ctx, res: Registered, comp: str) -> Iterator[CostLine]:
    rules = [r for r in res.inputs.get("rules") or [] if r.get("status") == "Enabled"]
    if not rules:
        return
    gb = ctx.usage.replicated_gb_per_month
    transfer = ctx.prices.lookup("s3_replication", "inter_region_transfer", ctx.region)
    yield _line(ctx, res, comp, "inter-region replication transfer (usage)", gb, transfer)
    if any(_rtc_enabled(rule) for rule in rules):
        rtc = ctx.prices.lookup("s3_replication", "rtc", ctx.region)
        yield _line(ctx, res, comp, "Replication Time Control (usage)", gb, rtc)


def _rtc_enabled(rule: dict[str, Any]) -> bool:
    return ((rule.get("destination") or {}).get("replicationTime") or {}).get("status") == "Enabled"


def health_check_options(inputs: dict[str, Any]) -> list[str]:
    """The billable optional features of a Route 53 health check, from its inputs."""
    type_ = str(inputs.get("type", ""))
    options = []
    if type_.startswith("HTTPS"):
        options.append("https")
    if type_.endswith("STR_MATCH"):
        options.append("string_match")
    if int(inputs.get("requestInterval", 30)) == 10:
        options.append("fast_interval")
    if inputs.get("measureLatency"):
        options.append("latency_measurement")
    return options


def _health_check(ctx: _Ctx, res: Registered, comp: str) -> Iterator[CostLine]:
    target = str(inputs_fqdn(res.inputs))
    key = "aws_endpoint" if target.endswith(".amazonaws.com") else "non_aws_endpoint"
    yield _line(
        ctx,
        res,
        comp,
        f"health check ({key})",
        1,
        ctx.prices.lookup("route53_health_check", key, ctx.region),
    )
    for option in health_check_options(res.inputs):
        price = ctx.prices.lookup("route53_health_check_option", option, ctx.region)
        yield _line(ctx, res, comp, f"health check option {option}", 1, price)


def inputs_fqdn(inputs: dict[str, Any]) -> str:
    """The endpoint a health check probes (its fqdn, else its IP address)."""
    return str(inputs.get("fqdn") or inputs.get("ipAddress") or "")


def _fixed(label: str, kind: str, key: str) -> Rule:
    """A rule for a resource billed as one unit of one price (cluster, NAT, IPv4, zone)."""

    def rule(ctx: _Ctx, res: Registered, comp: str) -> Iterator[CostLine]:
        yield _line(ctx, res, comp, label, 1, ctx.prices.lookup(kind, key, ctx.region))

    return rule


RULES: dict[str, Rule] = {
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:eks/cluster:Cluster": _fixed("EKS control plane", "eks_cluster", "standard"),
    "aws:ec2/natGateway:NatGateway": _fixed("NAT gateway", "nat_gateway", "hour"),
    "aws:ec2/eip:Eip": _fixed("public IPv4 address", "public_ipv4", "hour"),
    "kubernetes:core/v1:Service": _service,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": _replication,
    "aws:route53/healthCheck:HealthCheck": _health_check,
    "aws:route53/zone:Zone": _fixed("hosted zone", "route53_hosted_zone", "zone"),
}


def stack_region(evaluation: Evaluation) -> str:
    """The stack's region: its ``region`` output, else its AWS provider's region."""
    region = evaluation.outputs.get("region")
    if region:
        return str(region)
    for res in evaluation.resources:
        if res.type == "pulumi:providers:aws" and res.inputs.get("region"):
            return str(res.inputs["region"])
    return "unknown"


def _usage_lines(ctx: _Ctx, evaluation: Evaluation) -> Iterator[CostLine]:
    nats = sorted(evaluation.of_type("aws:ec2/natGateway:NatGateway"), key=lambda r: r.name)
    if nats and ctx.usage.nat_processed_gb:  # on the first NAT by name: stable across runs
        price = ctx.prices.lookup("nat_gateway", "data", ctx.region)
        comp = evaluation.component_name(nats[0])
        what = "NAT data processed (usage)"
        yield _line(ctx, nats[0], comp, what, ctx.usage.nat_processed_gb, price)
    for svc in evaluation.of_type("kubernetes:core/v1:Service"):
        if any(True for _ in _service(ctx, svc, "")) and ctx.usage.nlb_lcus:
            price = ctx.prices.lookup("nlb", "lcu", ctx.region)
            comp = evaluation.component_name(svc)
            what = "NLB capacity units (usage)"
            yield _line(ctx, svc, comp, what, ctx.usage.nlb_lcus, price)
    if ctx.usage.hosted_zones:
        zone = Registered(
            "usage:hosted-zone",
            "aws:route53/zone:Zone",
            "existing hosted zone",
            True,
            {},
            None,
            None,
            [],
        )
        price = ctx.prices.lookup("route53_hosted_zone", "zone", ctx.region)
        what = "hosted zone (existing, from usage)"
        yield _line(ctx, zone, "dns", what, ctx.usage.hosted_zones, price)


def estimate(
    evaluation: Evaluation, prices: PriceTable, usage: StackUsage, tier: str = ""
) -> StackCost:
    """Monthly cost of one evaluated stack; raises PriceNotFound for an unpriced instance type."""
    region = stack_region(evaluation)
    ctx = _Ctx(prices, usage, region, prices.hours_per_month)
    cost = StackCost(
        evaluation.stack, region, str(evaluation.outputs.get("role", "")), tier or "unknown"
    )
    for res in evaluation.resources:
        rule = RULES.get(res.type)
        if rule is not None:
            cost.lines.extend(rule(ctx, res, evaluation.component_name(res)))
    cost.lines.extend(_usage_lines(ctx, evaluation))
    return cost
