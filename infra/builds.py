"""Engine builds during `pulumi up`: upload each model's inputs, then build it in a Job.

Per model and target (this region's GPU, the portable ``ampere+`` engine, the ONNX Runtime
CPU twin) one Kubernetes Job runs ``python -m engine_build build`` in the TensorRT container
of the pinned release. The Job's name carries the build key, so an unchanged model changes
nothing and any change to ONNX, spec, GPU type or release makes exactly one new Job.
Builder code reaches the container through a ConfigMap (see docs/serving.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import yaml

from engine_build.graph import onnx_digest, sha256_file
from engine_build.key import backend_version_for_release, build_key
from engine_build.spec import ModelSpec, Target
from infra.code_bundle import CODE_MOUNT, code_config_map
from infra.config import GpuSettings, Settings
from infra.jobs import JobSpec, job
from infra.workload_iam import WorkloadAccess, irsa_service_account, s3_statements

BUILD_NAMESPACE = "trt-dr-build"
REQUIREMENTS = Path(__file__).with_name("builder-requirements.txt")


def pinned_version(package: str) -> str:
    """The version of ``package`` pinned in builder-requirements.txt."""
    for line in REQUIREMENTS.read_text().splitlines():
        name, _, version = line.partition("==")
        if name.split("[")[0].strip().lower() == package:
            return version.strip()
    raise KeyError(f"{package} is not pinned in {REQUIREMENTS.name}")


def targets(gpu: GpuSettings, fallbacks: bool, gpu_nodes: int) -> list[Target]:
    """This region's GPU target and the portable fallbacks; GPU ones only where GPUs run.

    A pilot-light region has no GPU node at `pulumi up` time, so its GPU builds would wait
    forever: only the CPU twin is built there (docs/serving.md, pilot-light).
    """
    region_target = Target(kind="gpu", sku=gpu.sku, compute_capability=gpu.compute_capability)
    chosen = [region_target, Target(kind="portable")] if fallbacks else [region_target]
    if gpu_nodes == 0:
        chosen = []
    return [*chosen, Target(kind="cpu")] if fallbacks or gpu_nodes == 0 else chosen


def backend_version(target: Target, release: str) -> str:
    """Exact backend version in the builder: TensorRT of the release, or the pinned ORT."""
    if target.backend == "tensorrt":
        return backend_version_for_release(release)
    return pinned_version("onnxruntime")


@dataclass(frozen=True)
class ModelInputs:
    """A model's files, their digests, and where they land in the bucket."""

    spec: ModelSpec
    onnx_path: Path
    onnx_sha256: str
    data: dict[str, tuple[Path, str]] = field(default_factory=dict)

    def key_of(self, role: str, region: str) -> str:
        """Content-addressed object key of ``role`` (onnx, calibration, validation)."""
        if role == "onnx":
            return f"{region}/inputs/onnx/{self.onnx_sha256}.onnx"
        return f"{region}/inputs/data/{self.data[role][1]}.npz"

    def job_spec(self, bucket: str, region: str) -> ModelSpec:
        """The spec the Job reads: the same model, its files at their bucket keys."""
        where = {role: f"s3://{bucket}/{self.key_of(role, region)}" for role in self.data}
        return self.spec.model_copy(
            update={"onnx": f"s3://{bucket}/{self.key_of('onnx', region)}", **where}
        )

    def key(self, target: Target, release: str, image: str) -> str:
        """The build key engine_build will compute inside the Job for this target."""
        return build_key(
            self.spec,
            target,
            onnx_sha256=self.onnx_sha256,
            backend_version=backend_version(target, release),
            builder_image=image,
            data_sha256={role: digest for role, (_, digest) in self.data.items()},
        )


def model_inputs(spec: ModelSpec, project_dir: Path) -> ModelInputs:
    """Digest a model's local files (paths were checked by infra.serving_checks)."""
    onnx_path = project_dir / spec.onnx
    data = {}
    for role in ("calibration", "validation"):
        location = getattr(spec, role)
        if location:
            path = project_dir / location
            data[role] = (path, sha256_file(path))
    return ModelInputs(spec, onnx_path, onnx_digest(onnx_path), data)


def job_name(kind: str, model: str, target: Target, key: str) -> str:
    """DNS-1123 Job name carrying the build key: ``build-classifier-sm90-1a2b3c4d5e6f``."""
    return f"{kind}-{model[:24].replace('_', '-')}-{target.label}-{key[:12]}".lower()


@dataclass(frozen=True)
class EngineBuildsArgs:
    """Inputs of :class:`EngineBuilds`."""

    name: str
    settings: Settings
    project_dir: Path
    access: WorkloadAccess
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)


