"""The few Triton calls drctl makes: health, model readiness, and repository load requests.

Uses ``tritonclient.http`` against ``inferenceEndpoint`` (``http://host:8000``); Triton must run
with ``--model-control-mode=explicit`` for ``load_model`` to re-read the pinned config.

``load_model`` sends one request to one URL: through the NLB that reaches one pod, so only one
replica reloads (fine out of the cluster for a single-pod region or a drill). In the cluster,
``load_model_on_pods`` resolves the headless Service (``triton-pods.triton.svc.cluster.local``,
one address per pod) and sends the request to every pod.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from tritonclient.utils import InferenceServerException

from drctl.store.errors import TritonLoadFailed

TIMEOUT_S = 30.0


def client(endpoint: str, timeout: float = TIMEOUT_S) -> Any:
    """A tritonclient HTTP client for ``http(s)://host:port`` (tritonclient wants host:port)."""
    import tritonclient.http as httpclient

    secure = endpoint.startswith("https://")
    url = endpoint.removeprefix("https://").removeprefix("http://").rstrip("/")
    return httpclient.InferenceServerClient(
        url=url, ssl=secure, connection_timeout=timeout, network_timeout=timeout
    )


def load_model(endpoint: str, model: str) -> None:
    """Ask Triton to (re)load ``model`` from its repository; it then serves the pinned version."""
    try:
        client(endpoint).load_model(model)
    except (InferenceServerException, OSError) as exc:
        raise TritonLoadFailed(
            f"Triton at {endpoint} did not load {model}: {exc}; check the "
            "server log, then re-run (the release pointer already moved)"
        ) from exc


Resolver = Callable[..., list[Any]]
DEFAULT_PORT = 8000


def split_endpoint_set(endpoint_set: str) -> tuple[str, int]:
    """``[http://]host[:port]`` -> (host, port); the port defaults to Triton's HTTP 8000."""
    rest = endpoint_set.removeprefix("http://").rstrip("/")
    host, sep, port = rest.rpartition(":")
    if not sep or "]" in port:
        return rest.strip("[]"), DEFAULT_PORT
    if not port.isdigit() or not host:
        raise ValueError(f"{endpoint_set!r} is not host[:port], e.g. triton-pods.triton:8000")
    return host.strip("[]"), int(port)


def pod_endpoints(endpoint_set: str, resolve: Resolver = socket.getaddrinfo) -> list[str]:
    """Every address the name resolves to, as ``http://ip:port`` (sorted, no duplicates)."""
    try:
        host, port = split_endpoint_set(endpoint_set)
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        raise TritonLoadFailed(
            f"cannot resolve the Triton pods behind {endpoint_set}: {exc}; run in the cluster "
            "(the headless Service resolves only there) or pass --endpoint URLs instead"
        ) from exc
    urls = set()
    for info in infos:
        ip, found_port = info[4][0], info[4][1]
        urls.add(f"http://[{ip}]:{found_port}" if ":" in ip else f"http://{ip}:{found_port}")
    return sorted(urls)


def load_model_on_pods(
    endpoint_set: str,
    model: str,
    resolve: Resolver = socket.getaddrinfo,
    loader: Callable[[str, str], None] = load_model,
) -> list[str]:
    """Have every pod behind ``endpoint_set`` reload ``model``; returns the pods reloaded.

    Every pod is tried even when one fails; then the failures are raised together.
    """
    urls, done, failed = pod_endpoints(endpoint_set, resolve), [], []
    if not urls:
        raise TritonLoadFailed(f"{endpoint_set} resolves to no Triton pod; is Triton running?")
    for url in urls:
        try:
            loader(url, model)
            done.append(url)
        except TritonLoadFailed as exc:
            failed.append(str(exc))
    if failed:
        raise TritonLoadFailed(
            f"{len(failed)} of {len(urls)} pods did not load {model}: " + " | ".join(failed)
        )
    return done


def reload_model(
    model: str,
    endpoints: list[str],
    endpoint_set: str | None,
    loader: Callable[[str, str], None] = load_model,
) -> list[str]:
    """Have Triton load ``model`` on each URL (one pod each) and on every pod of the set."""
    done = []
    for url in endpoints:
        loader(url, model)
        done.append(url)
    if endpoint_set:
        done += load_model_on_pods(endpoint_set, model, loader=loader)
    return done


def server_ready(endpoint: str) -> str:
    """ "ready", "not ready" or "unreachable"."""
    try:
        return "ready" if client(endpoint, 5.0).is_server_ready() else "not ready"
    except (InferenceServerException, OSError):
        return "unreachable"


def model_ready(endpoint: str, model: str) -> bool | None:
    """Whether Triton reports ``model`` ready; None when the server cannot be asked."""
    try:
        return bool(client(endpoint, 5.0).is_model_ready(model))
    except (InferenceServerException, OSError):
        return None
