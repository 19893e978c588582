"""The ``riskengine`` command line: typer + rich, one module per command group."""

from . import book, run, treaty  # noqa: F401 - the command groups register themselves
from .app import app, main

__all__ = ["app", "main"]
