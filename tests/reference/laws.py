"""Closed-form laws the simulation is checked against (SciPy; no simulation).

Every function states its formula. Notation: Φ, φ the standard normal CDF and density, t_ν the
Student-t CDF with ν degrees of freedom, p a PD, ρ an asset (or political) correlation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
from scipy import stats

__all__ = [
    "vasicek_cdf",
    "vasicek_ppf",
    "finite_portfolio_pmf",
    "bivariate_event_prob",
    "expected_ground_up",
    "expected_ground_up_by_exposure",
    "quantile_band",
    "check_quantiles",
    "k_sigma_alpha",
]


# -- Vasicek large homogeneous portfolio ---------------------------------------------------------
def vasicek_cdf(x, p: float, rho: float):
    """P(loss fraction ≤ x) of an infinitely granular homogeneous portfolio (Vasicek, 2002).

    F(x) = Φ((√(1−ρ)·Φ⁻¹(x) − Φ⁻¹(p)) / √ρ), for 0 < x < 1 (0 at x ≤ 0, 1 at x ≥ 1). The loss
    fraction is the conditional PD Φ((Φ⁻¹(p) − √ρ·Z)/√(1−ρ)) of a one-factor Gaussian model.
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        z = (
            math.sqrt(1 - rho) * stats.norm.ppf(np.clip(x, 0.0, 1.0)) - stats.norm.ppf(p)
        ) / math.sqrt(rho)
    return stats.norm.cdf(z)


def vasicek_ppf(q, p: float, rho: float):
    """Quantile of the Vasicek law: F⁻¹(q) = Φ((Φ⁻¹(p) + √ρ·Φ⁻¹(q)) / √(1−ρ)).

    With q = 0.999 this is the conditional PD of the Basel IRB capital formula
    K = LGD·[F⁻¹(0.999) − PD]·MA.
    """
    q = np.asarray(q, dtype=float)
    return stats.norm.cdf(
        (stats.norm.ppf(p) + math.sqrt(rho) * stats.norm.ppf(q)) / math.sqrt(1 - rho)
    )


