"""The ``riskengine`` typer application and its entry point.

Commands live in one module per command group (``cli.book``, ``cli.run``, ``cli.treaty``, …),
each registering itself on :data:`app`; they parse, call the library and print, and hold no
model logic. The entry point is :func:`riskengine.cli.main.main`.
"""

from __future__ import annotations

from typing import Annotated

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
    rich_markup_mode=None,  # plain help: flags without a type label, nothing cut off
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"riskengine {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Monte Carlo portfolio risk engine for trade and export credit insurers."""
