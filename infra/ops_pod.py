"""The pod of trt-dr's in-cluster ops Jobs: plain Python, pinned wheels, our code, no root.

``python:3.11-slim`` (or ``trt-dr:monitoring.jobsImage``, an image with the wheels baked in)
runs as nobody with a read-only root file system; the code bundle and the config files are
read-only mounts, ``/tmp`` the only writable place (pip's target, Python's scratch). See
docs/monitoring-jobs.md.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.code_bundle import CODE_MOUNT, OPS, bundle_files, code_items
from infra.config import Settings

OPS_IMAGE = "python:3.11-slim"
SIGV4_PROXY_IMAGE = "public.ecr.aws/aws-observability/aws-sigv4-proxy:1.7"
SIGV4_PORT = 8005
CONFIG_MOUNT = "/etc/trt-dr"
DEPS = "/tmp/deps"
NOBODY = 65534


def script(command: str, install: bool = True) -> str:
    """Install the pinned wheels into a scratch directory (unless baked in), run ``command``."""
    pip = (
        "python3 -m pip install --no-cache-dir --disable-pip-version-check --quiet "
        f"--no-deps --only-binary=:all: --target {DEPS} -r {CODE_MOUNT}/requirements.txt\n"
    )
    return f"set -euo pipefail\n{pip if install else ''}exec {command}\n"


def security() -> tuple[k8s.core.v1.PodSecurityContextArgs, k8s.core.v1.SecurityContextArgs]:
    """Non-root pod (group-readable IRSA token) and a locked-down, read-only container."""
    pod = k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=NOBODY,
        run_as_group=NOBODY,
        fs_group=NOBODY,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )
    container = k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
    )
    return pod, container


def sigv4_sidecar(region: str) -> k8s.core.v1.ContainerArgs:
    """Native sidecar (init container, restartPolicy Always) that SigV4-signs AMP queries."""
    return k8s.core.v1.ContainerArgs(
        name="sigv4-proxy",
        image=SIGV4_PROXY_IMAGE,
        restart_policy="Always",
        args=[
            "--name",
            "aps",
            "--region",
            region,
            "--host",
            f"aps-workspaces.{region}.amazonaws.com",
            "--port",
            f":{SIGV4_PORT}",
        ],
        ports=[k8s.core.v1.ContainerPortArgs(name="sigv4", container_port=SIGV4_PORT)],
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "20m", "memory": "32Mi"}, limits={"memory": "128Mi"}
        ),
        security_context=security()[1],
    )


def container(command: pulumi.Input[str], settings: Settings) -> k8s.core.v1.ContainerArgs:
    """The ops container: pinned wheels, project code and config files, then ``command``.

    ``trt-dr:monitoring.jobsImage`` names an image with ops-requirements.txt installed; the
    default plain Python image downloads the wheels (about 56 MB) on every run instead.
    """
    region, image = settings.region, settings.monitoring.jobs_image
    env = {
        "PYTHONPATH": f"{CODE_MOUNT}:{DEPS}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": "/tmp",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "TRT_DR_OUTPUTS": f"{CONFIG_MOUNT}/outputs",
        "TRT_DR_MONITORING": f"{CONFIG_MOUNT}/monitoring.json",
    }
    mounts = {"code": CODE_MOUNT, "config": CONFIG_MOUNT, "tmp": "/tmp"}
    return k8s.core.v1.ContainerArgs(
        name="ops",
        image=image or OPS_IMAGE,
        command=["bash", "-c"],
        args=[pulumi.Output.from_input(command).apply(lambda c: script(c, image is None))],
        env=[k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in env.items()],
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "100m", "memory": "256Mi"}, limits={"memory": "1Gi"}
        ),
        termination_message_policy="FallbackToLogsOnError",
        security_context=security()[1],
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name=n, mount_path=p, read_only=n != "tmp")
            for n, p in mounts.items()
        ],
    )


def volumes(code_map: pulumi.Input[str], config_map: pulumi.Input[str], stack: str) -> list[Any]:
    """Code bundle, outputs + thresholds (outputs in their own directory), scratch space."""
    config_items = [
        k8s.core.v1.KeyToPathArgs(key=f"{stack}.json", path=f"outputs/{stack}.json"),
        k8s.core.v1.KeyToPathArgs(key="monitoring.json", path="monitoring.json"),
    ]
    return [
        k8s.core.v1.VolumeArgs(
            name="code",
            config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(
                name=code_map, items=code_items(bundle_files(bundle=OPS))
            ),
        ),
        k8s.core.v1.VolumeArgs(
            name="config",
            config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config_map, items=config_items),
        ),
        k8s.core.v1.VolumeArgs(
            name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="1Gi")
        ),
    ]
