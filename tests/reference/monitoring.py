"""Dynamic limit management in plain NumPy: every buyer's latent path simulated forwards.

docs/model.md §10 as a modeller would first write it, sharing nothing with the kernel but the
rules: a one-factor book of buyers i with PD p_i and R²_i; each year the factor Z(t) and every
buyer's ε_i(t) are standard Brownian motions, simulated as random walks with NumPy's own
generator at the reviews t_k = k/R and at year end; X_i(t) = √R²_i Z(t) + √(1 − R²_i) ε_i(t);
buyer i defaults when X_i(1) < θ_i (θ_i = Φ⁻¹(p_i); under the Student-t copula θ_i = √(W/ν)
t_ν⁻¹(p_i) with one W ~ χ²_ν a year). At review k the insurer sees X_i(t_k) + noise · ξ and
cuts when Φ((θ_i − signal)/√(1 − t_k)) ≥ max(trigger_pd, min(trigger_multiple · p_i, 0.999999)),
effective at τ = t_k + notice (only reviews with τ < 1 count). A defaulted buyer's exposure at
default keeps the share max(cut_to, clip((τ − (1 − T))/T, 0, 1)) (T its payment term in years);
a buyer that does not default loses turnover × (1 − cut_to) × (1 − τ) of insured turnover.

No conditioning on the default, no bridge: the engine draws defaulted buyers' paths as bridges to
their year-end value given default, so agreement tests that construction. ``wrong`` switches on a
plausible mistake: ``"free walk"`` (defaulted buyers' reviews see a path that ignores where it
ends), ``"no horizon"`` (the PD estimate forgets the √(1 − t_k) of the rest of the year),
``"no notice"`` (cuts take effect at the review).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

__all__ = ["Monitoring", "reference_monitoring"]


@dataclass(frozen=True)
class Monitoring:
    """The rules of a ``monitoring`` block (fractions, days) and the book's one factor."""

    reviews: int = 12
    noise: float = 0.5
    trigger_pd: float = 0.5
    trigger_multiple: float = 20.0
    cut_to: float = 0.5
    notice_days: float = 30.0


def _thresholds(pd: np.ndarray, dof: float | None, sims: int, rng: np.random.Generator):
    """θ per year and buyer: Φ⁻¹(p), or √(W/ν)·t_ν⁻¹(p) under the Student-t copula."""
    if dof is None:
        return np.broadcast_to(special.ndtri(pd), (sims, len(pd)))
    w = rng.chisquare(dof, sims)
    return np.sqrt(w / dof)[:, None] * stats.t.ppf(pd, dof)[None, :]


def reference_monitoring(
    pd: np.ndarray,
    r2: np.ndarray,
    term_days: np.ndarray,
    turnover: np.ndarray,
    rules: Monitoring,
    sims: int,
    seed: int,
    *,
    dof: float | None = None,
    wrong: str | None = None,
    batch: int = 500,
) -> dict[str, np.ndarray]:
    """Per simulated year: ``n_defaults``, ``n_caught`` (defaults cut with τ < 1),
    ``loss_avoided`` (Σ over defaulted buyers of (1 − the EAD share kept), each buyer's EAD × LGD
    being 1) and ``turnover_lost`` (Σ over buyers that do not default), exact over all buyers;
    ``turnover_lost_defaulted``: what the cuts on defaulted buyers would add to it.

    Parameters
    ----------
    pd, r2, term_days, turnover : ndarray
        Per buyer: PD, R², payment term (days) and insured turnover a year.
    rules : Monitoring
    sims, seed : int
    dof : float, optional
        Student-t copula with ν = ``dof`` (Gaussian without).
    wrong : str, optional
        A plausible mistake to make (see the module's docstring).
    """
    rng = np.random.default_rng(seed)
    pd, r2 = np.asarray(pd, float), np.asarray(r2, float)
    n, big_r = len(pd), rules.reviews
    t = np.arange(1, big_r + 1) / big_r  # reviews t_1 … t_{R−1}, then year end
    dt = np.diff(np.r_[0.0, t])
    notice = 0.0 if wrong == "no notice" else rules.notice_days / 365.0
    effective = t[:-1] + notice < 1.0
    z_trig = special.ndtri(
        np.maximum(rules.trigger_pd, np.minimum(rules.trigger_multiple * pd, 0.999999))
    )
    horizon = np.ones(big_r - 1) if wrong == "no horizon" else np.sqrt(1.0 - t[:-1])
    term = np.asarray(term_days, float) / 365.0
    keys = ("n_defaults", "n_caught", "loss_avoided", "turnover_lost", "turnover_lost_defaulted")
    out: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for lo in range(0, sims, batch):
        m = min(batch, sims - lo)
        theta = _thresholds(pd, dof, m, rng)  # [m, n]
        dz = rng.standard_normal((m, 1, big_r)) * np.sqrt(dt)
        de = rng.standard_normal((m, n, big_r)) * np.sqrt(dt)
        x = np.cumsum(np.sqrt(r2)[None, :, None] * dz + np.sqrt(1 - r2)[None, :, None] * de, 2)
        default = x[:, :, -1] < theta
        path = x[:, :, :-1]
        if wrong == "free walk":  # reviews of defaulted buyers on a path not bound to its end
            free = np.cumsum(rng.standard_normal((m, n, big_r - 1)) * np.sqrt(dt[:-1]), 2)
            path = np.where(default[:, :, None], free, path)
        signal = path + rules.noise * rng.standard_normal(path.shape)
        barrier = theta[:, :, None] - z_trig[None, :, None] * horizon[None, None, :]
        cut = (signal <= barrier) & effective[None, None, :]
        first = np.where(cut.any(2), cut.argmax(2), -1)
        tau = np.where(first >= 0, t[np.maximum(first, 0)] + notice, np.inf)
        caught = tau < 1.0
        f = np.clip((tau - (1.0 - term)[None, :]) / term[None, :], 0.0, 1.0)
        kept = np.where(caught, np.maximum(rules.cut_to, f), 1.0)
        lost = np.where(caught, (1.0 - rules.cut_to) * (1.0 - tau), 0.0) * turnover[None, :]
        out["n_defaults"].append(default.sum(1))
        out["n_caught"].append((default & caught).sum(1))
        out["loss_avoided"].append(np.where(default, 1.0 - kept, 0.0).sum(1))
        out["turnover_lost"].append(np.where(default, 0.0, lost).sum(1))
        out["turnover_lost_defaulted"].append(np.where(default, lost, 0.0).sum(1))
    return {k: np.concatenate(v).astype(float) for k, v in out.items()}
