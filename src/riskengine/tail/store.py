"""The tail store: the years that define a run's tail, replayed and recorded exposure by exposure.

After a run, the years that define TVaR_q of each allocated perspective and level (and the
window of years around VaR_q) are selected from the year loss table and **replayed** through the
same kernel (bit-identical: a replayed year's totals are checked against its row of the YLT, so
no second definition of a loss exists). For each stored year the store keeps its systematic
draws — every factor value, the Student-t mixing variable, the regional political factors and the
countries with an event — and every exposure's loss before terms, claim after terms and claim net
of the reinsurance programme. Capital allocation averages those claims over the tail years;
credit-limit decisions re-price a request on them. Files (``tail/`` in a run's folder):

* ``years.parquet``: ``sim_id``, ``weight``, ``ground_up``, ``gross``, ``net``, one
  ``z_<factor>`` per systematic factor (names sanitised: ``z_region_latin_america_caribbean``),
  ``w`` (the Student-t mixing variable W ~ χ²_ν; 0 for the Gaussian copula), one
  ``v_<region>`` per political region, ``events`` (the countries with a political event);
* ``claims.parquet``: ``sim_id``, ``exposure_id``, ``buyer_id``, ``policy_id``, ``cause``,
  ``loss``, ``claim``, ``net``, and ``year`` and ``exposure``: the claim's rows in
  ``years.parquet`` and ``exposures.parquet``;
* ``exposures.parquet``: every exposure (kernel order) with its buyer, policy, group, country,
  region, sector and exposure at default: the segment labels allocation groups by;
* ``el.parquet``: expected loss and its standard error by perspective, dimension and segment;
* ``meta.json``: the kernel digest, the run's size, perspectives and levels, the hashes of the
  book and scenario. A store whose kernel digest is not the current kernels' is refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from ..errors import OutputError, Problem
from ..files import atomic_write_bytes, write_parquet
from ..kernels import KERNEL_DIGEST
from ..kernels.codes import CAUSES, YLT_COLUMNS
from ..measures import tail
from ..run.replay import record

if TYPE_CHECKING:
    from ..portfolio.compile import CompiledPortfolio
    from ..results.model import Results

__all__ = [
    "TailStore",
    "select_years",
    "build_store",
    "read_store",
    "factor_columns",
    "exposure_labels",
    "TAIL_DIR",
]

#: The tail store's folder inside a run's output folder.
TAIL_DIR = "tail"


def _sanitise(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def factor_columns(names: list[str], prefix: str = "z_") -> list[str]:
    """Column names of systematic draws (``z_global``, ``z_country_de``, …), unique."""
    out, seen = [], set()
    for n in names:
        col = prefix + _sanitise(n)
        while col in seen:
            col += "_"
        seen.add(col)
        out.append(col)
    return out


def select_years(
    ylt: pl.DataFrame, perspectives: list[str], levels: list[float]
) -> dict[tuple[str, float], Any]:
    """The tail (``measures.Tail``) of every perspective and level (percent), from the YLT."""
    w = ylt["weight"].to_numpy()
    weights = None if np.all(w == 1.0) else w
    return {
        (p, lvl): tail(ylt[p].to_numpy(), lvl / 100.0, weights)
        for p in perspectives
        for lvl in levels
    }


def exposure_labels(cp: CompiledPortfolio) -> pl.DataFrame:
    """Every exposure (kernel order) with the labels of its segments and its EAD."""
    r = cp.resolved
    e_book = cp.exposure_perm
    b = r.e_buyer[e_book]
    gcode = r.b_group[b]
    group = r.buyer_ids[b].astype(object)  # a buyer without a group is its own group
    grouped = gcode >= 0
    group[grouped] = r.group_ids[gcode[grouped]]
    return pl.DataFrame(
        {
            "exposure_id": cp.exposure_ids.astype(str),
            "buyer_id": r.buyer_ids[b].astype(str),
            "policy_id": r.policy_ids[r.e_policy[e_book]].astype(str),
            "group_id": group.astype(str),
            "country": r.country_codes[r.b_country[b]].astype(str),
            "region": r.region_names[r.c_region[r.b_country[b]]].astype(str),
            "sector": r.sector_codes[r.b_sector[b]].astype(str),
            "ead": r.e_ead[e_book],
        }
    )


@dataclass
class TailStore:
    """A run's tail years with their draws and claims (see the module docstring).

    ``claims`` carries, besides the labelled columns, ``year`` (row in ``years``) and
    ``exposure`` (row in ``exposures``) codes for fast grouping.
    """

    years: pl.DataFrame
    claims: pl.DataFrame
    exposures: pl.DataFrame
    el: pl.DataFrame
    meta: dict[str, Any]

    def write(self, folder: str | Path) -> dict[str, Path]:
        """Write the store into ``folder``/tail (atomically, meta.json last)."""
        root = Path(folder) / TAIL_DIR
        out = {
            "years.parquet": write_parquet(root / "years.parquet", self.years),
            "claims.parquet": write_parquet(root / "claims.parquet", self.claims),
            "exposures.parquet": write_parquet(root / "exposures.parquet", self.exposures),
            "el.parquet": write_parquet(root / "el.parquet", self.el),
        }
        text = json.dumps(self.meta, indent=1).encode()
        out["meta.json"] = atomic_write_bytes(root / "meta.json", text)
        return {f"{TAIL_DIR}/{k}": v for k, v in out.items()}


def build_store(
    res: Results,
    perspectives: list[str],
    levels: list[float],
    el: pl.DataFrame,
    depth: float = 1.0,
) -> TailStore:
    """Record the years that define ``res``'s tails (replaying them) into a tail store: those of
    TVaR and the window around VaR at every level q, and those of TVaR at 1 − depth·(1 − q).

    Raises
    ------
    OutputError
        When a replayed year differs from its row of the YLT (the kernels that replay are not
        the kernels that ran).
    """
    cp = res.compiled
    tails = select_years(res.ylt, perspectives, levels)
    deep = [1.0 - depth * (1.0 - q / 100.0) for q in levels]
    deep = [100.0 * q for q in deep if q > 0.0]
    extra = select_years(res.ylt, perspectives, deep) if depth > 1.0 else {}
    rows = np.unique(
        np.concatenate(
            [np.r_[t.index, t.window] for t in tails.values()] + [t.index for t in extra.values()]
        )
    )
    sims = res.ylt["sim_id"].to_numpy()[rows]
    rec = record(cp, sims)
    _check_replay(res, rows, rec.ylt)
    years = _years_frame(res, rows, rec)
    exposures = exposure_labels(cp)
    claims = pl.DataFrame(
        {
            "sim_id": sims[rec.ent_year],
            "year": rec.ent_year.astype(np.int64),
            "exposure": rec.ent_exp.astype(np.int64),
            "cause": np.asarray(CAUSES, dtype=object)[rec.ent_cause].astype(str),
            "loss": rec.ent_loss,
            "claim": rec.ent_claim,
            "net": rec.ent_net,
        }
    )
    labels = exposures.select("exposure_id", "buyer_id", "policy_id").with_row_index("exposure")
    claims = claims.join(labels.cast({"exposure": pl.Int64}), on="exposure", how="left")
    claims = claims.select(
        "sim_id",
        "exposure_id",
        "buyer_id",
        "policy_id",
        "cause",
        "loss",
        "claim",
        "net",
        "year",
        "exposure",
    )
    meta = {
        "kernel_digest": KERNEL_DIGEST,
        "sims": res.n_sims,
        "first_sim": res.first_sim,
        "perspectives": perspectives,
        "levels": levels,
        "reporting_currency": cp.reporting_currency,
        "book_hash": res.meta.get("book_hash"),
        "scenario_hash": res.meta.get("scenario_hash"),
        "treaties": list(cp.treaty_names),
    }
    return TailStore(years=years, claims=claims, exposures=exposures, el=el, meta=meta)


def _check_replay(res: Results, rows: np.ndarray, replayed: np.ndarray) -> None:
    cols = ("ground_up", "gross", "net")
    want = np.stack([res.ylt[c].to_numpy()[rows] for c in cols], axis=1)
    got = np.stack([replayed[:, YLT_COLUMNS.index(c)] for c in cols], axis=1)
    if not np.array_equal(want, got):
        bad = int(np.nonzero(~np.all(want == got, axis=1))[0][0])
        sim = int(res.ylt["sim_id"][int(rows[bad])])
        rule = (
            f"replaying year {sim} for the tail store gave other losses than the run: the kernels "
            "that replay are not the ones that simulated"
        )
        raise OutputError([Problem("tail store", None, rule)], "tail store")


def _years_frame(res: Results, rows: np.ndarray, rec: Any) -> pl.DataFrame:
    cp = res.compiled
    r = cp.resolved
    cols: dict[str, Any] = {"sim_id": res.ylt["sim_id"].to_numpy()[rows]}
    for c in ("weight", "ground_up", "gross", "net"):
        cols[c] = res.ylt[c].to_numpy()[rows]
    for name, j in zip(factor_columns(r.factors.names), range(rec.z.shape[1]), strict=True):
        cols[name] = rec.z[:, j]
    cols["w"] = rec.chi2
    for name, j in zip(
        factor_columns(list(r.region_names), "v_"), range(rec.v.shape[1]), strict=True
    ):
        cols[name] = rec.v[:, j]
    codes = cp.country_codes.astype(str)
    cols["events"] = [codes[np.nonzero(rec.ev[i])[0]].tolist() for i in range(len(rows))]
    return pl.DataFrame(cols, schema_overrides={"events": pl.List(pl.String)})


def read_store(folder: str | Path) -> TailStore:
    """Read the tail store of a run folder.

    Raises
    ------
    OutputError
        When the folder has no tail store, or one the current kernels would not reproduce.
    """
    root = Path(folder) / TAIL_DIR
    meta_path = root / "meta.json"
    if not meta_path.exists():
        rule = "no tail store (tail/meta.json): run the scenario with outputs.allocation set"
        raise OutputError([Problem(str(folder), None, rule)], str(folder))
    meta = json.loads(meta_path.read_text())
    if meta.get("kernel_digest") != KERNEL_DIGEST:
        rule = (
            "the tail store was written by other kernels (another riskengine version): its years "
            "would not replay to the same losses; re-run the simulation"
        )
        raise OutputError(
            [Problem(str(meta_path), "kernel_digest", rule, label="key")], str(folder)
        )
    years = pl.read_parquet(root / "years.parquet")
    exposures = pl.read_parquet(root / "exposures.parquet")
    claims = pl.read_parquet(root / "claims.parquet")
    if "year" not in claims.columns or "exposure" not in claims.columns:
        year_of = years.select("sim_id").with_row_index("year").cast({"year": pl.Int64})
        code_of = (
            exposures.select("exposure_id").with_row_index("exposure").cast({"exposure": pl.Int64})
        )
        claims = claims.drop("year", "exposure", strict=False)
        claims = claims.join(year_of, on="sim_id", how="left").join(
            code_of, on="exposure_id", how="left"
        )
    return TailStore(
        years=years,
        claims=claims,
        exposures=exposures,
        el=pl.read_parquet(root / "el.parquet"),
        meta=meta,
    )
