"""Per-treaty metrics from the year loss table.

For each treaty of the programme, from its ``ceded_<name>`` column (amounts in the reporting
currency, one value per simulated year):

* ``expected_ceded`` (with ``expected_ceded_se``) and ``sd``;
* ``prob_attach`` — share of years in which the treaty cedes anything;
* ``prob_exhaust`` — share of years in which it pays its whole annual capacity: limit ×
  (1 + reinstatements) for an excess of loss with limited reinstatements, the limit for a stop
  loss; ``None`` where the capacity is unlimited (quota share, unlimited reinstatements);
* ``expected_reinstatement_premium`` — E[rate × premium × min(ceded, limit × reinstatements) /
  limit]: each reinstatement is paid pro rata to the limit it restores;
* ``share_of_gross_el`` — expected ceded / expected gross;
* ``premium``, ``ceding_commission`` (amount), ``expected_margin`` = premium + expected
  reinstatement premium − ceding commission − expected ceded (the reinsurer's expected result);
* ``loss_ratio`` = expected ceded / premium (``None`` without a premium), ``rate_on_line`` =
  premium / limit for layers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..kernels.codes import TP_CAP, TP_LIMIT
from ..measures import mean_se
from ..scenario.models import PerRiskXL, PoliticalEventXL, StopLoss

if TYPE_CHECKING:
    from .model import Results

__all__ = ["treaty_metrics", "reinstatement_premium"]


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


def treaty_metrics(results: Results) -> dict[str, dict[str, Any]]:
    """Metrics of every treaty (see the module docstring), keyed by treaty name."""
    ylt = results.ylt
    gross_el = float(ylt["gross"].mean()) if ylt.height else 0.0
    out: dict[str, dict[str, Any]] = {}
    params = results.compiled.kernel.t_params
    for i, t in enumerate(results.scenario.treaties):
        c = ylt[f"ceded_{t.name}"].to_numpy()
        est = mean_se(c)
        sd = float(np.std(c, ddof=1)) if len(c) > 1 else 0.0
        limit, cap = float(params[i, TP_LIMIT]), float(params[i, TP_CAP])
        capacity = limit if isinstance(t, StopLoss) else cap  # inf: unlimited
        rip = np.zeros_like(c)
        if isinstance(t, PerRiskXL | PoliticalEventXL):
            rip = reinstatement_premium(
                c,
                limit=t.limit,
                reinstatements=t.reinstatements,
                rate=t.reinstatement_rate,
                premium=t.premium,
            )
        d: dict[str, Any] = {
            "type": t.type,
            "expected_ceded": est.value,
            "expected_ceded_se": est.se,
            "sd": sd,
            "prob_attach": float(np.mean(c > 0)) if len(c) else 0.0,
            "prob_exhaust": None
            if math.isinf(capacity)
            else float(np.mean(c >= capacity * (1 - 1e-12))),
            "expected_reinstatement_premium": float(rip.mean()) if len(c) else 0.0,
            "share_of_gross_el": est.value / gross_el if gross_el > 0 else 0.0,
            "premium": t.premium,
            "ceding_commission": t.premium * t.ceding_commission,
        }
        d["expected_margin"] = (
            t.premium + d["expected_reinstatement_premium"] - d["ceding_commission"] - est.value
        )
        d["loss_ratio"] = est.value / t.premium if t.premium > 0 else None
        d["rate_on_line"] = t.premium / limit if (math.isfinite(limit) and t.premium > 0) else None
        out[t.name] = d
    return out