# -- finite homogeneous portfolio ----------------------------------------------------------------
def finite_portfolio_pmf(
    n: int,
    p: float,
    rho: float,
    copula: Literal["gaussian", "student_t"] = "gaussian",
    dof: float | None = None,
) -> np.ndarray:
    """Exact P(D = k), k = 0..n, for n homogeneous buyers in a one-factor model.

    Buyer i defaults iff X_i / S < T with X_i = √ρ·Z + √(1−ρ)·ε_i, where
    Gaussian: S = 1, T = Φ⁻¹(p); Student-t: S = √(W/ν), W ~ χ²_ν, T = t_ν⁻¹(p).
    Given (Z, W) defaults are independent with conditional PD

        π(z, w) = Φ((T·√(w/ν) − √ρ·z) / √(1−ρ)) = Φ(A / √(1−ρ)),  A = T·S − √ρ·Z,

    so P(D = k) = E[C(n, k)·π^k·(1 − π)^(n−k)] = ∫ Binom(k; n, Φ(a/√(1−ρ))) f_A(a) da.

    A is normal N(T, ρ) (Gaussian) or a scale mixture of normals,
    f_A(a) = E_W[φ((a − T·S)/√ρ)/√ρ] (Student-t), computed with the trapezoidal rule in
    y = log W. Both integrals are of analytic, rapidly decaying integrands over the real line, for
    which the trapezoidal rule converges geometrically; the steps are set from the narrowest
    feature (the binomial peak, of width ≈ √(π(1−π)/n) in π). The result is checked to sum to 1
    within 1e-10.

    Parameters
    ----------
    n : int
        Number of buyers (≥ 1).
    p : float
        Unconditional PD, 0 < p < 1.
    rho : float
        Asset correlation R², 0 < ρ < 1.
    copula, dof : str, float
        ``"gaussian"`` or ``"student_t"`` (then ``dof`` = ν > 0 is required).

    Returns
    -------
    numpy.ndarray, shape (n + 1,)
        P(D = k) for k = 0..n.
    """
    if not (n >= 1 and 0 < p < 1 and 0 < rho < 1):
        raise ValueError("need n ≥ 1, 0 < p < 1 and 0 < rho < 1")
    sr, sr1 = math.sqrt(rho), math.sqrt(1 - rho)
    # narrowest binomial peak, in a: width in π over dπ/da at π = 1/2
    width = math.sqrt(0.25 / n) * sr1 / stats.norm.pdf(0.0)
    h = min(0.25 * width, 0.25 * sr, 0.01)
    if copula == "gaussian":
        thr = stats.norm.ppf(p)
        a = np.arange(thr - 12 * sr, thr + 12 * sr + h, h)
        f_a = stats.norm.pdf(a, loc=thr, scale=sr)
    elif copula == "student_t":
        if dof is None or not dof > 0:
            raise ValueError("student_t needs dof > 0")
        thr = stats.t.ppf(p, dof)
        # y = log W on [log w(1e-20), log w(1 − 1e-20)]; density of y: f_W(e^y)·e^y
        y = np.arange(
            math.log(stats.chi2.ppf(1e-20, dof)), math.log(stats.chi2.isf(1e-20, dof)), 0.01
        )
        w_y = np.exp(stats.chi2.logpdf(np.exp(y), dof) + y) * 0.01
        s = np.sqrt(np.exp(y) / dof)
        lo, hi = sorted((thr * s[0], thr * s[-1]))
        a = np.arange(lo - 12 * sr, hi + 12 * sr + h, h)
        f_a = np.empty_like(a)
        for j in range(0, a.size, 512):  # chunks bound memory
            blk = a[j : j + 512, None]
            f_a[j : j + 512] = stats.norm.pdf(blk, loc=thr * s[None, :], scale=sr) @ w_y
    else:
        raise ValueError(f"unknown copula {copula!r}")
    weight = f_a * h
    pi = stats.norm.cdf(a / sr1)
    k = np.arange(n + 1)
    pmf = np.zeros(n + 1)
    for j in range(0, a.size, 512):
        pmf += stats.binom.pmf(k[:, None], n, pi[None, j : j + 512]) @ weight[j : j + 512]
    total = pmf.sum()
    if abs(total - 1.0) > 1e-10:
        raise ArithmeticError(f"pmf sums to {total!r}, not 1 within 1e-10")
    return pmf


# -- political events ----------------------------------------------------------------------------
def bivariate_event_prob(q1: float, q2: float, rho: float) -> float:
    """P(Y1 < Φ⁻¹(q1), Y2 < Φ⁻¹(q2)) for standard normals Y1, Y2 with correlation ρ.

    = Φ₂(Φ⁻¹(q1), Φ⁻¹(q2); ρ), SciPy's bivariate normal CDF. For two countries of one region
    Y_c = √ρ_p·V_r + √(1−ρ_p)·η_c, so corr(Y1, Y2) = ρ_p. It is also the joint default
    probability of two Gaussian-copula buyers whose asset values have correlation ρ.
    """
    if q1 <= 0 or q2 <= 0:
        return 0.0
    cov = [[1.0, rho], [rho, 1.0]]
    x = [stats.norm.ppf(q1), stats.norm.ppf(q2)]
    return float(
        stats.multivariate_normal.cdf(x, mean=[0.0, 0.0], cov=cov, abseps=1e-12, releps=1e-12)
    )


# -- exact expected ground-up loss ---------------------------------------------------------------
def expected_ground_up_by_exposure(book, scenario) -> np.ndarray:
    """E[L_e] per exposure (reporting currency), in the order of
    ``reference_portfolio(...).exposure_ids``.

    With q = P(event in the buyer's country), pd, pd' = min(m·pd, 0.999999), μ the mean LGD,
    κ = political LGD, c = commercial cover (0/1):

    * with political cover: E[L_e] = q·κ·EAD + (1 − q)·pd·μ·EAD·c (in event years the loss is
      political whatever the buyer does; in other years the PD is pd);
    * without: E[L_e] = [(1 − q)·pd + q·pd']·μ·EAD·c.

    The default probability in an event year is pd' for both copulas, because the contagion
    threshold is the marginal quantile of pd' and the buyer's asset value is independent of the
    political factors. LGD is independent of everything else, so E[LGD·1{default}] = μ·P(default).
    """
    from .model import PD_CAP, reference_portfolio

    port = reference_portfolio(book, scenario)
    b, c = port.exp_buyer, port.buyer_country[port.exp_buyer]
    q, kappa = port.q[c], port.plgd[c]
    pd = port.pd[b]
    pd_event = np.maximum(pd, np.minimum(port.multiplier * pd, PD_CAP))
    com = port.commercial_cover.astype(float)
    ead, mu = port.ead, port.lgd[b]
    with_pol = q * kappa * ead + (1 - q) * pd * mu * ead * com
    without = ((1 - q) * pd + q * pd_event) * mu * ead * com
    return np.where(port.political_cover, with_pol, without)


