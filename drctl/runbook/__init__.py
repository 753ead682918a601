"""Executable Markdown runbooks: parse, lint, plan, run, and exercise them locally (issue 7)."""
