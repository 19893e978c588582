"""Credit-limit decisions from a run's tail store: marginal EL, marginal capital, RAROC.

A request asks for a buyer's new limit under a policy (docs/limits.md). For each:

* **Marginal EL** (exact where no aggregate policy term binds): indemnity × ΔEAD × the buyer's
  expected loss per unit of EAD — political cover: q·λ + (1 − q)·pd·μ; else ((1 − q)·pd + q·pd')·μ
  (docs/model.md §7) — ΔEAD = (new − current limit) × utilisation × fx.
* **Marginal capital** from the tail store, at ``limits.level``: the change of TVaR − EL of the
  gross loss. The policy's claim in every stored year is recomputed with the request — an
  existing buyer's stored losses rescaled to the new limit (a buyer new to the policy takes the
  LGD its default showed on its other exposures), a new buyer's expected loss given the year's
  stored systematic draws (its conditional PD Φ((s·t − aᵀz)/σ) from the stored factor values,
  Student-t mixing and political events) — and the policy's terms re-applied (non-qualifying
  loss, deductible, indemnity, maximum liability). The change of TVaR is then recomputed exactly
  on the stored years (the tail store holds the years that define TVaR and the window around
  VaR); the Euler (linear) estimate Σ m_s ΔC_s / ((1 − q) n) and its standard error come with it.
  When the change could move years the store does not hold into the tail (the request is large
  against the gap between the store's lowest loss and the tail), the decision says so (`method`
  = ``resimulate``) — :func:`decide` then re-simulates the book with the request, same seed.
* **Premium**: the request's ``premium_rate`` on the increment's insured turnover (Δlimit ×
  utilisation × 365 / term), else the rate card's fitted rate for the buyer's cell (risk grade ×
  rating × term band) when the results folder holds a rate card.
* **RAROC** = (premium × (1 − expenses − commission) − ΔEL) / Δcapital; a request that adds no
  capital is approved when its profit is positive.
* **Decision**: ``approve`` when it meets ``limits.hurdle_raroc`` and the capital-share caps
  (per buyer group, per country), ``counter`` with the largest limit between the current and the
  requested that does, else ``decline``; and a one-line reason.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy.special import ndtr, ndtri, stdtrit

from ..kernels.tailmerge import tail_after_change
from ..measures import tail
from ..portfolio.expected import loss_rate
from ..portfolio.resolve import (
    PD_CAP,
    Resolved,
    beta_shapes,
    default_term_days,
    structured_weights,
)
from ..scenario.models import Scenario
from ..tail.store import TailStore, factor_columns

__all__ = [
    "DecisionContext",
    "Marginal",
    "decision_context",
    "marginal",
    "decide_requests",
    "DECISION_SCHEMA",
    "SETTLED_SE",
    "settle",
]

DECISION_SCHEMA = {
    "request_id": pl.String,
    "buyer_id": pl.String,
    "policy_id": pl.String,
    "decision": pl.String,
    "approved_limit": pl.Float64,
    "current_limit": pl.Float64,
    "requested_limit": pl.Float64,
    "marginal_el": pl.Float64,
    "marginal_capital": pl.Float64,
    "marginal_capital_se": pl.Float64,
    "premium": pl.Float64,
    "raroc": pl.Float64,
    "settled": pl.Boolean,
    "method": pl.String,
    "reason": pl.String,
}
#: The words of a reason that name why a limit failed (read back by :func:`settle`).
BELOW_HURDLE = "below the hurdle"
OVER_CAP = "of capital (cap"
#: A decision on the hurdle is settled when its marginal capital SETTLED_SE standard errors
#: either way gives the same decision.
SETTLED_SE = 2.0
#: Draws of a new buyer's defaults given each stored year's systematic draws.
_REPS = 256
#: Counter-offers: the smallest step of the requested increase tried first (1/_GRID of it),
#: then _BISECT bisections between it and the requested limit.
_GRID = 16
_BISECT = 8


@dataclass
class DecisionContext:
    """Everything a decision reads, loaded once: the run's losses and tail, the tail store's
    claims indexed by buyer and policy, the book's resolved parameters, the scenario's terms and
    the rate card."""

    scenario: Scenario
    r: Resolved
    loss: np.ndarray  # gross loss of every simulated year
    weights: np.ndarray | None
    n_store: int
    level: float
    tvar: float
    mass: np.ndarray  # tail mass per store row (0 outside the tail)
    floor: float  # the largest loss among years the store does not hold
    stored_loss: np.ndarray  # gross loss of each store row
    stored_weight: np.ndarray  # weight of each store row
    xs: np.ndarray  # stored losses sorted descending
    ws: np.ndarray  # their weights
    rank: np.ndarray  # position in xs of each stored year
    z: dict[str, np.ndarray]  # stored systematic draws by factor name
    chi2: np.ndarray  # stored Student-t mixing variable
    events: np.ndarray  # (stored year, country): a political event
    c_year: np.ndarray  # stored claims, sorted by buyer: store row
    c_loss: np.ndarray  # loss before terms
    c_ead: np.ndarray  # the exposure's EAD
    c_policy: np.ndarray  # policy index
    c_commercial: np.ndarray  # cause is commercial
    c_start: np.ndarray  # first claim of each buyer (book index), and one past the last
    p_qual: np.ndarray  # (policy, stored year): qualifying loss
    p_claim: np.ndarray  # (policy, stored year): gross claim
    contrib: dict[str, dict[str, float]]  # TVaR contributions by group, country, sector
    rate_card: pl.DataFrame | None
    expense: float
    commission: float
    buyer_index: dict[str, int]
    e_order: np.ndarray  # the book's exposures sorted by buyer
    e_start: np.ndarray  # first of each buyer in e_order, and one past the last
    _rows: dict[tuple[str, int], Any]
    run_sims: int = 0
    run_seed: int = 0

    def buyer_claims(self, i: int) -> slice:
        """The stored claims of the book's buyer ``i`` (a slice of the ``c_*`` arrays)."""
        return slice(int(self.c_start[i]), int(self.c_start[i + 1]))


