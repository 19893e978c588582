"""Helpers shared by the tests: bounds in K standard errors, exact bivariate normal probabilities,
Pearson's test on pooled bins, small books whose outcomes can be read per buyer (one policy per
buyer; the "mixed" book that exercises every feature of the model at once; two factor-model books
with known pairwise asset correlations and a check of simulated defaults against them), reading
a run's segments as a matrix, and running the command line in-process."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from riskengine.book import Book
from riskengine.scenario import Scenario, parse_scenario

from .laws import bivariate_event_prob, k_sigma_alpha
from .model import make_book

__all__ = [
    "K",
    "ALPHA",
    "family_k",
    "within",
    "binom_se",
    "within_rate",
    "bvn_owen",
    "discrete_cdf",
    "chi_square_pvalue",
    "mixed_book",
    "mixed_scenario",
    "indicator_book",
    "PairwiseCase",
    "structured_case",
    "explicit_case",
    "pairwise_default_failures",
    "segment_matrix",
    "run_cli",
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


def binom_se(p: float, n: int) -> float:
    """Standard error of the share of successes in n Bernoulli(p) trials, √(p(1 − p)/n)."""
    return math.sqrt(p * (1 - p) / n)


def within_rate(hits: np.ndarray, p: float, k: float = K) -> bool:
    """The share of True in ``hits`` is within k binomial standard errors of p."""
    hits = np.asarray(hits)
    return within(float(hits.mean()), p, binom_se(p, hits.size), k)


def bvn_owen(h: float, k: float, rho: float) -> float:
    """Φ₂(h, k; ρ) from Owen's T function (exact; h, k ≠ 0)."""
    s = math.sqrt(1 - rho * rho)
    ah, ak = (k - rho * h) / (h * s), (h - rho * k) / (k * s)
    corr = 0.5 if h * k < 0 else 0.0
    return (
        0.5 * special.ndtr(h)
        + 0.5 * special.ndtr(k)
        - special.owens_t(h, ah)
        - special.owens_t(k, ak)
        - corr
    )


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
        loadings = {
            "buyer_id": [r[0] for r in rows],
            "factor": [r[1] for r in rows],
            "loading": [r[2] for r in rows],
        }
    return make_book(buyers, exposures, policies, countries, fx, loadings)


def mixed_scenario(
    copula: str = "gaussian", explicit: bool = False, multiplier: float = 3.0, **sections
) -> Scenario:
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


# -- books whose outcomes are read per buyer ------------------------------------------------------
def indicator_book(
    buyers: dict, countries: dict, *, covers: tuple[bool, bool] = (True, False), **kw: Any
) -> Book:
    """One policy per buyer (policy id = buyer id), unit limit, LGD 1 (sd 0), indemnity 1.

    ``covers`` = (commercial, political) cover of each buyer's exposure: the default (True, False)
    makes the policy's claim 1 exactly when the buyer defaults, whatever its country's events.
    ``kw`` goes to :func:`make_book` (``fx``, ``factor_loadings``).
    """
    ids = buyers["buyer_id"]
    n = len(ids)
    buyers = {"lgd": [1.0] * n, "lgd_sd": [0.0] * n, **buyers}
    return make_book(
        buyers,
        {
            "exposure_id": [f"E_{b}" for b in ids],
            "policy_id": list(ids),
            "buyer_id": list(ids),
            "limit": [1.0] * n,
            "utilization": [1.0] * n,
            "commercial_cover": [covers[0]] * n,
            "political_cover": [covers[1]] * n,
        },
        {"policy_id": list(ids), "currency": ["EUR"] * n, "indemnity": [1.0] * n},
        countries,
        **kw,
    )


@dataclass(frozen=True)
class PairwiseCase:
    """An :func:`indicator_book` whose buyers' pairwise asset correlations are known.

    ``ids`` are sorted (the column order of ``reference_draws``); ``model`` is the scenario's
    ``model`` section; ``rho[i, j]`` is the correlation of buyers i and j, ``rho_wrong[i, j]``
    what a plausible mistake would make it.
    """

    book: Book
    ids: list[str]
    model: dict[str, Any]
    pd: np.ndarray
    rho: np.ndarray
    rho_wrong: np.ndarray