class EngineBuilds(pulumi.ComponentResource):
    """Inputs uploaded, one build Job per model and target, one publish Job per model."""

    publish_jobs: list[k8s.batch.v1.Job]
    build_keys: dict[str, str]

    def __init__(self, args: EngineBuildsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("trt-dr:infra:EngineBuilds", args.name, None, opts)
        self._args = args
        self._aws = pulumi.ResourceOptions(parent=self, provider=args.access.aws_provider)
        self._k8s = pulumi.ResourceOptions(parent=self, provider=args.access.kube_provider)
        region = args.settings.region
        namespace = k8s.core.v1.Namespace(
            f"{args.name}-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=BUILD_NAMESPACE),
            opts=pulumi.ResourceOptions.merge(
                self._k8s, pulumi.ResourceOptions(depends_on=list(args.depends_on))
            ),
        )
        self._ns = namespace.metadata.name
        self._builder_sa = self._service_account(
            "engine-builder",
            read=[f"{region}/inputs/", f"{region}/engines/"],
            write=[f"{region}/engines/"],
        )
        store = [
            f"{region}/{p}/" for p in ("staging", "claims", "versions", "repository", "releases")
        ]
        self._publisher_sa = self._service_account(
            "model-publisher", read=[f"{region}/engines/", *store], write=store, delete=True
        )
        self._code = code_config_map(f"{args.name}-code", self._ns, REQUIREMENTS, self._k8s)
        self.publish_jobs = []
        self.build_keys = {}
        for spec in args.settings.models:
            self._model(model_inputs(spec, args.project_dir))
        self.register_outputs({"buildKeys": self.build_keys})

    def _service_account(
        self, name: str, read: list[str], write: list[str], delete: bool = False
    ) -> pulumi.Output[str]:
        args = self._args
        statements = pulumi.Output.all(args.access.bucket_arn, args.access.kms_key_arn).apply(
            lambda v: s3_statements(v[0], v[1], read, write, delete)
        )
        return irsa_service_account(
            f"{args.name}-{name}", args.access, (BUILD_NAMESPACE, self._ns), name, statements, self
        )

    def _upload(self, inputs: ModelInputs) -> list[pulumi.Resource]:
        region, model = self._args.settings.region, inputs.spec.name
        files = {"onnx": inputs.onnx_path, **{r: p for r, (p, _) in inputs.data.items()}}
        return [
            aws.s3.BucketObjectv2(
                f"{self._args.name}-{model}-{role}",
                bucket=self._args.access.bucket_name,
                key=inputs.key_of(role, region),
                source=pulumi.FileAsset(str(path)),
                opts=self._aws,
            )
            for role, path in files.items()
        ]

    def _spec_map(self, inputs: ModelInputs, uploads: list[pulumi.Resource]) -> pulumi.Output[str]:
        settings, model = self._args.settings, inputs.spec.name
        text = pulumi.Output.from_input(self._args.access.bucket_name).apply(
            lambda bucket: yaml.safe_dump(
                inputs.job_spec(bucket, settings.region).model_dump(mode="json", by_alias=True),
                sort_keys=True,
            )
        )
        digest = hashlib.sha256(f"{inputs.onnx_sha256}{inputs.spec.model_dump_json()}".encode())
        config_map = k8s.core.v1.ConfigMap(
            f"{self._args.name}-{model}-spec",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"spec-{model.replace('_', '-')}-{digest.hexdigest()[:10]}", namespace=self._ns
            ),
            data={"spec.yaml": text},
            opts=pulumi.ResourceOptions.merge(
                self._k8s, pulumi.ResourceOptions(depends_on=uploads)
            ),
        )
        return config_map.metadata.name

    def _model(self, inputs: ModelInputs) -> None:
        settings = self._args.settings
        spec_map = self._spec_map(inputs, self._upload(inputs))
        out = pulumi.Output.concat(
            "s3://", self._args.access.bucket_name, f"/{settings.region}/engines"
        )
        gpu_nodes = settings.gpu_node_size.desired
        for target in targets(settings.gpu, settings.builds.fallbacks, gpu_nodes):
            key = inputs.key(target, settings.release, settings.builder_image)
            self.build_keys[f"{inputs.spec.name}/{target.label}"] = key
            build = self._job("build", inputs, target, key, spec_map, out)
            if target.kind == "gpu":
                self.publish_jobs.append(
                    self._job("publish", inputs, target, key, spec_map, out, build)
                )

    def _job(
        self,
        kind: str,
        inputs: ModelInputs,
        target: Target,
        key: str,
        spec_map: pulumi.Output[str],
        out: pulumi.Output[str],
        after: k8s.batch.v1.Job | None = None,
    ) -> k8s.batch.v1.Job:
        settings = self._args.settings
        spec = JobSpec(
            name=job_name(kind, inputs.spec.name, target, key),
            namespace=self._ns,
            image=settings.builder_image,
            service_account=self._builder_sa if kind == "build" else self._publisher_sa,
            command=build_command(target, settings, out)
            if kind == "build"
            else publish_command(
                inputs.spec.name, target, key, self._args.access.bucket_name, settings.region
            ),
            spec_config_map=spec_map,
            code_config_map=self._code,
            gpu=target.kind != "cpu" and kind == "build",
            gpu_sku=settings.gpu.sku,
            region=settings.region,
            timeout_minutes=settings.builds.timeout_minutes,
        )
        extra = pulumi.ResourceOptions(depends_on=[after] if after else [])
        return job(
            f"{self._args.name}-{spec.name}", spec, pulumi.ResourceOptions.merge(self._k8s, extra)
        )


def build_command(
    target: Target, settings: Settings, out: pulumi.Output[str]
) -> pulumi.Output[str]:
    """The build step: ``python -m engine_build build`` for one target."""
    target_arg = {"gpu": f"gpu:{target.sku}:{target.compute_capability}", "portable": "ampere+"}
    version = (
        f"--trt-release {settings.release}"
        if target.backend == "tensorrt"
        else f"--backend-version {pinned_version('onnxruntime')}"
    )
    return out.apply(
        lambda store: (
            f"python3 -m engine_build build --spec /spec/spec.yaml "
            f"--target {target_arg.get(target.kind, 'cpu')} --out {store} "
            f"--builder-image {settings.builder_image} {version}"
        )
    )


def publish_command(
    model: str, target: Target, key: str, bucket: pulumi.Input[str], region: str
) -> pulumi.Output[str]:
    """The publish step: release the accepted build into the region's Triton repository."""
    return pulumi.Output.from_input(bucket).apply(
        lambda name: (
            f"python3 -m drctl.publish_job --bucket {name} --root {region} "
            f"--model {model} --target {target.label} --key {key}"
        )
    )


__all__ = ["BUILD_NAMESPACE", "CODE_MOUNT", "EngineBuilds", "EngineBuildsArgs", "job_name"]
