"""The few Triton calls drctl makes: health, model readiness, and repository load requests.

Uses ``tritonclient.http`` against ``inferenceEndpoint`` (``http://host:8000``); Triton must run
with ``--model-control-mode=explicit`` for ``load_model`` to re-read the pinned config.
"""

from __future__ import annotations

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
