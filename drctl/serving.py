"""Is Triton serving what the store released? The check runbooks and operators run.

``drctl status`` asks whether a model is ready at all; a recovery step needs more: that the
region's Triton serves the *released* version (or a given one) after a rollback, a restore
or a fallback publish. The answer comes from Triton's repository index (``READY`` versions),
the expectation from the region's release pointer.
"""

from __future__ import annotations

from dataclasses import dataclass

from tritonclient.utils import InferenceServerException

from drctl.store.errors import ReleaseNotFound
from drctl.store.regions import RegionTrees
from drctl.store.triton import client
from drctl.store.verify import read_release


@dataclass(frozen=True)
class ServingCheck:
    """One region's answer: the version expected, the versions Triton has ready."""

    region: str
    endpoint: str
    model: str
    expected: int
    ready_versions: list[int]
    error: str = ""

    @property
    def ok(self) -> bool:
        """The expected version is loaded and ready."""
        return self.expected in self.ready_versions


def released_version(tree: RegionTrees, model: str) -> int:
    """The version the region's release pointer names; ReleaseNotFound when none."""
    release, _ = read_release(tree.own, model)
    if release is None:
        raise ReleaseNotFound(
            f"{tree.stack.role} has no release of {model}: publish one "
            "(drctl store publish) or pass --version"
        )
    return release.version


def ready_versions(endpoint: str, model: str, timeout: float = 5.0) -> list[int]:
    """Versions of ``model`` Triton reports READY (its repository index), ascending."""
    index = client(endpoint, timeout).get_model_repository_index()
    return sorted(
        int(entry["version"])
        for entry in index
        if entry.get("name") == model
        and entry.get("state") == "READY"
        and str(entry.get("version", "")).isdigit()
    )


def check_serving(region: str, endpoint: str, model: str, expected: int) -> ServingCheck:
    """Ask one Triton which versions of ``model`` are ready; unreachable counts as none."""
    try:
        versions = ready_versions(endpoint, model)
    except (InferenceServerException, OSError) as exc:
        return ServingCheck(region, endpoint, model, expected, [], f"unreachable: {exc}")
    return ServingCheck(region, endpoint, model, expected, versions)
