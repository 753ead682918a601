"""VPC across AZs with NAT, or an existing VPC from config."""

from __future__ import annotations

from infra.offline import Evaluation, evaluate

from .conftest import config_with


def test_subnets_span_distinct_azs(stack: Evaluation) -> None:
    subnets = stack.of_type("aws:ec2/subnet:Subnet")
    private = [s for s in subnets if "-private-" in s.name]
    public = [s for s in subnets if "-public-" in s.name]
    assert len(private) == len(public) == 3
    assert len({s.inputs["availabilityZone"] for s in private}) == 3
    assert all("kubernetes.io/role/internal-elb" in s.inputs["tags"] for s in private)
    assert all("kubernetes.io/role/elb" in s.inputs["tags"] for s in public)


def test_single_nat_gateway_option() -> None:
    evaluation = evaluate("primary", config=config_with("primary", network__nat="single"))
    assert len(evaluation.of_type("aws:ec2/natGateway:NatGateway")) == 1
    assert len(evaluation.of_type("aws:ec2/routeTable:RouteTable")) == 4


def test_existing_vpc_creates_no_network() -> None:
    network = {
        "vpcId": "vpc-0abc",
        "privateSubnetIds": ["subnet-p1", "subnet-p2"],
        "publicSubnetIds": ["subnet-u1", "subnet-u2"],
    }
    evaluation = evaluate("primary", config=config_with("primary", network=network))
    assert evaluation.of_type("aws:ec2/vpc:Vpc") == []
    assert evaluation.of_type("aws:ec2/subnet:Subnet") == []
    cluster = evaluation.one("aws:eks/cluster:Cluster").inputs
    assert cluster["vpcConfig"]["subnetIds"] == ["subnet-p1", "subnet-p2", "subnet-u1", "subnet-u2"]
    gpu = next(
        g for g in evaluation.of_type("aws:eks/nodeGroup:NodeGroup") if g.name.endswith("-gpu")
    )
    assert gpu.inputs["subnetIds"] == ["subnet-p1", "subnet-p2"]
