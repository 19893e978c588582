"""Results of a run: the year loss table, segment claims and occurrences (data only).

:class:`Results` holds what a run produced and answers questions about it (measures, EP curves,
segment tables). Summaries are computed by :mod:`.summary`, files written by :mod:`.write`;
rendering the report and cleaning up checkpoints are the caller's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from ..measures import ep_table, measures

if TYPE_CHECKING:
    from ..kernels.accumulate import Accumulated
    from ..portfolio.compile import CompiledPortfolio
    from ..scenario.models import Scenario

__all__ = ["Results"]

_SEGMENT_SCHEMA = {
    "sim_id": pl.Int64,
    "dimension": pl.String,
    "segment": pl.String,
    "gross": pl.Float64,
}


@dataclass
class Results:
    """The outcome of :func:`riskengine.simulate`.

    Attributes
    ----------
    ylt : polars.DataFrame
        One row per simulated year (columns: ``results.ylt.ylt_columns``).
    compiled : CompiledPortfolio
        Labels of codes (countries, sectors, policies, treaties), the segment layout, book totals.
    scenario : Scenario
    meta : dict
        Run metadata (hashes, timings, executor).
    seg_sim, seg_col, seg_val : numpy.ndarray
        Non-zero segment claims as (simulation id, segment column, gross claim); columns follow
        ``compiled.layout``.
    occurrences_raw : tuple of numpy.ndarray or None
        (sim, kind, code, gross) of occurrences above ``outputs.occurrence_threshold``.
    grid : numpy.ndarray or None
        Treaty sweep: [n, G, 2] (swept treaty's ceded, net) per year and grid point.
    accumulated : Accumulated or None
        Exact sums of every exposure's, buyer's and group's weighted claims over the run (when
        the scenario allocates capital; ``kernels.accumulate``).
    tail : Any
        The tail store (``riskengine.tail``), when capital is allocated.
    allocation_table : polars.DataFrame or None
        The Euler contributions (``riskengine.allocation``), when capital is allocated.
    importance : dict or None
        Importance sampling: the shifts used and how they were chosen.
    """

    ylt: pl.DataFrame
    compiled: CompiledPortfolio
    scenario: Scenario
    meta: dict[str, Any]
    seg_sim: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int64))
    seg_col: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int32))
    seg_val: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    occurrences_raw: tuple[np.ndarray, ...] | None = field(repr=False, default=None)
    grid: np.ndarray | None = field(repr=False, default=None)
    accumulated: Accumulated | None = field(repr=False, default=None)
    tail: Any = field(repr=False, default=None)
    allocation_table: pl.DataFrame | None = field(repr=False, default=None)
    importance: dict[str, Any] | None = field(repr=False, default=None)
    _summary: dict[str, Any] | None = field(init=False, repr=False, default=None, compare=False)

    # -- accessors -------------------------------------------------------------------------------
    @property
    def n_sims(self) -> int:
        return self.ylt.height

    @property
    def treaty_names(self) -> list[str]:
        return list(self.compiled.treaty_names)

    @property
    def weights(self) -> np.ndarray | None:
        """The years' likelihood-ratio weights, or None when every weight is 1."""
        w = self.ylt["weight"].to_numpy()
        return None if np.all(w == 1.0) else w

    def perspectives(self) -> list[str]:
        """Loss perspectives with measures: ground_up, gross, ceded_<treaty>…, net."""
        return ["ground_up", "gross", *[f"ceded_{t}" for t in self.treaty_names], "net"]

    def measures(self, perspective: str | None = None) -> dict:
        """EL, SD, VaR/TVaR at 90/95/99/99.5/99.9 % (each with an SE) and capital.

        Parameters
        ----------
        perspective : str, optional
            One of :meth:`perspectives`; default: all, as a mapping.
        """
        w = self.weights
        if perspective is not None:
            return measures(self.ylt[perspective].to_numpy(), weights=w)
        return {p: measures(self.ylt[p].to_numpy(), weights=w) for p in self.perspectives()}

    def ep_curve(self) -> pl.DataFrame:
        """EP table: perspective, ep_type (AEP, OEP, TVaR_AEP), return_period, loss."""
        rps = list(self.scenario.outputs.return_periods)
        w = self.weights
        rows = []
        for p in ("ground_up", "gross", "net"):
            occ = self.ylt["max_occurrence"].to_numpy() if p == "gross" else None
            for ep_type, losses in ep_table(self.ylt[p].to_numpy(), rps, occ, weights=w).items():
                rows.extend(
                    {
                        "perspective": p,
                        "ep_type": ep_type,
                        "return_period": float(rp),
                        "loss": float(v),
                    }
                    for rp, v in zip(rps, losses, strict=True)
                )
        schema = {
            "perspective": pl.String,
            "ep_type": pl.String,
            "return_period": pl.Float64,
            "loss": pl.Float64,
        }
        return pl.DataFrame(rows, schema=schema)

    def _segment_frame(
        self, dimension: str, sim: np.ndarray, codes: np.ndarray, v: np.ndarray
    ) -> pl.DataFrame:
        labels = {
            "country": self.compiled.country_codes,
            "region": self.compiled.region_names,
            "sector": self.compiled.sector_codes,
            "policy": self.compiled.policy_ids,
        }[dimension]
        # labels gathered by code in Polars: no Python strings per row
        seg = pl.Series(labels.tolist(), dtype=pl.String).gather(codes)
        return pl.DataFrame({"sim_id": sim, "segment": seg, "gross": v}).select(
            "sim_id", pl.lit(dimension).alias("dimension"), "segment", "gross"
        )

    def segments(self, dimensions: list[str] | None = None) -> pl.DataFrame:
        """Long table of gross claims by segment: sim_id, dimension, segment, gross (zeros left
        out).

        Parameters
        ----------
        dimensions : list of str, optional
            Subset of country, region, sector, policy; default: the scenario's ``outputs.segments``.
        """
        dims = list(self.scenario.outputs.segments if dimensions is None else dimensions)
        layout = self.compiled.layout
        sim, col, val = self.seg_sim, self.seg_col, self.seg_val
        frames = []
        for d in dims:
            if d == "region":
                m, codes = layout.select(col, "country")
                df = (
                    pl.DataFrame(
                        {
                            "sim_id": sim[m],
                            "r": self.compiled.kernel.country_region[codes],
                            "gross": val[m],
                        }
                    )
                    .group_by(["sim_id", "r"])
                    .agg(pl.col("gross").sum())
                )
                frames.append(
                    self._segment_frame(
                        d, df["sim_id"].to_numpy(), df["r"].to_numpy(), df["gross"].to_numpy()
                    )
                )
            elif d in ("country", "sector", "policy"):
                m, codes = layout.select(col, d)
                frames.append(self._segment_frame(d, sim[m], codes, val[m]))
            else:
                raise ValueError(f"unknown segment dimension {d!r}")
        if not frames:
            return pl.DataFrame(schema=_SEGMENT_SCHEMA)
        return pl.concat(frames).cast(_SEGMENT_SCHEMA).sort(["sim_id", "dimension", "segment"])

    def segment_el(self, dimension: str) -> pl.DataFrame:
        """Expected gross claim by segment (Σ w·claim over simulations / n), sorted descending."""
        n = max(self.n_sims, 1)
        w = self.weights
        if dimension in ("country", "sector"):
            cp = self.compiled
            labels = cp.country_codes if dimension == "country" else cp.sector_codes
            m, codes = cp.layout.select(self.seg_col, dimension)
            v = self.seg_val[m]
            if w is not None:
                v = v * w[self.seg_sim[m] - self.first_sim]
            sums = np.bincount(codes, weights=v, minlength=len(labels))
            frame = pl.DataFrame({"segment": labels.astype(str), "el": sums / n})
            return frame.sort("el", descending=True)
        df = self.segments([dimension]).join(self.ylt.select("sim_id", "weight"), on="sim_id")
        el = (pl.col("gross") * pl.col("weight")).sum() / n
        return df.group_by("segment").agg(el.alias("el")).sort("el", descending=True)

    @property
    def first_sim(self) -> int:
        """Simulation id of the YLT's first row (rows are consecutive ids)."""
        return int(self.ylt["sim_id"][0]) if self.n_sims else 0

    def allocation(
        self,
        *,
        perspective: str | None = None,
        dimension: str | None = None,
        level: float | None = None,
    ) -> pl.DataFrame:
        """Capital allocation rows (allocation.parquet), optionally filtered.

        Parameters
        ----------
        perspective : {"ground_up", "gross", "net"}, optional
        dimension : str, optional
            buyer, group, policy, exposure, country, region or sector.
        level : float, optional
            Level in percent (99.5).

        Raises
        ------
        ValueError
            When the run allocated no capital (``outputs.allocation`` not set).
        """
        if self.allocation_table is None:
            raise ValueError(
                "this run allocated no capital: set outputs.allocation in the scenario"
            )
        df = self.allocation_table
        if perspective is not None:
            df = df.filter(pl.col("perspective") == perspective)
        if dimension is not None:
            df = df.filter(pl.col("dimension") == dimension)
        if level is not None:
            df = df.filter(pl.col("level") == float(level))
        return df

    def occurrences(self) -> pl.DataFrame:
        """Gross occurrences above ``outputs.occurrence_threshold``: sim_id, kind, id, gross."""
        schema = {"sim_id": pl.Int64, "kind": pl.String, "id": pl.String, "gross": pl.Float64}
        if self.occurrences_raw is None:
            return pl.DataFrame(schema=schema)
        sim, kind, idx, val = self.occurrences_raw
        cp = self.compiled
        buyer = cp.buyer_ids[np.where(kind == 0, idx, 0)]
        country = cp.country_codes[np.where(kind == 1, idx, 0)]
        ids = np.where(kind == 0, buyer, country)
        data = {
            "sim_id": sim,
            "kind": np.where(kind == 0, "buyer", "country"),
            "id": ids.astype(str),
            "gross": val,
        }
        return pl.DataFrame(data, schema=schema)

    # -- summary and files -------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Run metadata, book totals, measures by perspective, capital and self-checks (cached)."""
        if self._summary is None:
            from .summary import summarize

            self._summary = summarize(self)
        return self._summary

    def write(
        self, folder: str | os.PathLike, *, extra_files: dict[str, bytes] | None = None
    ) -> dict[str, Path]:
        """Write the data files and ``summary.json`` into ``folder`` atomically (see
        :func:`riskengine.results.write.write_results`); return their paths."""
        from .write import write_results

        return write_results(self, folder, extra_files=extra_files)
