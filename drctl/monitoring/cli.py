"""``drctl monitoring lint|render`` and ``drctl rollout watch``: thin commands over the package.

Exit codes: 0 ok (rules valid / canary promoted), 1 a problem found (a broken link or rule /
canary rolled back), 2 bad input (unreadable stack file, bad option).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.live import Live

from drctl.atomic import write_atomic
from drctl.monitoring.dashboard import dashboard
from drctl.monitoring.decision import Decision, Policy
from drctl.monitoring.errors import MonitoringFileError
from drctl.monitoring.links import lint_links
from drctl.monitoring.live import snapshots, table
from drctl.monitoring.promql import check_groups
from drctl.monitoring.rollout import Subject, run_rollout
from drctl.monitoring.rules import rule_groups
from drctl.monitoring.source import MetricsSource, PrometheusApi, TritonMetrics
from drctl.monitoring.thresholds import rendered_monitoring
from drctl.store.canary import CanaryResult, abort_canary, promote_canary, read_canary
from drctl.store.cli import EndpointSetOpt, handled, selected, trees
from drctl.store.errors import TritonLoadFailed
from drctl.store.regions import RegionTrees
from drctl.store.rollback import rollback
from drctl.store.triton import reload_model
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
    """``--stack``'s settings, else ``$TRT_DR_MONITORING``'s, else defaults; bad ones exit 2."""
    if stack is None:
        try:
            return rendered_monitoring() or MonitoringSettings()
        except MonitoringFileError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
    from infra.config import settings_from_file
    from infra.offline import PROJECT_DIR

    try:
        return settings_from_file(stack, PROJECT_DIR).monitoring
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
        write_atomic(out / name, text)
        console.print(f"wrote {out / name}")


def _source(triton_url: str | None, prometheus: str | None, selector: str) -> MetricsSource:
    if triton_url:
        return TritonMetrics(triton_url)
    if prometheus:
        return PrometheusApi(prometheus, selector)
    console.print("[red]error:[/red] give --canary-metrics/--baseline-metrics or --prometheus")
    raise typer.Exit(2)


def _endpoints(tree: RegionTrees, load: bool, endpoint_set: str | None) -> list[str]:
    """The NLB URL to load on (one pod) when no endpoint set reaches every pod."""
    use_nlb = load and not endpoint_set and tree.stack.inference_endpoint
    return [tree.stack.inference_endpoint] if use_nlb else []  # type: ignore[list-item]


def _rollback_action(
    regions: list[RegionTrees], model: str, to: int, load: bool, endpoint_set: str | None
) -> str:
    """Release pointer back to ``to`` in the chosen regions, Triton loads it; a summary."""
    done = []
    for tree in regions:
        urls = _endpoints(tree, load, endpoint_set)
        result = rollback([tree.own], model, to, endpoints=urls, who="drctl rollout")
        pods = reload_model(model, [], endpoint_set if load else None)
        done.append(f"{tree.own.name}: {result.before.get(tree.own.name)} -> {to}")
        done[-1] += f" (reloaded on {len(result.loaded) + len(pods)})"
    return "; ".join(done)


def _canary_action(
    tree: RegionTrees, act: Callable[[], CanaryResult], load: bool, endpoint_set: str | None
) -> Callable[[], str]:
    """Promote or abort the region's canary in the store, then reload; a summary."""

    def run() -> str:
        result = act()
        urls = _endpoints(tree, load, endpoint_set)
        try:
            loaded = reload_model(result.model, urls, endpoint_set if load else None)
        except TritonLoadFailed as exc:
            verb = "promote" if result.state == "promoted" else "abort"
            raise TritonLoadFailed(
                f"{exc}; the store already shows the canary {result.state}: reload with "
                f"`drctl store {verb} {result.model} --region {tree.own.name} "
                "--load-endpoint-set ...` (a re-run of the watch finds no canary)"
            ) from exc
        return (
            f"{tree.own.name}: canary {result.version} {result.state} "
            f"(baseline {result.baseline}), reloaded on {len(loaded)}"
        )

    return run


