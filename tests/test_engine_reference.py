"""The engine against the plain NumPy reference on a generated book: whole distributions.

The engine (counter-based draws, cells, geometric skips, Numba) and ``reference_simulate``
(``numpy.random.default_rng``, one uniform per buyer) must agree in distribution. For each of
gross, ground_up, n_defaults, political and max_occurrence:

* two-sample Kolmogorov–Smirnov, rejecting at α = k_sigma_alpha(K) (K = 4: 6.3e-5); with atoms
  (zeros, integer counts) the test is conservative, which can only lower the false-alarm rate;
* means within K standard errors of their difference, se = √(s₁²/n₁ + s₂²/n₂);
* the 90 % and 99 % quantiles: the distribution-free order-statistic intervals
  [X_(j_lo), X_(j_hi)] (``laws.quantile_band``) of both samples each contain the common true
  quantile with probability ≥ 1 − α, so they must overlap.

Power: the same checks reject the engine run under plausibly wrong models (asset correlation 0.15
instead of 0.2; deterministic LGD; political risk switched off).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from reference.laws import quantile_band
from reference.model import reference_simulate
from reference.testing import ALPHA, K
from riskengine.book import generate_book
from riskengine.run.simulate import simulate
from riskengine.scenario import Scenario, baseline_scenario_path, load_scenario, parse_scenario

COLUMNS = ("gross", "ground_up", "n_defaults", "political", "max_occurrence")
QS = (0.9, 0.99)
SIMS = 40_000


def variant(base: Scenario, **changes) -> Scenario:
    """``base`` with ``section__key=value`` changes."""
    d = base.model_dump(mode="json", by_alias=True)
    for k, v in changes.items():
        section, key = k.split("__")
        d[section][key] = v
    d["outputs"]["segments"] = []
    d["outputs"]["report"] = False
    return parse_scenario(d)


def band(x: np.ndarray, q: float) -> tuple[float, float]:
    """[X_(j_lo), X_(j_hi)]: contains the true q-quantile with probability ≥ 1 − α."""
    xs = np.sort(x)
    j_lo, j_hi = quantile_band(x.size, q, K)
    return float(xs[max(j_lo, 1) - 1]), float(xs[min(j_hi, x.size) - 1])


def compare(a: np.ndarray, b: np.ndarray) -> list[str]:
    """Failures of the three checks (empty: the samples agree)."""
    bad = []
    p = stats.ks_2samp(a, b).pvalue
    if not p > ALPHA:
        bad.append(f"KS p = {p:.3g}")
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    if abs(a.mean() - b.mean()) > K * se:
        bad.append(f"means {a.mean():.6g} vs {b.mean():.6g} (se of difference {se:.3g})")
    for q in QS:
        (alo, ahi), (blo, bhi) = band(a, q), band(b, q)
        # atoms (a country's political loss, a buyer's loss) are sums taken in another order by
        # the engine and the reference: equal to rounding, so touching bands overlap
        eps = 1e-9 * max(abs(ahi), abs(bhi), 1.0)
        if ahi < blo - eps or bhi < alo - eps:
            bad.append(
                f"q{q}: bands [{alo:.6g}, {ahi:.6g}] and [{blo:.6g}, {bhi:.6g}] are disjoint"
            )
    return bad


@pytest.fixture(scope="module")
def book():
    return generate_book(600, seed=2027)


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return variant(load_scenario(baseline_scenario_path()))


@pytest.mark.slow
@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_engine_matches_reference_on_a_generated_book(book, baseline, copula):
    sc = (
        baseline
        if copula == "gaussian"
        else variant(baseline, model__copula="student_t", model__dof=5.0)
    )
    # the book exercises the model: groups, several currencies, political risk, nql and caps
    assert book.buyers["group_id"].drop_nulls().len() > 0
    assert book.policies["currency"].n_unique() > 1 and (book.policies["nql"] > 0).any()
    eng = simulate(book, sc, sims=SIMS, seed=20261128).ylt
    ref = reference_simulate(book, sc, SIMS, seed=11)
    assert (ref["political"] > 0).mean() > 0.1  # political years are frequent enough to compare
    failures = {c: compare(eng[c].to_numpy(), np.asarray(ref[c], dtype=float)) for c in COLUMNS}
    assert failures == {c: [] for c in COLUMNS}

    # power: the engine under a plausibly wrong model is told apart from the reference
    wrong = {  # model → the column whose distribution must tell it apart
        "asset correlation 0.15": (variant(sc, model__asset_correlation=0.15), "n_defaults"),
        "deterministic LGD": (variant(sc, model__lgd={"mean": 0.5, "sd": 0.0}), "max_occurrence"),
        "no political risk": (variant(sc, political__enabled=False), "political"),
    }
    for name, (w, col) in wrong.items():
        e = simulate(book, w, sims=SIMS, seed=20261128).ylt
        assert compare(e[col].to_numpy(), np.asarray(ref[col], dtype=float)), name
