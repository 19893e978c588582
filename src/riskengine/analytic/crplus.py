"""CreditRisk+ (CSFB 1997): the loss distribution of a credit book in closed form.

The model (docs/analytic.md; CSFB, *CreditRisk+: A Credit Risk Management Framework*, 1997,
Appendix A, equation numbers below refer to it)
------------------------------------------------------------------------------------------------
Obligor i has exposure E_i (currency, net of recovery), annual default rate p_i and default-rate
standard deviation σ_i = v_i · p_i (v_i = ``pd_volatility``). Its rate is driven by independent
gamma factors: a share θ_ik by systematic sector k (each factor has mean 1), the rest,
s_i = 1 − Σ_k θ_ik, by a zero-variance "specific" sector (A12.3), i.e. a plain Poisson part.

* **Bands** (A3): a loss unit L; ν_i = max(1, round(E_i / L)) (``rounding="up"``: the ceiling,
  as CSFB's spreadsheet); adjusted rates p'_i = p_i E_i / (ν_i L) and σ'_i = σ_i E_i / (ν_i L), so
  that EL = Σ p'_i ν_i L = Σ p_i E_i exactly (eq. 12).
* **Sectors** (A12.2, eq. 96–97): μ_k = Σ_i θ_ik p'_i, σ_k = Σ_i θ_ik σ'_i; factor variance
  v_k = (σ_k / μ_k)².
* **Probability generating function** of the loss in units of L (eq. 68, 92–94)::

      log G(z) = Σ_i s_i p'_i (z^ν_i − 1)  −  Σ_k (1 / v_k) log(1 − v_k Q_k(z)),
      Q_k(z)   = Σ_i θ_ik p'_i (z^ν_i − 1)                      (= μ_k (P_k(z) − 1))

  (a sector with v_k = 0 is Poisson: its term is Q_k(z)).
* **Moments** (eq. 118), in currency: SD² = Σ_i p'_i (ν_i L)² + Σ_k v_k EL_k², EL_k =
  Σ_i θ_ik p'_i ν_i L.
* **Risk contributions** (eq. 121): to the SD, RC_i = (EL_i / SD)(ν_i L + Σ_k v_k θ_ik EL_k),
  which add up to SD exactly (eq. 123); to a percentile q (eq. 102): EL_i + ξ_q RC_i with
  ξ_q = (VaR_q − EL) / SD, which add up to VaR_q.

How the distribution is computed
--------------------------------
By FFT of G on the N-th roots of unity (:func:`loss_distribution`). The inverse DFT of
G(e^(−2πij/N)) is exactly the distribution folded modulo N, a_n + a_(n+N) + …, so the only error
besides rounding is the mass beyond the grid. N is chosen from a Chernoff bound,
P(X ≥ n) ≤ G(r) / r^n for every r > 1 where G(r) is finite, minimised over r: the grid holds
all but at most ``tail`` (default 1e-12) of the probability, a bound computed, not assumed.

The complex logarithm is safe: for |z| = 1, P_k(z) is a convex combination of points z^ν on the
unit circle, so Re P_k(z) ≤ 1 and Re(1 − v_k Q_k(z)) = 1 + v_k μ_k (1 − Re P_k(z)) ≥ 1 > 0. The
argument of each logarithm stays in the right half-plane, where the principal branch is analytic
and equals the continuous branch through G(1) = 1, so exp(−log(·)/v_k) is the right power.

Panjer's recursion in double precision starts from P(0) = e^(−μ_0) · Π_k (1 + v_k μ_k)^(−1/v_k)
(μ_0 the specific part's expected defaults), which underflows to 0 once −log P(0) > ~745, as on
large books, and every later term with it; the FFT has no such start. :func:`panjer_distribution`
(per sector, then convolved) is kept as the plain reference for small books, which the tests
compare with the FFT.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.fft
import scipy.sparse as sp

from ..errors import BookError, Problem, ScenarioError

__all__ = [
    "LEVELS",
    "Banding",
    "SectorModel",
    "Contributions",
    "CreditRiskPlus",
    "band_exposures",
    "sector_model",
    "chernoff_size",
    "loss_distribution",
    "panjer_distribution",
    "credit_risk_plus",
]

#: Confidence levels reported by default (those of the simulation's summary).
LEVELS = (0.90, 0.95, 0.99, 0.995, 0.999)

#: Probability mass the loss grid may leave out (a bound, see :func:`chernoff_size`).
TAIL = 1e-12

#: Largest FFT length accepted (2^25 points: about 1 GiB of complex work arrays).
MAX_SIZE = 1 << 25

#: Complex work array per chunk of sectors in the FFT, in elements (32 MiB).
_CHUNK = 1 << 21

Rounding = Literal["nearest", "up"]


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------


def _rows(mask: np.ndarray, ids: Sequence[str] | None) -> tuple[int, tuple[str, ...]]:
    """Number of offending rows and the first few of their ids (or 0-based row numbers)."""
    where = np.flatnonzero(mask)
    first = where[:5]
    names = tuple(str(ids[i]) for i in first) if ids is not None else tuple(map(str, first))
    return len(where), names


def _obligor_array(
    name: str,
    values: object,
    n: int | None,
    problems: list[Problem],
    ids: Sequence[str] | None,
    low: float,
    high: float,
    rule: str,
) -> np.ndarray:
    """A float vector of obligor data; rows outside [low, high] or not finite become Problems."""
    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 0 and n is not None:
        a = np.full(n, float(a))
    if a.ndim != 1 or (n is not None and len(a) != n):
        count = "a 1-D array" if n is None else f"one value per obligor ({n})"
        problems.append(Problem("analytic", name, count))
        return np.zeros(n or 0)
    bad = ~(np.isfinite(a) & (a >= low) & (a <= high))
    if bad.any():
        count, first = _rows(bad, ids)
        problems.append(Problem("analytic", name, rule, count, first))
    return a


def _raise_book(problems: list[Problem]) -> None:
    if problems:
        raise BookError(problems, source="analytic")


def _scenario_problem(key: str, rule: str) -> ScenarioError:
    return ScenarioError([Problem("analytic", key, rule, label="key")], source="scenario")


# ---------------------------------------------------------------------------------------------
# Banding
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Banding:
    """Exposures as whole multiples of a loss unit, with rates that keep EL exact.

    Attributes
    ----------
    unit : float
        Loss unit L (currency).
    multiple : numpy.ndarray of int64
        ν_i ≥ 1, the banded exposure of each obligor in units of L.
    rate : numpy.ndarray of float64
        Adjusted annual default rate p'_i = p_i E_i / (ν_i L), so p'_i ν_i L = p_i E_i.
    scale : numpy.ndarray of float64
        E_i / (ν_i L), the factor turning p_i into p'_i (and σ_i into σ'_i).
    """

    unit: float
    multiple: np.ndarray
    rate: np.ndarray
    scale: np.ndarray

    @property
    def expected_loss(self) -> np.ndarray:
        """EL_i = p'_i ν_i L = p_i E_i per obligor (currency)."""
        return self.rate * self.multiple * self.unit


