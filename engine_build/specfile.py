"""Reading build specs from YAML: a ModelSpec file, or a Pulumi stack config's model list.

A spec file is one ModelSpec mapping (camelCase or snake_case keys). A stack config file
(``Pulumi.<stack>.yaml``) holds ``config: {trt-dr:models: [...]}``; pick one with ``model``.
Relative local paths inside a spec are resolved against the spec file's directory, so a
spec and its model can travel together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from engine_build.errors import SpecFileError, UnknownTargetError
from engine_build.spec import ModelSpec, Target, parse_target

STACK_MODELS_KEY = "trt-dr:models"
PATH_FIELDS = ("onnx", "calibration", "validation")


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise SpecFileError(f"spec file {path} does not exist") from exc
    except (OSError, yaml.YAMLError) as exc:
        raise SpecFileError(f"spec file {path} is not readable YAML: {exc}") from exc


def _pick(document: Any, path: Path, model: str | None) -> dict[str, Any]:
    config = document.get("config") if isinstance(document, dict) else None
    if isinstance(config, dict) and STACK_MODELS_KEY in config:
        models = config[STACK_MODELS_KEY] or []
        names = [m.get("name") for m in models if isinstance(m, dict)]
        chosen = [m for m in models if isinstance(m, dict) and m.get("name") == model]
        if not chosen:
            raise SpecFileError(f"{path} is a stack config; pass --model, one of {names}")
        return dict(chosen[0])
    if not isinstance(document, dict):
        raise SpecFileError(f"spec file {path} must hold a mapping (one ModelSpec)")
    if model is not None and document.get("name") != model:
        raise SpecFileError(f"spec file {path} describes {document.get('name')!r}, not {model!r}")
    return dict(document)


def _resolve_paths(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    for field in PATH_FIELDS:
        value = raw.get(field)
        if (
            isinstance(value, str)
            and not value.startswith("s3://")
            and not Path(value).is_absolute()
        ):
            raw[field] = str((base / value).resolve())
    return raw


def load_spec(path: Path, model: str | None = None) -> ModelSpec:
    """The ModelSpec in ``path`` (see module doc); SpecFileError says what is wrong."""
    raw = _resolve_paths(_pick(_read_yaml(path), path, model), path.parent)
    try:
        return ModelSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'spec'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SpecFileError(f"spec file {path} is not a valid model spec: {problems}") from exc


def load_target(text: str) -> Target:
    """``parse_target`` with an UnknownTargetError that the CLI maps to exit code 2."""
    try:
        return parse_target(text)
    except ValueError as exc:
        raise UnknownTargetError(str(exc)) from exc
