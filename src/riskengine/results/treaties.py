"""Per-treaty metrics from the year loss table.

For each treaty of the programme, from its ``ceded_<name>`` column (amounts in the reporting
currency, one value per simulated year; every mean weighted by the years' likelihood-ratio
weights under importance sampling):

* ``expected_ceded`` (with ``expected_ceded_se``) and ``sd``;
* ``prob_attach`` — probability that the treaty cedes anything in a year;
* ``prob_exhaust`` — probability that it pays its whole annual capacity: the annual cap
  (limit × (1 + reinstatements), at most the aggregate limit) for an excess of loss, the limit
  for a stop loss; ``None`` where the capacity is unlimited (quota share, unlimited cover);
* ``expected_reinstatement_premium`` — E[rate × premium × min(ceded, limit × reinstatements) /
  limit]: each reinstatement is paid pro rata to the limit it restores;
* ``share_of_gross_el`` — expected ceded / expected gross;
* ``premium`` — what the treaty costs: its ``premium``; a quota share without one cedes its share
  of the premium in its scope; ``ceding_commission`` (amount) = commission rate × premium;
* ``expected_margin`` = premium + expected reinstatement premium − ceding commission − expected
  ceded (the reinsurer's expected result, the cedant's expected cost of the treaty);
* ``loss_ratio`` = expected ceded / premium (``None`` without a premium), ``rate_on_line`` =
  premium / limit for layers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..kernels.codes import TP_CAP, TP_LIMIT
from ..measures import mean_se, sd_se
from ..portfolio.treaties import ceded_premium
from ..scenario.models import PerRiskXL, PoliticalEventXL, StopLoss

if TYPE_CHECKING:
    from .model import Results

__all__ = ["treaty_metrics", "reinstatement_premium", "reinsurance_cost"]


def reinstatement_premium(
    ceded: np.ndarray, *, limit: float, reinstatements: int | None, rate: float, premium: float
) -> np.ndarray:
    """Reinstatement premium per year: rate × premium × (limit reinstated) / limit.

    The limit reinstated in a year is min(ceded, limit × reinstatements) (all of ``ceded`` when
    reinstatements are unlimited).
    """
    if rate == 0 or premium == 0:
        return np.zeros_like(ceded)
    used = ceded if reinstatements is None else np.minimum(ceded, limit * reinstatements)
    return rate * premium * used / limit


def _mean(x: np.ndarray, w: np.ndarray | None) -> float:
    return mean_se(x.astype(np.float64), w).value if len(x) else 0.0


def reinsurance_cost(results: Results) -> np.ndarray:
    """What the programme costs the cedant in each year: premiums − ceding commissions +
    reinstatement premiums (reporting currency)."""
    cost = np.zeros(results.n_sims)
    cp = results.compiled
    for i, t in enumerate(results.scenario.treaties):
        premium = ceded_premium(t, float(cp.treaty_premium[i]))
        cost += premium * (1.0 - t.ceding_commission)
        if isinstance(t, PerRiskXL | PoliticalEventXL):
            cost += reinstatement_premium(
                results.ylt[f"ceded_{t.name}"].to_numpy(),
                limit=t.limit,
                reinstatements=t.reinstatements,
                rate=t.reinstatement_rate,
                premium=premium,
            )
    return cost


def treaty_metrics(results: Results) -> dict[str, dict[str, Any]]:
    """Metrics of every treaty (see the module docstring), keyed by treaty name."""
    ylt = results.ylt
    w = results.weights
    gross_el = _mean(ylt["gross"].to_numpy(), w)
    out: dict[str, dict[str, Any]] = {}
    cp = results.compiled
    params = cp.kernel.t_params
    for i, t in enumerate(results.scenario.treaties):
        c = ylt[f"ceded_{t.name}"].to_numpy()
        est = mean_se(c, w)
        limit, cap = float(params[i, TP_LIMIT]), float(params[i, TP_CAP])
        capacity = limit if isinstance(t, StopLoss) else cap  # inf: unlimited
        premium = ceded_premium(t, float(cp.treaty_premium[i]))
        rip = np.zeros_like(c)
        if isinstance(t, PerRiskXL | PoliticalEventXL):
            rip = reinstatement_premium(
                c,
                limit=t.limit,
                reinstatements=t.reinstatements,
                rate=t.reinstatement_rate,
                premium=premium,
            )
        exhausted = None if math.isinf(capacity) else _mean(c >= capacity * (1 - 1e-12), w)
        d: dict[str, Any] = {
            "type": t.type,
            "expected_ceded": est.value,
            "expected_ceded_se": est.se,
            "sd": sd_se(c, w).value if len(c) > 1 else 0.0,
            "prob_attach": _mean(c > 0, w),
            "prob_exhaust": exhausted,
            "expected_reinstatement_premium": _mean(rip, w),
            "share_of_gross_el": est.value / gross_el if gross_el > 0 else 0.0,
            "premium": premium,
            "premium_in_scope": float(cp.treaty_premium[i]),
            "ceding_commission": premium * t.ceding_commission,
        }
        d["expected_margin"] = (
            premium + d["expected_reinstatement_premium"] - d["ceding_commission"] - est.value
        )
        d["loss_ratio"] = est.value / premium if premium > 0 else None
        d["rate_on_line"] = premium / limit if (math.isfinite(limit) and premium > 0) else None
        out[t.name] = d
    return out