def decision_context(
    scenario: Scenario,
    r: Resolved,
    ylt: pl.DataFrame,
    store: TailStore,
    allocation: pl.DataFrame | None = None,
    rate_card: pl.DataFrame | None = None,
) -> DecisionContext:
    """Load what decisions need (raises ValueError when the store lacks the level's years)."""
    cfg = scenario.limits
    q = cfg.level / 100.0
    loss = ylt["gross"].to_numpy()
    w = ylt["weight"].to_numpy()
    weights = None if np.all(w == 1.0) else w
    t = tail(loss, q, weights)
    first = int(ylt["sim_id"][0])
    stored = store.years["sim_id"].to_numpy() - first
    n_store = len(stored)
    store_row = np.full(len(loss), -1, np.int64)
    store_row[stored] = np.arange(n_store)
    if np.any(store_row[t.index] < 0):
        raise ValueError(
            f"the tail store does not hold the years of gross TVaR {cfg.level:g} %: run with "
            f"outputs.allocation levels including {cfg.level:g}"
        )
    order = np.argsort(-loss[stored], kind="stable")
    rank = np.empty(n_store, np.int64)
    rank[order] = np.arange(n_store)
    mass = np.zeros(n_store)
    mass[store_row[t.index]] = t.mass
    unstored = store_row < 0
    names = list(r.factors.names)
    years = store.years
    codes = r.country_codes.astype(str)
    events = np.zeros((n_store, len(codes)), dtype=bool)
    c_pos = {c: i for i, c in enumerate(codes)}
    for y, listed in enumerate(years["events"].to_list()):
        for c in listed:
            events[y, c_pos[c]] = True
    # the claims as arrays, sorted by buyer (book index), through the store's exposure rows
    book_row = (
        store.exposures.select("exposure_id")
        .join(
            pl.DataFrame({"exposure_id": r.exposure_ids.astype(str)}).with_row_index("e"),
            on="exposure_id",
            how="left",
            maintain_order="left",
        )["e"]
        .to_numpy()
        .astype(np.int64)
    )
    e = book_row[store.claims["exposure"].to_numpy()]
    c_b = r.e_buyer[e]
    by_buyer = np.argsort(c_b, kind="stable")
    c_b, e = c_b[by_buyer], e[by_buyer]
    c_year = store.claims["year"].to_numpy()[by_buyer]
    c_loss = store.claims["loss"].to_numpy()[by_buyer]
    c_policy = r.e_policy[e]
    n_p = len(r.policy_ids)
    flat = c_policy * n_store + c_year
    qual = np.where(c_loss >= r.p_nql[c_policy], c_loss, 0.0)
    p_qual = np.bincount(flat, weights=qual, minlength=n_p * n_store).reshape(n_p, n_store)
    c_claim = store.claims["claim"].to_numpy()[by_buyer]
    p_claim = np.bincount(flat, weights=c_claim, minlength=n_p * n_store)
    pricing = getattr(scenario, "pricing", None)
    e_order = np.argsort(r.e_buyer, kind="stable")
    ctx = DecisionContext(
        scenario=scenario,
        r=r,
        loss=loss,
        weights=weights,
        n_store=n_store,
        level=q,
        tvar=0.0,
        mass=mass,
        floor=float(loss[unstored].max()) if unstored.any() else -math.inf,
        stored_loss=loss[stored],
        stored_weight=w[stored],
        xs=loss[stored][order],
        ws=w[stored][order],
        rank=rank,
        z={n: years[c].to_numpy() for n, c in zip(names, factor_columns(names), strict=True)},
        chi2=years["w"].to_numpy(),
        events=events,
        c_year=c_year,
        c_loss=c_loss,
        c_ead=r.e_ead[e],
        c_policy=c_policy,
        c_commercial=(store.claims["cause"] == "commercial").to_numpy()[by_buyer],
        c_start=np.searchsorted(c_b, np.arange(len(r.buyer_ids) + 1)),
        p_qual=p_qual,
        p_claim=p_claim.reshape(n_p, n_store),
        contrib=_contributions(allocation, cfg.level),
        rate_card=rate_card,
        expense=float(getattr(pricing, "expense_ratio", 0.20)),
        commission=float(getattr(pricing, "commission", 0.05)),
        buyer_index={str(x): i for i, x in enumerate(r.buyer_ids)},
        e_order=e_order,
        e_start=np.searchsorted(r.e_buyer[e_order], np.arange(len(r.buyer_ids) + 1)),
        _rows={},
    )
    # the base TVaR by the same rule the requests' are computed with
    none = np.zeros(0, np.int64)
    ctx.tvar = _tvar(ctx, Change(np.zeros(2, np.int64), none, np.zeros(0)), 0.0)[0]
    return ctx


