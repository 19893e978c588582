"""The sample book priced like the market: its technical rate card and the book's anchors.

``benchmarks/pricing_realism.py`` simulates a 100,000-buyer sample book under the baseline
scenario and prices it with the default loadings (cost of capital 10 %, expenses 20 %,
commission 5 %; capital = TVaR₉₉.₅ contribution − EL). The fitted rate card at its most common
rating and term band must fall in the market's ranges (0.1–0.5 % of insured turnover for grades
0–1, 0.3–1.2 % for grades 3–6, rising with the grade), and the book must look like the market:
a gross loss ratio of 30–50 % (ICISA 2024: 38 %), claims of 0.1–0.2 % of insured turnover
(Berne Union: 0.14 %), and policies both under- and over-priced.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import pricing_realism


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    return pricing_realism.measure(n_buyers=100_000, seed=2026, sims=10_000)


@pytest.mark.slow
def test_rate_card_lands_in_the_market_ranges(measured: dict[str, Any]) -> None:
    realism = measured["realism"]
    graded = realism.filter(realism.get_column("market_low").is_not_null())
    assert set(graded.get_column("risk_grade")) == {0, 1, 3, 4, 5, 6}
    assert graded.get_column("within").all(), graded
    assert realism.get_column("rising").all()
    rate = dict(
        zip(realism.get_column("risk_grade"), realism.get_column("fitted_rate"), strict=True)
    )
    assert rate[6] > 1.3 * rate[0]  # emerging markets cost clearly more than developed ones
    # the most common cell is a B buyer on terms of 31–60 days (by insured turnover)
    assert realism.get_column("rating")[0] == "B" and realism.get_column("term_band")[0] == 60


@pytest.mark.slow
def test_book_anchors(measured: dict[str, Any]) -> None:
    a = measured["anchors"]
    assert 0.30 <= a["gross loss ratio"] <= 0.50
    assert 0.001 <= a["claims / turnover"] <= 0.002
    assert 0.002 <= a["premium / turnover"] <= 0.006
    # a profitable book on average, with under- and over-priced policies
    assert 1.0 < a["premium / technical premium"] < 2.0
    assert a["adequacy p10"] < 1.0 < a["adequacy median"] < a["adequacy p90"]
    assert 0.1 < a["policies under-priced (adequacy < 1)"] < 0.4


@pytest.mark.slow
def test_the_measurement_adds_up(measured: dict[str, Any]) -> None:
    """Euler additivity of the allocation the measurement uses: the policies' EL and
    contributions add up to the book's gross EL and TVaR, the exposures' EL to each policy's."""
    p, a = measured["policies"], measured["anchors"]
    el, capital = p.get_column("el").to_numpy(), p.get_column("capital").to_numpy()
    assert np.isclose(el.sum(), a["gross EL (EUR)"], rtol=1e-9)
    assert np.isclose((el + capital).sum(), a["gross TVaR 99.5 (EUR)"], rtol=1e-9)
    assert a["max |Σ exposure EL − policy EL| (EUR)"] < 1e-6 * a["gross EL (EUR)"]
