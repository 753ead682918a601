"""Metric sources: a recorded Triton 2.51 scrape, windows between snapshots, Prometheus API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from drctl.monitoring.errors import MetricsUnavailable
from drctl.monitoring.source import (
    Counters,
    PrometheusApi,
    TritonMetrics,
    parse_triton_metrics,
    window,
)

RECORDED = Path(__file__).parent / "data" / "triton-2.51-metrics.txt"


def test_recorded_triton_scrape_is_parsed_per_version() -> None:
    snapshot = parse_triton_metrics(RECORDED.read_text())
    assert snapshot == {
        ("classifier", "1"): Counters(
            success=7.0, failure=0.0, duration_us=46589.0, queue_us=1577.0
        )
    }


def test_failures_are_summed_over_reasons() -> None:
    text = (
        "# TYPE nv_inference_request_failure counter\n"
        'nv_inference_request_failure{model="m",reason="BACKEND",version="2"} 3\n'
        'nv_inference_request_failure{model="m",reason="REJECTED",version="2"} 4\n'
    )
    assert parse_triton_metrics(text)[("m", "2")].failure == 7.0


def test_window_is_the_difference_and_a_reset_is_missing() -> None:
    before = Counters(success=10, failure=1, duration_us=10_000)
    after = Counters(success=30, failure=1, duration_us=50_000)
    got = window(before, after)
    assert got is not None and (got.requests, got.failures, got.latency_ms) == (20, 0, 2.0)
    assert window(after, before) is None
    assert window(None, after) is None
    idle = window(before, before)
    assert idle is not None and idle.requests == 0 and idle.latency_ms is None


def test_unreachable_endpoint_raises_a_clear_error() -> None:
    with pytest.raises(MetricsUnavailable, match="is the server up"):
        TritonMetrics("http://127.0.0.1:9/metrics").snapshot()


class _Prometheus(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query)["query"][0]
        value = {"nv_inference_request_success": "40", "nv_inference_request_failure": "2"}
        metric = query.split("(", 2)[2].split("{", 1)[0]
        result = [
            {"metric": {"model": "m", "version": "3"}, "value": [0, value.get(metric, "1000")]}
        ]
        body = json.dumps({"status": "success", "data": {"result": result}}).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def prometheus() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Prometheus)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_prometheus_api_sums_counters_by_version(prometheus: str) -> None:
    snapshot = PrometheusApi(prometheus, 'namespace="triton"').snapshot()
    assert snapshot[("m", "3")] == Counters(
        success=40.0, failure=2.0, duration_us=1000.0, queue_us=1000.0
    )