def _contributions(allocation: pl.DataFrame | None, level: float) -> dict[str, dict[str, float]]:
    """Gross TVaR contributions at ``level`` by group, country and sector (empty without an
    allocation)."""
    out: dict[str, dict[str, float]] = {"group": {}, "country": {}, "sector": {}}
    if allocation is None:
        return out
    sub = allocation.filter((pl.col("perspective") == "gross") & (pl.col("level") == level))
    for dim in out:
        d = sub.filter(pl.col("dimension") == dim)
        out[dim] = dict(zip(d["segment"].to_list(), d["tvar_contribution"].to_list(), strict=True))
    return out


@dataclass
class Buyer:
    """The buyer of a request, resolved: its parameters and its current limit under the policy."""

    buyer_id: str
    existing: int  # book row, −1 for a new buyer
    country: int
    sector: str
    pd: float
    pd_contagion: float
    lgd: float
    r2: float
    group: str
    rating: str | None
    current_limit: float  # under the policy, policy currency
    current_ead: float  # under the policy, reporting currency
    utilization: float
    term_days: float
    commercial: bool
    political: bool


@dataclass
class Marginal:
    """The marginal effect of a limit (reporting currency).

    ``capital_se`` is the standard error of the marginal capital: the sampling error of the run's
    years (of the Euler estimate) and, for a new buyer, ``draw_se``, the error of averaging over
    :data:`_REPS` draws of its defaults. ``safe``: the tail store prices it exactly.
    """

    el: float
    capital: float
    capital_se: float
    tvar: float
    tvar_linear: float
    premium: float
    raroc: float
    safe: bool
    draw_se: float = 0.0