def band_exposures(
    exposure: np.ndarray,
    pd: np.ndarray,
    band: float | None = None,
    rounding: Rounding = "nearest",
    ids: Sequence[str] | None = None,
) -> Banding:
    """Band exposures in units of L and adjust the rates so that EL is unchanged.

    Parameters
    ----------
    exposure : array_like of float, shape (n,)
        E_i ≥ 0, exposure net of recovery (EAD × mean LGD), currency.
    pd : array_like of float, shape (n,)
        p_i in [0, 1], annual default rate.
    band : float, optional
        Loss unit L (currency); default the largest exposure / 1000 (1 when all are 0).
    rounding : {"nearest", "up"}
        ν_i = max(1, round(E_i / L)) (CSFB A3.3), or the ceiling (CSFB's spreadsheet, which
        overstates the SD slightly, A4.2).
    ids : sequence of str, optional
        Obligor ids, used only to name offending rows in error messages.

    Returns
    -------
    Banding

    Raises
    ------
    BookError
        Exposures not finite or negative, rates outside [0, 1], mismatched lengths.
    ScenarioError
        ``band`` not a positive finite number, ``rounding`` unknown.
    """
    problems: list[Problem] = []
    e = _obligor_array("exposure", exposure, None, problems, ids, 0.0, np.inf, "0 ≤ exposure < ∞")
    p = _obligor_array("pd", pd, len(e), problems, ids, 0.0, 1.0, "0 ≤ pd ≤ 1")
    _raise_book(problems)
    if rounding not in ("nearest", "up"):
        raise _scenario_problem("analytic.rounding", "one of 'nearest', 'up'")
    if band is None:
        largest = float(e.max()) if len(e) else 0.0
        unit = largest / 1000 if largest > 0 else 1.0
    else:
        unit = float(band)
        if not (math.isfinite(unit) and unit > 0):
            raise _scenario_problem("analytic.band", f"a positive loss unit (got {band!r})")
    x = e / unit
    nu = np.ceil(x) if rounding == "up" else np.rint(x)
    if nu.size and nu.max() >= MAX_SIZE:
        top = float(nu.max())
        rule = f"a loss unit giving at most {MAX_SIZE:,} units per exposure (got {top:,.0f})"
        raise _scenario_problem("analytic.band", rule)
    multiple = np.maximum(nu, 1.0).astype(np.int64)
    scale = x / multiple
    return Banding(unit=unit, multiple=multiple, rate=p * scale, scale=scale)


