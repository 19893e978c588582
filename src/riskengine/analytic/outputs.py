"""``analytic.json`` and ``analytic_distribution.parquet``: what ``riskengine analytic`` writes.

Both are written atomically (:mod:`riskengine.files`); ``analytic.json`` is removed first and
written last, so a folder with an ``analytic.json`` holds a complete, consistent pair (the same
contract as a simulation's ``summary.json``). :func:`read_analytic` reads them back (the report
shows them beside a simulation of the same book).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from .. import __version__
from ..errors import OutputError, Problem
from ..files import atomic_write_bytes, prepare_folder, write_parquet
from ..measures import CAPITAL_LEVEL, LEVELS, level_key
from .analyze import AnalyticRun, top_buyers
from .crplus import Contributions
from .inputs import DIMENSIONS

__all__ = [
    "ANALYTIC_JSON",
    "ANALYTIC_DISTRIBUTION",
    "TOP_BUYERS",
    "AnalyticOutputs",
    "analytic_document",
    "distribution_frame",
    "write_analytic",
    "read_analytic",
]

ANALYTIC_JSON = "analytic.json"
ANALYTIC_DISTRIBUTION = "analytic_distribution.parquet"
#: Buyers listed in ``contributions.buyers`` by default.
TOP_BUYERS = 20

_DISTRIBUTION_SCHEMA = {"loss": pl.Float64, "probability": pl.Float64}


def _model(run: AnalyticRun) -> dict[str, Any]:
    cfg, res, inp = run.scenario.analytic, run.result, run.inputs
    used = np.unique(inp.sector[inp.exposure * inp.pd > 0])
    return {
        "name": "CreditRisk+",
        "method": res.method,
        "band": res.unit,
        "band_from": "scenario" if cfg.band is not None else "largest exposure / 1000",
        "pd_volatility": cfg.pd_volatility,
        "sector_by": cfg.sector_by,
        "specific_share": cfg.specific_share,
        "sectors": int(len(used)),
        "rounding": "nearest",
        "grid_points": int(len(res.probabilities)),
        "omitted_probability": res.omitted,
        "exposure": "Σ EAD × mean LGD over the buyer's exposures with commercial cover",
    }


def _rows(c: Contributions, index: np.ndarray, extra: dict[str, np.ndarray]) -> list[dict]:
    """Rows ``index`` of ``c`` (el, sd, var) after the columns of ``extra`` (already indexed)."""
    cols = {**extra, "el": c.expected[index], "sd": c.sd[index], "var": c.var[index]}
    return [{k: _plain(v[i]) for k, v in cols.items()} for i in range(len(index))]


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _contributions(run: AnalyticRun, top: int) -> dict[str, Any]:
    inp, per = run.inputs, run.contributions
    buyers = top_buyers(run, top)
    extra = {
        "buyer_id": inp.buyer_ids[buyers].astype(str),
        **{d: inp.names[d][inp.codes[d][buyers]].astype(str) for d in DIMENSIONS},
        "exposure": inp.exposure[buyers],
        "pd": inp.pd[buyers],
    }
    out: dict[str, Any] = {
        "level": 100 * CAPITAL_LEVEL,
        "buyers": {"top": int(top), "of": inp.n_buyers, "rows": _rows(per, buyers, extra)},
    }
    for d in DIMENSIONS:
        seg = run.segments[d]
        exposure = np.bincount(inp.codes[d], weights=inp.exposure, minlength=len(inp.names[d]))
        exposure = exposure[np.searchsorted(inp.names[d], seg.labels)]
        order = np.lexsort((seg.labels.astype(str), -seg.var))
        extra = {"segment": seg.labels[order].astype(str), "exposure": exposure[order]}
        out[d] = _rows(seg, order, extra)
    return out


def analytic_document(run: AnalyticRun, top: int = TOP_BUYERS) -> dict[str, Any]:
    """The content of ``analytic.json``.

    Returns
    -------
    dict
        ``riskengine_version``; ``run`` (scenario, hashes, book, currency, start and end,
        ``wall_time_s``, ``timings`` in seconds); ``model`` (the parameters used, the loss unit,
        the grid); ``book`` (buyers, total exposure); ``levels``; ``measures.ground_up`` in the
        layout of ``summary.json`` (standard errors 0); ``contributions`` at VaR 99.5 %: the
        ``top`` buyers and every country, region and sector, each with its ``el``, ``sd``
        (contribution to SD) and ``var`` (contribution to VaR 99.5 %), largest first.
    """
    sc, meta, inp = run.scenario, run.meta, run.inputs
    return {
        "riskengine_version": __version__,
        "run": {
            "scenario": sc.name,
            "scenario_hash": meta.get("scenario_hash"),
            "book": meta.get("book_path"),
            "book_hash": meta.get("book_hash"),
            "reporting_currency": run.currency,
            "started_at": meta.get("started_at"),
            "finished_at": meta.get("finished_at"),
            "wall_time_s": meta.get("wall_time_s"),
            "timings": dict(meta.get("timings", {})),
        },
        "model": _model(run),
        "book": {
            "buyers": inp.n_buyers,
            "buyers_with_exposure": int(np.count_nonzero(inp.exposure > 0)),
            "exposure": float(inp.exposure.sum()),
        },
        "levels": [100 * q for q in LEVELS],
        "measures": {"ground_up": run.result.summary()},
        "contributions": _contributions(run, top),
    }


def distribution_frame(run: AnalyticRun) -> pl.DataFrame:
    """``loss`` (n·L, reporting currency) and ``probability`` of every point of the grid."""
    res = run.result
    return pl.DataFrame(
        {"loss": res.loss, "probability": res.probabilities}, schema=_DISTRIBUTION_SCHEMA
    )


def write_analytic(
    run: AnalyticRun, folder: str | os.PathLike, *, top: int = TOP_BUYERS
) -> dict[str, Path]:
    """Write ``analytic_distribution.parquet`` then ``analytic.json`` into ``folder``.

    ``analytic.json`` is removed first and written last: it exists only beside the distribution
    it describes. Returns the paths by file name.

    Raises
    ------
    OutputError
        When the folder cannot be created.
    """
    folder = prepare_folder(folder, ANALYTIC_JSON)
    written = {
        ANALYTIC_DISTRIBUTION: write_parquet(
            folder / ANALYTIC_DISTRIBUTION, distribution_frame(run)
        )
    }
    text = json.dumps(_jsonable(analytic_document(run, top)), indent=2) + "\n"
    written[ANALYTIC_JSON] = atomic_write_bytes(folder / ANALYTIC_JSON, text.encode())
    return written


def _jsonable(x: Any) -> Any:
    """``x`` with NumPy scalars as Python numbers and non-finite floats as None."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    x = _plain(x)
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


