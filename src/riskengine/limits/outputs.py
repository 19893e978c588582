"""What ``riskengine limits`` writes: ``limits.parquet``, ``frontier.parquet``, ``frontier.png``
and ``limits.json``.

Every file is written atomically (:mod:`riskengine.files`); ``limits.json`` is removed first and
written last, so a folder with a ``limits.json`` holds a complete, consistent set (the contract of
a simulation's ``summary.json``). :func:`read_limits` reads them back for the report.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from .. import __version__
from ..errors import OutputError, Problem
from ..files import atomic_write_bytes, prepare_folder, write_parquet
from ..results.write import jsonable
from .plan import LIMITS_SCHEMA, LimitsPlan
from .plot import frontier_png
from .portfolio import FRONTIER_SCHEMA

__all__ = [
    "LIMITS_JSON",
    "LIMITS_PARQUET",
    "FRONTIER_PARQUET",
    "FRONTIER_PNG",
    "LINEAR_NOTE",
    "LimitsOutputs",
    "limits_document",
    "read_limits",
    "write_limits",
]

LIMITS_PARQUET = "limits.parquet"
FRONTIER_PARQUET = "frontier.parquet"
FRONTIER_PNG = "frontier.png"
LIMITS_JSON = "limits.json"

#: What the proposed limits assume, said wherever they are shown.
LINEAR_NOTE = (
    "The optimisation scales each segment's simulated claims with its limits. Claims scale "
    "linearly with limits only where no policy term binds: an aggregate first loss, a "
    "non-qualifying loss or a maximum liability make them non-linear (and reinsurance, which the "
    "gross appetite does not see). --verify re-simulates the book with the limits applied."
)


def limits_document(plan: LimitsPlan) -> dict[str, Any]:
    """The content of ``limits.json``.

    Returns
    -------
    dict
        ``riskengine_version``; ``run`` (where the simulated years came from: scenario, book and
        its hash, reporting currency, years, seed, folder); ``dimension``; ``settings``
        (appetite, expense share, scale bounds, level in percent); ``proposed`` (the optimum:
        the appetite the linear programme saw, TVaR ± se on the run's years, profit, premium,
        EL, exposure and limits, whether the appetite binds, the shadow price); ``current``
        (today's book, every scale 1); ``verify`` (each re-simulation, or null); ``note`` (what
        the figures assume).
    """
    sol, p, cur = plan.solution, plan.problem, plan.current
    verify = None
    if plan.rounds:
        verify = {
            "within": plan.verified,
            "rounds": [dict(vars(r)) for r in plan.rounds],
        }
    return jsonable(
        {
            "riskengine_version": __version__,
            "run": {**plan.meta, "reporting_currency": plan.currency, "sims": plan.inputs.n},
            "dimension": plan.inputs.dimension,
            "segments": p.m,
            "settings": dict(vars(plan.settings)),
            "proposed": {
                "lp_appetite": plan.lp_appetite,
                "tvar": sol.tvar.value,
                "tvar_se": sol.tvar.se,
                "profit": sol.profit,
                "premium": float(sol.scale @ p.premium),
                "el": float(sol.scale @ p.el),
                "exposure": float(p.exposure.sum()),
                "limit": float(sol.scale @ p.exposure),
                "binding": sol.binding,
                "shadow_price": sol.shadow_price,
                "lp_years": sol.years,
                "lp_rounds": sol.rounds,
            },
            "current": {
                "tvar": cur.value,
                "tvar_se": cur.se,
                "profit": plan.current_profit,
                "premium": float(p.premium.sum()),
                "el": float(p.el.sum()),
                "exposure": float(p.exposure.sum()),
            },
            "verify": verify,
            "note": LINEAR_NOTE,
        }
    )


def write_limits(plan: LimitsPlan, folder: str | os.PathLike) -> dict[str, Path]:
    """Write ``limits.parquet``, ``frontier.parquet``, ``frontier.png`` and last ``limits.json``.

    Returns the paths by file name.

    Raises
    ------
    OutputError
        When the folder cannot be created.
    """
    folder = prepare_folder(folder, LIMITS_JSON)
    written = {
        LIMITS_PARQUET: write_parquet(folder / LIMITS_PARQUET, plan.frame()),
        FRONTIER_PARQUET: write_parquet(folder / FRONTIER_PARQUET, plan.frontier),
        FRONTIER_PNG: atomic_write_bytes(folder / FRONTIER_PNG, frontier_png(plan)),
    }
    text = json.dumps(limits_document(plan), indent=2) + "\n"
    written[LIMITS_JSON] = atomic_write_bytes(folder / LIMITS_JSON, text.encode())
    return written


@dataclass(frozen=True)
class LimitsOutputs:
    """A folder's limits outputs as read back (or as they would be: :meth:`of`).

    Attributes
    ----------
    document : dict
        ``limits.json`` (:func:`limits_document`).
    segments : polars.DataFrame
        ``limits.parquet``.
    frontier : polars.DataFrame
        ``frontier.parquet``.
    """

    document: dict[str, Any]
    segments: pl.DataFrame
    frontier: pl.DataFrame

    @property
    def currency(self) -> str:
        return str(self.document["run"]["reporting_currency"])

    @property
    def book_hash(self) -> str | None:
        return self.document["run"].get("book_hash")

    @property
    def dimension(self) -> str:
        return str(self.document["dimension"])

    @classmethod
    def of(cls, plan: LimitsPlan) -> LimitsOutputs:
        """The outputs of ``plan`` without writing them (as :func:`read_limits` would read)."""
        doc = json.loads(json.dumps(limits_document(plan)))
        return cls(doc, plan.frame(), plan.frontier)


def read_limits(folder: str | os.PathLike) -> LimitsOutputs | None:
    """The limits outputs in ``folder``; ``None`` when it has no ``limits.json``.

    Raises
    ------
    OutputError
        When the files exist but cannot be read (not JSON, a table missing or without its
        columns).
    """
    folder = Path(folder)
    doc_path = folder / LIMITS_JSON
    if not doc_path.exists():
        return None
    try:
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
        segments = pl.read_parquet(folder / LIMITS_PARQUET, columns=list(LIMITS_SCHEMA))
        frontier = pl.read_parquet(folder / FRONTIER_PARQUET, columns=list(FRONTIER_SCHEMA))
        for key in ("settings", "proposed", "current"):
            if not isinstance(doc[key], dict):
                raise TypeError(f"{key} is not a mapping")
        if not isinstance(doc["run"]["reporting_currency"], str):
            raise ValueError("run.reporting_currency is not a currency code")
        if not isinstance(doc["proposed"]["tvar"], int | float):
            raise ValueError("proposed.tvar is not a number")
    except (OSError, ValueError, KeyError, TypeError, pl.exceptions.PolarsError) as exc:
        rule = f"cannot read the limits outputs: {type(exc).__name__}: {exc}"
        raise OutputError([Problem(str(doc_path), None, rule)], str(folder)) from None
    return LimitsOutputs(doc, segments.cast(LIMITS_SCHEMA), frontier.cast(FRONTIER_SCHEMA))