def _from_release(regions: list[RegionTrees], model: str) -> tuple[int, int, str]:
    """(canary, baseline, trial id) from the region's canary pointer; no canary -> exit 0."""
    if len(regions) != 1:
        console.print("[red]error:[/red] --from-release needs exactly one --region (primary or dr)")
        raise typer.Exit(2)
    tree = regions[0]
    with handled(False):
        pointer, _ = read_canary(tree.own, model)
    if pointer is None:
        console.print(f"no canary of {model} in progress in {tree.own.name}; nothing to watch")
        print(json.dumps({"action": "none", "reason": "no canary in progress", "acted": ""}))
        raise typer.Exit(0)
    console.print(f"{model}: canary {pointer.version} vs baseline {pointer.baseline}")
    return pointer.version, pointer.baseline, pointer.trial


def _actions(
    regions: list[RegionTrees],
    model: str,
    baseline: int,
    from_release: bool,
    reload: tuple[bool, str | None],
) -> tuple[Callable[[], str], Callable[[], str] | None]:
    """(rollback, promote): store canary abort/promote + reload, or pointer back + reload."""
    load, endpoint_set = reload
    if not from_release:
        return lambda: _rollback_action(regions, model, baseline, load, endpoint_set), None
    tree = regions[0]
    return (
        _canary_action(tree, lambda: abort_canary(tree.own, model), load, endpoint_set),
        _canary_action(
            tree, lambda: promote_canary(tree.own, model, "drctl rollout"), load, endpoint_set
        ),
    )


def _versions(
    regions: list[RegionTrees], model: str, from_release: bool, given: tuple[int | None, ...]
) -> tuple[int, int, str]:
    """(canary, baseline, trial): from the store, or both given explicitly (else exit 2)."""
    canary, baseline = given
    if from_release and given == (None, None):
        return _from_release(regions, model)
    if from_release or canary is None or baseline is None:
        console.print(
            "[red]error:[/red] give --from-release (versions from the store) or both "
            "--canary-version and --baseline-version, not a mix"
        )
        raise typer.Exit(2)
    return canary, baseline, ""


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
    canary_version: Annotated[int | None, typer.Option(help="The version on trial.")] = None,
    baseline_version: Annotated[
        int | None, typer.Option(help="The version to compare with.")
    ] = None,
    from_release: Annotated[
        bool, typer.Option("--from-release", help="Versions from the region's canary pointer.")
    ] = False,
    canary_metrics: Annotated[str | None, typer.Option(help="Canary Triton /metrics URL.")] = None,
    baseline_metrics: Annotated[str | None, typer.Option(help="Baseline /metrics URL.")] = None,
    prometheus: Annotated[str | None, typer.Option(help="Prometheus base URL instead.")] = None,
    selector: Annotated[str, typer.Option(help="Extra label matchers for Prometheus.")] = "",
    window_seconds: Annotated[float | None, typer.Option(help="Window length.")] = None,
    max_windows: Annotated[int, typer.Option(min=1, help="Windows before giving up.")] = 10,
    outputs: Annotated[list[Path] | None, typer.Option(help="Stack outputs JSON (repeat).")] = None,
    region: Annotated[list[str] | None, typer.Option(help="Roles to roll back.")] = None,
    load: Annotated[bool, typer.Option(help="Have each region's Triton load it.")] = True,
    load_endpoint_set: EndpointSetOpt = None,
    record: Annotated[Path | None, typer.Option(help="Decision record JSON.")] = None,
    min_requests: Annotated[int | None, typer.Option(min=1, help="Per window.")] = None,
    windows: Annotated[int | None, typer.Option(min=1, help="Consecutive to decide.")] = None,
    stack: StackOpt = None,
) -> None:
    """Watch a canary against its baseline; promote (exit 0) or roll back by itself (exit 1)."""
    settings = stack_monitoring(stack)
    with handled(False):  # bad outputs or regions fail now, not after the watch
        regions = selected(trees(outputs), region)
    given = (canary_version, baseline_version)
    canary_v, baseline_v, trial = _versions(regions, model, from_release, given)
    canary = Subject(_source(canary_metrics, prometheus, selector), model, str(canary_v))
    baseline = Subject(_source(baseline_metrics, prometheus, selector), model, str(baseline_v))
    undo, keep = _actions(regions, model, baseline_v, from_release, (load, load_endpoint_set))
    with handled(False):
        result = run_rollout(
            canary,
            baseline,
            _policy(settings, min_requests, windows),
            settings.canary_window_seconds if window_seconds is None else window_seconds,
            max_windows,
            undo,
            record,
            on_window=_show,
            promote=keep,
            trial=trial,
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