def _conditional_pd(ctx: DecisionContext, b: Buyer) -> np.ndarray:
    """A new buyer's default probability in every stored year, given the year's stored draws:
    Φ((t·s − aᵀz) / σ) with σ² = 1 − Σ a² over the factors the store holds (a factor the book
    lacks — a sector new to it — is not drawn in the store, so its part stays idiosyncratic)."""
    r, sc = ctx.r, ctx.scenario
    if r.factors.explicit:
        raise ValueError("decisions on new buyers need the structured factor model")
    names = [
        "global",
        f"region:{r.region_names[r.c_region[b.country]]}",
        f"country:{r.country_codes[b.country]}",
        f"sector:{b.sector}",
    ]
    m = np.zeros(ctx.n_store)
    held = 0.0
    for weight, name in zip(structured_weights(sc), names, strict=True):
        if name in ctx.z and weight > 0:
            a = math.sqrt(b.r2) * weight
            m += a * ctx.z[name]
            held += a * a
    student = sc.model.copula == "student_t"
    if student:
        dof = sc.model.dof
        scale = np.sqrt(ctx.chi2 / dof)
        t_base, t_event = stdtrit(dof, b.pd) * scale, stdtrit(dof, b.pd_contagion) * scale
    else:
        t_base, t_event = ndtri(b.pd), ndtri(b.pd_contagion)
    t = np.where(ctx.events[:, b.country], t_event, t_base)
    return ndtr((t - m) / math.sqrt(1.0 - held))


@dataclass
class Change:
    """A sparse change of the stored years, one block per draw of the request's defaults: draw r
    changes ``years[indptr[r]:indptr[r + 1]]`` by ``values[...]``."""

    indptr: np.ndarray
    years: np.ndarray
    values: np.ndarray

    @property
    def draws(self) -> int:
        return len(self.indptr) - 1

    def mean(self, n_store: int) -> np.ndarray:
        """The change averaged over the draws, in every stored year."""
        return np.bincount(self.years, weights=self.values, minlength=n_store) / self.draws


def _one(years: np.ndarray, values: np.ndarray) -> Change:
    return Change(np.array([0, len(years)], np.int64), years.astype(np.int64), values)


def _loss_per_ead(ctx: DecisionContext, b: Buyer, seed: int) -> Change:
    """The buyer's ground-up loss per unit of new EAD in the stored years: one draw for a buyer
    of the book (its defaults as the run drew them), :data:`_REPS` draws for a new buyer (its
    defaults drawn given each year's systematic draws, its LGD from the scenario's beta)."""
    event = ctx.events[:, b.country] & b.political
    plgd = ctx.r.c_political_lgd[b.country]
    if b.existing >= 0:
        # the LGD the default showed: its loss over the EAD of the exposures that lost
        s = ctx.buyer_claims(b.existing)
        comm = ctx.c_commercial[s]
        year = ctx.c_year[s][comm]
        lgd = np.bincount(year, weights=ctx.c_loss[s][comm], minlength=ctx.n_store)
        base = np.bincount(year, weights=ctx.c_ead[s][comm], minlength=ctx.n_store)
        per = np.divide(lgd, base, out=np.zeros_like(lgd), where=base > 0) * b.commercial
        per = np.where(event, plgd, per)
        hit = np.nonzero(per)[0]
        return _one(hit, per[hit])
    rng = np.random.default_rng(seed)
    p = _conditional_pd(ctx, b) * b.commercial
    defaults = rng.random((_REPS, ctx.n_store)) < p
    lgd_cfg = ctx.scenario.model.lgd
    defaults[:, event] = True
    draw, year = np.nonzero(defaults)
    if lgd_cfg.sd > 0:
        a, c, _ = beta_shapes(np.array([lgd_cfg.mean]), np.array([lgd_cfg.sd]))
        severity = rng.beta(a[0], c[0], len(year))
    else:
        severity = np.full(len(year), lgd_cfg.mean)
    severity = np.where(event[year], plgd, severity)
    indptr = np.searchsorted(draw, np.arange(_REPS + 1)).astype(np.int64)
    return Change(indptr, year.astype(np.int64), severity)


