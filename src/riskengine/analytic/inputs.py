"""CreditRisk+ inputs from a book: per-buyer exposure, PD and sector (docs/analytic.md).

From :func:`riskengine.portfolio.resolve.resolve` (the one place where a book's parameters are
resolved under a scenario: PDs from ratings, LGDs from the scenario, amounts in the reporting
currency):

* exposure E_i = Σ_e EAD_e × mean LGD_i over buyer i's exposures **with commercial cover**,
  reporting currency: ground-up, before any policy term, without political events or contagion.
  An exposure without commercial cover pays no commercial default loss in the simulation either
  (docs/model.md), so it is left out; a buyer with none has E_i = 0 and adds nothing.
* p_i: the buyer's annual PD (its ``pd``, else its rating's PD in the scenario's table).
* sector k_i by ``analytic.sector_by``: none (one sector), the buyer's country, region or sector
  as integer codes into the sorted labels of :class:`~riskengine.portfolio.resolve.Resolved`.

:func:`matched_pd_volatility` gives the ``pd_volatility`` whose gamma sector reproduces the
default correlation of a one-factor Gaussian model (see docs/analytic.md, "Comparing with the
simulation").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..portfolio.resolve import Resolved
from ..scenario.models import AnalyticConfig

__all__ = ["AnalyticInputs", "analytic_inputs", "matched_pd_volatility", "DIMENSIONS"]

#: The dimensions contributions are summed by (and ``sector_by`` may choose).
DIMENSIONS = ("country", "region", "sector")


@dataclass(frozen=True)
class AnalyticInputs:
    """Per-buyer CreditRisk+ inputs, in book order (amounts in the reporting currency).

    Attributes
    ----------
    buyer_ids : numpy.ndarray of str
        Buyer ids (book order).
    exposure : numpy.ndarray of float64
        E_i = Σ EAD_e × mean LGD_i over the buyer's exposures with commercial cover.
    pd : numpy.ndarray of float64
        Annual PD p_i.
    sector : numpy.ndarray of int64
        Systematic sector of each buyer, 0 … K − 1 (all 0 for ``sector_by: none``).
    sector_labels : numpy.ndarray of str
        Label of each sector code (``["book"]`` for ``sector_by: none``).
    codes : dict of str to numpy.ndarray
        Each buyer's country, region and sector as an integer code into ``names``.
    names : dict of str to numpy.ndarray
        The sorted labels of countries, regions and sectors.
    currency : str
        Reporting currency.
    """

    buyer_ids: np.ndarray
    exposure: np.ndarray
    pd: np.ndarray
    sector: np.ndarray
    sector_labels: np.ndarray
    codes: dict[str, np.ndarray]
    names: dict[str, np.ndarray]
    currency: str

    @property
    def n_buyers(self) -> int:
        return len(self.buyer_ids)

    def labels(self, dimension: str) -> np.ndarray:
        """Each buyer's label in ``dimension`` (country, region or sector)."""
        return self.names[dimension][self.codes[dimension]]


def analytic_inputs(resolved: Resolved, config: AnalyticConfig) -> AnalyticInputs:
    """The CreditRisk+ inputs of a resolved book under the scenario's ``analytic`` block.

    Parameters
    ----------
    resolved : Resolved
        ``riskengine.portfolio.resolve.resolve(book, scenario)``.
    config : AnalyticConfig
        The scenario's ``analytic`` block (only ``sector_by`` is read here).

    Returns
    -------
    AnalyticInputs
    """
    r = resolved
    ead = np.where(r.e_commercial, r.e_ead, 0.0)
    exposure = np.bincount(r.e_buyer, weights=ead, minlength=r.n_buyers) * r.b_lgd_mean
    codes = {
        "country": np.asarray(r.b_country, dtype=np.int64),
        "region": np.asarray(r.b_region, dtype=np.int64),
        "sector": np.asarray(r.b_sector, dtype=np.int64),
    }
    names = {"country": r.country_codes, "region": r.region_names, "sector": r.sector_codes}
    names = {d: np.asarray(v, dtype=object) for d, v in names.items()}
    if config.sector_by == "none":
        sector = np.zeros(r.n_buyers, dtype=np.int64)
        sector_labels = np.asarray(["book"], dtype=object)
    else:
        sector = codes[config.sector_by]
        sector_labels = names[config.sector_by]
    return AnalyticInputs(
        buyer_ids=r.buyer_ids,
        exposure=exposure,
        pd=np.asarray(r.b_pd, dtype=np.float64),
        sector=sector,
        sector_labels=sector_labels,
        codes=codes,
        names=names,
        currency=r.reporting_currency,
    )


def matched_pd_volatility(pd: float, asset_correlation: float) -> float:
    """The ``pd_volatility`` v whose gamma factor matches a one-factor Gaussian model.

    Two buyers with PD p whose asset values have correlation ρ default together with
    probability p₂ = Φ₂(Φ⁻¹(p), Φ⁻¹(p); ρ); their default indicators have covariance p₂ − p².
    In one CreditRisk+ sector, two buyers' default counts have covariance v² p² (the variance
    of the sector's rate p·Γ). So v = √(p₂ − p²) / p gives the same covariance of every pair,
    hence the same variance of the loss of a book with that PD up to the Poisson-against-
    Bernoulli term: Var_CR+ − Var_Gaussian = p₂ Σ_i E_i² (docs/analytic.md).

    Parameters
    ----------
    pd : float
        PD p in (0, 1).
    asset_correlation : float
        ρ in [0, 1): the asset correlation of two buyers (R² in a one-factor model).

    Returns
    -------
    float
        v ≥ 0.
    """
    if not 0 < pd < 1 or not 0 <= asset_correlation < 1:
        raise ValueError(f"need 0 < pd < 1 and 0 ≤ ρ < 1 (got {pd!r}, {asset_correlation!r})")
    # Φ₂(h, h; ρ) = Φ(h) − 2 T(h, √((1 − ρ)/(1 + ρ))) with Owen's T: exact to rounding
    h = float(special.ndtri(pd))
    rho = float(asset_correlation)
    joint = pd - 2.0 * float(special.owens_t(h, math.sqrt((1.0 - rho) / (1.0 + rho))))
    return math.sqrt(max(joint - pd * pd, 0.0)) / pd