def expected_ground_up(book, scenario) -> float:
    """Exact E[ground_up] = Σ_e E[L_e] (see :func:`expected_ground_up_by_exposure`)."""
    return float(expected_ground_up_by_exposure(book, scenario).sum())


# -- quantile bands ------------------------------------------------------------------------------
def k_sigma_alpha(k: float) -> float:
    """Two-sided probability of a normal deviation beyond k standard errors, 2·(1 − Φ(k))."""
    return float(2 * stats.norm.sf(k))


def quantile_band(sample_size: int, q: float, k: float = 4) -> tuple[int, int]:
    """Ranks (j_lo, j_hi) bracketing the empirical q-quantile of N iid draws.

    Let x̂ = X_(m), m = ⌈N·q⌉, be the empirical q-quantile. For any level u,
    P(x̂ ≤ F⁻¹(u)) = P(Bin(N, u) ≥ m). With se = √(q(1−q)/N) and the normal approximation of the
    binomial, x̂ lies between the true quantiles at levels j_lo/N and j_hi/N with
    j_lo = ⌊N·(q − k·se)⌋ and j_hi = ⌈N·(q + k·se)⌉ (clipped to [0, N]) with probability at least
    that of a normal variable within k standard deviations, 1 − 2·(1 − Φ(k)).
    """
    n = int(sample_size)
    se = math.sqrt(q * (1 - q) / n)
    j_lo = max(0, math.floor(n * (q - k * se)))
    j_hi = min(n, math.ceil(n * (q + k * se)))
    return j_lo, j_hi


def check_quantiles(
    sample,
    law: Callable,
    qs,
    k: float = 4,
    kind: Literal["ppf", "cdf"] = "ppf",
) -> list[str]:
    """Compare the empirical quantiles of ``sample`` with a law; return the failures (empty: pass).

    The empirical q-quantile is the order statistic x̂ = X_(⌈N·q⌉) (``method="inverted_cdf"``).
    With (j_lo, j_hi) = :func:`quantile_band` (N, q, k):

    * ``kind="ppf"`` (``law`` is the quantile function of a continuous law):
      F⁻¹(j_lo/N) ≤ x̂ ≤ F⁻¹(j_hi/N);
    * ``kind="cdf"`` (``law`` is the CDF of an integer-valued law, e.g. a default count):
      F(x̂) ≥ j_lo/N and F(x̂ − 1) ≤ j_hi/N.

    Each check fails with probability at most about 2·(1 − Φ(k)) when the law is right.
    """
    x = np.asarray(sample)
    n = x.size
    failures = []
    for q in np.atleast_1d(qs):
        xq = np.quantile(x, q, method="inverted_cdf")
        j_lo, j_hi = quantile_band(n, float(q), k)
        lo, hi = j_lo / n, j_hi / n
        if kind == "ppf":
            a, b = law(lo), law(hi)
            if not a <= xq <= b:
                failures.append(
                    f"q={q:g}: empirical {xq!r} outside [F⁻¹({lo:.5g}), F⁻¹({hi:.5g})] = "
                    f"[{a!r}, {b!r}]"
                )
        elif kind == "cdf":
            f_at, f_below = float(law(xq)), float(law(xq - 1))
            if not (f_at >= lo and f_below <= hi):
                failures.append(
                    f"q={q:g}: empirical {xq!r} has F(x)={f_at:.6g}, F(x−1)={f_below:.6g}; "
                    f"need F(x) ≥ {lo:.6g} and F(x−1) ≤ {hi:.6g}"
                )
        else:
            raise ValueError(f"kind must be 'ppf' or 'cdf', not {kind!r}")
    return failures