def _tvar(
    ctx: DecisionContext, delta: Change, bound: float
) -> tuple[float, float, float, bool, float]:
    """(TVaR with ``delta`` added to the stored years' gross losses, averaged over its draws;
    the Euler estimate of the change; the standard error of the change; whether the stored
    years are enough).

    The new tail is taken among the stored years; it is exact when its least loss stays at or
    above every unstored year's loss plus ``bound`` (the most a year's loss can grow).
    """
    n = len(ctx.loss)
    q = ctx.level
    d = (1.0 - q) * n
    tvars = np.empty(delta.draws)
    least = np.empty(delta.draws)
    tail_after_change(
        ctx.xs, ctx.ws, ctx.rank, delta.indptr, delta.years, delta.values, d, tvars, least
    )
    safe = bool(np.min(least) >= ctx.floor + max(bound, 0.0))
    mean_delta = delta.mean(ctx.n_store)
    linear = float(np.sum(ctx.mass * mean_delta) / d)
    # the Euler estimate's sampling error over the run's years (influence function of TVaR)
    m_ = ctx.mass
    in_tail = m_ > 0
    dv = float(np.average(mean_delta[in_tail], weights=m_[in_tail])) if in_tail.any() else 0.0
    phi_sum = float(np.sum(m_ * (mean_delta - dv))) / (1 - q)
    phi2 = float(np.sum(m_ * m_ * (mean_delta - dv) ** 2)) / (1 - q) ** 2
    var = max(phi2 / n - (phi_sum / n) ** 2, 0.0) / n
    draw_var = float(np.var(tvars, ddof=1)) / delta.draws if delta.draws > 1 else 0.0
    # and the error of averaging over the request's drawn defaults
    return float(tvars.mean()), linear, math.sqrt(var + draw_var), safe, math.sqrt(draw_var)


def _qualifying_delta(
    ctx: DecisionContext, b: Buyer, policy: int, new_limit: float, d_ead: float
) -> Change:
    """The change of policy ``policy``'s qualifying loss in the stored years.

    A buyer that holds limits under the policy has its exposures' stored losses scaled to the new
    limit (a loss is proportional to its EAD), each checked against the non-qualifying loss; a
    buyer new to the policy adds one exposure whose loss is ``d_ead`` × its loss per unit of EAD.
    """
    nql = ctx.r.p_nql[policy]
    if b.existing >= 0 and b.current_limit > 0:
        key = (b.buyer_id, policy)
        if key not in ctx._rows:
            s = ctx.buyer_claims(b.existing)
            mine = ctx.c_policy[s] == policy
            ctx._rows[key] = (ctx.c_year[s][mine], ctx.c_loss[s][mine])
        year, loss = ctx._rows[key]
        s = new_limit / b.current_limit
        change = np.where(s * loss >= nql, s * loss, 0.0) - np.where(loss >= nql, loss, 0.0)
        dense = np.bincount(year, weights=change, minlength=ctx.n_store)
        hit = np.unique(year)
        return _one(hit, dense[hit])
    key = (b.buyer_id, -1)
    if key not in ctx._rows:
        seed = zlib.crc32(b.buyer_id.encode()) ^ (ctx.run_seed & 0xFFFFFFFF)
        ctx._rows[key] = _loss_per_ead(ctx, b, seed)
    per: Change = ctx._rows[key]
    extra = d_ead * per.values
    return Change(per.indptr, per.years, np.where(extra >= nql, extra, 0.0))


def _policy_claims(ctx: DecisionContext, p: int, change: Change) -> Change:
    """The change of policy ``p``'s gross claim when its qualifying loss changes by ``change``
    (the policy's deductible, indemnity and maximum liability re-applied)."""
    r = ctx.r
    q = ctx.p_qual[p][change.years] + change.values
    claim = np.minimum(
        r.p_indemnity[p] * np.maximum(q - r.p_deductible[p], 0.0), r.p_max_liability[p]
    )
    return Change(change.indptr, change.years, claim - ctx.p_claim[p][change.years])


def marginal(
    ctx: DecisionContext, b: Buyer, policy: int, new_limit: float, premium_rate: float
) -> Marginal:
    """The marginal EL, capital, premium and RAROC of buyer ``b``'s new limit under ``policy``."""
    r = ctx.r
    if b.current_limit > 0:  # the position's exposures scaled: their currencies and utilisations
        d_ead = b.current_ead * (new_limit / b.current_limit - 1.0)
    else:  # a new position, in the policy's currency
        d_ead = new_limit * b.utilization * r.p_fx[policy]
    rate = loss_rate(
        r.c_event_pd[b.country],
        b.pd,
        b.pd_contagion,
        b.lgd,
        r.c_political_lgd[b.country],
        b.political,
        b.commercial,
    )
    d_el = r.p_indemnity[policy] * d_ead * float(rate)
    delta = _policy_claims(ctx, policy, _qualifying_delta(ctx, b, policy, new_limit, d_ead))
    tvar, linear, se, safe, draw_se = _tvar(ctx, delta, r.p_indemnity[policy] * abs(d_ead))
    d_tvar = tvar - ctx.tvar
    capital = d_tvar - d_el
    turnover = d_ead * 365.0 / b.term_days
    premium = premium_rate * turnover
    profit = premium * (1 - ctx.expense - ctx.commission) - d_el
    raroc = profit / capital if capital > 0 else (math.inf if profit > 0 else -math.inf)
    return Marginal(d_el, capital, se, d_tvar, linear, premium, raroc, safe, draw_se)