# ---------------------------------------------------------------------------------------------
# Sectors
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectorModel:
    """A banded book with its sector structure: everything the distribution depends on.

    Attributes
    ----------
    banding : Banding
    allocation : scipy.sparse.csr_array, shape (n, K)
        θ_ik, the share of obligor i's default rate driven by systematic sector k.
    mean : numpy.ndarray, shape (K,)
        μ_k, expected number of defaults driven by sector k (adjusted rates).
    variance : numpy.ndarray, shape (K,)
        v_k = (σ_k / μ_k)², variance of sector k's gamma factor (mean 1); 0 where μ_k = 0.
    weights : scipy.sparse.csr_array, shape (K, V)
        c_kν = Σ_{i: ν_i = ν} θ_ik p'_i, V = max ν + 1.
    specific : numpy.ndarray, shape (V,)
        Poisson rates by band of the zero-variance part: specific shares and sectors with
        v_k = 0 (c_ν = Σ_{i: ν_i = ν} s_i p'_i + rows of ``weights`` with v_k = 0).
    """

    banding: Banding
    allocation: sp.csr_array
    mean: np.ndarray
    variance: np.ndarray
    weights: sp.csr_array
    specific: np.ndarray

    @property
    def size(self) -> int:
        """V = largest band + 1."""
        return len(self.specific)

    @property
    def sector_el(self) -> np.ndarray:
        """EL_k = Σ_i θ_ik p'_i ν_i L per systematic sector (currency)."""
        return self.allocation.T @ self.banding.expected_loss

    @property
    def expected_loss(self) -> float:
        """EL = Σ_i p_i E_i (currency)."""
        return float(self.banding.expected_loss.sum())

    @property
    def variance_of_loss(self) -> float:
        """SD² = Σ_i p'_i (ν_i L)² + Σ_k v_k EL_k² (CSFB eq. 118, currency²)."""
        b = self.banding
        own = float(np.sum(b.expected_loss * b.multiple) * b.unit)
        return own + float(np.sum(self.variance * self.sector_el**2))

    def systematic(self) -> np.ndarray:
        """Σ_k v_k θ_ik EL_k per obligor (currency): the factor term of eq. 121."""
        return self.allocation @ (self.variance * self.sector_el)


