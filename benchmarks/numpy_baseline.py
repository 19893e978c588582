"""A plain, competently vectorised NumPy implementation of the full model — the speed baseline.

This is what an actuary would write without riskengine: batched over simulations (a batch ×
buyers matrix at a time), NumPy's generator for the draws, ``bincount`` for policy terms and
segment sums. Same model as the engine (structured factors, Student-t or Gaussian copula, political
events with regional correlation and contagion, beta LGD, utilisation and fx, nql / deductible /
indemnity / maximum liability, pro-rata split, sums by country and sector), with its own random
numbers. It reads the engine's compiled arrays only to skip re-implementing data preparation,
which is not what is timed.

``benchmarks/run.py`` runs it side by side with the engine and reports the throughput ratio.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

__all__ = ["NumpyModel", "numpy_simulate"]


@dataclass
class NumpyModel:
    """Per-buyer arrays of the model, gathered once from a compiled portfolio."""

    thr0: np.ndarray
    thr1: np.ndarray
    inv_sigma: np.ndarray
    fac_idx: np.ndarray  # [n_b, 4] factor indices (global, region, country, sector)
    fac_w: np.ndarray  # [n_b, 4] weights √R²·√w
    country: np.ndarray
    sector: np.ndarray
    group_unit: np.ndarray  # index of the shared epsilon (group or own)
    n_units: int
    lgd_mu: np.ndarray
    lgd_a: np.ndarray
    lgd_b: np.ndarray
    exp_buyer: np.ndarray
    exp_policy: np.ndarray
    exp_ead: np.ndarray
    exp_comm: np.ndarray
    exp_pol: np.ndarray
    pol_ind: np.ndarray
    pol_ded: np.ndarray
    pol_nql: np.ndarray
    pol_maxl: np.ndarray
    country_region: np.ndarray
    country_polthr: np.ndarray
    country_plgd: np.ndarray
    pol_a: float
    pol_b: float
    n_factors: int
    n_sectors: int
    student_t: bool
    dof: float

    @classmethod
    def from_compiled(cls, cp) -> NumpyModel:
        """Gather per-buyer arrays from :class:`riskengine.portfolio.CompiledPortfolio` (structured model)."""
        k = cp.kernel
        n_b = cp.n_buyers
        cell = k.buyer_cell
        fac_idx = np.zeros((n_b, 4), dtype=np.int64)
        fac_w = np.zeros((n_b, 4))
        for j in range(4):  # the structured model stores up to 4 loadings per cell
            has = (k.cell_fac_ptr[1:] - k.cell_fac_ptr[:-1]) > j
            pos = np.minimum(k.cell_fac_ptr[:-1] + j, max(len(k.cell_fac_idx) - 1, 0))
            fac_idx[:, j] = np.where(has, k.cell_fac_idx[pos], 0)[cell]
            fac_w[:, j] = np.where(has, k.cell_fac_w[pos], 0.0)[cell]
        groups = k.buyer_occ_group
        br, er = k.buyer_rec, k.exp_rec
        _, unit = np.unique(groups, return_inverse=True)
        return cls(
            thr0=k.cell_thr0[cell],
            thr1=k.cell_thr1[cell],
            inv_sigma=k.cell_inv_sigma[cell],
            fac_idx=fac_idx,
            fac_w=fac_w,
            country=br["country"].astype(np.int64),
            sector=br["sector"].astype(np.int64),
            group_unit=unit,
            n_units=int(unit.max() + 1) if n_b else 0,
            lgd_mu=k.lgd_class["mean"][br["lgd_class"]],
            lgd_a=k.lgd_class["alpha"][br["lgd_class"]],
            lgd_b=k.lgd_class["beta"][br["lgd_class"]],
            exp_buyer=er["buyer"].astype(np.int64),
            exp_policy=er["policy"].astype(np.int64),
            exp_ead=er["ead"],
            exp_comm=er["comm"].astype(bool),
            exp_pol=er["pol"].astype(bool),
            pol_ind=k.pol_ind,
            pol_ded=k.pol_ded,
            pol_nql=k.pol_nql,
            pol_maxl=k.pol_maxl,
            country_region=k.country_region.astype(np.int64),
            country_polthr=k.country_polthr,
            country_plgd=k.country_plgd,
            pol_a=k.pol_a,
            pol_b=k.pol_b,
            n_factors=len(k.factor_key),
            n_sectors=len(cp.sector_codes),
            student_t=bool(k.student_t),
            dof=float(k.dof),
        )


def numpy_simulate(
    m: NumpyModel, sims: int, seed: int = 0, batch: int | None = None
) -> dict[str, np.ndarray]:
    """Simulate ``sims`` years; returns per-year ground_up, gross, n_defaults and segment sums."""
    rng = np.random.default_rng(seed)
    n_b = len(m.thr0)
    n_c = len(m.country_region)
    n_p = len(m.pol_ind)
    n_r = int(m.country_region.max() + 1) if n_c else 0
    if batch is None:
        batch = max(1, min(sims, int(2e7 // max(n_b, 1))))
    out = {k: np.zeros(sims) for k in ("ground_up", "gross", "n_defaults")}
    out["country"] = np.zeros((sims, n_c))
    out["sector"] = np.zeros((sims, m.n_sectors))
    for s0 in range(0, sims, batch):
        S = min(batch, sims - s0)
        z = rng.standard_normal((S, m.n_factors))
        scale = np.sqrt(rng.chisquare(m.dof, S) / m.dof)[:, None] if m.student_t else 1.0
        # political events
        v = rng.standard_normal((S, n_r))
        eta = rng.standard_normal((S, n_c))
        ev = m.pol_a * v[:, m.country_region] + m.pol_b * eta < m.country_polthr[None, :]
        # commercial defaults
        sys_ = np.zeros((S, n_b))
        for j in range(4):
            sys_ += m.fac_w[:, j] * z[:, m.fac_idx[:, j]]
        eps = rng.standard_normal((S, m.n_units))[:, m.group_unit]
        thr = np.where(ev[:, m.country], m.thr1, m.thr0)
        default = (sys_ + eps / m.inv_sigma) < scale * thr
        # LGD per defaulted buyer
        rows, cols = np.nonzero(default)
        lgd = np.zeros((S, n_b))
        beta = m.lgd_a[cols] > 0
        draws = m.lgd_mu[cols].copy()
        draws[beta] = rng.beta(m.lgd_a[cols][beta], m.lgd_b[cols][beta])
        lgd[rows, cols] = draws
        # exposure losses with political precedence
        e_ev = ev[:, m.country[m.exp_buyer]]
        pol_loss = e_ev & m.exp_pol
        comm_loss = default[:, m.exp_buyer] & m.exp_comm & ~pol_loss
        loss = np.where(pol_loss, m.exp_ead * m.country_plgd[m.country[m.exp_buyer]], 0.0)
        loss += np.where(comm_loss, m.exp_ead * lgd[:, m.exp_buyer], 0.0)
        out["ground_up"][s0 : s0 + S] = loss.sum(axis=1)
        out["n_defaults"][s0 : s0 + S] = default.sum(axis=1)
        # policy terms by bincount over (sim, policy)
        qual = np.where(loss >= m.pol_nql[m.exp_policy], loss, 0.0)
        key = (np.arange(S)[:, None] * n_p + m.exp_policy[None, :]).ravel()
        q = np.bincount(key, weights=qual.ravel(), minlength=S * n_p).reshape(S, n_p)
        claim = np.minimum(m.pol_ind * np.maximum(q - m.pol_ded, 0.0), m.pol_maxl)
        out["gross"][s0 : s0 + S] = claim.sum(axis=1)
        ratio = np.divide(claim, q, out=np.zeros_like(q), where=q > 0)
        share = qual * ratio[:, m.exp_policy]
        ckey = (np.arange(S)[:, None] * n_c + m.country[m.exp_buyer][None, :]).ravel()
        out["country"][s0 : s0 + S] = np.bincount(
            ckey, weights=share.ravel(), minlength=S * n_c
        ).reshape(S, n_c)
        skey = (np.arange(S)[:, None] * m.n_sectors + m.sector[m.exp_buyer][None, :]).ravel()
        out["sector"][s0 : s0 + S] = np.bincount(
            skey, weights=share.ravel(), minlength=S * m.n_sectors
        ).reshape(S, m.n_sectors)
    return out


def time_numpy(cp, sims: int, seed: int = 0) -> tuple[float, dict[str, np.ndarray]]:
    """Seconds to simulate ``sims`` years with the NumPy baseline, and its output."""
    m = NumpyModel.from_compiled(cp)
    t0 = time.perf_counter()
    res = numpy_simulate(m, sims, seed)
    return time.perf_counter() - t0, res
