"""The ``riskengine`` command line: typer + rich, one module per command group."""

from .app import app
from .main import main

__all__ = ["app", "main"]