def _allocation(
    n: int,
    sector: np.ndarray | None,
    allocation: np.ndarray | sp.sparray | sp.spmatrix | None,
    specific_share: float | np.ndarray,
    ids: Sequence[str] | None,
) -> sp.csr_array:
    """θ as a sparse (n, K) array from sector codes and specific shares, or as given."""
    problems: list[Problem] = []
    if allocation is not None:
        if sector is not None or np.any(np.asarray(specific_share) != 0):
            raise _scenario_problem(
                "analytic", "give sector codes and a specific share, or an allocation, not both"
            )
        theta = sp.csr_array(allocation, dtype=np.float64)
        theta.eliminate_zeros()
        if theta.ndim != 2 or theta.shape[0] != n:
            rule = f"shape (obligors = {n}, K)"
            raise BookError([Problem("analytic", "allocation", rule)], source="analytic")
        data = theta.data
        if not np.all(np.isfinite(data) & (data >= 0)):
            problems.append(Problem("analytic", "allocation", "0 ≤ θ_ik < ∞"))
        total = np.asarray(theta.sum(axis=1)).ravel()
        bad = total > 1 + 1e-9
        if bad.any():
            count, first = _rows(bad, ids)
            problems.append(Problem("analytic", "allocation", "Σ_k θ_ik ≤ 1", count, first))
        _raise_book(problems)
        return theta
    share = _obligor_array(
        "specific_share", specific_share, n, problems, ids, 0.0, 1.0, "0 ≤ specific_share ≤ 1"
    )
    if sector is None:
        codes = np.zeros(n, dtype=np.int64)
    else:
        codes = np.asarray(sector)
        if codes.shape != (n,) or not np.issubdtype(codes.dtype, np.integer):
            problems.append(Problem("analytic", "sector", f"one integer code per obligor ({n})"))
        elif n and codes.min() < 0:
            count, first = _rows(codes < 0, ids)
            problems.append(Problem("analytic", "sector", "sector code ≥ 0", count, first))
    _raise_book(problems)
    k = int(codes.max()) + 1 if n else 1
    theta = sp.csr_array((1.0 - share, (np.arange(n), codes)), shape=(n, k))
    theta.eliminate_zeros()
    return theta


