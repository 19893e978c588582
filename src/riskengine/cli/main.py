"""The ``riskengine`` entry point: run the typer application, turning user errors into messages.

Errors riskengine reports to users (:class:`~riskengine.errors.RiskEngineError`) are printed
without a traceback and exit with code 2; an interrupt exits with code 130.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

from ..errors import RiskEngineError
from . import allocate, analytic, book, decide, limits, monitor, price, run, stress, treaty  # noqa: F401 - the command groups register themselves
from .app import EXIT_INPUT, EXIT_INTERRUPT, app

__all__ = ["main"]


def _print_error(err: Console, error: RiskEngineError) -> None:
    head, _, rest = str(error).partition("\n")
    err.print(Text("error: ", style="bold red") + Text(head, style="red"))
    if rest:
        err.print(Text(rest))


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point: run :data:`app`, turning user errors into messages.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Raises
    ------
    SystemExit
        Always: 0 on success, 2 for a :class:`~riskengine.errors.RiskEngineError` (printed to
        stderr without a traceback) or a usage error, 130 on interrupt.
    """
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    args = list(argv) if argv is not None else None
    try:
        # typer turns KeyboardInterrupt into Exit(130), returned as the code when not standalone
        rv = app(args=args, prog_name="riskengine", standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except RiskEngineError as exc:
        _print_error(err, exc)
        code = EXIT_INPUT
    except KeyboardInterrupt:
        code = EXIT_INTERRUPT
    except OSError as exc:  # the file system refused (no space, not a folder, permissions)
        where = f"{exc.filename}: " if exc.filename else ""
        text = f"{where}{exc.strerror or exc}"
        err.print(Text("error: ", style="bold red") + Text(text, style="red"))
        code = EXIT_INPUT
    except typer.Abort:
        code = 1
    except typer.TyperException as exc:  # usage errors: typer's (vendored click) exceptions
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:  # pragma: no cover - every typer exception raised today has show()
            err.print(Text(f"error: {exc.format_message()}"))
        code = exc.exit_code
    if code == EXIT_INTERRUPT:
        err.print(Text("interrupted", style="bold red"))
    raise SystemExit(code)
