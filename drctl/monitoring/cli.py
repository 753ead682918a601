"""``drctl monitoring lint|render`` and ``drctl rollout watch``: thin commands over the package.

Exit codes: 0 ok (rules valid / canary promoted), 1 a problem found (a broken link or rule /
canary rolled back), 2 bad input (unreadable stack file, bad option).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.live import Live

from drctl.monitoring.dashboard import dashboard
from drctl.monitoring.decision import Decision, Policy
from drctl.monitoring.links import lint_links
from drctl.monitoring.live import snapshots, table
from drctl.monitoring.promql import check_groups
from drctl.monitoring.rollout import Subject, run_rollout
from drctl.monitoring.rules import rule_groups
from drctl.monitoring.source import MetricsSource, PrometheusApi, TritonMetrics
from drctl.store.cli import handled, selected, trees
from drctl.store.regions import RegionTrees
from drctl.store.rollback import rollback
from infra.config import ConfigError, MonitoringSettings

monitoring_app = typer.Typer(
    help="Alert rules, runbook links and dashboards.", no_args_is_help=True
)
rollout_app = typer.Typer(
    help="Canary rollouts that promote or roll back by themselves.", no_args_is_help=True
)
console = Console(stderr=True)
StackOpt = Annotated[str | None, typer.Option(help="Read thresholds from Pulumi.<stack>.yaml.")]


def stack_monitoring(stack: str | None) -> MonitoringSettings:
    """The stack's monitoring settings (defaults without --stack); bad config exits 2."""
    if stack is None:
        return MonitoringSettings()
    from infra.config import parse_settings
    from infra.offline import stack_config

    try:
        raw = {
            k.split(":", 1)[1]: v for k, v in stack_config(stack).items() if k.startswith("trt-dr:")
        }
        return parse_settings(raw, stack, "trt-dr").monitoring
    except (ConfigError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}; fix Pulumi.{stack}.yaml or pass another --stack")
        raise typer.Exit(2) from exc


@monitoring_app.command("lint")
def lint_command(
    runbooks: Annotated[Path, typer.Option(help="Runbook directory.")] = Path("runbooks"),
    stack: StackOpt = None,
) -> None:
    """Check every rendered rule and the alert <-> runbook links; exit 1 on any problem."""
    settings = stack_monitoring(stack)
    if not runbooks.is_dir():
        console.print(f"[red]error:[/red] {runbooks} is not a directory; pass --runbooks DIR")
        raise typer.Exit(2)
    problems = lint_links(runbooks, settings)
    for role in ("primary", "dr"):
        problems += [f"{role} rules: {p}" for p in check_groups(rule_groups(settings, role))]
    for problem in problems:
        console.print(f"[red]x[/red] {problem}")
    if problems:
        raise typer.Exit(1)
    console.print("[green]ok[/green] every alert has its runbook and every trigger an alert")


@monitoring_app.command("render")
def render_command(
    out: Annotated[Path, typer.Option(help="Directory for the rendered files.")] = Path(
        "monitoring"
    ),
    stack: StackOpt = None,
) -> None:
    """Write the rules of both roles and the Grafana dashboard (for review or a GitOps repo)."""
    settings = stack_monitoring(stack)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        f"rules-{role}.yaml": yaml.safe_dump(
            {"groups": rule_groups(settings, role)}, sort_keys=False
        )
        for role in ("primary", "dr")
    }
    files["dashboard.json"] = json.dumps(dashboard(settings), indent=2) + "\n"
    for name, text in files.items():
        temp = out / f".{name}.tmp"
        temp.write_text(text)
        temp.replace(out / name)
        console.print(f"wrote {out / name}")


def _source(triton_url: str | None, prometheus: str | None, selector: str) -> MetricsSource:
    if triton_url:
        return TritonMetrics(triton_url)
    if prometheus:
        return PrometheusApi(prometheus, selector)
    console.print("[red]error:[/red] give --canary-metrics/--baseline-metrics or --prometheus")
    raise typer.Exit(2)


def _rollback_action(regions: list[RegionTrees], model: str, to: int, load: bool) -> str:
    """Release pointer back to ``to`` in the chosen regions, Triton loads it; a summary."""
    done = []
    for tree in regions:
        urls = [tree.stack.inference_endpoint] if load and tree.stack.inference_endpoint else []
        result = rollback([tree.own], model, to, endpoints=urls, who="drctl rollout")
        done.append(f"{tree.own.name}: {result.before.get(tree.own.name)} -> {to}")
    return "; ".join(done)