@dataclass(frozen=True)
class AnalyticOutputs:
    """``analytic.json`` and the distribution of a folder, as read back.

    Attributes
    ----------
    document : dict
        The JSON document (:func:`analytic_document`).
    loss, probability : numpy.ndarray
        The distribution's grid (reporting currency) and probabilities.
    """

    document: dict[str, Any]
    loss: np.ndarray
    probability: np.ndarray

    @property
    def currency(self) -> str:
        return str(self.document["run"]["reporting_currency"])

    @property
    def book_hash(self) -> str | None:
        return self.document["run"].get("book_hash")

    @property
    def measures(self) -> dict[str, Any]:
        """EL, SD, VaR, TVaR (``summary.json`` layout) of the ground-up loss."""
        return self.document["measures"]["ground_up"]

    def level_keys(self) -> list[str]:
        return [level_key(q / 100) for q in self.document["levels"]]

    @classmethod
    def of(cls, run: AnalyticRun, top: int = TOP_BUYERS) -> AnalyticOutputs:
        """The outputs of ``run`` without writing them (as :func:`read_analytic` would read)."""
        doc = json.loads(json.dumps(_jsonable(analytic_document(run, top))))
        return cls(doc, run.result.loss, run.result.probabilities)


def read_analytic(folder: str | os.PathLike) -> AnalyticOutputs | None:
    """The CreditRisk+ outputs in ``folder``; ``None`` when it has no ``analytic.json``.

    Raises
    ------
    OutputError
        When the files exist but cannot be read (not JSON, no distribution, wrong columns).
    """
    folder = Path(folder)
    doc_path = folder / ANALYTIC_JSON
    if not doc_path.exists():
        return None
    try:
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
        dist = pl.read_parquet(folder / ANALYTIC_DISTRIBUTION, columns=list(_DISTRIBUTION_SCHEMA))
        if not isinstance(doc["measures"]["ground_up"]["EL"]["value"], int | float):
            raise ValueError("measures.ground_up.EL.value is not a number")
        if not isinstance(doc["run"]["reporting_currency"], str):
            raise ValueError("run.reporting_currency is not a currency code")
    except (OSError, ValueError, KeyError, TypeError, pl.exceptions.PolarsError) as exc:
        rule = f"cannot read the CreditRisk+ outputs: {type(exc).__name__}: {exc}"
        raise OutputError([Problem(str(doc_path), None, rule)], str(folder)) from None
    return AnalyticOutputs(
        doc, dist["loss"].to_numpy().astype(np.float64), dist["probability"].to_numpy()
    )