def _caps_ok(ctx: DecisionContext, b: Buyer, m: Marginal) -> tuple[bool, str]:
    cfg = ctx.scenario.limits
    total = ctx.tvar + m.tvar
    for cap, what, key in (
        (cfg.max_group_capital_share, "group", b.group),
        (cfg.max_country_capital_share, "country", str(ctx.r.country_codes[b.country])),
        (cfg.max_sector_capital_share, "sector", b.sector),
    ):
        if cap is None or total <= 0:
            continue
        share = (ctx.contrib[what].get(key, 0.0) + m.tvar_linear) / total
        if share > cap:
            return False, f"{what} {key} would take {share:.1%} {OVER_CAP} {cap:.0%})"
    return True, ""


def acceptable(ctx: DecisionContext, b: Buyer, m: Marginal) -> tuple[bool, str]:
    """Whether a limit with marginal effect ``m`` meets the hurdle and the caps, and why not."""
    hurdle = ctx.scenario.limits.hurdle_raroc
    kept = m.premium * (1 - ctx.expense - ctx.commission)
    if kept <= m.el:
        return False, (
            f"premium after expenses {kept:,.0f} does not cover the expected loss {m.el:,.0f}"
        )
    if m.capital > 0 and m.raroc < hurdle:
        return False, f"RAROC {m.raroc:.1%} {BELOW_HURDLE} {hurdle:.0%}"
    return _caps_ok(ctx, b, m)


def decide_one(
    ctx: DecisionContext, b: Buyer, policy: int, requested: float, premium_rate: float
) -> dict[str, Any]:
    """One decision (a row of :data:`DECISION_SCHEMA` without its request id)."""
    m = marginal(ctx, b, policy, requested, premium_rate)
    ok, why = acceptable(ctx, b, m)
    row = {
        "current_limit": b.current_limit,
        "requested_limit": requested,
        "marginal_el": m.el,
        "marginal_capital": m.capital,
        "marginal_capital_se": m.capital_se,
        "premium": m.premium,
        "raroc": m.raroc,
        "method": "tail store" if m.safe else "resimulate",
    }
    if requested <= b.current_limit:
        # a reduction frees capital and gives back premium: no return on capital to speak of
        row["raroc"] = math.nan
        return {**row, "decision": "approve", "approved_limit": requested, "reason": "a reduction"}
    if ok:
        hurdle = ctx.scenario.limits.hurdle_raroc
        text = (
            "adds no capital, profitable"
            if m.capital <= 0
            else f"RAROC {m.raroc:.1%} ≥ hurdle {hurdle:.0%}"
        )
        return {**row, "decision": "approve", "approved_limit": requested, "reason": text}
    best = counter(ctx, b, policy, requested, premium_rate)
    if best is None:
        if b.current_limit > 0 and "does not cover" not in why:
            why += f"; no increase of the current {b.current_limit:,.0f} meets it"
        return {**row, "decision": "decline", "approved_limit": b.current_limit, "reason": why}
    limit, mb = best
    text = f"{why} at {requested:,.0f}; {limit:,.0f} meets it (RAROC {mb.raroc:.1%})"
    return {
        **row,
        "decision": "counter",
        "approved_limit": limit,
        "marginal_el": mb.el,
        "marginal_capital": mb.capital,
        "marginal_capital_se": mb.capital_se,
        "premium": mb.premium,
        "raroc": mb.raroc,
        "reason": text,
    }