def _policy(settings: MonitoringSettings, min_requests: int | None, windows: int | None) -> Policy:
    """The stack's thresholds, with the two knobs a pipeline may tighten or loosen."""
    return Policy(
        settings.error_rate,
        settings.p99_latency_ms,
        settings.canary_latency_ratio,
        settings.canary_min_requests if min_requests is None else min_requests,
        settings.canary_windows if windows is None else windows,
    )


def _show(decision: Decision) -> None:
    last = decision.evidence[-1] if decision.evidence else None
    if last is not None:
        console.print(f"window {len(decision.evidence)}: {last.verdict} ({last.reason})")


@rollout_app.command("watch")
def watch_command(
    model: Annotated[str, typer.Option(help="Model name.")],
    canary_version: Annotated[int, typer.Option(help="The version on trial.")],
    baseline_version: Annotated[int, typer.Option(help="The previous version to compare with.")],
    canary_metrics: Annotated[str | None, typer.Option(help="Canary Triton /metrics URL.")] = None,
    baseline_metrics: Annotated[str | None, typer.Option(help="Baseline /metrics URL.")] = None,
    prometheus: Annotated[str | None, typer.Option(help="Prometheus base URL instead.")] = None,
    selector: Annotated[str, typer.Option(help="Extra label matchers for Prometheus.")] = "",
    window_seconds: Annotated[float | None, typer.Option(help="Window length.")] = None,
    max_windows: Annotated[int, typer.Option(min=1, help="Windows before giving up.")] = 10,
    outputs: Annotated[list[Path] | None, typer.Option(help="Stack outputs JSON (repeat).")] = None,
    region: Annotated[list[str] | None, typer.Option(help="Roles to roll back.")] = None,
    load: Annotated[bool, typer.Option(help="Have each region's Triton load it.")] = True,
    record: Annotated[Path | None, typer.Option(help="Decision record JSON.")] = None,
    min_requests: Annotated[int | None, typer.Option(min=1, help="Per window.")] = None,
    windows: Annotated[int | None, typer.Option(min=1, help="Consecutive to decide.")] = None,
    stack: StackOpt = None,
) -> None:
    """Watch a canary against its baseline; promote (exit 0) or roll back by itself (exit 1)."""
    settings = stack_monitoring(stack)
    with handled(False):  # bad outputs or regions fail now, not after the watch
        regions = selected(trees(outputs), region)
    policy = _policy(settings, min_requests, windows)
    canary = Subject(_source(canary_metrics, prometheus, selector), model, str(canary_version))
    baseline = Subject(
        _source(baseline_metrics, prometheus, selector), model, str(baseline_version)
    )
    with handled(False):
        result = run_rollout(
            canary,
            baseline,
            policy,
            settings.canary_window_seconds if window_seconds is None else window_seconds,
            max_windows,
            lambda: _rollback_action(regions, model, baseline_version, load),
            record,
            on_window=_show,
        )
    print(json.dumps({"action": result.action, "reason": result.reason, "acted": result.acted}))
    raise typer.Exit(0 if result.action == "promote" else 1)


def _named_sources(pairs: list[str], prometheus: bool) -> dict[str, MetricsSource]:
    sources: dict[str, MetricsSource] = {}
    for pair in pairs:
        name, sep, url = pair.partition("=")
        if not sep or not name or not url:
            console.print(
                f"[red]error:[/red] {pair!r} is not REGION=URL; e.g. primary=http://h:8002/metrics"
            )
            raise typer.Exit(2)
        sources[name] = PrometheusApi(url) if prometheus else TritonMetrics(url)
    return sources


@monitoring_app.command("watch")
def watch_regions_command(
    metrics: Annotated[list[str] | None, typer.Option(help="REGION=Triton /metrics URL.")] = None,
    prometheus: Annotated[list[str] | None, typer.Option(help="REGION=Prometheus URL.")] = None,
    interval: Annotated[float, typer.Option(min=0.0, help="Seconds between refreshes.")] = 5.0,
    iterations: Annotated[int, typer.Option(min=0, help="Refreshes (0: until Ctrl-C).")] = 0,
) -> None:
    """Both regions side by side, live: request rate, errors, latency, queue per version."""
    sources = {**_named_sources(metrics or [], False), **_named_sources(prometheus or [], True)}
    if not sources:
        console.print("[red]error:[/red] give --metrics REGION=URL or --prometheus REGION=URL")
        raise typer.Exit(2)
    before, count = snapshots(sources), 0
    with Live(table(before, before, interval), console=Console(), auto_refresh=False) as live:
        while iterations == 0 or count < iterations:
            time.sleep(interval)
            after = snapshots(sources)
            live.update(table(before, after, interval), refresh=True)
            before, count = after, count + 1
