"""The model of docs/model.md §2–§4 in plain NumPy/SciPy: the yardstick the engine is tested
against.

Small books only (a few thousand buyers): everything is vectorised over [simulations × buyers]
(or × exposures) in batches, with no attempt at speed. Random numbers come from
``numpy.random.default_rng(seed)`` — deliberately *not* the engine's counter-based generator — so
the reference and the engine agree in distribution, never draw by draw. Given the same default,
LGD and event matrices, :func:`reference_losses` and the engine's policy terms must agree
simulation by simulation.

Orders
------
Every matrix is indexed by sorted unique ids (Python string order):

* buyers: sorted ``buyers.buyer_id``;
* countries: sorted ``countries.country`` (every row of the countries table, with or without
  buyers);
* regions: sorted unique ``countries.region``;
* sectors: sorted unique ``buyers.sector``;
* policies: sorted ``policies.policy_id``;
* exposures: sorted ``exposures.exposure_id``.

:func:`reference_portfolio` returns these id lists (``buyer_ids``, ``country_ids``, …).

Resolution of nulls (the contract shared with the engine's compile step)
------------------------------------------------------------------------
buyer ``pd`` else ``scenario.ratings[rating]``; ``lgd``/``lgd_sd`` else ``model.lgd.mean``/``.sd``;
``asset_correlation`` else ``model.asset_correlation``; exposure ``utilization`` else
``model.utilization``; exposure ``currency`` else its policy's; country ``political_pd`` else
``political.grade_pd[risk_grade]`` else 0; ``political_lgd`` else ``political.lgd``; policy
``indemnity``/``deductible``/``nql`` null: 0.9/0/0 (the schema defaults), ``max_liability`` null:
no cap. An amount in currency C is multiplied by the fx rate of C; the reporting currency has
rate 1. With ``political.enabled`` false every q_c is 0 (no events, hence no contagion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from riskengine.book import Book, from_frames
from riskengine.scenario import Scenario

__all__ = [
    "PD_CAP",
    "Portfolio",
    "Draws",
    "reference_portfolio",
    "reference_draws",
    "reference_losses",
    "reference_simulate",
    "make_book",
    "homogeneous_book",
    "PER_SIM_KEYS",
    "MATRIX_KEYS",
]

#: Cap of a PD raised by political contagion: pd' = max(pd, min(m·pd, PD_CAP)).
PD_CAP = 0.999999

#: Keys of :func:`reference_losses` holding one value per simulation.
PER_SIM_KEYS = (
    "ground_up",
    "gross",
    "commercial",
    "political",
    "n_defaults",
    "n_political_events",
    "max_occurrence",
)
#: Keys of :func:`reference_losses` holding a [sims, entities] matrix.
MATRIX_KEYS = (
    "policy_claims",
    "buyer_claims",
    "buyer_commercial",
    "country_political",
    "country_gross",
    "sector_gross",
)


# -- the book resolved against the scenario ------------------------------------------------------
@dataclass(frozen=True)
class Portfolio:
    """A book resolved against a scenario: plain arrays in sorted-id order (see module docstring).

    Amounts (``ead``, ``deductible``, ``nql``, ``max_liability``) are in the reporting currency.
    """

    buyer_ids: list[str]
    country_ids: list[str]
    region_ids: list[str]
    sector_ids: list[str]
    policy_ids: list[str]
    exposure_ids: list[str]
    # buyers [B]
    pd: np.ndarray
    lgd: np.ndarray
    lgd_sd: np.ndarray
    r2: np.ndarray
    idio: np.ndarray  # index of the buyer's idiosyncratic draw ε; equal within a group
    n_idio: int
    buyer_country: np.ndarray
    buyer_region: np.ndarray
    buyer_sector: np.ndarray
    # countries [C]
    country_region: np.ndarray
    q: np.ndarray  # annual event probability (0 when political risk is disabled)
    plgd: np.ndarray
    # exposures [E]
    exp_buyer: np.ndarray
    exp_policy: np.ndarray
    ead: np.ndarray
    commercial_cover: np.ndarray
    political_cover: np.ndarray
    # policies [P]
    indemnity: np.ndarray
    deductible: np.ndarray
    nql: np.ndarray
    max_liability: np.ndarray  # inf: no cap
    # model
    copula: str
    dof: float
    weights: tuple[float, float, float, float]  # global, region, country, sector
    loadings: np.ndarray | None  # [B, F] explicit model, else None
    factor_corr: np.ndarray | None  # [F, F]
    political_enabled: bool
    rho_p: float
    multiplier: float


def _index(values: list[str], ids: list[str]) -> np.ndarray:
    pos = {v: i for i, v in enumerate(ids)}
    return np.array([pos[v] for v in values], dtype=np.int64)


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def reference_portfolio(book: Book, scenario: Scenario) -> Portfolio:
    """Resolve every null of ``book`` from ``scenario`` and convert amounts with fx (module
    docstring)."""
    m, pol = scenario.model, scenario.political
    buyers = book.buyers.sort("buyer_id")
    countries = book.countries.sort("country")
    policies = book.policies.sort("policy_id")
    exposures = book.exposures.sort("exposure_id")

    buyer_ids = buyers["buyer_id"].to_list()
    country_ids = countries["country"].to_list()
    region_ids = sorted(set(countries["region"].to_list()))
    sector_ids = sorted(set(buyers["sector"].to_list()))
    policy_ids = policies["policy_id"].to_list()

    # fx
    rates = (
        {}
        if book.fx is None
        else dict(zip(book.fx["currency"].to_list(), book.fx["rate"].to_list(), strict=True))
    )
    reporting = scenario.reporting_currency
    if rates.get(reporting, 1.0) != 1.0:
        raise ValueError(
            f"the fx table gives the reporting currency {reporting} a rate {rates[reporting]} ≠ 1"
        )

    def fx(cur: str) -> float:
        if cur == reporting:
            return 1.0
        if cur not in rates:
            raise ValueError(f"no fx rate for {cur} (reporting currency {reporting})")
        return float(rates[cur])

    # buyers
    pd = []
    for p, rating, bid in zip(
        buyers["pd"].to_list(), buyers["rating"].to_list(), buyer_ids, strict=True
    ):
        if p is None:
            if rating not in scenario.ratings:
                raise ValueError(
                    f"buyer {bid}: no pd and rating {rating!r} is not in the scenario's ratings"
                )
            p = scenario.ratings[rating]
        pd.append(p)
    pd = np.array(pd, dtype=float)
    lgd = np.array([_or(v, m.lgd.mean) for v in buyers["lgd"].to_list()], dtype=float)
    lgd_sd = np.array([_or(v, m.lgd.sd) for v in buyers["lgd_sd"].to_list()], dtype=float)
    bad = (lgd_sd > 0) & ~(lgd_sd**2 < lgd * (1 - lgd))
    if bad.any():
        raise ValueError(
            f"buyers {np.array(buyer_ids)[bad].tolist()}: beta LGD needs lgd_sd² < lgd·(1 − lgd)"
        )
    r2 = np.array(
        [_or(v, m.asset_correlation) for v in buyers["asset_correlation"].to_list()], dtype=float
    )
    keys = [
        ("group", g) if g is not None else ("buyer", b)
        for g, b in zip(buyers["group_id"].to_list(), buyer_ids, strict=True)
    ]
    key_index: dict[tuple[str, str], int] = {}
    idio = np.array([key_index.setdefault(k, len(key_index)) for k in keys], dtype=np.int64)
    buyer_country = _index(buyers["country"].to_list(), country_ids)
    country_region = _index(countries["region"].to_list(), region_ids)
    buyer_region = country_region[buyer_country]
    buyer_sector = _index(buyers["sector"].to_list(), sector_ids)

    # countries
    q = []
    for qc, grade in zip(
        countries["political_pd"].to_list(), countries["risk_grade"].to_list(), strict=True
    ):
        if qc is None:
            qc = 0.0 if grade is None else pol.grade_pd[grade]
        q.append(qc if pol.enabled else 0.0)
    q = np.array(q, dtype=float)
    plgd = np.array([_or(v, pol.lgd) for v in countries["political_lgd"].to_list()], dtype=float)

    # policies
    pol_fx = np.array([fx(c) for c in policies["currency"].to_list()])
    indemnity = np.array([_or(v, 0.9) for v in policies["indemnity"].to_list()], dtype=float)
    deductible = (
        np.array([_or(v, 0.0) for v in policies["deductible"].to_list()], dtype=float) * pol_fx
    )
    nql = np.array([_or(v, 0.0) for v in policies["nql"].to_list()], dtype=float) * pol_fx
    max_liability = (
        np.array([_or(v, np.inf) for v in policies["max_liability"].to_list()], dtype=float)
        * pol_fx
    )
    policy_currency = dict(zip(policy_ids, policies["currency"].to_list(), strict=True))

    # exposures
    exp_policy_ids = exposures["policy_id"].to_list()
    exp_fx = np.array(
        [
            fx(_or(cur, policy_currency[p]))
            for cur, p in zip(exposures["currency"].to_list(), exp_policy_ids, strict=True)
        ]
    )
    utilization = np.array(
        [_or(v, m.utilization) for v in exposures["utilization"].to_list()], dtype=float
    )
    ead = exposures["limit"].to_numpy().astype(float) * utilization * exp_fx
    commercial_cover = np.array(
        [_or(v, True) for v in exposures["commercial_cover"].to_list()], dtype=bool
    )
    political_cover = np.array(
        [_or(v, True) for v in exposures["political_cover"].to_list()], dtype=bool
    )

    # explicit factor model
    loadings = factor_corr = None
    if book.factor_loadings is not None:
        if m.factor_correlation is None:  # independent factors, named by the loadings (sorted)
            factors = sorted(set(book.factor_loadings["factor"].to_list()))
            factor_corr = np.eye(len(factors))
        else:
            factors = list(m.factor_correlation.factors)
            factor_corr = np.array(m.factor_correlation.matrix, dtype=float)
        loadings = np.zeros((len(buyer_ids), len(factors)))
        fl = book.factor_loadings
        for b, f, a in zip(
            fl["buyer_id"].to_list(), fl["factor"].to_list(), fl["loading"].to_list(), strict=True
        ):
            if f not in factors:
                raise ValueError(
                    f"factor {f!r} of buyer {b} is not in the scenario's factor_correlation"
                )
            i, j = buyer_ids.index(b), factors.index(f)
            if loadings[i, j] != 0:
                raise ValueError(f"buyer {b} has two loadings on factor {f!r}")
            loadings[i, j] = a
        systematic_var = np.einsum("if,fg,ig->i", loadings, factor_corr, loadings)
        if np.any(systematic_var > 1):
            raise ValueError("a buyer's systematic variance aᵀΣa exceeds 1")

    w = m.factor_weights
    return Portfolio(
        buyer_ids=buyer_ids,
        country_ids=country_ids,
        region_ids=region_ids,
        sector_ids=sector_ids,
        policy_ids=policy_ids,
        exposure_ids=exposures["exposure_id"].to_list(),
        pd=pd,
        lgd=lgd,
        lgd_sd=lgd_sd,
        r2=r2,
        idio=idio,
        n_idio=len(key_index),
        buyer_country=buyer_country,
        buyer_region=buyer_region,
        buyer_sector=buyer_sector,
        country_region=country_region,
        q=q,
        plgd=plgd,
        exp_buyer=_index(exposures["buyer_id"].to_list(), buyer_ids),
        exp_policy=_index(exp_policy_ids, policy_ids),
        ead=ead,
        commercial_cover=commercial_cover,
        political_cover=political_cover,
        indemnity=indemnity,
        deductible=deductible,
        nql=nql,
        max_liability=max_liability,
        copula=m.copula,
        dof=float(m.dof),
        weights=(w.global_, w.region, w.country, w.sector),
        loadings=loadings,
        factor_corr=factor_corr,
        political_enabled=pol.enabled,
        rho_p=pol.correlation,
        multiplier=pol.commercial_pd_multiplier,
    )


# -- (a) random draws ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Draws:
    """One batch of simulated years.

    Attributes
    ----------
    defaults : bool array [sims, buyers]
    lgd : float array [sims, buyers]
        The drawn LGD where the buyer defaulted, 0 elsewhere.
    events : bool array [sims, countries]
    """

    defaults: np.ndarray
    lgd: np.ndarray
    events: np.ndarray


def reference_draws(
    book: Book, scenario: Scenario, sims: int, seed: int | np.random.Generator
) -> Draws:
    """Draw ``sims`` independent years with ``numpy.random.default_rng(seed)``.

    ``seed`` may also be a ``numpy.random.Generator`` (used as is, e.g. to continue a stream).
    """
    return _draws(reference_portfolio(book, scenario), sims, np.random.default_rng(seed))


def _draws(port: Portfolio, sims: int, rng: np.random.Generator) -> Draws:
    """The draws, in this order: systematic factors, W, ε, V, η, LGD."""
    n_b = len(port.buyer_ids)
    # systematic part of X_i
    if port.loadings is None:
        wg, wr, wc, ws = port.weights
        z_g = rng.standard_normal((sims, 1))
        z_r = rng.standard_normal((sims, len(port.region_ids)))
        z_c = rng.standard_normal((sims, len(port.country_ids)))
        z_s = rng.standard_normal((sims, len(port.sector_ids)))
        common = (
            math.sqrt(wg) * z_g
            + math.sqrt(wr) * z_r[:, port.buyer_region]
            + math.sqrt(wc) * z_c[:, port.buyer_country]
            + math.sqrt(ws) * z_s[:, port.buyer_sector]
        )
        systematic = np.sqrt(port.r2) * common
        residual_sd = np.sqrt(1 - port.r2)
    else:
        chol = np.linalg.cholesky(port.factor_corr)
        z = rng.standard_normal((sims, chol.shape[0])) @ chol.T  # Z ~ N(0, Σ_F)
        systematic = z @ port.loadings.T  # a_iᵀZ
        residual_sd = np.sqrt(
            1 - np.einsum("if,fg,ig->i", port.loadings, port.factor_corr, port.loadings)
        )
    w = rng.chisquare(port.dof, size=(sims, 1)) if port.copula == "student_t" else None
    eps = rng.standard_normal((sims, port.n_idio))[:, port.idio]  # shared within a group
    x = systematic + residual_sd * eps

    # political events
    if port.political_enabled:
        v = rng.standard_normal((sims, len(port.region_ids)))
        eta = rng.standard_normal((sims, len(port.country_ids)))
        y = math.sqrt(port.rho_p) * v[:, port.country_region] + math.sqrt(1 - port.rho_p) * eta
        with np.errstate(divide="ignore"):
            events = y < stats.norm.ppf(port.q)  # q = 0: threshold −∞, never
    else:
        events = np.zeros((sims, len(port.country_ids)), dtype=bool)

    # commercial defaults, with contagion in the buyer's country's event years
    pd_event = np.maximum(port.pd, np.minimum(port.multiplier * port.pd, PD_CAP))
    if port.copula == "gaussian":
        score = x
        thr, thr_event = stats.norm.ppf(port.pd), stats.norm.ppf(pd_event)
    else:
        score = x / np.sqrt(w / port.dof)
        thr, thr_event = stats.t.ppf(port.pd, port.dof), stats.t.ppf(pd_event, port.dof)
    in_event = events[:, port.buyer_country]
    defaults = score < np.where(in_event, thr_event, thr)

    # beta LGD per defaulted buyer
    lgd = np.zeros((sims, n_b))
    s, i = np.nonzero(defaults)
    mu, sd = port.lgd[i], port.lgd_sd[i]
    value = mu.copy()  # sd = 0: LGD = mean exactly
    rand = sd > 0
    k = mu[rand] * (1 - mu[rand]) / sd[rand] ** 2 - 1
    value[rand] = rng.beta(mu[rand] * k, (1 - mu[rand]) * k)
    lgd[s, i] = value
    return Draws(defaults=defaults, lgd=lgd, events=events)


# -- (b) deterministic losses and policy terms ---------------------------------------------------
def _sum_by(values: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    """[sims, E] values summed into [sims, n] bins by ``index`` [E], in exposure order."""
    out = np.zeros((values.shape[0], n))
    np.add.at(out.T, index, values.T)  # out[:, index[e]] += values[:, e], repeats accumulate
    return out


def reference_losses(
    book: Book, scenario: Scenario, defaults, lgd, events
) -> dict[str, np.ndarray]:
    """Losses, claims and their split for given default, LGD and event matrices.

    Parameters
    ----------
    defaults : bool array [sims, buyers]
    lgd : float array [sims, buyers]
        LGD of each defaulted buyer (ignored where it did not default).
    events : bool array [sims, countries]
        Buyers and countries in sorted-id order (:func:`reference_portfolio`).

    Returns
    -------
    dict of str to numpy.ndarray
        Per simulation [sims]: ``ground_up``, ``gross``, ``commercial``, ``political``,
        ``n_defaults``, ``n_political_events``, ``max_occurrence``; matrices:
        ``policy_claims`` [sims, policies], ``buyer_claims`` and ``buyer_commercial``
        [sims, buyers], ``country_political`` and ``country_gross`` [sims, countries],
        ``sector_gross`` [sims, sectors]; columns in sorted-id order. Amounts in the reporting
        currency.
    """
    return _losses(reference_portfolio(book, scenario), defaults, lgd, events)


def _losses(port: Portfolio, defaults, lgd, events) -> dict[str, np.ndarray]:
    defaults = np.asarray(defaults, dtype=bool)
    lgd = np.asarray(lgd, dtype=float)
    events = np.asarray(events, dtype=bool)
    n_b, n_c = len(port.buyer_ids), len(port.country_ids)
    sims = defaults.shape[0]
    if defaults.shape != (sims, n_b) or lgd.shape != (sims, n_b) or events.shape != (sims, n_c):
        raise ValueError(f"need defaults and lgd [sims, {n_b}] and events [sims, {n_c}]")

    b, p = port.exp_buyer, port.exp_policy
    c = port.buyer_country[b]
    # loss of each exposure and its cause: political takes precedence
    political = events[:, c] & port.political_cover
    commercial = ~political & defaults[:, b] & port.commercial_cover
    loss = np.where(political, port.ead * port.plgd[c], 0.0) + np.where(
        commercial, port.ead * lgd[:, b], 0.0
    )

    # policy terms
    qualifying = (loss >= port.nql[p]) & (loss > 0)
    q_loss = np.where(qualifying, loss, 0.0)
    q_sum = _sum_by(q_loss, p, len(port.policy_ids))
    claim = np.minimum(
        port.indemnity * np.maximum(q_sum - port.deductible, 0.0), port.max_liability
    )
    ratio = np.divide(claim, q_sum, out=np.zeros_like(claim), where=q_sum > 0)
    share = q_loss * ratio[:, p]  # pro-rata share of each qualifying loss

    com_share = np.where(commercial, share, 0.0)
    pol_share = np.where(political, share, 0.0)
    buyer_commercial = _sum_by(com_share, b, n_b)
    country_political = _sum_by(pol_share, c, n_c)
    occurrences = np.concatenate([buyer_commercial, country_political, np.zeros((sims, 1))], axis=1)
    return {
        "ground_up": loss.sum(axis=1),
        "gross": claim.sum(axis=1),
        "commercial": com_share.sum(axis=1),
        "political": pol_share.sum(axis=1),
        "n_defaults": defaults.sum(axis=1),
        "n_political_events": events.sum(axis=1),
        "max_occurrence": occurrences.max(axis=1),
        "policy_claims": claim,
        "buyer_claims": _sum_by(share, b, n_b),
        "buyer_commercial": buyer_commercial,
        "country_political": country_political,
        "country_gross": _sum_by(share, c, n_c),
        "sector_gross": _sum_by(share, port.buyer_sector[b], len(port.sector_ids)),
    }


def reference_simulate(
    book: Book,
    scenario: Scenario,
    sims: int,
    seed: int,
    *,
    batch_size: int | None = None,
    matrices: bool = False,
) -> dict[str, np.ndarray]:
    """(a) then (b) for ``sims`` years, in batches that bound memory.

    One generator ``default_rng(seed)`` feeds the batches in turn, so results depend on
    ``batch_size`` (default: about 2·10⁶ cells of [sims × max(buyers, exposures)] per batch).
    Returns the per-simulation keys of :func:`reference_losses`, and its matrices too when
    ``matrices`` is true.
    """
    port = reference_portfolio(book, scenario)
    rng = np.random.default_rng(seed)
    width = max(len(port.buyer_ids), len(port.exposure_ids), 1)
    batch = batch_size or max(1, 2_000_000 // width)
    keys = PER_SIM_KEYS + (MATRIX_KEYS if matrices else ())
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for start in range(0, sims, batch):
        d = _draws(port, min(batch, sims - start), rng)
        out = _losses(port, d.defaults, d.lgd, d.events)
        for k in keys:
            parts[k].append(out[k])
    return {k: np.concatenate(v) for k, v in parts.items()}


# -- building small books in tests ---------------------------------------------------------------
def make_book(
    buyers: dict | pl.DataFrame,
    exposures: dict | pl.DataFrame,
    policies: dict | pl.DataFrame,
    countries: dict | pl.DataFrame,
    fx: dict | pl.DataFrame | None = None,
    factor_loadings: dict | pl.DataFrame | None = None,
    *,
    reporting_currency: str = "EUR",
) -> Book:
    """A validated :class:`Book` from column mappings (or frames), via
    ``riskengine.book.from_frames``.

    Absent optional columns take the schema default (null where none), exactly as when loading
    files.
    """
    tables = {
        "buyers": buyers,
        "exposures": exposures,
        "policies": policies,
        "countries": countries,
        "fx": fx,
        "factor_loadings": factor_loadings,
    }
    frames = {
        name: data if data is None or isinstance(data, pl.DataFrame) else pl.DataFrame(data)
        for name, data in tables.items()
    }
    return from_frames(**frames, reporting_currency=reporting_currency)


def homogeneous_book(
    n: int,
    pd: float,
    rho: float,
    *,
    lgd: float = 1.0,
    lgd_sd: float = 0.0,
    own_policies: bool = False,
) -> Book:
    """n identical buyers in one country and sector, one unit exposure each, one policy with no
    terms.

    With ``factor_weights`` putting all weight on one factor (or any weights: all buyers share
    region, country and sector) this is the one-factor model of :func:`laws.finite_portfolio_pmf`
    with asset correlation ``rho``. The policy has indemnity 1 and no deductible, nql or cap, and
    utilisation is 1, so gross = ground_up = Σ LGD over defaulted buyers. The country has no
    political risk.

    ``own_policies``: each buyer under its own such policy instead (policy id = buyer id), so
    that a buyer's claims can be read from the policy segments of a run.
    """
    ids = [f"B{i:05d}" for i in range(n)]
    policy_ids = ids if own_policies else ["P1"]
    return make_book(
        buyers={
            "buyer_id": ids,
            "country": ["DE"] * n,
            "sector": ["C"] * n,
            "pd": [pd] * n,
            "lgd": [lgd] * n,
            "lgd_sd": [lgd_sd] * n,
            "asset_correlation": [rho] * n,
        },
        exposures={
            "exposure_id": [f"E{i:05d}" for i in range(n)],
            "policy_id": ids if own_policies else ["P1"] * n,
            "buyer_id": ids,
            "limit": [1.0] * n,
            "utilization": [1.0] * n,
        },
        policies={
            "policy_id": policy_ids,
            "currency": ["EUR"] * len(policy_ids),
            "indemnity": [1.0] * len(policy_ids),
        },
        countries={"country": ["DE"], "region": ["EU"], "political_pd": [0.0]},
    )