def counter(
    ctx: DecisionContext, b: Buyer, policy: int, requested: float, rate: float
) -> tuple[float, Marginal] | None:
    """The largest limit between the current and the requested one that is acceptable and
    priced exactly by the tail store, or None.

    A limit whose premium does not cover its expected loss fails at every size (both grow in
    proportion); else the smallest step of the requested increase is tried, then bisection
    between it and the requested limit (RAROC falls as a limit grows: capital is convex in it).
    """
    lo = b.current_limit
    m = marginal(ctx, b, policy, requested, rate)
    if m.premium * (1 - ctx.expense - ctx.commission) <= m.el:
        return None
    good = lo + (requested - lo) / _GRID
    m = marginal(ctx, b, policy, good, rate)
    if not (m.safe and acceptable(ctx, b, m)[0]):
        return None
    bad = requested
    for _ in range(_BISECT):
        mid = 0.5 * (good + bad)
        mm = marginal(ctx, b, policy, mid, rate)
        if mm.safe and acceptable(ctx, b, mm)[0]:
            good, m = mid, mm
        else:
            bad = mid
    # a limit an underwriter would write: two significant figures, when it still passes
    nice = _round_down(good)
    if lo < nice < good:
        mm = marginal(ctx, b, policy, nice, rate)
        if mm.safe and acceptable(ctx, b, mm)[0]:
            return nice, mm
    return good, m


def _round_down(x: float) -> float:
    """``x`` rounded down to two significant figures (1,234,567 → 1,200,000)."""
    if x <= 0:
        return x
    step = 10.0 ** (math.floor(math.log10(x)) - 1)
    return math.floor(x / step) * step


def request_buyer(ctx: DecisionContext, row: dict[str, Any], policy: int) -> Buyer:
    """The buyer of a request row, resolved against the book and scenario."""
    r, sc = ctx.r, ctx.scenario
    idx = ctx.buyer_index
    bid = str(row["buyer_id"])
    util = row.get("utilization")
    term = row.get("payment_term_days")
    if bid in idx:
        i = idx[bid]
        ex = ctx.e_order[ctx.e_start[i] : ctx.e_start[i + 1]]
        e = ex[r.e_policy[ex] == policy]
        g = r.b_group[i]
        return Buyer(
            buyer_id=bid,
            existing=i,
            country=int(r.b_country[i]),
            sector=str(r.sector_codes[r.b_sector[i]]),
            pd=float(r.b_pd[i]),
            pd_contagion=float(r.b_pd_contagion[i]),
            lgd=float(r.b_lgd_mean[i]),
            r2=float(r.b_r2[i]),
            group=str(r.group_ids[g]) if g >= 0 else bid,
            rating=r.b_rating[i],
            current_limit=float(r.e_limit[e].sum()),
            current_ead=float(r.e_ead[e].sum()),
            utilization=float(
                util
                if util is not None
                else (r.e_utilization[ex].mean() if len(ex) else sc.model.utilization)
            ),
            term_days=float(
                term if term is not None else (r.e_term_days[ex].mean() if len(ex) else 60.0)
            ),
            commercial=bool(r.e_commercial[e].all()) if len(e) else True,
            political=bool(r.e_political[e].all()) if len(e) else True,
        )
    country = int(np.searchsorted(r.country_codes.astype(str), row["country"]))
    pd = row.get("pd")
    rating = row.get("rating")
    if pd is None:
        pd = sc.ratings[rating]
    pol = sc.political
    contagion = max(pd, min(pd * pol.commercial_pd_multiplier, PD_CAP)) if pol.enabled else pd
    return Buyer(
        buyer_id=bid,
        existing=-1,
        country=country,
        sector=str(row["sector"]),
        pd=float(pd),
        pd_contagion=float(contagion),
        lgd=float(sc.model.lgd.mean),
        r2=float(sc.model.asset_correlation),
        group=bid,
        rating=rating,
        current_limit=0.0,
        current_ead=0.0,
        utilization=float(util if util is not None else sc.model.utilization),
        term_days=float(term if term is not None else default_term_days(sc)),
        commercial=True,
        political=True,
    )


def premium_rate(ctx: DecisionContext, b: Buyer, row: dict[str, Any]) -> float | None:
    if row.get("premium_rate") is not None:
        return float(row["premium_rate"])
    card = ctx.rate_card
    if card is None:
        return None
    grade = ctx.r.c_grade[b.country]
    rating = b.rating or _nearest_rating(ctx.scenario.ratings, b.pd)
    bands = sorted(card["term_band"].unique().to_list())
    band = next((x for x in bands if b.term_days <= x), bands[-1])
    hit = card.filter(
        (pl.col("risk_grade") == grade)
        & (pl.col("rating") == rating)
        & (pl.col("term_band") == band)
    )
    return float(hit["fitted_rate"][0]) if hit.height else None


