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

How a batch of S years is simulated (the stage functions below, in order; each shows up under its
own name in a profile):

1. :func:`_systematic`: factors Z (explicit model: Z = C ξ), the Student-t scale s = √(W/ν) and
   the political events, all [S × a few hundred].
2. :func:`_defaults`: buyer i defaults when X_i < s·t_i, i.e. when its one latent draw
   ε_i < b_i = (s·t_i − a_iᵀZ)/σ_i. The bounds of all buyers and years are **one sparse
   product** B = M·[Z; s] with M the [n_b × (n_f + 1)] CSR matrix of −a_i/σ_i and t_i/σ_i (four
   loadings and one threshold a row in the structured model); contagion adds s·(t'_i − t_i)/σ_i
   to the few (buyer, year) pairs of event countries. Then one float32 standard normal per
   buyer-year by vectorised Box–Muller (:func:`_normals`; a group's members take their group's
   ε), one comparison and ``np.flatnonzero``.
3. :func:`_lgds`: beta LGDs drawn only for the defaulted buyers (``Generator.beta``).
4. :func:`_entries`: the loss entries, sparse: the exposures of defaulted buyers (CSR expansion
   with ``np.repeat``), each taking EAD × LGD unless political precedence applies (one gather
   from a two-column table of commercial bases), and the politically covered exposures of each
   event (CSR by country).
5. :func:`_terms`: qualifying losses summed by (year, policy) with ``np.bincount``, the policy
   terms on the dense [S × n_p] table, the pro-rata split, and every per-year and segment sum
   with ``np.bincount`` over combined (year, key) codes.

Precision (float32 where it does not matter, float64 for money): bounds and latent draws are
float32. A bound carries ~1e-7 absolute error (~1e-6 relative on a conditional PD); the
Box–Muller normals come from float32 uniforms (multiples of 2⁻²⁴), so |ε| is truncated at 5.8
(a tail of 8e-9) and each default probability is off by at most ~1e-7 absolute (on the
100,000-buyer sample book: ~0.01 defaults a year against 2,470). Both are far below the Monte
Carlo error of any run. LGDs, losses, claims and sums are float64.

Random numbers: ``numpy.random.Generator(SFC64(seed))`` (among NumPy's bit generators the
fastest for float32 uniforms here, with PCG64DXSM within 10 %).

``benchmarks/suite.py`` runs it side by side with the engine and reports the throughput ratio;
``benchmarks/NOTES.md`` has its profile.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from riskengine.portfolio.cells import thresholds
from riskengine.portfolio.resolve import event_thresholds

__all__ = ["NumpyModel", "numpy_simulate", "time_numpy", "OUTPUT_KEYS"]

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

#: Buyer-years per batch by default: large enough that NumPy's per-call overhead (≈ 60 calls a
#: batch) is amortised and the sparse product runs on many columns, small enough that a batch's
#: float32 arrays (8 MB each) stay in the last-level cache. On the 100,000-buyer sample book this
#: is 20 years a batch; batches of 16–32 years were fastest there (benchmarks/NOTES.md).
BATCH_BUYER_YEARS = 1 << 21


@dataclass
class NumpyModel:
    """The model's arrays, gathered once from a compiled portfolio.

    Buyers are in this module's own order (by country, so that a country's buyers are a range);
    exposures are sorted by buyer. Amounts are in the reporting currency.

    Attributes
    ----------
    bound : scipy.sparse.csr_matrix
        float32 [n_b, n_f + 1]: row i holds −a_i/σ_i on the factors and t_i/σ_i on the last
        column (multiplied by the Student-t scale s; 1 for the Gaussian copula).
    contagion : numpy.ndarray
        float32 [n_b]: (t'_i − t_i)/σ_i, added (times s) to the bound in event years.
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
                vals[keep].astype(np.float32),
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
            contagion=(dt * inv_sigma).astype(np.float32),
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
    """Factors and Student-t scale as the [n_f + 1, S] float32 right-hand side of the bounds,
    the scale s [S] and the political events [S, n_c] (bool)."""
    z = rng.standard_normal((n_years, m.n_factors))
    if m.factor_chol is not None:
        z = z @ m.factor_chol.T
    scale = np.sqrt(rng.chisquare(m.dof, n_years) / m.dof) if m.student_t else np.ones(n_years)
    rhs = np.empty((m.n_factors + 1, n_years), dtype=np.float32)
    rhs[:-1] = z.T
    rhs[-1] = scale
    v = rng.standard_normal((n_years, m.n_regions))
    eta = rng.standard_normal((n_years, m.n_countries))
    events = m.pol_a * v[:, m.country_region] + m.pol_b * eta < m.country_polthr
    return rhs, scale, events


def _normals(rng: np.random.Generator, out: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Fill the float32 array ``out`` (even size) with standard normals by Box–Muller.

    ``scratch`` is a float32 buffer of the same size. Each pair of uniforms (U₁, U₂) gives
    √(−2 log(1 − U₁)) · (cos 2πU₂, sin 2πU₂); NumPy's SIMD log, sqrt, cos and sin make this about
    3× faster than ``Generator.standard_normal`` (ziggurat) here. Float32 uniforms are multiples
    of 2⁻²⁴, which truncates |ε| at √(48 log 2) ≈ 5.8 (a tail of 8e-9).
    """
    h = out.size // 2
    u = rng.random(out=scratch, dtype=np.float32)
    r, theta = u[:h], u[h:]
    np.subtract(np.float32(1.0), r, out=r)
    np.log(r, out=r)
    r *= np.float32(-2.0)
    np.sqrt(r, out=r)
    theta *= np.float32(2.0 * np.pi)
    np.cos(theta, out=out[:h])
    np.sin(theta, out=out[h:])
    out[:h] *= r
    out[h:] *= r
    return out


def _defaults(
    m: NumpyModel,
    rng: np.random.Generator,
    rhs: np.ndarray,
    scale: np.ndarray,
    events: np.ndarray,
    scratch: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Defaulted (buyer, year) pairs of a batch, sorted by buyer then year.

    ``scratch``: two float32 buffers of n_b × S + 1 elements and a bool one of n_b × S.
    """
    n_b, n_years = m.n_buyers, rhs.shape[1]
    n = n_b * n_years
    bound = m.bound @ rhs  # [n_b, S] float32: b = (s·t − aᵀZ)/σ
    ev_year, ev_country = np.nonzero(events)
    if ev_year.size:  # contagion: the thresholds of t' in event years
        rows, owner = _expand(m.country_ptr, ev_country)
        years = ev_year[owner]
        bound.ravel()[rows * n_years + years] += scale[years].astype(np.float32) * m.contagion[rows]
    n_even = n + (n & 1)
    eps = _normals(rng, scratch[0][:n_even], scratch[1][:n_even])[:n].reshape(n_b, n_years)
    if m.n_groups:  # members of a group share its ε
        g = rng.standard_normal((m.n_groups, n_years), dtype=np.float32)
        eps[m.group_rows] = g[m.group_of]
    default = np.less(eps, bound, out=scratch[2][:n].reshape(n_b, n_years))
    return np.divmod(np.flatnonzero(default), n_years)


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


def numpy_simulate(
    m: NumpyModel, sims: int, seed: int = 0, batch: int | None = None
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

    Returns
    -------
    dict of numpy.ndarray
        One float64 value per year for each of :data:`OUTPUT_KEYS` (amounts in the reporting
        currency, counts as floats), and the split claims by ``country`` [sims, n_c] and
        ``sector`` [sims, n_s].
    """
    rng = np.random.Generator(np.random.SFC64(seed))
    n_b = m.n_buyers
    if batch is None:
        batch = max(1, min(sims, BATCH_BUYER_YEARS // max(n_b, 1)))
    out = {k: np.zeros(sims) for k in OUTPUT_KEYS}
    out["country"] = np.zeros((sims, m.n_countries))
    out["sector"] = np.zeros((sims, m.n_sectors))
    normals = np.empty((2, n_b * batch + 1), dtype=np.float32)  # scratch of a batch's ε
    default = np.empty(n_b * batch, dtype=bool)
    for s0 in range(0, sims, batch):
        n_years = min(batch, sims - s0)
        rhs, scale, events = _systematic(m, rng, n_years)
        buyers, years = _defaults(m, rng, rhs, scale, events, (normals[0], normals[1], default))
        lgd = _lgds(m, rng, buyers)
        comm, pol = _entries(m, buyers, years, lgd, events)
        _terms(m, n_years, years, comm, pol, out, s0)
        rows = slice(s0, s0 + n_years)
        out["n_defaults"][rows] = np.bincount(years, minlength=n_years)
        out["n_political_events"][rows] = events.sum(axis=1)
    return out


def time_numpy(cp: Any, sims: int, seed: int = 0) -> tuple[float, dict[str, np.ndarray]]:
    """Seconds to simulate ``sims`` years with the NumPy baseline (preparation not timed), and
    its output."""
    m = NumpyModel.from_compiled(cp)
    t0 = time.perf_counter()
    res = numpy_simulate(m, sims, seed)
    return time.perf_counter() - t0, res
