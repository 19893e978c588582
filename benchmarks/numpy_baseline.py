"""A plain, competently vectorised NumPy implementation of the full model: the speed baseline.

What an actuary fluent in NumPy would write without riskengine's algorithm: **one latent draw
per buyer per year**, vectorised over buyers and batched over years, no cells and no geometric
skips (those are the engine's algorithmic advantage), but every NumPy idiom that makes that
approach fast. Same model as the engine (docs/model.md): structured or explicit factors, Gaussian or
Student-t copula, groups sharing ε, political events with regional correlation, contagion PD in
event years, one beta LGD per defaulted buyer, political precedence, nql / deductible /
indemnity / maximum liability, the pro-rata split, sums by cause, country and sector and the
year's largest occurrence. Its random numbers are NumPy's own, not the engine's keyed draws, so
the two agree in distribution, never draw by draw. It reads the compiled portfolio's resolved
arrays only to skip re-implementing data preparation, which is not what is timed.

How a batch of S years is simulated (the stage functions below, in order; ``numpy_simulate``
times each under its name in :data:`STAGES` when asked for a profile):

1. :func:`_systematic`: factors Z (explicit model: Z = C ξ), the Student-t scale s = √(W/ν) and
   the political events, all [S × a few hundred].
2. :func:`_bounds`: buyer i defaults when X_i < s·t_i, i.e. when its latent ε_i < b_i =
   (s·t_i − a_iᵀZ)/σ_i. The bounds of all buyers and years are **one sparse product**
   B = M·[Z; s] with M the [n_b × (n_f + 1)] CSR matrix of −a_i/σ_i and t_i/σ_i (four loadings
   and one threshold a row in the structured model); contagion adds s·(t'_i − t_i)/σ_i to the
   few (buyer, year) pairs of event countries. Then each buyer's largest bound of the batch and
   a cheap upper bound of its Φ (:func:`_phi_upper`, once per buyer and batch).
3. :func:`_defaults`: **one uniform U per buyer-year** (a group's members take their group's),
   and a default when U < Φ(b) — the inverse transform ε = Φ⁻¹(U) < b, without computing
   Φ⁻¹: a uniform above the buyer's bound for the batch cannot be a default (one comparison and
   ``np.flatnonzero`` over the batch), and Φ(b) is computed (``ndtr``) only for the few
   candidates below it.
4. :func:`_lgds`: beta LGDs drawn only for the defaulted buyers (``Generator.beta``).
5. :func:`_entries`: the loss entries, sparse: the exposures of defaulted buyers (CSR expansion
   with ``np.repeat``), each taking EAD × LGD unless political precedence applies (one gather
   from a two-column table of commercial bases), and the politically covered exposures of each
   event (CSR by country).
6. :func:`_terms`: qualifying losses summed by (year, policy) with ``np.bincount``, the policy
   terms on the dense [S × n_p] table, the pro-rata split, and every per-year and segment sum
   with ``np.bincount`` over combined (year, key) codes.

Precision: float64 throughout, uniforms with 53 bits. The lazy test decides exactly what
comparing every uniform with its ``ndtr(b)`` would (the upper bound only discards uniforms
that comparison would reject; a margin of 1e-9 covers its rounding), so the only approximation
is ``ndtr``'s own rounding (~1e-16 relative).

Random numbers: ``numpy.random.Generator(SFC64(seed))`` (among NumPy's bit generators the
fastest for float64 uniforms here). The buffers of a batch's uniforms and comparisons are
allocated once and reused.

``benchmarks/suite.py`` runs it side by side with the engine and reports the throughput ratio
and this profile; ``benchmarks/NOTES.md`` has what was tried.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtr

from riskengine.portfolio.cells import thresholds
from riskengine.portfolio.resolve import event_thresholds

__all__ = ["NumpyModel", "numpy_simulate", "OUTPUT_KEYS", "STAGES"]

#: Per-year outputs of :func:`numpy_simulate` (the YLT columns of the engine it reproduces).
OUTPUT_KEYS = (
    "ground_up",
    "gross",
    "commercial",
    "political",
    "n_defaults",
    "n_political_events",
    "max_occurrence",
)

#: The stages of a batch, in order (the keys of ``numpy_simulate``'s ``timings``).
STAGES = ("systematic", "bounds", "defaults", "lgds", "entries", "terms")

#: Buyer-years per batch by default: large enough that NumPy's per-call overhead (≈ 60 calls a
#: batch) and the per-buyer bound of each batch are amortised, small enough that a batch's
#: bounds and uniforms (8 MB each) stay in the last-level cache and the bound of a buyer's
#: largest conditional PD over the batch stays tight. On the 100,000-buyer sample book this is
#: 10 years a batch (8–20 were equally fast there).
BATCH_BUYER_YEARS = 1 << 20


@dataclass
class NumpyModel:
    """The model's arrays, gathered once from a compiled portfolio.

    Buyers are in this module's own order (by country, so that a country's buyers are a range);
    exposures are sorted by buyer. Amounts are in the reporting currency.

    Attributes
    ----------
    bound : scipy.sparse.csr_matrix
        float64 [n_b, n_f + 1]: row i holds −a_i/σ_i on the factors and t_i/σ_i on the last
        column (multiplied by the Student-t scale s; 1 for the Gaussian copula).
    contagion : numpy.ndarray
        float64 [n_b]: (t'_i − t_i)/σ_i, added (times s) to the bound in event years.
    country_ptr : numpy.ndarray
        [n_c + 1]: buyers of country c are rows ``country_ptr[c]:country_ptr[c + 1]``.
    buyer_country : numpy.ndarray
        [n_b] country code of each buyer.
    group_rows, group_of : numpy.ndarray
        Rows of buyers that belong to a group, and their group code (they share its uniform).
    n_groups : int
        Number of groups.
    lgd_mean, lgd_alpha, lgd_beta : numpy.ndarray
        [n_b] beta LGD law of each buyer (α = 0: LGD fixed at its mean).
    lgd_single : tuple of float or None
        (mean, α, β) when every buyer has the same LGD law.
    exp_ptr : numpy.ndarray
        [n_b + 1]: exposures of buyer i are ``exp_ptr[i]:exp_ptr[i + 1]``.
    exp_base : numpy.ndarray
        float64 [n_e, 2]: what EAD × LGD applies to: column 0 without an event in the buyer's
        country (EAD if commercially covered, else 0), column 1 with one (0 as well when
        politically covered: political precedence).
    exp_policy, exp_country, exp_sector : numpy.ndarray
        [n_e] codes of each exposure's policy, and of its buyer's country and sector.
    exp_nql : numpy.ndarray
        float64 [n_e]: the nql of the exposure's policy.
    pe_ptr, pe_exp, pe_loss : numpy.ndarray
        Politically covered exposures by country (CSR) and their loss in an event, EAD ×
        political LGD.
    pol_ind, pol_ded, pol_maxl : numpy.ndarray
        [n_p] indemnity, deductible and maximum liability of each policy.
    factor_chol : numpy.ndarray or None
        Cholesky factor of the factors' correlation (explicit model), None when independent.
    n_factors : int
        Number of systematic factors.
    student_t : bool
        Student-t copula.
    dof : float
        Its degrees of freedom.
    country_region, country_polthr : numpy.ndarray
        [n_c] region code and event threshold Φ⁻¹(q_c) (−inf: never) of each country.
    pol_a, pol_b : float
        √ρ_p and √(1 − ρ_p).
    n_regions, n_sectors : int
        Numbers of regions and sectors.
    """

    bound: sp.csr_matrix
    contagion: np.ndarray
    country_ptr: np.ndarray
    buyer_country: np.ndarray
    group_rows: np.ndarray
    group_of: np.ndarray
    n_groups: int
    lgd_mean: np.ndarray
    lgd_alpha: np.ndarray
    lgd_beta: np.ndarray
    lgd_single: tuple[float, float, float] | None
    exp_ptr: np.ndarray
    exp_base: np.ndarray
    exp_policy: np.ndarray
    exp_country: np.ndarray
    exp_sector: np.ndarray
    exp_nql: np.ndarray
    pe_ptr: np.ndarray
    pe_exp: np.ndarray
    pe_loss: np.ndarray
    pol_ind: np.ndarray
    pol_ded: np.ndarray
    pol_maxl: np.ndarray
    factor_chol: np.ndarray | None
    n_factors: int
    student_t: bool
    dof: float
    country_region: np.ndarray
    country_polthr: np.ndarray
    pol_a: float
    pol_b: float
    n_regions: int
    n_sectors: int

    @property
    def n_buyers(self) -> int:
        return self.bound.shape[0]

    @property
    def n_countries(self) -> int:
        return len(self.country_region)

    @property
    def n_policies(self) -> int:
        return len(self.pol_ind)

    @classmethod
    def from_compiled(cls, cp: Any) -> NumpyModel:
        """Gather the model from a :class:`riskengine.portfolio.CompiledPortfolio`.

        Reads ``cp.resolved`` (per-buyer, per-exposure and per-policy parameters) and the
        copula and political settings of ``cp.kernel``; thresholds come from the engine's own
        :func:`~riskengine.portfolio.cells.thresholds` and
        :func:`~riskengine.portfolio.resolve.event_thresholds`.
        """
        r, k = cp.resolved, cp.kernel
        student_t, dof = bool(k.student_t), float(k.dof)
        order = np.argsort(r.b_country, kind="stable")  # a country's buyers are one range
        inv = np.empty_like(order)
        inv[order] = np.arange(len(order))
        n_b, n_c = r.n_buyers, len(r.country_codes)
        f = r.factors
        inv_sigma = 1.0 / f.sigma[order]
        t0 = thresholds(r.b_pd[order], student_t, dof)
        t1 = thresholds(r.b_pd_contagion[order], student_t, dof)
        with np.errstate(invalid="ignore"):  # −inf − (−inf) where a PD is 0: no contagion
            dt = np.where(t1 == t0, 0.0, t1 - t0)
        w = f.loading_w[order] * -inv_sigma[:, None]
        idx = f.loading_idx[order]
        keep = w != 0
        cols = np.concatenate([np.where(keep, idx, -1), np.full((n_b, 1), f.keys.size)], axis=1)
        vals = np.concatenate([w, (t0 * inv_sigma)[:, None]], axis=1)
        keep = cols >= 0
        bound = sp.csr_matrix(
            (
                vals[keep],
                cols[keep],
                np.concatenate([[0], np.cumsum(keep.sum(axis=1))]),
            ),
            shape=(n_b, f.keys.size + 1),
        )
        bound.sort_indices()
        b_country = r.b_country[order].astype(np.int64)
        grouped = np.nonzero(r.b_group[order] >= 0)[0]
        # exposures sorted by (new) buyer
        e_buyer = inv[r.e_buyer]
        e_ord = np.argsort(e_buyer, kind="stable")
        e_buyer = e_buyer[e_ord]
        ead, comm, pol = r.e_ead[e_ord], r.e_commercial[e_ord], r.e_political[e_ord]
        e_policy = r.e_policy[e_ord].astype(np.int64)
        e_country = b_country[e_buyer]
        pe = np.nonzero(pol)[0]
        pe = pe[np.argsort(e_country[pe], kind="stable")]
        return cls(
            bound=bound,
            contagion=dt * inv_sigma,
            country_ptr=_ptr(b_country, n_c),
            buyer_country=b_country,
            group_rows=grouped,
            group_of=r.b_group[order][grouped],
            n_groups=len(r.group_ids),
            lgd_mean=r.b_lgd_mean[order],
            lgd_alpha=r.b_lgd_alpha[order],
            lgd_beta=r.b_lgd_beta[order],
            lgd_single=_single_law(r.b_lgd_mean, r.b_lgd_alpha, r.b_lgd_beta),
            exp_ptr=_ptr(e_buyer, n_b),
            exp_base=np.stack([ead * comm, ead * (comm & ~pol)], axis=1),
            exp_policy=e_policy,
            exp_country=e_country,
            exp_sector=r.b_sector[order].astype(np.int64)[e_buyer],
            exp_nql=r.p_nql[e_policy],
            pe_ptr=_ptr(e_country[pe], n_c),
            pe_exp=pe,
            pe_loss=ead[pe] * r.c_political_lgd[e_country[pe]],
            pol_ind=r.p_indemnity,
            pol_ded=r.p_deductible,
            pol_maxl=r.p_max_liability,
            factor_chol=np.asarray(f.chol) if f.explicit else None,
            n_factors=int(f.keys.size),
            student_t=student_t,
            dof=dof,
            country_region=r.c_region.astype(np.int64),
            country_polthr=event_thresholds(r.c_event_pd),
            pol_a=float(k.pol_a),
            pol_b=float(k.pol_b),
            n_regions=len(r.region_names),
            n_sectors=len(r.sector_codes),
        )


def _ptr(codes: np.ndarray, n: int) -> np.ndarray:
    """CSR row pointer of sorted integer ``codes`` in [0, n)."""
    return np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n))]).astype(np.int64)


def _single_law(*params: np.ndarray) -> tuple[float, ...] | None:
    """The common value of each parameter array when all are constant, else None."""
    if params[0].size and all(np.all(p == p[0]) for p in params):
        return tuple(float(p[0]) for p in params)
    return None


def _expand(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the CSR ``rows`` (with repeats), and which entry of ``rows`` each came from."""
    start = ptr[rows]
    count = ptr[rows + 1] - start
    owner = np.repeat(np.arange(len(rows)), count)
    first = np.cumsum(count) - count
    pos = np.arange(owner.size) + (start - first)[owner]
    return pos, owner


# ---------------------------------------------------------------------------------------------
# The stages of a batch of years
# ---------------------------------------------------------------------------------------------
def _systematic(
    m: NumpyModel, rng: np.random.Generator, n_years: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Factors and Student-t scale as the [n_f + 1, S] right-hand side of the bounds,
    the scale s [S] and the political events [S, n_c] (bool)."""
    z = rng.standard_normal((n_years, m.n_factors))
    if m.factor_chol is not None:
        z = z @ m.factor_chol.T
    scale = np.sqrt(rng.chisquare(m.dof, n_years) / m.dof) if m.student_t else np.ones(n_years)
    rhs = np.empty((m.n_factors + 1, n_years))
    rhs[:-1] = z.T
    rhs[-1] = scale
    v = rng.standard_normal((n_years, m.n_regions))
    eta = rng.standard_normal((n_years, m.n_countries))
    events = m.pol_a * v[:, m.country_region] + m.pol_b * eta < m.country_polthr
    return rhs, scale, events


def _phi_upper(x: np.ndarray) -> np.ndarray:
    """An upper bound of Φ(x), within 2 % of it for x ≤ −1 and 0.3 % for x ≤ −2: for y = −x ≥ 0
    the Mills-ratio bound Φ(−y) ≤ φ(y)·4/(3y + √(y² + 8)) (Sampford 1953); 1 for x > 0.

    One ``exp`` and one ``sqrt``, in place: about half the cost of ``ndtr`` (``erfc``) here.
    """
    y = np.maximum(-x, 0.0)
    den = y * y
    bound = np.multiply(den, -0.5)
    np.exp(bound, out=bound)
    den += 8.0
    np.sqrt(den, out=den)
    den += 3.0 * y
    bound *= 4.0 / math.sqrt(2.0 * math.pi)
    bound /= den
    bound[x > 0.0] = 1.0
    return bound


def _bounds(
    m: NumpyModel, rhs: np.ndarray, scale: np.ndarray, events: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The batch's bounds b_is = (s·t_i − a_iᵀZ_s)/σ_i [n_b, S] and an upper bound of each
    buyer's largest conditional PD in the batch, Φ(max_s b_is) [n_b].

    One sparse product for all bounds; contagion adds s·(t'_i − t_i)/σ_i to the (buyer, year)
    pairs of event countries (a country's buyers are one range of rows).
    """
    n_years = rhs.shape[1]
    bound = m.bound @ rhs
    ev_year, ev_country = np.nonzero(events)
    if ev_year.size:
        rows, owner = _expand(m.country_ptr, ev_country)
        years = ev_year[owner]
        bound.ravel()[rows * n_years + years] += scale[years] * m.contagion[rows]
    # column by column: faster than a reduction along rows of S elements
    b_max = bound[:, 0].copy()
    for s in range(1, n_years):
        np.maximum(b_max, bound[:, s], out=b_max)
    p_max = _phi_upper(b_max)
    p_max *= 1.0 + 1e-9  # covers the bound's rounding
    return bound, p_max


def _defaults(
    m: NumpyModel,
    rng: np.random.Generator,
    bound: np.ndarray,
    p_max: np.ndarray,
    scratch: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Defaulted (buyer, year) pairs of a batch, sorted by buyer then year.

    One uniform U per buyer-year (a group's members share their group's); buyer i defaults in
    year s when U < Φ(b_is), i.e. ε = Φ⁻¹(U) < b_is (the inverse transform). Φ is evaluated
    lazily: a uniform above ``p_max[i]`` cannot be a default, and only the few below it (the
    candidates: about 3× the defaults) are compared with their own year's Φ(b_is) — exactly the
    comparison of every uniform with its Φ(b_is). ``scratch``: a float64 and a bool buffer of at
    least n_b × S elements.
    """
    n_b, n_years = bound.shape
    n = n_b * n_years
    u = rng.random(out=scratch[0][:n]).reshape(n_b, n_years)
    if m.n_groups:
        u[m.group_rows] = rng.random((m.n_groups, n_years))[m.group_of]
    candidate = np.less_equal(u, p_max[:, None], out=scratch[1][:n].reshape(n_b, n_years))
    candidate = np.flatnonzero(candidate)
    default = candidate[u.ravel()[candidate] < ndtr(bound.ravel()[candidate])]
    return np.divmod(default, n_years)


def _lgds(m: NumpyModel, rng: np.random.Generator, buyers: np.ndarray) -> np.ndarray:
    """One LGD per defaulted buyer: beta with its shapes, or its mean where sd = 0."""
    if m.lgd_single is not None:  # one law for the whole book: scalar shapes are faster
        mean, alpha, beta = m.lgd_single
        return rng.beta(alpha, beta, buyers.size) if alpha > 0 else np.full(buyers.size, mean)
    a, b = m.lgd_alpha[buyers], m.lgd_beta[buyers]
    lgd = m.lgd_mean[buyers]
    drawn = a > 0
    if drawn.all():
        return rng.beta(a, b)
    lgd[drawn] = rng.beta(a[drawn], b[drawn])
    return lgd


def _entries(
    m: NumpyModel,
    buyers: np.ndarray,
    years: np.ndarray,
    lgd: np.ndarray,
    events: np.ndarray,
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Commercial loss entries (year, exposure, loss, default index) of the defaulted buyers
    and political ones (year, exposure, loss) of the events."""
    n_c = m.n_countries
    exp, owner = _expand(m.exp_ptr, buyers)
    ev_b = events.ravel()[years * n_c + m.buyer_country[buyers]]  # event in the buyer's country
    c_year = years[owner]
    c_loss = m.exp_base.ravel()[2 * exp + ev_b[owner]] * lgd[owner]
    ev_year, ev_country = np.nonzero(events)
    pos, ev_owner = _expand(m.pe_ptr, ev_country)
    return (c_year, exp, c_loss, owner), (ev_year[ev_owner], m.pe_exp[pos], m.pe_loss[pos])


def _terms(
    m: NumpyModel,
    n_years: int,
    default_years: np.ndarray,
    comm: tuple[np.ndarray, ...],
    pol: tuple[np.ndarray, ...],
    out: dict[str, np.ndarray],
    s0: int,
) -> None:
    """Policy terms, the pro-rata split and every sum of a batch, written into ``out`` rows
    ``s0:s0 + n_years``."""
    c_year, c_exp, c_loss, c_owner = comm
    p_year, p_exp, p_loss = pol
    n_p, n_c, n_s = m.n_policies, m.n_countries, m.n_sectors
    rows = slice(s0, s0 + n_years)
    year = np.concatenate([c_year, p_year])
    exp = np.concatenate([c_exp, p_exp])
    loss = np.concatenate([c_loss, p_loss])
    out["ground_up"][rows] = np.bincount(year, weights=loss, minlength=n_years)
    qual = np.where(loss >= m.exp_nql[exp], loss, 0.0)
    key = year * n_p + m.exp_policy[exp]
    q = np.bincount(key, weights=qual, minlength=n_years * n_p).reshape(n_years, n_p)
    claim = np.minimum(m.pol_ind * np.maximum(q - m.pol_ded, 0.0), m.pol_maxl)
    out["gross"][rows] = claim.sum(axis=1)
    ratio = claim / np.where(q > 0, q, 1.0)  # q = 0 has claim 0 (deductibles are ≥ 0)
    share = qual * ratio.ravel()[key]
    n_comm = c_year.size
    out["commercial"][rows] = np.bincount(c_year, weights=share[:n_comm], minlength=n_years)
    out["political"][rows] = np.bincount(p_year, weights=share[n_comm:], minlength=n_years)
    ckey = year * n_c + m.exp_country[exp]
    out["country"][rows] = np.bincount(ckey, weights=share, minlength=n_years * n_c).reshape(
        n_years, n_c
    )
    skey = year * n_s + m.exp_sector[exp]
    out["sector"][rows] = np.bincount(skey, weights=share, minlength=n_years * n_s).reshape(
        n_years, n_s
    )
    # the largest occurrence: a buyer's commercial claim, or a country's political claims
    occ = np.zeros(n_years)
    buyer_claim = np.bincount(c_owner, weights=share[:n_comm], minlength=default_years.size)
    np.maximum.at(occ, default_years, buyer_claim)
    country_pol = np.bincount(ckey[n_comm:], weights=share[n_comm:], minlength=n_years * n_c)
    out["max_occurrence"][rows] = np.maximum(occ, country_pol.reshape(n_years, n_c).max(axis=1))


class _Clock:
    """Adds each stage's thread CPU time to ``timings`` (seconds by stage name), when given."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings = timings

    def __call__(self, name: str, fn: Any, *args: Any) -> Any:
        if self.timings is None:
            return fn(*args)
        t0 = time.thread_time()
        out = fn(*args)
        self.timings[name] = self.timings.get(name, 0.0) + time.thread_time() - t0
        return out


def numpy_simulate(
    m: NumpyModel,
    sims: int,
    seed: int = 0,
    batch: int | None = None,
    timings: dict[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """Simulate ``sims`` years of the model with NumPy's generator.

    Parameters
    ----------
    m : NumpyModel
        The model (:meth:`NumpyModel.from_compiled`).
    sims : int
        Number of years.
    seed : int
        Seed of ``numpy.random.Generator(SFC64(seed))``.
    batch : int, optional
        Years per batch (default: about :data:`BATCH_BUYER_YEARS` buyer-years).
    timings : dict, optional
        When given, each stage's thread CPU time (seconds) is added to it under the stage's
        name (:data:`STAGES`): the profile of the run.

    Returns
    -------
    dict of numpy.ndarray
        One float64 value per year for each of :data:`OUTPUT_KEYS` (amounts in the reporting
        currency, counts as floats), and the split claims by ``country`` [sims, n_c] and
        ``sector`` [sims, n_s].
    """
    rng = np.random.Generator(np.random.SFC64(seed))
    clock = _Clock(timings)
    n_b = m.n_buyers
    if batch is None:
        batch = max(1, min(sims, BATCH_BUYER_YEARS // max(n_b, 1)))
    out = {k: np.zeros(sims) for k in OUTPUT_KEYS}
    out["country"] = np.zeros((sims, m.n_countries))
    out["sector"] = np.zeros((sims, m.n_sectors))
    scratch = (np.empty(n_b * batch), np.empty(n_b * batch, dtype=bool))  # reused every batch
    for s0 in range(0, sims, batch):
        n_years = min(batch, sims - s0)
        rhs, scale, events = clock("systematic", _systematic, m, rng, n_years)
        bound, p_max = clock("bounds", _bounds, m, rhs, scale, events)
        buyers, years = clock("defaults", _defaults, m, rng, bound, p_max, scratch)
        lgd = clock("lgds", _lgds, m, rng, buyers)
        comm, pol = clock("entries", _entries, m, buyers, years, lgd, events)
        clock("terms", _terms, m, n_years, years, comm, pol, out, s0)
        rows = slice(s0, s0 + n_years)
        out["n_defaults"][rows] = np.bincount(years, minlength=n_years)
        out["n_political_events"][rows] = events.sum(axis=1)
    return out
