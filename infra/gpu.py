"""GPU enablement: the NVIDIA device plugin, so `nvidia.com/gpu` is schedulable.

The EKS AL2023 NVIDIA AMI ships the driver and container toolkit but not the device
plugin. A plain DaemonSet (rather than a Helm release) keeps every rendered object visible
to tests and schema validation.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.cluster import GPU_TAINT_KEY, POOL_LABEL

DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.0"
PLUGIN_LABELS = {"app.kubernetes.io/name": "nvidia-device-plugin"}


@dataclass(frozen=True)
class DevicePluginArgs:
    """Inputs of :class:`DevicePlugin`."""

    name: str
    provider: k8s.Provider
    image: str = DEVICE_PLUGIN_IMAGE


class DevicePlugin(pulumi.ComponentResource):
    """NVIDIA device plugin DaemonSet on the GPU node pool only."""

    def __init__(self, args: DevicePluginArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("trt-dr:infra:DevicePlugin", args.name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        k8s.apps.v1.DaemonSet(
            f"{args.name}-ds",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="nvidia-device-plugin", namespace="kube-system", labels=PLUGIN_LABELS
            ),
            spec=k8s.apps.v1.DaemonSetSpecArgs(
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=PLUGIN_LABELS),
                update_strategy=k8s.apps.v1.DaemonSetUpdateStrategyArgs(type="RollingUpdate"),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=PLUGIN_LABELS),
                    spec=self._pod(args.image),
                ),
            ),
            opts=child,
        )
        self.register_outputs({})

    @staticmethod
    def _pod(image: str) -> k8s.core.v1.PodSpecArgs:
        return k8s.core.v1.PodSpecArgs(
            priority_class_name="system-node-critical",
            node_selector={POOL_LABEL: "gpu"},
            tolerations=[
                k8s.core.v1.TolerationArgs(
                    key=GPU_TAINT_KEY, operator="Exists", effect="NoSchedule"
                )
            ],
            containers=[
                k8s.core.v1.ContainerArgs(
                    name="nvidia-device-plugin",
                    image=image,
                    env=[k8s.core.v1.EnvVarArgs(name="FAIL_ON_INIT_ERROR", value="false")],
                    security_context=k8s.core.v1.SecurityContextArgs(
                        allow_privilege_escalation=False,
                        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
                    ),
                    volume_mounts=[
                        k8s.core.v1.VolumeMountArgs(
                            name="device-plugin", mount_path="/var/lib/kubelet/device-plugins"
                        )
                    ],
                )
            ],
            volumes=[
                k8s.core.v1.VolumeArgs(
                    name="device-plugin",
                    host_path=k8s.core.v1.HostPathVolumeSourceArgs(
                        path="/var/lib/kubelet/device-plugins"
                    ),
                )
            ],
        )
