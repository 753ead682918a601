"""drctl: the trt-dr operations CLI.

Each command is a thin function that parses arguments and calls one typed function in a
module of its own; command groups live beside their logic and are registered here.
Exit codes: 0 success, 1 the operation found a problem (drift, corruption, failed check),
2 bad input or configuration (what to do next is printed).
"""

from __future__ import annotations

import typer

from drctl.drill_cli import drill_app
from drctl.monitoring.cli import monitoring_app, rollout_app
from drctl.plan_cli import plan_command
from drctl.rehearse_cli import rehearse_command
from drctl.review.cli import cost_app, posture_command, review_command
from drctl.runbook.cli import runbook_app
from drctl.serving_cli import serving_app
from drctl.store.cli import status_command, store_app

app = typer.Typer(
    name="drctl",
    help="Operate trt-dr: plans, the model store, drills, runbooks and reviews.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """Operate trt-dr: plans, the model store, drills, runbooks and reviews."""


app.command("plan")(plan_command)
app.command("rehearse")(rehearse_command)
app.add_typer(drill_app, name="drill")
app.add_typer(store_app, name="store")
app.add_typer(serving_app, name="serving")
app.command("status")(status_command)
app.add_typer(cost_app, name="cost")
app.command("posture")(posture_command)
app.command("review")(review_command)
app.add_typer(runbook_app, name="runbook")
app.add_typer(monitoring_app, name="monitoring")
app.add_typer(rollout_app, name="rollout")
