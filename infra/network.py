"""Network: a VPC with public and private subnets in several AZs and NAT, or an existing VPC."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config import NetworkSettings
from infra.providers import invoke_opts


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of :class:`Network`."""

    name: str
    cluster_name: str
    settings: NetworkSettings
    provider: aws.Provider


class Network(pulumi.ComponentResource):
    """The VPC the cluster runs in; private subnets for nodes, public ones for load balancers."""

    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    public_subnet_ids: pulumi.Output[list[str]]

    def __init__(self, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("trt-dr:infra:Network", args.name, None, opts)
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        if args.settings.vpc_id:
            self.vpc_id = pulumi.Output.from_input(args.settings.vpc_id)
            self.private_subnet_ids = pulumi.Output.from_input(args.settings.private_subnet_ids)
            self.public_subnet_ids = pulumi.Output.from_input(args.settings.public_subnet_ids)
        else:
            self._create_vpc()
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": self.private_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
            }
        )

    def _create_vpc(self) -> None:
        args, settings = self._args, self._args.settings
        zones = aws.get_availability_zones_output(
            state="available", opts=invoke_opts(args.provider)
        )
        vpc = aws.ec2.Vpc(
            f"{args.name}-vpc",
            cidr_block=settings.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": f"{args.name}-vpc"},
            opts=self._child,
        )
        igw = aws.ec2.InternetGateway(f"{args.name}-igw", vpc_id=vpc.id, opts=self._child)
        subnets = list(ipaddress.ip_network(settings.cidr).subnets(new_prefix=24))
        public, private = [], []
        for index in range(settings.az_count):
            zone = zones.names.apply(functools.partial(_zone, index=index))
            public.append(self._subnet(vpc, zone, str(subnets[index]), index, public=True))
            private.append(self._subnet(vpc, zone, str(subnets[100 + index]), index, public=False))
        public_rt = self._route_table("public", vpc, gateway_id=igw.id)
        for index, subnet in enumerate(public):
            aws.ec2.RouteTableAssociation(
                f"{args.name}-public-{index}",
                subnet_id=subnet.id,
                route_table_id=public_rt.id,
                opts=self._child,
            )
        self._nat_routes(vpc, public, private)
        self.vpc_id = vpc.id
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private])

    def _subnet(
        self, vpc: aws.ec2.Vpc, zone: pulumi.Output[str], cidr: str, index: int, public: bool
    ) -> aws.ec2.Subnet:
        kind = "public" if public else "private"
        elb_tag = "kubernetes.io/role/elb" if public else "kubernetes.io/role/internal-elb"
        return aws.ec2.Subnet(
            f"{self._args.name}-{kind}-{index}",
            vpc_id=vpc.id,
            cidr_block=cidr,
            availability_zone=zone,
            map_public_ip_on_launch=False,
            tags={
                "Name": f"{self._args.name}-{kind}-{index}",
                elb_tag: "1",
                f"kubernetes.io/cluster/{self._args.cluster_name}": "shared",
            },
            opts=self._child,
        )

    def _route_table(self, kind: str, vpc: aws.ec2.Vpc, **route: object) -> aws.ec2.RouteTable:
        return aws.ec2.RouteTable(
            f"{self._args.name}-{kind}-rt",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", **route)],  # type: ignore[arg-type]
            opts=self._child,
        )

    def _nat_routes(
        self, vpc: aws.ec2.Vpc, public: list[aws.ec2.Subnet], private: list[aws.ec2.Subnet]
    ) -> None:
        """One NAT gateway per AZ (survives an AZ loss) or a single one (cheaper)."""
        count = len(public) if self._args.settings.nat == "per-az" else 1
        gateways = []
        for index in range(count):
            eip = aws.ec2.Eip(f"{self._args.name}-nat-{index}", domain="vpc", opts=self._child)
            gateways.append(
                aws.ec2.NatGateway(
                    f"{self._args.name}-nat-{index}",
                    allocation_id=eip.id,
                    subnet_id=public[index].id,
                    opts=self._child,
                )
            )
        for index, subnet in enumerate(private):
            table = self._route_table(
                f"private-{index}", vpc, nat_gateway_id=gateways[index % count].id
            )
            aws.ec2.RouteTableAssociation(
                f"{self._args.name}-private-{index}",
                subnet_id=subnet.id,
                route_table_id=table.id,
                opts=self._child,
            )


def _zone(names: list[str], index: int) -> str:
    if index >= len(names):
        raise ValueError(
            f"the region has {len(names)} available AZs but trt-dr:network.azCount asks for "
            f"{index + 1}; lower `pulumi config set --path trt-dr:network.azCount`"
        )
    return names[index]
