"""FailoverClient against one real Triton (DR) and a dead or hung primary."""

from __future__ import annotations

import numpy as np
import pytest

from drctl.drill.client import FailoverClient
from drctl.drill.errors import (
    AllRegionsFailed,
    ClientConfigError,
    RemoteTargetRefused,
    ResolveError,
)
from drctl.drill.resolve import CachingResolver, Resolution, StandInResolver
from drctl.rehearsal.clock import ManualClock
from drctl.rehearsal.route53_config import FailoverRecord, HealthCheckSpec
from drctl.rehearsal.route53_standin import Route53StandIn
from drctl.rehearsal.triton import TritonProcess
from tests.drctl.drill.conftest import DR, PRIMARY, tiny_inputs
from tests.drctl.rehearsal.onnx_models import expected

NAME = "infer.trtdr.example.com"


def check_answer(result_outputs: dict[str, np.ndarray]) -> None:
    x = tiny_inputs()["x"]
    np.testing.assert_allclose(result_outputs["y"], expected(x), rtol=1e-5)


@pytest.mark.slow
def test_dead_primary_is_retried_once_on_the_peer(
    dr_triton: TritonProcess, dead_endpoint: str
) -> None:
    with FailoverClient({PRIMARY: dead_endpoint, DR: dr_triton.http_url}, timeout_s=2.0) as client:
        result = client.infer("tiny", tiny_inputs())
    assert (result.region, result.attempts, result.hedged) == (DR, 2, False)
    assert result.endpoint == dr_triton.http_url
    check_answer(result.outputs)


@pytest.mark.slow
def test_sends_where_dns_points(dr_triton: TritonProcess, dead_endpoint: str) -> None:
    checks = [
        HealthCheckSpec("hc-p", "http://127.0.0.1:1/"),
        HealthCheckSpec("hc-d", "http://127.0.0.1:2/"),
    ]
    records = [
        FailoverRecord(NAME, "PRIMARY", ("nlb-p",), 60, "hc-p"),
        FailoverRecord(NAME, "SECONDARY", ("nlb-d",), 60, "hc-d"),
    ]
    r53 = Route53StandIn(checks, records, clock=ManualClock(), prober=lambda *_: True)
    r53.set_flags("hc-p", inverted=True, disabled=False)
    resolver = CachingResolver(
        StandInResolver(r53, {"nlb-p": dead_endpoint, "nlb-d": dr_triton.http_url})
    )
    regions = {PRIMARY: dead_endpoint, DR: dr_triton.http_url}
    with FailoverClient(regions, name=NAME, resolver=resolver) as client:
        assert client.preferred() == DR
        result = client.infer("tiny", tiny_inputs())
    assert (result.region, result.attempts) == (DR, 1)


@pytest.mark.slow
def test_hedging_answers_from_the_peer_while_primary_hangs(
    dr_triton: TritonProcess, blackhole_endpoint: str
) -> None:
    regions = {PRIMARY: blackhole_endpoint, DR: dr_triton.http_url}
    with FailoverClient(regions, hedge_after_s=0.2, timeout_s=3.0) as client:
        result = client.infer("tiny", tiny_inputs())
    assert (result.region, result.attempts, result.hedged) == (DR, 2, True)
    check_answer(result.outputs)


@pytest.mark.slow
def test_hang_without_hedging_times_out_then_retries(
    dr_triton: TritonProcess, blackhole_endpoint: str
) -> None:
    regions = {PRIMARY: blackhole_endpoint, DR: dr_triton.http_url}
    with FailoverClient(regions, timeout_s=0.5) as client:
        result = client.infer("tiny", tiny_inputs())
    assert (result.region, result.attempts, result.hedged) == (DR, 2, False)


def test_both_regions_down_is_all_regions_failed(dead_endpoint: str) -> None:
    other = dead_endpoint.replace(dead_endpoint.rsplit(":", 1)[1], "1")
    for hedge in (None, 0.05):
        client = FailoverClient({PRIMARY: dead_endpoint, DR: other}, hedge_after_s=hedge)
        with client, pytest.raises(AllRegionsFailed, match=f"{PRIMARY}.*{DR}|{DR}.*{PRIMARY}"):
            client.infer("tiny", tiny_inputs())


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ClientConfigError):
        FailoverClient({PRIMARY: "127.0.0.1:1"})
    with pytest.raises(ClientConfigError):
        FailoverClient({PRIMARY: "127.0.0.1:1", DR: "127.0.0.1:1"})
    with pytest.raises(ClientConfigError):
        FailoverClient({PRIMARY: "127.0.0.1:1", DR: "127.0.0.1:2"}, name=NAME)
    with pytest.raises(RemoteTargetRefused):
        FailoverClient({PRIMARY: "10.0.0.1:8000", DR: "127.0.0.1:2"})


class Unresolvable:
    """A resolver for a name that does not resolve."""

    def lookup(self, name: str) -> Resolution:
        raise ResolveError(f"{name} does not resolve")


def test_dns_trouble_falls_back_to_the_first_region() -> None:
    resolver = CachingResolver(Unresolvable())
    regions = {PRIMARY: "127.0.0.1:1", DR: "127.0.0.1:2"}
    with FailoverClient(regions, name=NAME, resolver=resolver) as client:
        assert client.preferred() == PRIMARY
        assert client.peer(PRIMARY) == DR