def structured_case() -> PairwiseCase:
    """Six buyers in three countries of two regions and two sectors, structured factor model.

    Weights 0.35 global, 0.2 region, 0.3 country, 0.15 sector: buyers i, j have asset correlation
    ρ_ij = √(R²_i·R²_j)·(w_global + w_region·[same region] + w_country·[same country]
    + w_sector·[same sector]). The mistake: the weights ignored, ρ_ij = √(R²_i·R²_j).
    """
    w = {"global": 0.35, "region": 0.2, "country": 0.3, "sector": 0.15}
    buyers = {
        "buyer_id": ["b1", "b2", "b3", "b4", "b5", "b6"],
        "country": ["DE", "DE", "FR", "BR", "FR", "BR"],
        "sector": ["C", "C", "C", "G", "G", "C"],
        "pd": [0.1, 0.15, 0.08, 0.12, 0.1, 0.1],
        "asset_correlation": [0.3, 0.2, 0.25, 0.4, 0.3, 0.3],
    }
    countries = {
        "country": ["BR", "DE", "FR"],
        "region": ["LATAM", "EU", "EU"],
        "political_pd": [0.0] * 3,
    }
    region_of = dict(zip(countries["country"], countries["region"], strict=True))
    country = np.array(buyers["country"])
    region = np.array([region_of[c] for c in buyers["country"]])
    sector = np.array(buyers["sector"])

    def same(x: np.ndarray) -> np.ndarray:
        return (x[:, None] == x[None, :]).astype(float)

    share = (
        w["global"]
        + w["region"] * same(region)
        + w["country"] * same(country)
        + w["sector"] * same(sector)
    )
    full = np.sqrt(np.outer(buyers["asset_correlation"], buyers["asset_correlation"]))
    return PairwiseCase(
        book=indicator_book(buyers, countries),
        ids=buyers["buyer_id"],
        model={"factor_weights": w},
        pd=np.array(buyers["pd"]),
        rho=full * share,
        rho_wrong=full,
    )


def explicit_case() -> PairwiseCase:
    """Four buyers of one country loaded on two factors with correlation 0.4 (b4 on none).

    Buyers i, j have asset correlation ρ_ij = a_iᵀ·Σ_F·a_j. The mistake: the factor correlation
    ignored (Σ_F = I), ρ_ij = a_iᵀ·a_j.
    """
    corr = [[1.0, 0.4], [0.4, 1.0]]
    loadings = {"b1": (0.5, 0.0), "b2": (0.0, 0.6), "b3": (0.3, 0.4)}
    ids = ["b1", "b2", "b3", "b4"]
    pds = [0.1, 0.12, 0.08, 0.1]
    rows = [
        (b, f, a)
        for b, la in loadings.items()
        for f, a in zip(("F1", "F2"), la, strict=True)
        if a != 0
    ]
    book = indicator_book(
        {"buyer_id": ids, "country": ["DE"] * 4, "sector": ["C"] * 4, "pd": pds},
        {"country": ["DE"], "region": ["EU"], "political_pd": [0.0]},
        factor_loadings={
            "buyer_id": [r[0] for r in rows],
            "factor": [r[1] for r in rows],
            "loading": [r[2] for r in rows],
        },
    )
    a = np.array([loadings.get(b, (0.0, 0.0)) for b in ids])
    return PairwiseCase(
        book=book,
        ids=ids,
        model={"factor_correlation": {"factors": ["F1", "F2"], "matrix": corr}},
        pd=np.array(pds),
        rho=a @ np.array(corr) @ a.T,
        rho_wrong=a @ a.T,
    )


def pairwise_default_failures(
    d: np.ndarray,
    case: PairwiseCase,
    k: float = K,
    joint: Callable[[float, float, float], float] = bivariate_event_prob,
) -> tuple[list[str], float]:
    """Default indicators ``d`` [sims, buyers in ``case.ids`` order] against the case's law.

    Each buyer's default rate against its PD, and each pair's joint default rate against
    ``joint(pd_i, pd_j, ρ_ij)`` (default: the Gaussian copula's Φ₂), within k binomial standard
    errors. Returns the failures (empty: agreement) and the power: the largest deviation, in the
    pair's standard errors, that the mistaken correlations ``rho_wrong`` would make.
    """
    sims, n = d.shape
    failures: list[str] = []
    power = 0.0
    for i in range(n):
        pi = float(case.pd[i])
        if not within_rate(d[:, i], pi, k):
            failures.append(f"{case.ids[i]}: default rate {d[:, i].mean():.6g}, pd {pi:.6g}")
        for j in range(i + 1, n):
            pj = float(case.pd[j])
            p12 = joint(pi, pj, float(case.rho[i, j]))
            both = d[:, i] & d[:, j]
            if not within_rate(both, p12, k):
                failures.append(
                    f"{case.ids[i]} & {case.ids[j]}: joint default rate {both.mean():.6g}, "
                    f"law {p12:.6g}"
                )
            wrong = joint(pi, pj, float(case.rho_wrong[i, j]))
            power = max(power, abs(wrong - p12) / binom_se(p12, sims))
    return failures, power


# -- reading runs ---------------------------------------------------------------------------------
def segment_matrix(res: Any, dimension: str, labels: list[str]) -> np.ndarray:
    """Gross claims [sims, len(labels)] of one segment dimension of a run (``Results``)."""
    seg = res.segments([dimension])
    col = {v: i for i, v in enumerate(labels)}
    out = np.zeros((res.n_sims, len(labels)))
    rows = np.array([col[v] for v in seg["segment"].to_list()], dtype=np.int64)
    out[seg["sim_id"].to_numpy(), rows] = seg["gross"].to_numpy()
    return out


def run_cli(argv: list[str], capsys: Any) -> tuple[int, str, str]:
    """Run ``riskengine ARGV`` in-process, as the console script does: (exit code, stdout, stderr).

    ``capsys`` is pytest's fixture of the calling test.
    """
    import pytest

    from riskengine.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err
