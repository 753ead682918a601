"""Preview-time checks of the serving layer: one release, enough GPUs, buildable models.

These run before any Kubernetes object is declared, so ``pulumi preview`` stops with the key
to fix instead of a Job failing forty minutes into ``pulumi up``.
"""

from __future__ import annotations

from pathlib import Path

from engine_build.errors import EngineBuildError
from engine_build.graph import check_spec_against_graph, load_model
from engine_build.key import backend_version_for_release
from engine_build.spec import ModelSpec
from infra.config import NAMESPACE, TIERS, ConfigError, Settings

# TensorRT 10 (NGC 24.05 and later) builds for Turing (7.5) and newer; `ampere+` needs 8.0+.
TENSORRT_MIN_CC = 7.5
AMPERE_PLUS_MIN_CC = 8.0


def image_release(image: str) -> str:
    """The NGC release of an image reference: ``.../tritonserver:24.10-py3`` -> ``24.10``."""
    tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
    return tag.split("-", 1)[0]


def check_serving(settings: Settings, project_dir: Path) -> None:
    """Every serving rule; the first failure raises ConfigError naming its key."""
    check_releases(settings)
    check_replicas(settings)
    for index, model in enumerate(settings.models):
        check_model(settings, index, model, project_dir)


def check_releases(settings: Settings) -> None:
    """Triton and the builder must come from one release: engines only load there."""
    triton, builder = image_release(settings.triton_image), image_release(settings.builder_image)
    if triton != builder:
        raise ConfigError(
            f"{NAMESPACE}:triton.image is release {triton or '?'} but {NAMESPACE}:builds.image is "
            f"release {builder or '?'}: TensorRT engines only load in the TensorRT version that "
            f"built them; use one release (unset both and set {NAMESPACE}:release)"
        )
    if triton != settings.release:
        raise ConfigError(
            f"the images are release {triton} but {NAMESPACE}:release is {settings.release}; "
            "make them agree"
        )
    try:
        backend_version_for_release(settings.release)
    except EngineBuildError as error:
        raise ConfigError(f"{NAMESPACE}:release: {error}") from None


def check_replicas(settings: Settings) -> None:
    """Tiers complete, 3+ replicas where the region serves traffic, GPUs to run them."""
    replicas = settings.triton.replicas
    if sorted(replicas) != sorted(TIERS):
        raise ConfigError(f"{NAMESPACE}:triton.replicas needs exactly the tiers {', '.join(TIERS)}")
    wanted = settings.triton_replicas
    if settings.serves_traffic and wanted < 3:
        raise ConfigError(
            f"{NAMESPACE}:triton.replicas.{settings.dr_tier} is {wanted}, but this region serves "
            "traffic in that tier: use at least 3"
        )
    gpus = settings.gpu_node_size.desired * settings.gpu.gpus_per_node
    needed = wanted * settings.triton.gpus_per_pod
    if needed > gpus:
        raise ConfigError(
            f"{NAMESPACE}:triton.replicas.{settings.dr_tier}={wanted} x gpusPerPod="
            f"{settings.triton.gpus_per_pod} needs {needed} GPUs but {NAMESPACE}:gpuNodes."
            f"{settings.dr_tier}.desired x gpu.gpusPerNode gives {gpus}; raise one or lower "
            "the other"
        )


def model_path(project_dir: Path, location: str, key: str) -> Path:
    """A model file given in config, relative to the project; s3:// is not built in `up`."""
    if "://" in location:
        raise ConfigError(
            f"{key} is {location!r}: engine builds in `pulumi up` read local files (they are "
            "uploaded under content-addressed keys); give a path relative to the project"
        )
    path = project_dir / location
    if not path.is_file():
        raise ConfigError(f"{key}: file {path} does not exist")
    return path


def check_model(settings: Settings, index: int, model: ModelSpec, project_dir: Path) -> None:
    """The model can be built for this region's GPU (and its fallbacks), shapes match."""
    key = f"{NAMESPACE}:models[{index}]"
    cc = float(settings.gpu.compute_capability)
    if cc < TENSORRT_MIN_CC:
        raise ConfigError(
            f"{key} ({model.name}) cannot be built for {settings.gpu.sku} (compute capability "
            f"{cc}): TensorRT {settings.release} needs {TENSORRT_MIN_CC}+; change "
            f"{NAMESPACE}:gpu or serve the CPU twin"
        )
    if settings.builds.fallbacks and cc < AMPERE_PLUS_MIN_CC:
        raise ConfigError(
            f"{key} ({model.name}): the ampere+ fallback engine must be built on an Ampere or "
            f"newer GPU, and {settings.gpu.sku} is {cc}; "
            f"`pulumi config set --path {NAMESPACE}:builds.fallbacks false`"
        )
    for number, spec_input in enumerate(model.inputs):
        if model.max_batch and spec_input.max[0] > model.max_batch:
            raise ConfigError(
                f"{key}.inputs[{number}].max batch {spec_input.max[0]} exceeds "
                f"{key}.maxBatch {model.max_batch}"
            )
    onnx_path = model_path(project_dir, model.onnx, f"{key}.onnx")
    for role in ("calibration", "validation"):
        location = getattr(model, role)
        if location:
            model_path(project_dir, location, f"{key}.{role}")
    try:
        check_spec_against_graph(model, load_model(onnx_path))
    except EngineBuildError as error:
        raise ConfigError(f"{key} ({model.name}): {error}") from None