def _nearest_rating(ratings: dict[str, float], pd: float) -> str:
    return min(ratings, key=lambda k: abs(math.log(ratings[k]) - math.log(pd)))


def decide_requests(ctx: DecisionContext, requests: pl.DataFrame) -> pl.DataFrame:
    """Decisions on every request (:data:`DECISION_SCHEMA`)."""
    pos = {str(x): i for i, x in enumerate(ctx.r.policy_ids)}
    out = []
    for row in requests.iter_rows(named=True):
        p = pos[str(row["policy_id"])]
        b = request_buyer(ctx, row, p)
        rate = premium_rate(ctx, b, row)
        if rate is None:
            out.append(
                {
                    "request_id": row["request_id"],
                    "buyer_id": row["buyer_id"],
                    "policy_id": row["policy_id"],
                    "decision": "decline",
                    "approved_limit": b.current_limit,
                    "current_limit": b.current_limit,
                    "requested_limit": row["requested_limit"],
                    "reason": "no premium_rate and no rate card for the buyer's cell",
                }
            )
            continue
        out.append(
            {
                "request_id": row["request_id"],
                "buyer_id": row["buyer_id"],
                "policy_id": row["policy_id"],
                **decide_one(ctx, b, p, float(row["requested_limit"]), rate),
            }
        )
    return pl.DataFrame(out, schema=DECISION_SCHEMA)


def _settled(d: dict[str, Any], hurdle: float, keep: float) -> bool | None:
    """Whether decision ``d`` stands with its marginal capital ``SETTLED_SE`` standard errors
    either way (None when that cannot be said: no standard error, or a capital-share cap)."""
    why = d["reason"] or ""
    hurdle_decline = d["decision"] == "decline" and BELOW_HURDLE in why
    granted = d["decision"] in ("approve", "counter") and d["approved_limit"] > d["current_limit"]
    if not (hurdle_decline or granted):
        return None if OVER_CAP in why else True
    se = d["marginal_capital_se"]
    if se is None or not math.isfinite(se):
        return None
    profit = d["premium"] * keep - d["marginal_el"]
    if granted:  # it passes at the worst capital too
        worst = d["marginal_capital"] + SETTLED_SE * se
        return worst <= 0 or profit >= hurdle * worst
    return profit < hurdle * (d["marginal_capital"] - SETTLED_SE * se)  # fails at the best


def years_to_settle(d: dict[str, Any], hurdle: float, keep: float) -> float:
    """How many times the run's years would settle decision ``d``: its standard error falls as
    1/√years, and the decision is settled once ``SETTLED_SE`` of them fit between its marginal
    capital and the capital at which RAROC meets the hurdle (inf when it sits on it)."""
    profit = d["premium"] * keep - d["marginal_el"]
    gap = abs(profit / hurdle - d["marginal_capital"])
    return math.inf if gap == 0 else (SETTLED_SE * d["marginal_capital_se"] / gap) ** 2


def _more_years(factor: float) -> str:
    if factor > 1000:
        return "over 1,000 × the run's years"
    return (
        f"about {factor:.1f} × the run's years"
        if factor < 10
        else f"about {factor:.0f} × the run's years"
    )


def settle(ctx: DecisionContext, out: pl.DataFrame) -> pl.DataFrame:
    """Fill ``settled`` and say in the reason of a decision that is not: its marginal capital is
    within ``SETTLED_SE`` standard errors of the capital at which RAROC meets the hurdle, so the
    run's years cannot tell, and how many more would (:func:`years_to_settle`)."""
    hurdle = ctx.scenario.limits.hurdle_raroc
    keep = 1 - ctx.expense - ctx.commission
    rows = []
    for d in out.iter_rows(named=True):
        ok = _settled(d, hurdle, keep)
        if ok is False:
            more = _more_years(years_to_settle(d, hurdle, keep))
            d["reason"] += f"; within {SETTLED_SE:g} se of the hurdle: {more} would settle it"
        rows.append({**d, "settled": ok})
    return pl.DataFrame(rows, schema=out.schema)
