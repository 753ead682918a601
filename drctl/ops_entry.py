"""``python -m drctl.ops_entry``: what the in-cluster monitoring CronJobs run.

It serves the same commands as the pipeline, without importing the whole drctl CLI (review,
drills, runbooks): ``rollout watch`` is :data:`drctl.monitoring.cli.rollout_app` itself,
``store-verify`` runs ``drctl store verify`` per model and publishes the outcome as a
CloudWatch metric (:mod:`drctl.store.verify_metric`), and ``quality-probe`` sends a golden
batch to every Triton pod and publishes top-1 agreement (:mod:`drctl.monitoring.quality`).
In the cluster there is no Pulumi stack file, so the stack's ``trt-dr:monitoring``
thresholds arrive as a JSON file named by ``$TRT_DR_MONITORING`` (rendered by
infra/monitoring_jobs.py), which ``rollout watch`` reads when no ``--stack`` is given
(:mod:`drctl.monitoring.thresholds`). Stack outputs come from ``$TRT_DR_OUTPUTS`` as
everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import boto3
import typer
from botocore.exceptions import BotoCoreError, ClientError

from drctl.monitoring import cli as monitoring_cli
from drctl.monitoring.quality import NAMESPACE as QUALITY_NAMESPACE
from drctl.monitoring.quality import (
    GoldenInvalid,
    QualityResult,
    golden_key,
    probe,
    put_quality_metric,
    read_golden,
)
from drctl.store.cli import handled, store_app
from drctl.store.outputs import load_outputs
from drctl.store.regions import pick, region_trees
from drctl.store.triton import client as triton_client
from drctl.store.triton import pod_endpoints
from drctl.store.verify_metric import NAMESPACE, VerifyOutcome, put_verify_metric

app = typer.Typer(
    help="In-cluster trt-dr jobs: rollout watch and store verify as a metric. Exit codes: "
    "0 ok, 1 a problem found (rolled back / verify failed), 2 bad input.",
    no_args_is_help=True,
)
app.add_typer(monitoring_cli.rollout_app, name="rollout")
err = monitoring_cli.console


def cloudwatch(region: str) -> Any:
    """A CloudWatch client for the stack's region."""
    return boto3.client("cloudwatch", region_name=region)


def publish(send: Callable[[], object], namespace: str) -> None:
    """Send one datapoint; a refused or failed call exits 2 naming what to check."""
    try:
        send()
    except (BotoCoreError, ClientError) as exc:
        err.print(
            f"[red]error:[/red] cannot publish to CloudWatch {namespace}: {exc}; check the "
            "job role's cloudwatch:PutMetricData condition (docs/monitoring-jobs.md)"
        )
        raise typer.Exit(2) from exc


def verify_exit_code(model: str, region: str, hash_bytes: bool) -> int:
    """Run ``drctl store verify MODEL --region REGION --json``; its exit code."""
    args = ["verify", model, "--region", region, "--json"]
    args += [] if hash_bytes else ["--no-hash"]
    command = typer.main.get_command(store_app)
    try:
        result = command.main(args, prog_name="drctl store", standalone_mode=False)
    except typer.TyperException as exc:  # a usage error inside the store command
        err.print(f"[red]error:[/red] drctl store {' '.join(args)}: {exc}")
        return 2
    return result if isinstance(result, int) else 0


@app.command("store-verify")
def store_verify_command(
    model: Annotated[list[str], typer.Option(help="Model to verify (repeat).")],
    region: Annotated[str, typer.Option(help="Stack role whose tree to verify.")],
    aws_region: Annotated[
        str, typer.Option(envvar="AWS_REGION", help="AWS region of the metric (the stack's).")
    ],
    namespace: Annotated[str, typer.Option(help="CloudWatch namespace.")] = NAMESPACE,
    hash_bytes: Annotated[bool, typer.Option("--hash/--no-hash", help="Hash every byte.")] = True,
) -> None:
    """Verify every model's release and publish how many failed (0 ok, 1 failed, 2 bad input).

    A run that could not verify (bad outputs, no access: exit 2) publishes nothing: the alarm
    treats the missing datapoint as breaching, and the Job's failure shows in kubectl.
    """
    codes = {m: verify_exit_code(m, region, hash_bytes) for m in model}
    broken = sorted(m for m, code in codes.items() if code not in (0, 1))
    if broken:
        err.print(
            f"[red]error:[/red] verify could not run for {', '.join(broken)} (see its error "
            f"above); no metric published; check $TRT_DR_OUTPUTS and the store-verifier role"
        )
        raise typer.Exit(2)
    outcome = VerifyOutcome(aws_region, tuple(model), tuple(m for m in model if codes[m] == 1))
    publish(lambda: put_verify_metric(cloudwatch(aws_region), outcome, namespace), namespace)
    err.print(f"published {len(outcome.failed)} failed of {len(model)} to {namespace}")
    raise typer.Exit(0 if outcome.ok else 1)


@app.command("quality-probe")
def quality_probe_command(
    model: Annotated[str, typer.Option(help="Model whose golden batch to send.")],
    region: Annotated[str, typer.Option(help="Stack role whose tree holds quality/<m>.npz.")],
    aws_region: Annotated[
        str, typer.Option(envvar="AWS_REGION", help="AWS region of the metric (the stack's).")
    ],
    endpoint: Annotated[list[str] | None, typer.Option(help="Triton URL (repeat).")] = None,
    pods: Annotated[str | None, typer.Option(help="Headless Service host:port.")] = None,
    min_agreement: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.99,
    output: Annotated[str | None, typer.Option(help="Output (default: the first).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Samples per request.")] = 8,
    namespace: Annotated[str, typer.Option(help="CloudWatch namespace.")] = QUALITY_NAMESPACE,
) -> None:
    """Top-1 agreement of every pod with the golden batch, published (0 ok, 1 below, 2 bad)."""
    with handled(False):
        store = pick(region_trees(load_outputs()), region).own
        try:
            golden = read_golden(store.s3, store.bucket, store.key(golden_key(model)))
        except GoldenInvalid as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        urls = list(endpoint or []) or (pod_endpoints(pods) if pods else [])
    if not urls:
        err.print("[red]error:[/red] give --endpoint URL (repeat) or --pods HOST:PORT")
        raise typer.Exit(2)
    found = probe({u: triton_client(u) for u in urls}, model, golden, output, batch_size)
    if not found:
        err.print(f"[red]error:[/red] no pod answered for {model}; no metric published")
        raise typer.Exit(2)
    result = QualityResult(aws_region, model, found)
    publish(lambda: put_quality_metric(cloudwatch(aws_region), result, namespace), namespace)
    print(json.dumps({"model": model, "agreement": found, "min_agreement": min_agreement}))
    raise typer.Exit(0 if result.worst >= min_agreement else 1)


if __name__ == "__main__":
    app()
