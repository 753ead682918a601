"""A small PromQL and rule-file checker: promtool is not installable from the package index.

It checks what a typo usually breaks: balanced brackets outside strings, every identifier
being a known function, keyword, label or metric (Triton, DCGM, kube-state-metrics, or a
recorded series), valid range durations, and the rule fields Prometheus requires. It is not
a full parser; ``promtool check rules`` remains the authority where it is available.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

METRICS = frozenset(
    {
        "nv_inference_request_success",
        "nv_inference_request_failure",
        "nv_inference_count",
        "nv_inference_exec_count",
        "nv_inference_request_duration_us",
        "nv_inference_queue_duration_us",
        "nv_inference_compute_infer_duration_us",
        "nv_inference_request_summary_us",
        "nv_gpu_utilization",
        "nv_gpu_memory_used_bytes",
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_FB_FREE",
        "DCGM_FI_DEV_XID_ERRORS",
        "kube_node_status_condition",
        "kube_node_labels",
        "kube_pod_status_unschedulable",
        "kube_deployment_status_replicas_available",
        "kube_deployment_spec_replicas",
    }
)
FUNCTIONS = frozenset(
    {"rate", "irate", "increase", "clamp_min", "clamp_max", "absent", "histogram_quantile"}
)
AGGREGATIONS = frozenset({"sum", "avg", "max", "min", "count", "topk", "quantile"})
KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "and", "or", "unless"})
RECORD_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
DURATION = re.compile(r"^\d+(ms|s|m|h|d|w|y)$")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_PAIRS = {")": "(", "]": "[", "}": "{"}


def _balanced(expr: str) -> bool:
    stack: list[str] = []
    for char in _STRING.sub('""', expr):
        if char in "([{":
            stack.append(char)
        elif char in _PAIRS and (not stack or stack.pop() != _PAIRS[char]):
            return False
    return not stack


def _labels(expr: str) -> set[str]:
    """Label names used in selectors and in by/on/without clauses."""
    plain = _STRING.sub('""', expr)
    names = set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", plain))
    for group in re.findall(r"\b(?:by|on|without|ignoring)\s*\(([^)]*)\)", plain):
        names |= {n.strip() for n in group.split(",") if n.strip()}
    return names


def check_expr(expr: str, recorded: Iterable[str] = ()) -> list[str]:
    """Problems in one PromQL expression (empty when it looks valid)."""
    if not expr or not expr.strip():
        return ["empty expression"]
    if not _balanced(expr):
        return [f"unbalanced brackets in {expr!r}"]
    problems = [
        f"bad range duration [{d}]"
        for d in re.findall(r"\[([^\]]*)\]", expr)
        if not DURATION.match(d)
    ]
    known = METRICS | FUNCTIONS | AGGREGATIONS | KEYWORDS | set(recorded) | _labels(expr)
    plain = re.sub(r"\[[^\]]*\]", "", _STRING.sub('""', expr))
    plain = re.sub(r"\b\d+(\.\d+)?(e-?\d+)?\b", "", plain)
    for name in _IDENT.findall(plain):
        if name not in known:
            problems.append(f"unknown metric or function {name!r} in {expr!r}")
    return problems


def check_groups(groups: list[dict[str, Any]]) -> list[str]:
    """Problems in a rule file's ``groups``: structure, names, durations, expressions."""
    problems: list[str] = []
    recorded = [r.get("record", "") for g in groups for r in g.get("rules", [])]
    names = [g.get("name") for g in groups]
    if len(set(names)) != len(names) or not all(names):
        problems.append("rule groups need unique, non-empty names")
    for group in groups:
        for rule in group.get("rules", []):
            problems += _check_rule(rule, recorded)
    return problems


def _check_rule(rule: dict[str, Any], recorded: list[str]) -> list[str]:
    if ("record" in rule) == ("alert" in rule):
        return [f"a rule needs exactly one of record/alert: {rule}"]
    problems = check_expr(str(rule.get("expr") or ""), recorded)
    if "record" in rule and not RECORD_NAME.match(rule["record"]):
        problems.append(f"bad record name {rule['record']!r}")
    if "alert" in rule:
        if not ALERT_NAME.match(rule["alert"]):
            problems.append(f"bad alert name {rule['alert']!r}")
        if "for" in rule and not DURATION.match(str(rule["for"])):
            problems.append(f"{rule['alert']}: bad for duration {rule['for']!r}")
        if not rule.get("labels", {}).get("runbook"):
            problems.append(f"{rule['alert']}: no runbook label")
    return problems
