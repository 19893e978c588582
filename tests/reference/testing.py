"""Helpers shared by the statistical tests: bounds in K standard errors, exact bivariate normal
probabilities, Pearson's test on pooled bins, and the small "mixed" book that exercises every
feature of the model at once."""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from riskengine.scenario import Scenario, parse_scenario

from .laws import k_sigma_alpha
from .model import make_book

__all__ = [
    "K",
    "ALPHA",
    "family_k",
    "within",
    "bvn_owen",
    "discrete_cdf",
    "chi_square_pvalue",
    "mixed_book",
    "mixed_scenario",
]

#: Standard errors of every statistical bound.
K = 4.0
#: Two-sided tail probability of a K-sigma deviation.
ALPHA = k_sigma_alpha(K)


def family_k(m: int) -> float:
    """k of m two-sided tests whose family-wise false-alarm rate is k_sigma_alpha(K)."""
    return float(stats.norm.isf(ALPHA / (2 * m)))


def within(x: float, expected: float, se: float, k: float = K) -> bool:
    return abs(x - expected) <= k * se


def bvn_owen(h: float, k: float, rho: float) -> float:
    """Φ₂(h, k; ρ) from Owen's T function (exact; h, k ≠ 0)."""
    s = math.sqrt(1 - rho * rho)
    ah, ak = (k - rho * h) / (h * s), (h - rho * k) / (k * s)
    corr = 0.5 if h * k < 0 else 0.0
    return 0.5 * special.ndtr(h) + 0.5 * special.ndtr(k) - special.owens_t(h, ah) - special.owens_t(k, ak) - corr


def discrete_cdf(pmf: np.ndarray):
    cdf = np.cumsum(pmf)
    return lambda x: 0.0 if x < 0 else float(cdf[min(int(x), cdf.size - 1)])


def chi_square_pvalue(counts: np.ndarray, pmf: np.ndarray) -> float:
    """Pearson's test of counts against a pmf, adjacent bins pooled until each expects ≥ 5."""
    n = counts.sum()
    obs, exp = [], []
    acc_o = acc_e = 0.0
    for o, e in zip(counts, n * np.asarray(pmf), strict=True):
        acc_o, acc_e = acc_o + o, acc_e + e
        if acc_e >= 5:
            obs.append(acc_o)
            exp.append(acc_e)
            acc_o = acc_e = 0.0
    obs[-1] += acc_o
    exp[-1] += acc_e
    obs, exp = np.array(obs), np.array(exp)
    return float(stats.chi2.sf(((obs - exp) ** 2 / exp).sum(), obs.size - 1))


def mixed_book(explicit: bool = False):
    """A small book with everything: two regions, political risk, contagion (one capped), groups
    (one spanning cells), three currencies, covers switched off, policy terms."""
    buyers = {
        "buyer_id": [f"b{i:02d}" for i in range(12)],
        "country": ["DE", "DE", "FR", "FR", "FR", "BR", "BR", "BR", "AR", "AR", "AR", "DE"],
        "sector": ["C", "G", "C", "G", "F", "C", "G", "F", "C", "G", "F", "C"],
        "pd": [0.01, None, 0.03, 0.02, None, 0.05, 0.4, 0.08, 0.1, None, 0.04, 0.01],
        "rating": [None, "BB", None, None, "B", None, None, None, None, "CCC", None, None],
        "lgd": [None, 0.4, 0.6, None, 0.5, 0.45, None, 0.7, 0.5, 0.3, None, None],
        "lgd_sd": [None, 0.2, 0.0, None, 0.1, 0.25, None, 0.2, 0.3, 0.1, None, None],
        "asset_correlation": [None, 0.3, None, 0.15, None, 0.25, 0.2, None, 0.3, None, 0.1, None],
        "group_id": ["G1", None, None, None, "G2", "G2", None, None, None, None, None, "G1"],
    }
    ex = [  # buyer, policy, limit, utilization, currency, commercial, political
        (0, "P1", 1000.0, None, None, True, True),
        (1, "P1", 800.0, 0.5, "USD", True, True),
        (2, "P1", 500.0, 1.0, None, True, False),
        (3, "P2", 2000.0, None, None, True, True),
        (4, "P2", 300.0, 0.8, "EUR", False, True),
        (5, "P2", 1500.0, None, None, True, False),
        (6, "P3", 700.0, 1.0, None, True, False),
        (7, "P3", 900.0, None, "USD", True, True),
        (8, "P3", 1200.0, 0.9, None, True, True),
        (9, "P1", 400.0, None, None, False, False),
        (10, "P2", 600.0, None, None, True, True),
        (11, "P3", 250.0, 1.0, "EUR", True, True),
        (6, "P1", 350.0, None, None, True, True),
        (8, "P2", 450.0, None, "GBP", True, False),
    ]
    exposures = {
        "exposure_id": [f"e{i:02d}" for i in range(len(ex))],
        "buyer_id": [buyers["buyer_id"][r[0]] for r in ex],
        "policy_id": [r[1] for r in ex],
        "limit": [r[2] for r in ex],
        "utilization": [r[3] for r in ex],
        "currency": [r[4] for r in ex],
        "commercial_cover": [r[5] for r in ex],
        "political_cover": [r[6] for r in ex],
    }
    policies = {
        "policy_id": ["P1", "P2", "P3"],
        "currency": ["EUR", "USD", "GBP"],
        "indemnity": [0.9, 0.85, 1.0],
        "deductible": [50.0, 0.0, 100.0],
        "nql": [5.0, 20.0, 0.0],
        "max_liability": [None, 2000.0, 1500.0],
    }
    countries = {
        "country": ["AR", "BR", "DE", "FR"],
        "region": ["LATAM", "LATAM", "EU", "EU"],
        "risk_grade": [None, 6, 0, None],
        "political_pd": [0.15, None, None, 0.05],
        "political_lgd": [None, 0.6, None, 0.9],
    }
    fx = {"currency": ["USD", "GBP"], "rate": [0.92, 1.17]}
    loadings = None
    if explicit:
        f = ["F1", "F2", "F3"]
        rows = [(b, f[i % 3], 0.2 + 0.05 * (i % 4)) for i, b in enumerate(buyers["buyer_id"])]
        rows += [(b, f[(i + 1) % 3], 0.3) for i, b in enumerate(buyers["buyer_id"]) if i % 2]
        loadings = {"buyer_id": [r[0] for r in rows], "factor": [r[1] for r in rows], "loading": [r[2] for r in rows]}
    return make_book(buyers, exposures, policies, countries, fx, loadings)


def mixed_scenario(copula: str = "gaussian", explicit: bool = False, multiplier: float = 3.0, **sections) -> Scenario:
    """The scenario of :func:`mixed_book`: beta LGD, strong political risk and contagion."""
    model = {"copula": copula, "dof": 5.0, "lgd": {"mean": 0.45, "sd": 0.2}, "utilization": 0.7}
    if explicit:
        model["factor_correlation"] = {
            "factors": ["F1", "F2", "F3"],
            "matrix": [[1.0, 0.5, 0.2], [0.5, 1.0, 0.3], [0.2, 0.3, 1.0]],
        }
    political = {
        "correlation": 0.4,
        "grade_pd": [0.0, 0.01, 0.02, 0.04, 0.06, 0.08, 0.12, 0.2],
        "commercial_pd_multiplier": multiplier,
    }
    return parse_scenario({"model": model, "political": political, **sections})
