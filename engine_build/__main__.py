"""Entry point for ``python -m engine_build``."""

from engine_build.cli import app

app()