def sector_model(
    banding: Banding,
    *,
    sector: np.ndarray | None = None,
    allocation: np.ndarray | sp.sparray | sp.spmatrix | None = None,
    specific_share: float | np.ndarray = 0.0,
    pd_volatility: float | np.ndarray = 0.5,
    ids: Sequence[str] | None = None,
) -> SectorModel:
    """Sector means, factor variances and band weights of a banded book.

    Parameters
    ----------
    banding : Banding
        From :func:`band_exposures`.
    sector : array_like of int, shape (n,), optional
        Systematic sector code of each obligor (0 … K − 1, e.g. from ``sector_by``); default all
        obligors in one sector.
    allocation : array_like or sparse, shape (n, K), optional
        General θ_ik ≥ 0 with Σ_k θ_ik ≤ 1; the specific share is 1 − Σ_k θ_ik. Instead of
        ``sector`` and ``specific_share``.
    specific_share : float or array_like, shape (n,)
        s_i in [0, 1], share of the default rate in the zero-variance specific sector.
    pd_volatility : float or array_like, shape (n,)
        v_i = σ_i / p_i ≥ 0 (default 0.5).
    ids : sequence of str, optional
        Obligor ids for error messages.

    Returns
    -------
    SectorModel
    """
    n = len(banding.rate)
    theta = _allocation(n, sector, allocation, specific_share, ids)
    problems: list[Problem] = []
    vol = _obligor_array(
        "pd_volatility", pd_volatility, n, problems, ids, 0.0, np.inf, "0 ≤ pd_volatility < ∞"
    )
    _raise_book(problems)
    rate = banding.rate
    mean = theta.T @ rate
    sd = theta.T @ (vol * rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = np.where(mean > 0, (sd / np.where(mean > 0, mean, 1.0)) ** 2, 0.0)
    size = int(banding.multiple.max()) + 1 if n else 1
    # c_kν = Σ_i θ_ik p'_i [ν_i = ν]: θᵀ · diag(p') · onehot(ν)
    onehot = sp.csr_array((rate, (np.arange(n), banding.multiple)), shape=(n, size))
    weights = sp.csr_array(theta.T @ onehot)
    weights.eliminate_zeros()
    share = 1.0 - np.asarray(theta.sum(axis=1)).ravel()
    specific = np.bincount(banding.multiple, weights=np.clip(share, 0, 1) * rate, minlength=size)
    poisson = np.flatnonzero(variance == 0)
    if len(poisson):
        specific = specific + np.asarray(weights[poisson].sum(axis=0)).ravel()
    return SectorModel(banding, theta, mean, variance, weights, specific)


# ---------------------------------------------------------------------------------------------
# The distribution
# ---------------------------------------------------------------------------------------------


def _log1p(w: np.ndarray) -> np.ndarray:
    """log(1 + w) for complex w with Re(1 + w) > 0, accurate also for small |w|."""
    a, b = w.real, w.imag
    return 0.5 * np.log1p(a * (2.0 + a) + b * b) + 1j * np.arctan2(b, 1.0 + a)


def _log_pgf_real(model: SectorModel, t: np.ndarray) -> np.ndarray:
    """log G(e^t) for real t > 0 (inf where a gamma factor's moment generating function is)."""
    cols = np.flatnonzero(model.specific)
    log_g = np.expm1(np.outer(t, cols)) @ model.specific[cols]
    systematic = np.flatnonzero(model.variance > 0)
    if len(systematic):
        w = model.weights[systematic]
        used = np.unique(w.indices)
        q = (w[:, used] @ np.expm1(np.outer(used, t))).T  # (T, K') = Q_k(e^t)
        vq = q * model.variance[systematic]
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = -np.log1p(-np.minimum(vq, 1.0)) / model.variance[systematic]
        terms[vq >= 1.0] = np.inf
        log_g = log_g + terms.sum(axis=1)
    return log_g


def chernoff_size(model: SectorModel, tail: float = TAIL) -> tuple[int, float]:
    """Smallest grid size n found with P(loss ≥ n units) ≤ ``tail``, by a Chernoff bound.

    For every r = e^t > 1 with G(r) finite, P(X ≥ n) ≤ G(r) r^(−n), so
    n(t) = (log G(e^t) − log tail) / t grid points suffice; n(t) is minimised over a grid of t
    (then refined around the best point). Any t gives a valid bound; the minimum is only tight.

    Returns
    -------
    size : int
        Grid size n (≥ 1).
    bound : float
        The bound G(r) r^(−n) ≤ ``tail`` on the probability left out.
    """
    top = max(model.size - 1, 1)
    t = (700.0 / top) * np.logspace(-9, 0, 241)  # r^ν ≤ e^700
    for refine in range(3):
        with np.errstate(over="ignore", invalid="ignore"):
            log_g = _log_pgf_real(model, t)
            need = (log_g - math.log(tail)) / t
        need[~np.isfinite(need)] = np.inf
        best = int(np.argmin(need))
        if refine < 2:
            t = np.linspace(t[max(best - 1, 0)], t[min(best + 1, len(t) - 1)], 65)
    if not np.isfinite(need[best]):
        raise ValueError("no finite Chernoff bound: the loss distribution has no exponential tail")
    size = max(1, math.ceil(need[best]))
    return size, math.exp(log_g[best] - size * t[best])


def loss_distribution(model: SectorModel, tail: float = TAIL) -> tuple[np.ndarray, float]:
    """Probabilities of a loss of n·L, n = 0, 1, …, by FFT of the generating function.

    Parameters
    ----------
    model : SectorModel
    tail : float
        Largest probability the returned grid may leave out (beyond its end).

    Returns
    -------
    probabilities : numpy.ndarray of float64
        a_n = P(loss = n L) for n < size, size from :func:`chernoff_size`.
    omitted : float
        Bound on the probability beyond the grid (≤ ``tail``).

    Notes
    -----
    The DFT length N ≥ max(size, V) is a fast length; the inverse DFT of G on the N-th roots of
    unity gives a_n plus the mass folded from n + N, n + 2N, … (≤ ``omitted``). Values are exact
    to rounding, ~1e-16 absolute; negative rounding noise is set to 0.
    """
    size, omitted = chernoff_size(model, tail)
    n_fft = scipy.fft.next_fast_len(max(size, model.size), real=True)
    if n_fft > MAX_SIZE:
        raise _scenario_problem(
            "analytic.band",
            f"the loss grid would need {n_fft:,} points (at most {MAX_SIZE:,}): choose a larger L",
        )
    half = n_fft // 2 + 1
    # z_j = exp(−2πij/N): rfft(c)[j] = Σ_ν c_ν z_j^ν
    spec = model.specific
    log_g = scipy.fft.rfft(spec, n=n_fft) - spec.sum()
    systematic = np.flatnonzero(model.variance > 0)
    step = max(1, _CHUNK // half)
    for start in range(0, len(systematic), step):
        rows = systematic[start : start + step]
        v = model.variance[rows][:, None]
        q = scipy.fft.rfft(model.weights[rows].toarray(), n=n_fft, axis=1)
        q -= model.mean[rows][:, None]
        q *= -v
        log_g -= (_log1p(q) / v).sum(axis=0)
    probabilities = scipy.fft.irfft(np.exp(log_g), n=n_fft)[:size]
    np.maximum(probabilities, 0.0, out=probabilities)
    return probabilities, omitted


def _panjer(a: float, b: float, p0: float, severity: np.ndarray, size: int) -> np.ndarray:
    """Panjer recursion f_n = Σ_ν (a + b ν / n) s_ν f_(n−ν) of a compound (a, b, 0) law."""
    f = np.zeros(size)
    f[0] = p0
    nu = np.flatnonzero(severity)
    s = severity[nu]
    for n in range(1, size):
        k = nu <= n
        f[n] = np.dot((a + b * nu[k] / n) * s[k], f[n - nu[k]])
    return f


def panjer_distribution(model: SectorModel, size: int) -> np.ndarray:
    """Reference: Panjer's recursion per sector, then convolution (small books only).

    Sector k's loss is compound negative binomial (α = 1/v_k, β = v_k μ_k, severity c_kν / μ_k),
    the specific part compound Poisson (λ = Σ c_ν). Each starts from its own P(0), e.g.
    (1 + β)^(−α), which underflows on large books: use :func:`loss_distribution` there.

    Parameters
    ----------
    model : SectorModel
    size : int
        Number of grid points n = 0 … size − 1.

    Returns
    -------
    numpy.ndarray
        P(loss = n L), truncated to ``size`` points.
    """
    out = np.zeros(size)
    out[0] = 1.0
    lam = float(model.specific.sum())
    if lam > 0:
        f = _panjer(0.0, lam, math.exp(-lam), model.specific / lam, size)
        out = np.convolve(out, f)[:size]
    for k in np.flatnonzero(model.variance > 0):
        alpha = 1.0 / model.variance[k]
        beta = model.variance[k] * model.mean[k]
        row = model.weights[[k]].toarray().ravel()
        a = beta / (1.0 + beta)
        f = _panjer(a, (alpha - 1.0) * a, (1.0 + beta) ** -alpha, row / model.mean[k], size)
        out = np.convolve(out, f)[:size]
    return out


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


def _aggregate(labels: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    keys, inverse = np.unique(np.asarray(labels), return_inverse=True)
    sums = [np.bincount(inverse.ravel(), weights=a, minlength=len(keys)) for a in arrays]
    return keys, sums


@dataclass(frozen=True)
class Contributions:
    """CSFB risk contributions of obligors (or segments), currency.

    Attributes
    ----------
    level : float
        Confidence level q of the percentile contributions.
    expected : numpy.ndarray
        EL_i; they add up to EL.
    sd : numpy.ndarray
        Contribution to the standard deviation (eq. 121); they add up to SD.
    unexpected : numpy.ndarray
        ξ_q · sd with ξ_q = (VaR_q − EL) / SD; they add up to VaR_q − EL (UL at q).
    labels : numpy.ndarray or None
        Segment labels after :meth:`by`, else None (rows are obligors in input order).
    """

    level: float
    expected: np.ndarray
    sd: np.ndarray
    unexpected: np.ndarray
    labels: np.ndarray | None = None

    @property
    def var(self) -> np.ndarray:
        """Contribution to VaR_q, EL_i + UL_i (eq. 102); they add up to VaR_q."""
        return self.expected + self.unexpected

    def by(self, labels: np.ndarray | Sequence[object]) -> Contributions:
        """Sums by segment: ``labels`` gives each obligor's segment (any sortable values)."""
        labels = np.asarray(labels)
        if labels.shape != self.sd.shape:
            rule = f"one label per obligor ({len(self.sd)})"
            raise BookError([Problem("analytic", "segment", rule)], source="analytic")
        keys, (el, sd, ul) = _aggregate(labels, self.expected, self.sd, self.unexpected)
        return Contributions(self.level, el, sd, ul, keys)


def _level_key(q: float) -> str:
    """``0.995`` → ``"99.5"``, the key format of the simulation's summary."""
    return f"{100 * q:g}"


@dataclass(frozen=True)
class CreditRiskPlus:
    """The CreditRisk+ loss distribution of a book and its measures (currency).

    Attributes
    ----------
    model : SectorModel
    probabilities : numpy.ndarray
        P(loss = n · unit), n = 0 … len − 1 (all but ``omitted`` of the mass).
    omitted : float
        Bound on the probability beyond the grid.
    method : str
        "fft" or "panjer".
    levels : tuple of float
        Confidence levels of :attr:`var` and :attr:`tvar`.
    """

    model: SectorModel
    probabilities: np.ndarray
    omitted: float
    method: str
    levels: tuple[float, ...] = LEVELS
    _cdf: np.ndarray = field(init=False, repr=False)
    _tail: np.ndarray = field(init=False, repr=False)
    _tail_loss: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        p = self.probabilities
        x = np.arange(len(p)) * self.unit
        # mass and loss strictly above n, summed from the top (no cancellation)
        tail = np.concatenate([np.cumsum(p[:0:-1])[::-1], [0.0]])
        tail_loss = np.concatenate([np.cumsum((x * p)[:0:-1])[::-1], [0.0]])
        object.__setattr__(self, "_cdf", np.cumsum(p))
        object.__setattr__(self, "_tail", tail)
        object.__setattr__(self, "_tail_loss", tail_loss)

    @property
    def unit(self) -> float:
        """Loss unit L (currency)."""
        return self.model.banding.unit

    @property
    def loss(self) -> np.ndarray:
        """Loss amounts n · L of :attr:`probabilities` (currency)."""
        return np.arange(len(self.probabilities)) * self.unit

    @property
    def el(self) -> float:
        """Expected loss Σ p_i E_i (exact; the distribution's mean agrees to ~``omitted``)."""
        return self.model.expected_loss

    @property
    def sd(self) -> float:
        """Standard deviation from the closed form (CSFB eq. 118) of the banded book."""
        return math.sqrt(self.model.variance_of_loss)

    def _index(self, q: float) -> int:
        """Grid index of VaR_q."""
        if not 0 < q < 1:
            raise _scenario_problem("analytic.levels", f"0 < level < 1 (got {q!r})")
        n = int(np.searchsorted(self._cdf, q - TAIL, side="left"))
        if n >= len(self._cdf):
            raise ValueError(f"level {q} lies in the omitted tail ({self.omitted:.1e})")
        return n

    def quantile(self, q: float) -> float:
        """VaR_q: the smallest loss n L with P(loss ≤ n L) ≥ q (to 1e-12 in probability)."""
        return self._index(q) * self.unit

    def tail_expectation(self, q: float) -> float:
        """TVaR_q: the expected loss in the worst (1 − q) of probability.

        The atom at VaR_q enters with the part of its mass above q:
        TVaR_q = (Σ_(x > VaR) x p(x) + VaR · (P(X ≤ VaR) − q)) / (1 − q).
        """
        n = self._index(q)
        above = self._tail[n]
        atom = max(1.0 - q - above, 0.0)
        return (self._tail_loss[n] + n * self.unit * atom) / (1.0 - q)

    @property
    def var(self) -> dict[float, float]:
        """VaR at :attr:`levels`."""
        return {q: self.quantile(q) for q in self.levels}

    @property
    def tvar(self) -> dict[float, float]:
        """TVaR at :attr:`levels`."""
        return {q: self.tail_expectation(q) for q in self.levels}

    def contributions(self, level: float = 0.995) -> Contributions:
        """CSFB risk contributions of each obligor to SD and to VaR at ``level``."""
        b = self.model.banding
        el_i = b.expected_loss
        sd = self.sd
        if sd == 0:
            zero = np.zeros_like(el_i)
            return Contributions(level, el_i, zero, zero)
        rc = el_i * (b.multiple * b.unit + self.model.systematic()) / sd
        xi = (self.quantile(level) - self.el) / sd
        return Contributions(level, el_i, rc, xi * rc)

    def summary(self) -> dict:
        """EL, SD, VaR, TVaR (standard errors 0) and capital, in the simulation summary layout.

        Returns
        -------
        dict
            ``{"EL": {"value", "se"}, "SD": {…}, "VaR": {"99.5": {…}, …}, "TVaR": {…},
            "capital": VaR_99.5 − EL}``.
        """

        def exact(value: float) -> dict[str, float]:
            return {"value": value, "se": 0.0}

        return {
            "EL": exact(self.el),
            "SD": exact(self.sd),
            "VaR": {_level_key(q): exact(v) for q, v in self.var.items()},
            "TVaR": {_level_key(q): exact(v) for q, v in self.tvar.items()},
            "capital": self.quantile(0.995) - self.el,
        }


def credit_risk_plus(
    exposure: np.ndarray,
    pd: np.ndarray,
    *,
    sector: np.ndarray | None = None,
    allocation: np.ndarray | sp.sparray | sp.spmatrix | None = None,
    specific_share: float | np.ndarray = 0.0,
    pd_volatility: float | np.ndarray = 0.5,
    band: float | None = None,
    rounding: Rounding = "nearest",
    levels: Sequence[float] = LEVELS,
    tail: float = TAIL,
    method: Literal["fft", "panjer"] = "fft",
    ids: Sequence[str] | None = None,
) -> CreditRiskPlus:
    """The CreditRisk+ loss distribution of a book, its measures and risk contributions.

    Parameters
    ----------
    exposure : array_like, shape (n,)
        E_i = EAD_i × mean LGD_i ≥ 0 (currency).
    pd : array_like, shape (n,)
        Annual default rates p_i in [0, 1].
    sector, allocation, specific_share, pd_volatility
        Sector structure, see :func:`sector_model` (default: one sector, no specific share,
        σ_i = 0.5 p_i).
    band : float, optional
        Loss unit L (currency); default the largest exposure / 1000.
    rounding : {"nearest", "up"}
        Banding rule, see :func:`band_exposures`.
    levels : sequence of float
        Confidence levels of VaR and TVaR.
    tail : float
        Probability the loss grid may leave out (a computed bound).
    method : {"fft", "panjer"}
        FFT (any book) or Panjer's recursion (the reference, small books only).
    ids : sequence of str, optional
        Obligor ids for error messages.

    Returns
    -------
    CreditRiskPlus
    """
    if not 0 < tail < 1e-3:
        raise _scenario_problem("analytic.tail", f"0 < tail < 1e-3 (got {tail!r})")
    levels = tuple(float(q) for q in levels)
    if not all(0 < q < 1 for q in levels):
        raise _scenario_problem("analytic.levels", "0 < level < 1 for every level")
    banding = band_exposures(exposure, pd, band=band, rounding=rounding, ids=ids)
    model = sector_model(
        banding,
        sector=sector,
        allocation=allocation,
        specific_share=specific_share,
        pd_volatility=pd_volatility,
        ids=ids,
    )
    if method == "fft":
        probabilities, omitted = loss_distribution(model, tail)
    elif method == "panjer":
        size, omitted = chernoff_size(model, tail)
        probabilities = panjer_distribution(model, size)
    else:
        raise _scenario_problem("analytic.method", "one of 'fft', 'panjer'")
    return CreditRiskPlus(model, probabilities, omitted, method, levels)
