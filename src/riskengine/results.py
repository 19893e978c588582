"""Results of a run: the year loss table, measures, EP curves and output files (DESIGN.md §6)."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from . import __version__
from .checkpoint import atomic_path, atomic_write_bytes
from .errors import OutputError, Problem
from .measures import LEVELS, ep_table, mean_se, measures

if TYPE_CHECKING:
    from .compile import CompiledPortfolio
    from .engine import BlockResult
    from .scenario.models import Scenario

__all__ = ["Results", "YLT_SCHEMA"]

#: The YLT's fixed columns (``ceded_<treaty>`` columns go between max_occurrence and net).
YLT_SCHEMA: dict[str, Any] = {
    "sim_id": pl.Int64,
    "weight": pl.Float64,
    "ground_up": pl.Float64,
    "gross": pl.Float64,
    "commercial": pl.Float64,
    "political": pl.Float64,
    "n_defaults": pl.Int64,
    "n_political_events": pl.Int64,
    "max_occurrence": pl.Float64,
    "net": pl.Float64,
}


@dataclass
class Results:
    """The outcome of :func:`riskengine.simulate`.

    Attributes
    ----------
    ylt : polars.DataFrame
        One row per simulated year (columns: :data:`YLT_SCHEMA` plus ``ceded_<treaty>``).
    compiled : CompiledPortfolio
        Labels of codes (countries, sectors, policies, treaties) and book totals.
    scenario : Scenario
    meta : dict
        Run metadata (hashes, timings, executor).
    """

    ylt: pl.DataFrame
    compiled: CompiledPortfolio
    scenario: Scenario
    meta: dict[str, Any]
    _seg_sim: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int64))
    _seg_col: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int32))
    _seg_val: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    _occ: tuple[np.ndarray, ...] | None = field(repr=False, default=None)
    grid: np.ndarray | None = field(repr=False, default=None)
    _summary: dict[str, Any] | None = field(init=False, repr=False, default=None, compare=False)
    _checkpoint: Any = field(repr=False, default=None)

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_blocks(
        cls, cp: CompiledPortfolio, scenario: Scenario, blocks: list[BlockResult], meta: dict
    ) -> Results:
        """Combine block results (any order) in simulation order."""
        blocks = sorted(blocks, key=lambda b: b.start)
        ylt = np.concatenate([b.ylt for b in blocks]) if blocks else np.zeros((0, 8))
        ceded = (
            np.concatenate([b.ceded for b in blocks])
            if blocks
            else np.zeros((0, len(cp.treaty_names)))
        )
        n = ylt.shape[0]
        start = blocks[0].start if blocks else 0
        cols: dict[str, Any] = {
            "sim_id": np.arange(start, start + n, dtype=np.int64),
            "weight": np.ones(n),
            "ground_up": ylt[:, 0],
            "gross": ylt[:, 1],
            "commercial": ylt[:, 2],
            "political": ylt[:, 3],
            "n_defaults": ylt[:, 4].astype(np.int64),
            "n_political_events": ylt[:, 5].astype(np.int64),
            "max_occurrence": ylt[:, 6],
        }
        for j, name in enumerate(cp.treaty_names):
            cols[f"ceded_{name}"] = ceded[:, j]
        cols["net"] = ylt[:, 7]
        df = pl.DataFrame(cols, schema={name: YLT_SCHEMA.get(name, pl.Float64) for name in cols})

        def cat(name: str, dtype: Any) -> np.ndarray:
            return (
                np.concatenate([getattr(b, name) for b in blocks]) if blocks else np.zeros(0, dtype)
            )

        occ = None
        if scenario.outputs.occurrence_threshold is not None:
            occ = (
                cat("occ_sim", np.int64),
                cat("occ_kind", np.int8),
                cat("occ_id", np.int32),
                cat("occ_val", np.float64),
            )
        return cls(
            ylt=df,
            compiled=cp,
            scenario=scenario,
            meta=meta,
            _seg_sim=cat("seg_sim", np.int64),
            _seg_col=cat("seg_col", np.int32),
            _seg_val=cat("seg_val", np.float64),
            _occ=occ,
            grid=np.concatenate([b.grid for b in blocks])
            if blocks and blocks[0].grid.shape[1]
            else None,
        )

    # -- accessors -------------------------------------------------------------------------------
    @property
    def n_sims(self) -> int:
        return self.ylt.height

    @property
    def treaty_names(self) -> list[str]:
        return list(self.compiled.treaty_names)

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
        if perspective is not None:
            return measures(self.ylt[perspective].to_numpy())
        return {p: measures(self.ylt[p].to_numpy()) for p in self.perspectives()}

    def ep_curve(self) -> pl.DataFrame:
        """EP table: perspective, ep_type (AEP, OEP, TVaR_AEP), return_period, loss."""
        rps = list(self.scenario.outputs.return_periods)
        rows = []
        for p in ("ground_up", "gross", "net"):
            occ = self.ylt["max_occurrence"].to_numpy() if p == "gross" else None
            for ep_type, losses in ep_table(self.ylt[p].to_numpy(), rps, occ).items():
                rows.extend(
                    {
                        "perspective": p,
                        "ep_type": ep_type,
                        "return_period": float(rp),
                        "loss": float(v),
                    }
                    for rp, v in zip(rps, losses, strict=True)
                )
        return pl.DataFrame(
            rows,
            schema={
                "perspective": pl.String,
                "ep_type": pl.String,
                "return_period": pl.Float64,
                "loss": pl.Float64,
            },
        )

    def segments(self, dimensions: list[str] | None = None) -> pl.DataFrame:
        """Long table of gross claims by segment: sim_id, dimension, segment, gross (zeros left out).

        Parameters
        ----------
        dimensions : list of str, optional
            Subset of country, region, sector, policy; default: the scenario's ``outputs.segments``.
        """
        dims = list(self.scenario.outputs.segments if dimensions is None else dimensions)
        cp = self.compiled
        n_c = len(cp.country_codes)
        n_s = len(cp.sector_codes)
        schema = {
            "sim_id": pl.Int64,
            "dimension": pl.String,
            "segment": pl.String,
            "gross": pl.Float64,
        }
        sim, col, val = self._seg_sim, self._seg_col, self._seg_val

        def part(
            d: str, s: np.ndarray, codes: np.ndarray, labels: np.ndarray, v: np.ndarray
        ) -> pl.DataFrame:
            # labels gathered by code in Polars: no Python strings per row
            seg = pl.Series(labels.tolist(), dtype=pl.String).gather(codes)
            return pl.DataFrame({"sim_id": s, "segment": seg, "gross": v}).select(
                "sim_id", pl.lit(d).alias("dimension"), "segment", "gross"
            )

        frames = []
        for d in dims:
            if d == "country":
                m = col < n_c
                frames.append(part(d, sim[m], col[m], cp.country_codes, val[m]))
            elif d == "sector":
                m = (col >= n_c) & (col < n_c + n_s)
                frames.append(part(d, sim[m], col[m] - n_c, cp.sector_codes, val[m]))
            elif d == "policy":
                if not cp.kernel.seg_policy:
                    raise ValueError(
                        "policy segments were not simulated (add 'policy' to outputs.segments)"
                    )
                m = col >= n_c + n_s
                frames.append(part(d, sim[m], col[m] - n_c - n_s, cp.policy_ids, val[m]))
            elif d == "region":
                m = col < n_c
                df = (
                    pl.DataFrame(
                        {"sim_id": sim[m], "r": cp.kernel.country_region[col[m]], "gross": val[m]}
                    )
                    .group_by(["sim_id", "r"])
                    .agg(pl.col("gross").sum())
                )
                frames.append(
                    part(
                        d,
                        df["sim_id"].to_numpy(),
                        df["r"].to_numpy(),
                        cp.region_names,
                        df["gross"].to_numpy(),
                    )
                )
            else:
                raise ValueError(f"unknown segment dimension {d!r}")
        if not frames:
            return pl.DataFrame(schema=schema)
        return pl.concat(frames).cast(schema).sort(["sim_id", "dimension", "segment"])

    def segment_el(self, dimension: str) -> pl.DataFrame:
        """Expected gross claim by segment (sum over simulations / n), sorted descending."""
        cp = self.compiled
        n_c, n_s = len(cp.country_codes), len(cp.sector_codes)
        n = max(self.n_sims, 1)
        if dimension == "country":
            labels, sel, off = cp.country_codes, self._seg_col < n_c, 0
        elif dimension == "sector":
            labels, sel, off = (
                cp.sector_codes,
                (self._seg_col >= n_c) & (self._seg_col < n_c + n_s),
                n_c,
            )
        else:
            df = self.segments([dimension])
            return (
                df.group_by("segment")
                .agg((pl.col("gross").sum() / n).alias("el"))
                .sort("el", descending=True)
            )
        sums = np.bincount(
            self._seg_col[sel] - off, weights=self._seg_val[sel], minlength=len(labels)
        )
        return pl.DataFrame({"segment": labels.astype(str), "el": sums / n}).sort(
            "el", descending=True
        )

    def occurrences(self) -> pl.DataFrame:
        """Gross occurrences above ``outputs.occurrence_threshold``: sim_id, kind, id, gross."""
        schema = {"sim_id": pl.Int64, "kind": pl.String, "id": pl.String, "gross": pl.Float64}
        if self._occ is None:
            return pl.DataFrame(schema=schema)
        sim, kind, idx, val = self._occ
        cp = self.compiled
        ids = np.where(
            kind == 0,
            cp.buyer_ids[np.where(kind == 0, idx, 0)],
            cp.country_codes[np.where(kind == 1, idx, 0)],
        )
        return pl.DataFrame(
            {
                "sim_id": sim,
                "kind": np.where(kind == 0, "buyer", "country"),
                "id": ids.astype(str),
                "gross": val,
            },
            schema=schema,
        )

    # -- summary ---------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Run metadata, book totals, measures by perspective, capital and self-checks (computed once)."""
        if self._summary is None:
            self._summary = self._make_summary()
        return self._summary

    def _make_summary(self) -> dict[str, Any]:
        cp = self.compiled
        sc = self.scenario
        k = cp.kernel
        gu = self.ylt["ground_up"].to_numpy()
        est = mean_se(gu)
        z = (est.value - cp.expected_ground_up) / est.se if est.se and est.se > 0 else 0.0
        all_measures = self.measures()
        out: dict[str, Any] = {
            "riskengine_version": __version__,
            "run": {
                "scenario": sc.name,
                "scenario_hash": self.meta.get("scenario_hash"),
                "book": self.meta.get("book_path"),
                "book_hash": self.meta.get("book_hash"),
                "seed": sc.simulation.seed,
                "sims": self.n_sims,
                "block_size": sc.simulation.block_size,
                "reporting_currency": cp.reporting_currency,
                "copula": sc.model.copula,
                "executor": self.meta.get("executor"),
                "workers": self.meta.get("workers"),
                "wall_time_s": self.meta.get("wall_time_s"),
                "simulate_time_s": self.meta.get("simulate_time_s"),
                "started_at": self.meta.get("started_at"),
                "finished_at": self.meta.get("finished_at"),
            },
            "book": {
                "buyers": cp.n_buyers,
                "exposures": cp.n_exposures,
                "policies": len(cp.policy_ids),
                "countries": len(cp.country_codes),
                "cells": cp.n_cells,
                "total_ead": float(k.exp_rec["ead"].sum()),
                "premium": cp.book_premium,
            },
            "levels": [100 * q for q in LEVELS],
            "measures": all_measures,
            "capital": {p: all_measures[p]["capital"] for p in ("gross", "net")},
            "checks": {
                "expected_ground_up": {
                    "exact": cp.expected_ground_up,
                    "simulated": est.value,
                    "se": est.se,
                    "z": z,
                    "ok": bool(abs(z) < 4),
                }
            },
        }
        if self.treaty_names:
            from .reinsurance.metrics import treaty_metrics

            out["treaties"] = treaty_metrics(self)
            g, n = all_measures["gross"], all_measures["net"]
            out["capital"]["relief"] = g["capital"] - n["capital"]
        return out

    # -- output files ------------------------------------------------------------------------------
    def write(self, folder: str | os.PathLike, *, report: bool | None = None) -> dict[str, Path]:
        """Write the output files into ``folder`` atomically; return their paths.

        ``summary.json`` is removed first and written last: a folder whose summary.json exists
        holds a complete, consistent set of outputs.
        """
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                [Problem(str(folder), None, f"cannot create the output folder: {exc}")], str(folder)
            ) from None
        (folder / "summary.json").unlink(missing_ok=True)
        written: dict[str, Path] = {}

        def put_parquet(name: str, df: pl.DataFrame) -> None:
            target = folder / name
            tmp = atomic_path(target)
            try:
                df.write_parquet(tmp, compression="zstd", statistics=True)
                os.replace(tmp, target)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            written[name] = target

        put_parquet("ylt.parquet", self.ylt)
        if self.scenario.outputs.segments:
            put_parquet("segments.parquet", self.segments())
        else:
            (folder / "segments.parquet").unlink(missing_ok=True)
        put_parquet("ept.parquet", self.ep_curve())
        if self._occ is not None:
            put_parquet("occurrences.parquet", self.occurrences())
        if report if report is not None else self.scenario.outputs.report:
            from .report import render_report

            html = render_report(self)
            atomic_write_bytes(folder / "report.html", html.encode("utf-8"))
            written["report.html"] = folder / "report.html"
        summary = self.summary()
        atomic_write_bytes(
            folder / "summary.json", json.dumps(_jsonable(summary), indent=2).encode()
        )
        written["summary.json"] = folder / "summary.json"
        if self._checkpoint is not None:
            self._checkpoint.discard()
        return written


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
