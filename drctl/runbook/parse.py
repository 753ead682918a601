"""Read ``runbooks/<id>.md``: YAML front matter, then steps from fenced blocks.

markdown-it-py finds the fences (so fences inside lists, quotes or other code are handled
as any Markdown renderer would); each step's info string is split with ``shlex``. Fences
whose info string does not start with a step kind (``bash``, ``json``, ...) are prose.
"""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from pydantic import ValidationError

from drctl.runbook.errors import RunbookParseError
from drctl.runbook.model import STEP_KINDS, FrontMatter, Runbook, Step

FENCE = "---"
_LISTS = ("requires", "needs")


def split_front_matter(text: str) -> tuple[str, str, int]:
    """(front matter YAML, Markdown body, line number where the body starts)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != FENCE:
        raise RunbookParseError("a runbook must start with a '---' line opening its front matter")
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip("\r\n") == FENCE:
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 1
    raise RunbookParseError("the front matter is never closed: add a '---' line after it")


def parse_front_matter(source: str) -> FrontMatter:
    """Validate the YAML header; errors name each bad field."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise RunbookParseError(f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RunbookParseError("front matter must be a YAML mapping (id, title, trigger, ...)")
    try:
        return FrontMatter.model_validate(data)
    except ValidationError as exc:
        raise RunbookParseError(f"front matter: {_describe(exc)}") from exc


def parse_info(info: str, line: int) -> dict[str, Any] | None:
    """Attributes of a step fence (``run id=x budget=30s ...``), or None for other fences."""
    try:
        words = shlex.split(info)
    except ValueError as exc:
        raise RunbookParseError(f"line {line}: cannot split '{info}': {exc}") from exc
    if not words or words[0] not in STEP_KINDS:
        return None
    attrs: dict[str, Any] = {"kind": words[0], "line": line}
    for word in words[1:]:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise RunbookParseError(f"line {line}: '{word}' is not key=value")
        if key in attrs:
            raise RunbookParseError(f"line {line}: '{key}' given twice")
        attrs[key] = _attr_value(key, value, line)
    return attrs


def _attr_value(key: str, value: str, line: int) -> Any:
    """Typed attribute value: comma lists, exit-code lists and booleans."""
    if key in _LISTS:
        return tuple(v for v in value.split(",") if v)
    if key == "expect":
        try:
            return tuple(int(v) for v in value.split(","))
        except ValueError as exc:
            raise RunbookParseError(f"line {line}: expect={value} must list exit codes") from exc
    if key == "irreversible":
        if value not in ("true", "false"):
            raise RunbookParseError(f"line {line}: irreversible must be true or false")
        return value == "true"
    return value


def parse_steps(body: str, first_line: int) -> tuple[Step, ...]:
    """Every step fence in the body, in file order."""
    steps = []
    for token in MarkdownIt("commonmark").parse(body):
        if token.type != "fence" or token.map is None:
            continue
        line = first_line + token.map[0] + 1
        attrs = parse_info(token.info, line)
        if attrs is None:
            continue
        try:
            steps.append(Step.model_validate({**attrs, "command": token.content.strip()}))
        except ValidationError as exc:
            raise RunbookParseError(f"line {line}: {_describe(exc)}") from exc
    return tuple(steps)


def parse_text(text: str, path: str = "<text>") -> Runbook:
    """A runbook from its Markdown text."""
    front_source, body, body_line = split_front_matter(text)
    front = parse_front_matter(front_source)
    steps = parse_steps(body, body_line)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return Runbook(path=path, sha256=digest, front=front, steps=steps)


def parse_runbook(path: Path) -> Runbook:
    """Read and parse ``path``; a missing or unreadable file is bad input."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RunbookParseError(f"cannot read runbook {path}: {exc.strerror}") from exc
    try:
        return parse_text(text, str(path))
    except RunbookParseError as exc:
        raise RunbookParseError(f"{path}: {exc}") from exc


def _describe(exc: ValidationError) -> str:
    """One line per pydantic error: ``field: message``."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "value"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
