"""Replay years on their own: one year for an audit trail, a list of years for the tail store.

A replayed year runs the very kernel a run does (``kernels.driver.simulate_year``), keyed by its
simulation id, so it is bit-identical to its row in any run of the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ..kernels.codes import CAUSES, YLT_COLUMNS
from ..kernels.driver import Record, outputs_struct, record_struct, record_years, simulate_one
from ..kernels.scratch import new_scratch, scratch_arrays, scratch_struct
from ..portfolio.compile import CompiledPortfolio
from ..results.ylt import YLT_VALUE_COLUMNS
from .inprocess import kernel_of, new_outputs

__all__ = ["Year", "replay_year", "Replay", "replay", "Recorded", "record"]


@dataclass
class Year:
    """What happened in one simulated year, as kernel codes (see :func:`replay_year`).

    ``row`` is its kernel YLT row (``kernels.codes.YLT_COLUMNS``) and ``ceded`` its ceded losses;
    ``defaults``/``lgd`` the defaulted buyers and their LGDs in draw order; ``events`` the
    countries with an event; ``ent_exposure``/``ent_loss``/``ent_cause`` the exposure losses
    (cause 0 commercial, 1 political); ``policies``/``policy_claims`` the claimed policies;
    ``buyers``/``buyer_commercial``/``buyer_political`` the buyers with a claim.
    """

    row: np.ndarray
    ceded: np.ndarray
    defaults: np.ndarray
    lgd: np.ndarray
    events: np.ndarray
    ent_exposure: np.ndarray
    ent_loss: np.ndarray
    ent_cause: np.ndarray
    policies: np.ndarray
    policy_claims: np.ndarray
    buyers: np.ndarray
    buyer_commercial: np.ndarray
    buyer_political: np.ndarray


def replay_year(cp: CompiledPortfolio, sim_id: int) -> Year:
    """Replay simulation ``sim_id`` alone, as kernel codes (no frames: fast)."""
    k = cp.kernel
    view = scratch_arrays(k)
    S = scratch_struct(view)
    out = new_outputs(k, 1, segments=False)
    nd, n_ev, n_ent, n_pt, n_bt, _ = simulate_one(
        kernel_of(k), S, outputs_struct(out), np.int64(sim_id)
    )
    pols = view.p_touch[:n_pt].copy()
    return Year(
        row=out.ylt[0],
        ceded=out.ceded[0],
        defaults=view.dl_b[:nd].copy(),
        lgd=view.dl_lgd[:nd].copy(),
        events=view.ev_list[:n_ev].copy(),
        ent_exposure=view.ent_e[:n_ent].copy(),
        ent_loss=view.ent_l[:n_ent].copy(),
        ent_cause=view.ent_cause[:n_ent].copy(),
        policies=pols,
        policy_claims=view.ratio[pols] * view.qual[pols],
        buyers=view.b_touch[:n_bt].copy(),
        buyer_commercial=view.b_comm[:n_bt].copy(),
        buyer_political=view.b_pol[:n_bt].copy(),
    )


@dataclass
class Replay:
    """One simulated year, replayed on its own, with labels (see :func:`replay`).

    ``row`` holds the year's YLT values by column name and ``weight`` its likelihood-ratio
    weight (1 without importance sampling).
    """

    sim_id: int
    row: dict[str, float]
    weight: float
    ceded: dict[str, float]
    defaults: pl.DataFrame  # buyer_id, country, sector, lgd
    events: pl.DataFrame  # country, region
    losses: pl.DataFrame  # exposure_id, buyer_id, policy_id, cause, loss
    claims: pl.DataFrame  # policy_id, claim
    buyer_claims: pl.DataFrame  # buyer_id, commercial, political


def replay(cp: CompiledPortfolio, sim_id: int) -> Replay:
    """Replay simulation ``sim_id`` alone: its defaults, events, exposure losses and claims.

    The replayed year is bit-identical to that simulation's row in any run of the same inputs.
    """
    k = cp.kernel
    y = replay_year(cp, sim_id)
    dl, ev, ent_e, pols, buyers = y.defaults, y.events, y.ent_exposure, y.policies, y.buyers
    exp_buyer = k.exp_rec["buyer"][ent_e]
    row = dict(zip(YLT_COLUMNS, y.row.tolist(), strict=True))
    s = pl.String
    return Replay(
        sim_id=int(sim_id),
        row={c: row[c] for c in YLT_VALUE_COLUMNS},
        weight=float(np.exp(row["log_weight"])),
        ceded={n: float(v) for n, v in zip(cp.treaty_names, y.ceded, strict=True)},
        defaults=pl.DataFrame(
            {
                "buyer_id": cp.buyer_ids[dl].astype(str),
                "country": cp.country_codes[k.buyer_rec["country"][dl]].astype(str),
                "sector": cp.sector_codes[k.buyer_rec["sector"][dl]].astype(str),
                "lgd": y.lgd,
            },
            schema={"buyer_id": s, "country": s, "sector": s, "lgd": pl.Float64},
        ),
        events=pl.DataFrame(
            {
                "country": cp.country_codes[ev].astype(str),
                "region": cp.region_names[k.country_region[ev]].astype(str),
            },
            schema={"country": s, "region": s},
        ),
        losses=pl.DataFrame(
            {
                "exposure_id": cp.exposure_ids[ent_e].astype(str),
                "buyer_id": cp.buyer_ids[exp_buyer].astype(str),
                "policy_id": cp.policy_ids[k.exp_rec["policy"][ent_e]].astype(str),
                "cause": np.asarray(CAUSES, dtype=object)[y.ent_cause].astype(str),
                "loss": y.ent_loss,
            },
            schema={
                "exposure_id": s,
                "buyer_id": s,
                "policy_id": s,
                "cause": s,
                "loss": pl.Float64,
            },
        ),
        claims=pl.DataFrame(
            {"policy_id": cp.policy_ids[pols].astype(str), "claim": y.policy_claims},
            schema={"policy_id": s, "claim": pl.Float64},
        ).sort("policy_id"),
        buyer_claims=pl.DataFrame(
            {
                "buyer_id": cp.buyer_ids[buyers].astype(str),
                "commercial": y.buyer_commercial,
                "political": y.buyer_political,
            },
            schema={"buyer_id": s, "commercial": pl.Float64, "political": pl.Float64},
        ).sort("buyer_id"),
    )


@dataclass
class Recorded:
    """Years replayed with everything the tail store keeps (see :func:`record`).

    ``ylt`` [n, N_YLT] and ``ceded`` [n, n_t] are the years' rows (equal to the run's);
    ``z`` [n, n_f], ``chi2`` [n], ``v`` [n, n_r], ``ev`` [n, n_c] their systematic draws; the
    ``ent_*`` arrays one row per exposure loss (year row, kernel exposure code, cause, loss before
    terms, claim after terms, claim net of the programme).
    """

    sims: np.ndarray
    ylt: np.ndarray
    ceded: np.ndarray
    z: np.ndarray
    chi2: np.ndarray
    v: np.ndarray
    ev: np.ndarray
    ent_year: np.ndarray
    ent_exp: np.ndarray
    ent_cause: np.ndarray
    ent_loss: np.ndarray
    ent_claim: np.ndarray
    ent_net: np.ndarray


def record(cp: CompiledPortfolio, sims: np.ndarray) -> Recorded:
    """Replay the years ``sims`` and record each one's systematic draws and exposure losses."""
    k = cp.kernel
    sims = np.ascontiguousarray(sims, dtype=np.int64)
    n = len(sims)
    P = kernel_of(k)
    cap = max(64, 4 * n)
    while True:
        S = new_scratch(k)
        out = new_outputs(k, n, segments=False)
        rec = Record(
            z=np.zeros((n, k.factor_key.shape[0])),
            chi2=np.zeros(n),
            v=np.zeros((n, k.region_key.shape[0])),
            ev=np.zeros((n, k.country_key.shape[0]), np.uint8),
            ent_year=np.zeros(cap, np.int32),
            ent_exp=np.zeros(cap, np.int32),
            ent_cause=np.zeros(cap, np.uint8),
            ent_loss=np.zeros(cap),
            ent_claim=np.zeros(cap),
            ent_net=np.zeros(cap),
        )
        count = int(record_years(P, S, outputs_struct(out), record_struct(rec), sims))
        if count <= cap:
            break
        cap = count
    return Recorded(
        sims=sims,
        ylt=out.ylt,
        ceded=out.ceded,
        z=rec.z,
        chi2=rec.chi2,
        v=rec.v,
        ev=rec.ev,
        ent_year=rec.ent_year[:count],
        ent_exp=rec.ent_exp[:count],
        ent_cause=rec.ent_cause[:count],
        ent_loss=rec.ent_loss[:count],
        ent_claim=rec.ent_claim[:count],
        ent_net=rec.ent_net[:count],
    )
