"""One inference request with tritonclient.http, and the loopback guard for local runs."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import np_to_triton_dtype

from drctl.drill.errors import RemoteTargetRefused
from drctl.rehearsal.pymodel import REGION_OUTPUT


def ensure_loopback(endpoint: str, allow_remote: bool = False) -> str:
    """``endpoint`` (``host:port``) unchanged, or RemoteTargetRefused for a non-loopback host."""
    host = endpoint.rsplit(":", 1)[0].strip("[]")
    if allow_remote or host == "localhost":
        return endpoint
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise RemoteTargetRefused(
            f"{endpoint} is not a loopback address: local runs only send to 127.0.0.1 "
            "(pass allow_remote=True for a real-AWS drill)"
        )
    return endpoint


def make_client(endpoint: str, timeout_s: float) -> httpclient.InferenceServerClient:
    """An HTTP client for one endpoint; connect and network timeouts both ``timeout_s``."""
    return httpclient.InferenceServerClient(
        endpoint, connection_timeout=timeout_s, network_timeout=timeout_s
    )


@dataclass(frozen=True)
class Answer:
    """Outputs of one request and the region label the server put in its answer ('' if none)."""

    outputs: dict[str, np.ndarray]
    region: str


def call(
    client: httpclient.InferenceServerClient, model: str, inputs: Mapping[str, np.ndarray]
) -> Answer:
    """Send one request; every output comes back, the region output becomes ``region``."""
    tensors = []
    for name, value in inputs.items():
        tensor = httpclient.InferInput(name, list(value.shape), np_to_triton_dtype(value.dtype))
        tensor.set_data_from_numpy(value)
        tensors.append(tensor)
    result = client.infer(model, tensors)
    names = [o["name"] for o in result.get_response().get("outputs", [])]
    outputs = {n: result.as_numpy(n) for n in names if n != REGION_OUTPUT}
    region = ""
    if REGION_OUTPUT in names:
        labels = result.as_numpy(REGION_OUTPUT)
        region = labels.reshape(-1)[0].decode() if labels is not None and labels.size else ""
    return Answer(outputs, region)
