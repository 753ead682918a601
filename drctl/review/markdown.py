"""Markdown for the pull-request comment: cost delta, tier comparison, posture, plan.

The layout follows what reviewers know from Infracost comments: a headline monthly delta, a
table per stack, then per-resource details in a collapsed block. ``MARKER`` lets the workflow
find and update its own comment instead of adding a new one on every push.
"""

from __future__ import annotations

from drctl.plan import StackPlan
from drctl.review.cost import CostLine
from drctl.review.diff import CostDiff, ResourceDelta
from drctl.review.posture import Posture
from drctl.review.tiers import TierCost

MARKER = "<!-- trt-dr-review -->"
OPS = ("create", "update", "replace", "delete")


def usd(value: float, signed: bool = False) -> str:
    """``$1,234.56``; with ``signed``, ``+$1.00`` / ``-$1.00``."""
    text = f"${abs(value):,.2f}"
    if not signed:
        return f"-{text}" if value < 0 else text
    return f"+{text}" if value > 0 else (f"-{text}" if value < 0 else text)


def headline(diff: CostDiff) -> str:
    """One sentence: direction, amount, percent, from and to."""
    pct = "" if diff.percent is None else f" ({diff.percent:+.1f}%)"
    span = f"from {usd(diff.base_usd)} to {usd(diff.head_usd)}"
    if diff.delta > 0:
        return f"**Monthly cost will increase by {usd(diff.delta)}**{pct}, {span}."
    if diff.delta < 0:
        return f"**Monthly cost will decrease by {usd(-diff.delta)}**{pct}, {span}."
    return f"**Monthly cost will not change** ({usd(diff.head_usd)})."


def unit_usd(value: float) -> str:
    """A unit price with as many decimals as it has (at least two): ``$0.045``, ``$55.04``."""
    whole, decimals = f"{value:,.4f}".split(".")
    return f"${whole}.{decimals.rstrip('0').ljust(2, '0')}"


def _line(sign: str, line: CostLine) -> str:
    flag = " (unverified price)" if line.unverified else ""
    qty = f"{line.quantity:g} {line.unit} x {unit_usd(line.unit_usd)}"
    return f"  {sign} {line.description:<44} {qty:<28} {usd(line.monthly_usd):>12}{flag}"


def _resource_block(res: ResourceDelta) -> list[str]:
    lines = [f"{res.status:>9} {res.resource} ({res.type}): {usd(res.delta, signed=True)}"]
    lines += [_line("-", line) for line in res.base_lines]
    lines += [_line("+", line) for line in res.head_lines]
    return lines


def render_cost_diff(diff: CostDiff) -> str:
    """Headline, per-stack table and collapsed per-resource details."""
    out = ["### Monthly cost", "", headline(diff), ""]
    out += ["| Stack | Region | Baseline | New monthly | Change |", "|---|---|---:|---:|---:|"]
    for s in diff.stacks:
        change = usd(s.delta, signed=True)
        out.append(f"| {s.stack} | {s.region} | {usd(s.base_usd)} | {usd(s.head_usd)} | {change} |")
    changed = [(s, r) for s in diff.stacks for r in s.changed]
    if not changed:
        return "\n".join([*out, "", "No priced resource changed."])
    out += ["", "<details><summary>Cost details: changed resources</summary>", ""]
    for stack in diff.stacks:
        if not stack.changed:
            continue
        out += [f"**{stack.stack}** ({stack.region}): {usd(stack.delta, signed=True)}", "", "```"]
        for res in stack.changed:
            out += _resource_block(res)
        out += ["```", ""]
    out.append("</details>")
    return "\n".join(out)


def render_tiers(tiers: list[TierCost], current: str) -> str:
    """Pilot-light, warm-standby and active-active monthly cost side by side."""
    stacks = list(tiers[0].stacks) if tiers else []
    base = next((t.total for t in tiers if t.tier == current), 0.0)
    out = ["### DR tier cost side by side", ""]
    out.append("| Tier | " + " | ".join(stacks) + " | Total | vs configured |")
    out.append("|---|" + "---:|" * (len(stacks) + 2))
    for tier in tiers:
        name = f"**{tier.tier}** (configured)" if tier.tier == current else tier.tier
        cells = " | ".join(usd(tier.stacks[s].total) for s in stacks)
        versus = usd(tier.total - base, signed=True)
        out.append(f"| {name} | {cells} | {usd(tier.total)} | {versus} |")
    return "\n".join(out)


def _rto_rows(posture: Posture) -> list[str]:
    rows = [
        "| Stack | Detection | TTL | Client cache | Node warm-up | Pod warm-up | Budget "
        "| Objective | |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for stack, b in posture.rto.items():
        verdict = "ok" if b.ok else "**over objective**"
        rows.append(
            f"| {stack} | {b.detection}s | {b.ttl}s | {b.client_cache}s | {b.node_warmup}s "
            f"| {b.pod_warmup}s | {b.total}s | {b.objective}s | {verdict} |"
        )
    return rows


def _capacity_line(posture: Posture) -> str:
    cap = posture.capacity
    if cap is None:
        return "- DR capacity: not computed (both roles are needed)."
    verdict = "ok" if cap.ok else "**below the configured fraction**"
    return (
        f"- DR GPU capacity: {cap.dr_desired_gpus} {cap.dr_sku} in steady state "
        f"({cap.desired_ratio:.0%} of {cap.primary_gpus} {cap.primary_sku}), up to "
        f"{cap.dr_max_gpus} at max size ({cap.max_ratio:.0%}); required "
        f"{cap.fraction:.0%}: {verdict}. GPU counts, not throughput: SKUs may differ."
    )


def render_posture(posture: Posture) -> str:
    """RTO budget table, RPO, capacity and policy findings."""
    out = [f"### DR posture (tier: {posture.tier})", "", *_rto_rows(posture), ""]
    for stack, minutes in posture.rpo_minutes.items():
        rpo = f"{minutes} min (S3 RTC, 99.99% of objects)" if minutes else "no bound (no RTC)"
        out.append(f"- RPO {stack}: {rpo}")
    out.append(_capacity_line(posture))
    findings = [(s, v) for s, vs in posture.findings.items() for v in vs]
    out += ["", "#### Policy findings", ""]
    if not findings:
        out.append("All policies pass.")
    for stack, v in findings:
        where = v.urn.rsplit("::", 1)[-1] if v.urn else "stack"
        out.append(f"- **{v.policy}** ({stack}, `{where}`): {v.message}")
    return "\n".join(out)


def render_plan(plans: list[StackPlan]) -> str:
    """Resource counts per stack, with the preview's operations when a preview was given."""
    out = ["### Plan", "", "| Stack | Region | Resources | " + " | ".join(OPS) + " |"]
    out.append("|---|---|---:|" + "---:|" * len(OPS))
    for plan in plans:
        ops = " | ".join(str(plan.changes.get(op, 0)) if plan.changes else "-" for op in OPS)
        out.append(f"| {plan.stack} | {plan.region} | {plan.total} | {ops} |")
    out += ["", "<details><summary>Resources per component</summary>", ""]
    for plan in plans:
        out.append(
            f"- **{plan.stack}**: "
            + ", ".join(f"{name} ({len(items)})" for name, items in plan.components.items())
        )
    out += ["", "</details>"]
    return "\n".join(out)
