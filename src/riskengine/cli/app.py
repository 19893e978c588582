"""The ``riskengine`` typer application and its entry point.

Commands live in one module per command group (``cli.book``, ``cli.run``, ``cli.treaty``, …),
each registering itself on :data:`app`; they parse, call the library and print, and hold no
model logic. The entry point is :func:`riskengine.cli.main.main`.
"""

from __future__ import annotations

import typer

__all__ = ["app", "EXIT_INPUT", "EXIT_INTERRUPT"]

#: Exit code for errors in the user's input (bad book, bad scenario, unwritable output).
EXIT_INPUT = 2
#: Exit code after an interrupt (128 + SIGINT).
EXIT_INTERRUPT = 130

app = typer.Typer(
    name="riskengine",
    help="Monte Carlo portfolio risk engine for trade and export credit insurers.",
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=False,
)
