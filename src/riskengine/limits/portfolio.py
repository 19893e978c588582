"""Portfolio-wide limits: the Rockafellar–Uryasev linear programme (docs/limits.md).

Segments j = 1..m (countries, regions, sectors, risk grades) are scaled by x_j ∈ [lo_j, hi_j] to
maximise the expected underwriting profit Σ_j x_j (P_j (1 − e) − EL_j) subject to TVaR_q of the
scaled claims Σ_j x_j L[s, j] ≤ the appetite A. Rockafellar and Uryasev (2000, 2002) write the
constraint linearly with VaR α and shortfalls u_s ≥ 0:

    u_s ≥ Σ_j x_j L[s, j] − α  (every year s),    α + Σ_s w_s u_s / M ≤ A,

where M is the tail's mass in years, so that min over α of the left side is TVaR_q exactly as
:mod:`riskengine.measures` estimates it: M = ⌈(1 − q)·n⌉ unweighted (the mean of the k worst
years), (1 − q)·n weighted (the boundary year entering fractionally). α ≥ 0 is imposed: claims
are non-negative, so VaR is, and where the weights fall short of M it makes the left side
Σ w L / M, the estimator's value there too.

Only the tail years bind. The solver works on a set S of years (a relaxation: leaving years out
loosens the constraint), checks the solution's TVaR tail on all years, adds the tail years missing
from S and solves again; once the solution's tail lies in S its constraint holds on all years, so
it is the optimum of the whole problem. A last step makes the appetite hold to the last digit
(the LP solver's tolerances are about 1e-9 of the loss scale): TVaR is convex in x, so moving the
segments strictly between their bounds towards their lower bounds by the share the overshoot
calls for restores it. The LP's dual is a tail measure of the optimum: it splits the tail's mass
among the years that tie at VaR (the LP makes several tie) and so defines the segments' TVaR
contributions and the shadow price of the appetite.

Imports numpy, scipy, polars and riskengine's errors and measures only.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import polars as pl
from scipy import sparse
from scipy.optimize import linprog

from ..errors import Problem, RiskEngineError
from ..measures import Estimate, tail, tail_count, tvar_se

__all__ = [
    "FRONTIER_SCHEMA",
    "SEGMENT_SCHEMA",
    "LimitsError",
    "LimitsProblem",
    "LimitsSolution",
    "efficient_frontier",
    "limits_problem",
    "solve_limits",
]

log = logging.getLogger("riskengine")

#: HiGHS feasibility tolerances, on losses in units of the portfolio's TVaR at its upper bounds.
LP_TOLERANCE = 1e-9

#: Years added to the working set per round beyond the tail, as a multiple of the tail's years:
#: the next-worst years of the current solution, likely to bind once it moves.
EXTRA_TAIL = 1.0

#: Rounds of the working-set method before it falls back to all years at once.
MAX_ROUNDS = 50

_FILE = "limits"

#: Columns of :attr:`LimitsSolution.frame`, one row per segment (currency units but ``scale``).
SEGMENT_SCHEMA = {
    "segment": pl.String,
    "exposure": pl.Float64,
    "scale": pl.Float64,
    "limit": pl.Float64,
    "el": pl.Float64,
    "premium": pl.Float64,
    "profit": pl.Float64,
    "tvar_contribution": pl.Float64,
}

#: Columns of :func:`efficient_frontier`, one row per appetite.
FRONTIER_SCHEMA = {
    "appetite": pl.Float64,
    "tvar": pl.Float64,
    "tvar_se": pl.Float64,
    "profit": pl.Float64,
    "premium": pl.Float64,
    "el": pl.Float64,
    "binding": pl.Boolean,
    "shadow_price": pl.Float64,
}


class LimitsError(RiskEngineError):
    """Inputs of the limits optimisation that break a rule, or an appetite it cannot meet."""


@dataclass(frozen=True)
class LimitsProblem:
    """Segment claims and economics, validated: what :func:`solve_limits` optimises.

    Build it with :func:`limits_problem`.

    Attributes
    ----------
    losses : scipy.sparse.csr_array of float64, shape (n, m)
        Gross claims of segment j in simulated year s (currency units), ≥ 0.
    premium : ndarray, shape (m,)
        Annual premium of each segment at its current limits (currency units).
    el : ndarray, shape (m,)
        Expected annual claims of each segment at its current limits (currency units).
    expense_share : ndarray, shape (m,)
        Expenses and commission as a share of premium, e.
    lower, upper : ndarray, shape (m,)
        Bounds on the scale factors.
    level : float
        q of TVaR_q.
    weights : ndarray, shape (n,), or None
        Likelihood ratios of the years (importance sampling); None: unweighted.
    segments : tuple of str
        Segment labels.
    exposure : ndarray, shape (m,)
        Current exposure of each segment (currency units; NaN where unknown).
    """

    losses: sparse.csr_array
    premium: np.ndarray
    el: np.ndarray
    expense_share: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    weights: np.ndarray | None
    segments: tuple[str, ...]
    exposure: np.ndarray

    @property
    def n(self) -> int:
        """Simulated years."""
        return int(self.losses.shape[0])

    @property
    def m(self) -> int:
        """Segments."""
        return int(self.losses.shape[1])

    @property
    def margin(self) -> np.ndarray:
        """Expected underwriting profit per unit of scale, P_j (1 − e_j) − EL_j (currency units)."""
        return self.premium * (1.0 - self.expense_share) - self.el

    @property
    def tail_mass(self) -> float:
        """M, the divisor of the tail mean: ⌈(1 − q)·n⌉ unweighted, (1 − q)·n weighted."""
        if self.weights is None:
            return float(min(tail_count(self.level, self.n), self.n))
        return (1.0 - self.level) * self.n

    def portfolio(self, scale: np.ndarray) -> np.ndarray:
        """Annual claims Σ_j x_j L[s, j] of the scaled portfolio, one per year (currency units)."""
        return np.asarray(self.losses @ np.asarray(scale, dtype=np.float64), dtype=np.float64)

    def tvar(self, scale: np.ndarray) -> Estimate:
        """TVaR_q ± se of the scaled portfolio by :func:`riskengine.measures.tvar_se`."""
        y = self.portfolio(scale)
        order = np.argsort(y, kind="stable")
        return tvar_se(y[order], self.level, None if self.weights is None else self.weights[order])

    def optimum_unconstrained(self) -> np.ndarray:
        """The scales without an appetite: profitable segments at their upper bound, else lower.

        A segment that earns nothing (margin ≤ 0) is at its lower bound in every optimum we
        return: claims are ≥ 0, so lowering its scale never raises TVaR and never lowers profit.
        """
        return np.where(self.margin > 0, self.upper, self.lower)


@dataclass(frozen=True)
class LimitsSolution:
    """Optimal scale factors at one appetite.

    Attributes
    ----------
    appetite : float
        A, the bound on TVaR_q (currency units).
    level : float
        q.
    scale : ndarray, shape (m,)
        Optimal x_j.
    tvar : Estimate
        TVaR_q of the optimised portfolio ± its Monte Carlo standard error (currency units),
        by :func:`riskengine.measures.tvar_se`: ≤ ``appetite``, equal to it to rounding when
        ``binding``.
    profit : float
        Σ_j x_j (P_j (1 − e_j) − EL_j), expected underwriting profit (currency units a year).
    binding : bool
        Whether the appetite binds (False: every profitable segment is at its upper bound).
    shadow_price : float
        λ, the expected profit one more currency unit of appetite earns: the slope of the
        efficient frontier at ``appetite`` (at a kink of the frontier, a value between the
        slopes on either side; 0 when not binding; NaN at the least appetite the lower bounds
        allow, where only the slope to the right exists).
    frame : polars.DataFrame
        One row per segment (:data:`SEGMENT_SCHEMA`): ``segment``, ``exposure`` (current),
        ``scale``, ``limit`` (= scale × exposure), ``el``, ``premium`` and ``profit`` at the
        proposed limit, and ``tvar_contribution``: x_j × the segment's mean claim over the years
        that define the optimised portfolio's TVaR_q, each year weighted by its share of the
        tail's mass; they sum to ``tvar``. At a binding optimum several years tie at VaR (the
        LP equalises them) and the tail's mass among them is not unique: it is split as the
        LP's dual says, which makes profit / tvar_contribution = ``shadow_price`` for every
        segment strictly between its bounds (≥ at its upper bound, ≤ at its lower bound).
    years : int
        Years the last linear programme carried (0: none was needed).
    rounds : int
        Linear programmes solved.
    """

    appetite: float
    level: float
    scale: np.ndarray
    tvar: Estimate
    profit: float
    binding: bool
    shadow_price: float
    frame: pl.DataFrame
    years: int
    rounds: int


def _rows(column: str, rule: str, rows: np.ndarray, labels: Sequence[str]) -> Problem:
    """A problem naming the first few offending segments (or years) by label."""
    return Problem(_FILE, column, rule, len(rows), tuple(str(labels[i]) for i in rows[:5]))


def _per_segment(
    name: str,
    value: float | Sequence[float] | np.ndarray,
    labels: Sequence[str],
    rule: str | None = None,
    ok: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, list[Problem]]:
    """``value`` broadcast to one finite float per segment that passes ``ok``, or the problems."""
    m = len(labels)
    try:
        v = np.broadcast_to(np.asarray(value, dtype=np.float64), (m,)).copy()
    except (TypeError, ValueError):
        got = np.shape(value) if not isinstance(value, str) else repr(value)
        rule = f"a number or {m} numbers (one per segment), got {got}"
        return np.full(m, np.nan), [Problem(_FILE, name, rule)]
    problems = []
    bad = np.flatnonzero(~np.isfinite(v))
    if len(bad):
        problems.append(_rows(name, "finite", bad, labels))
    if ok is not None and rule is not None:
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(np.isfinite(v) & ~ok(v))
        if len(bad):
            problems.append(_rows(name, rule, bad, labels))
    return v, problems


def _losses(losses: np.ndarray | sparse.sparray | sparse.spmatrix) -> sparse.csr_array:
    """Claims as a CSR array of float64 without stored zeros."""
    if sparse.issparse(losses):
        out = sparse.csr_array(losses, dtype=np.float64)
    else:
        dense = np.asarray(losses, dtype=np.float64)
        if dense.ndim != 2:
            rule = f"a (years, segments) table, got shape {dense.shape}"
            raise LimitsError([Problem(_FILE, "losses", rule)])
        out = sparse.csr_array(dense)
    out.eliminate_zeros()
    return out


def _check_losses(losses: sparse.csr_array, labels: Sequence[str]) -> list[Problem]:
    """At least one year and segment; claims finite and ≥ 0, by segment with the first years."""
    n, m = losses.shape
    if n == 0 or m == 0:
        return [Problem(_FILE, "losses", f"at least one year and one segment, got ({n}, {m})")]
    bad = ~(np.isfinite(losses.data) & (losses.data >= 0))
    if not bad.any():
        return []
    coo = losses.tocoo()
    problems = []
    for j in np.unique(coo.col[bad]):
        years = np.sort(coo.row[bad & (coo.col == j)])
        first = tuple(f"year {int(s)}" for s in years[:5])
        problems.append(Problem(_FILE, f"losses[{labels[j]}]", "finite and ≥ 0", len(years), first))
    return problems


def _labels(segments: Sequence[str] | None, m: int) -> tuple[tuple[str, ...], list[Problem]]:
    """Segment labels, unique, one per column (default "0" … "m−1")."""
    default = tuple(str(j) for j in range(m))
    if segments is None:
        return default, []
    labels = tuple(str(s) for s in segments)
    if len(labels) != m:
        rule = f"{m} labels (one per column of losses), got {len(labels)}"
        return default, [Problem(_FILE, "segments", rule)]
    if len(set(labels)) != m:
        seen: set[str] = set()
        twice = [s for s in labels if s in seen or seen.add(s)]
        return labels, [Problem(_FILE, "segments", "unique", len(twice), tuple(twice[:5]))]
    return labels, []


def _weights(
    weights: Sequence[float] | np.ndarray | None, n: int
) -> tuple[np.ndarray | None, list[Problem]]:
    """Likelihood ratios, or None for an unweighted sample (as :mod:`riskengine.measures`)."""
    if weights is None:
        return None, []
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        return None, [Problem(_FILE, "weights", f"{n} values (one per year), got shape {w.shape}")]
    bad = np.flatnonzero(~(np.isfinite(w) & (w >= 0)))
    if len(bad):
        first = tuple(f"year {int(s)}" for s in bad[:5])
        return None, [Problem(_FILE, "weights", "finite and ≥ 0", len(bad), first)]
    return (None if np.all(w == 1.0) else w), []


def limits_problem(
    losses: np.ndarray | sparse.sparray | sparse.spmatrix,
    premium: Sequence[float] | np.ndarray,
    el: Sequence[float] | np.ndarray | None = None,
    *,
    expense_share: float | Sequence[float] | np.ndarray = 0.0,
    lower: float | Sequence[float] | np.ndarray = 0.0,
    upper: float | Sequence[float] | np.ndarray = 1.5,
    level: float = 0.995,
    weights: Sequence[float] | np.ndarray | None = None,
    segments: Sequence[str] | None = None,
    exposure: Sequence[float] | np.ndarray | None = None,
) -> LimitsProblem:
    """Validate the inputs of the limits optimisation.

    Parameters
    ----------
    losses : array or scipy sparse matrix, shape (n, m)
        Gross claims of each segment (column) in each simulated year (row), currency units, ≥ 0.
        Sparse input (the results' segment claims leave zeros out) is used as it is.
    premium : array, shape (m,)
        Annual premium of each segment at its current limits (currency units).
    el : array, shape (m,), optional
        Expected annual claims of each segment (currency units); default the simulated mean
        Σ_s w_s L[s, j] / n.
    expense_share : float or array
        Expenses plus commission as a share of premium, e, in [0, 1).
    lower, upper : float or array
        Bounds on each segment's scale factor, 0 ≤ lower ≤ upper (the scenario's
        ``limits.min_scale`` and ``limits.max_scale``).
    level : float
        q of TVaR_q, in (0, 1) (the scenario's ``limits.level`` / 100).
    weights : array, shape (n,), optional
        Likelihood ratio of each year (importance sampling, mean 1).
    segments : sequence of str, optional
        Segment labels (default "0" … "m−1").
    exposure : array, shape (m,), optional
        Current exposure of each segment (Σ EAD, currency units): the proposed limit is
        scale × exposure. Default unknown (NaN).

    Returns
    -------
    LimitsProblem

    Raises
    ------
    LimitsError
        Every broken rule at once, naming the input, the rule and the first segments or years.
    """
    lossm = _losses(losses)
    n, m = lossm.shape
    labels, problems = _labels(segments, m)
    problems += _check_losses(lossm, labels)
    if not (0.0 < level < 1.0):
        problems.append(Problem(_FILE, "level", f"0 < level < 1 (0.995 for 99.5 %), got {level}"))
    w, found = _weights(weights, n)
    problems += found
    prem, found = _per_segment("premium", premium, labels, "≥ 0", lambda v: v >= 0)
    problems += found
    if el is None:
        el_ = np.asarray(lossm.T @ (np.ones(n) if w is None else w), dtype=np.float64) / max(n, 1)
    else:
        el_, found = _per_segment("el", el, labels, "≥ 0", lambda v: v >= 0)
        problems += found
    share, found = _per_segment(
        "expense_share",
        expense_share,
        labels,
        "0 ≤ expense_share < 1",
        lambda v: (v >= 0) & (v < 1),
    )
    problems += found
    lo, found = _per_segment("lower", lower, labels, "≥ 0 (min_scale)", lambda v: v >= 0)
    problems += found
    hi, found = _per_segment(
        "upper", upper, labels, "≥ lower (max_scale ≥ min_scale)", lambda v: ~(v < lo)
    )
    problems += found
    ex = np.full(m, np.nan)
    if exposure is not None:
        ex, found = _per_segment("exposure", exposure, labels, "≥ 0", lambda v: v >= 0)
        problems += found
    if problems:
        raise LimitsError(problems)
    return LimitsProblem(
        losses=lossm,
        premium=prem,
        el=el_,
        expense_share=share,
        lower=lo,
        upper=hi,
        level=float(level),
        weights=w,
        segments=labels,
        exposure=ex,
    )


@dataclass(frozen=True)
class _Programme:
    """The parts of the linear programme that do not depend on the appetite or the years."""

    free: np.ndarray  # segments the LP chooses: margin > 0 and lower < upper
    base: np.ndarray  # claims of the other segments at their lower bound, per year
    losses: sparse.csr_array  # claims of the free segments, (n, len(free))
    active: np.ndarray  # years with any claim: the others never bind (u_s = 0, α ≥ 0)
    unit: float  # currency units per LP loss unit
    profit_unit: float  # currency units per LP objective unit

    @classmethod
    def of(cls, problem: LimitsProblem) -> _Programme:
        margin = problem.margin
        free = np.flatnonzero((margin > 0) & (problem.lower < problem.upper))
        fixed = problem.lower.copy()
        fixed[free] = 0.0
        base = problem.portfolio(fixed)
        losses = sparse.csr_array(problem.losses.tocsc()[:, free])
        active = np.flatnonzero((np.diff(losses.indptr) > 0) | (base > 0))
        top = problem.tvar(problem.optimum_unconstrained()).value
        unit = top if math.isfinite(top) and top > 0 else 1.0
        scale = float(np.max(margin[free])) if len(free) else 1.0
        return cls(free, base, losses, active, unit, scale)


class _Lp(NamedTuple):
    """What one linear programme gives: its scales and the tail measure of its dual."""

    scale: np.ndarray  # x, all segments (fixed ones at their lower bound)
    years: np.ndarray  # the years it was written on
    tail_weight: np.ndarray  # p_s on ``years``: 0 ≤ p_s ≤ w_s / M, Σ p_s = 1 when α > 0
    shadow_price: float  # λ: expected profit per currency unit of appetite


def _solve_on(problem: LimitsProblem, prog: _Programme, years: np.ndarray, appetite: float) -> _Lp:
    """The Rockafellar–Uryasev LP written on ``years`` only (a relaxation), and its dual.

    With duals π_s of the years' rows and λ of the appetite's, p_s = π_s / λ is a tail measure
    of the optimum (0 ≤ p_s ≤ w_s / M, Σ p_s = 1 when α > 0, p_s y_s summing to its TVaR) that
    prices every segment: margin_j = λ Σ_s p_s L[s, j] for a segment strictly between its bounds.
    """
    f, k = len(prog.free), len(years)
    w = np.ones(k) if problem.weights is None else problem.weights[years]
    rows = prog.losses[years] / prog.unit
    a_ub = sparse.vstack(
        [
            sparse.hstack(
                [rows, sparse.csr_array(-np.ones((k, 1))), -sparse.eye_array(k, format="csr")]
            ),
            sparse.csr_array(np.concatenate([np.zeros(f), [1.0], w / problem.tail_mass])[None, :]),
        ],
        format="csr",
    )
    b_ub = np.concatenate([-prog.base[years] / prog.unit, [appetite / prog.unit]])
    c = np.concatenate([-problem.margin[prog.free] / prog.profit_unit, np.zeros(1 + k)])
    bounds = np.empty((f + 1 + k, 2))
    bounds[:f, 0], bounds[:f, 1] = problem.lower[prog.free], problem.upper[prog.free]
    bounds[f:, 0], bounds[f:, 1] = 0.0, np.inf
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=b_ub,
        bounds=bounds,
        method="highs",
        options={
            "primal_feasibility_tolerance": LP_TOLERANCE,
            "dual_feasibility_tolerance": LP_TOLERANCE,
        },
    )
    if res.status != 0:  # pragma: no cover - infeasible appetites are refused before
        raise RuntimeError(f"the limits LP failed on {k} years: {res.message}")
    x = problem.lower.copy()
    x[prog.free] = np.clip(res.x[:f], problem.lower[prog.free], problem.upper[prog.free])
    # marginals: ∂(min objective)/∂b ≤ 0; rows and appetite share the loss unit
    dual = -np.asarray(res.ineqlin.marginals, dtype=np.float64)
    lam = dual[-1]
    p = np.clip(dual[:-1] / lam, 0.0, w / problem.tail_mass) if lam > 0 else np.zeros(k)
    return _Lp(x, years, p, float(lam * prog.profit_unit / prog.unit))


def _top_years(y: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` largest values of ``y`` (any order)."""
    count = min(count, len(y))
    return np.argpartition(-y, count - 1)[:count] if count > 0 else np.zeros(0, np.int64)


def _working_set(
    problem: LimitsProblem, prog: _Programme, appetite: float, years: np.ndarray
) -> tuple[_Lp, int]:
    """Solve on a growing set of years until the solution's tail lies in it.

    Returns the last LP (its years are the working set) and the number of LPs solved.
    """
    inset = np.zeros(problem.n, dtype=bool)
    inset[years] = True
    for rounds in range(1, MAX_ROUNDS + 1):
        lp = _solve_on(problem, prog, np.flatnonzero(inset), appetite)
        y = problem.portfolio(lp.scale)
        tl = tail(y, problem.level, problem.weights).index
        missing = tl[~inset[tl]]
        log.debug(
            "limits LP round %d: %d years, %d tail years missing", rounds, inset.sum(), len(missing)
        )
        if len(missing) == 0:
            return lp, rounds
        inset[missing] = True
        inset[_top_years(y, int(math.ceil((1 + EXTRA_TAIL) * len(tl))))] = True
    return _solve_on(problem, prog, prog.active, appetite), MAX_ROUNDS + 1


def _first_years(problem: LimitsProblem, prog: _Programme) -> np.ndarray:
    """Initial working set: the worst years of the portfolio at its upper and current limits."""
    k = int(math.ceil((1 + EXTRA_TAIL) * problem.tail_mass)) + 1
    x0 = problem.optimum_unconstrained()
    x1 = np.clip(np.where(problem.margin > 0, 1.0, problem.lower), problem.lower, problem.upper)
    years = [_top_years(problem.portfolio(x), k) for x in (x0, x1)]
    return np.intersect1d(np.union1d(*years), prog.active)


def _meet_appetite(
    problem: LimitsProblem, x: np.ndarray, appetite: float, floor: float
) -> tuple[np.ndarray, Estimate]:
    """Move ``x`` towards an anchor until TVaR ≤ appetite to the last digit.

    TVaR is convex in x, so on the segment z + t (x − z) from an anchor z with TVaR(z) <
    appetite, TVaR ≤ (1 − t) TVaR(z) + t TVaR(x) = appetite at t = (appetite − TVaR(z)) /
    (TVaR(x) − TVaR(z)). The anchor is x with the segments strictly between their bounds at
    their lower bound, which keeps the others exactly at their bounds (else all lower bounds,
    whose TVaR is ``floor`` ≤ appetite). The LP's overshoot is within its tolerance, so t is
    1 − O(1e-9); a few shrinks absorb rounding.
    """
    t_x = problem.tvar(x)
    if t_x.value <= appetite:
        return x, t_x
    between = (x > problem.lower) & (x < problem.upper)
    anchor = np.where(between, problem.lower, x)
    t_anchor = problem.tvar(anchor).value
    if not t_anchor < appetite:
        anchor, t_anchor = problem.lower, floor
    t, y, t_y = 1.0, x, t_x
    for i in range(8):  # t_y is TVaR at t, over the appetite: shrink t by the same rule
        t *= (appetite - t_anchor) / (t_y.value - t_anchor) * (1 - 1e-12 * 4**i)
        y = anchor + t * (x - anchor)
        t_y = problem.tvar(y)
        if t_y.value <= appetite:
            return y, t_y
    return y, t_y  # pragma: no cover - rounding never needs more


def _infeasible(problem: LimitsProblem, appetite: float, floor: float) -> LimitsError:
    q = f"{100 * problem.level:g}"
    return LimitsError(
        [
            Problem(
                _FILE,
                "appetite",
                f"at least the TVaR {q} % of the portfolio with every segment at its lower bound "
                f"(min_scale), {floor:,.2f}; got {appetite:,.2f}",
                label="option",
            )
        ]
    )


def _solve(
    problem: LimitsProblem,
    prog: _Programme,
    appetite: float,
    years: np.ndarray | None,
    method: str,
) -> tuple[LimitsSolution, np.ndarray | None]:
    """The optimum at ``appetite``, and the working set to start the next appetite from."""
    floor = problem.tvar(problem.lower).value
    if not (appetite >= floor):
        raise _infeasible(problem, appetite, floor)
    x0 = problem.optimum_unconstrained()
    t0 = problem.tvar(x0)
    if t0.value <= appetite:
        tl = tail(problem.portfolio(x0), problem.level, problem.weights)
        frame = _frame(problem, x0, problem.losses[tl.index], tl.mass / tl.denominator)
        sol = _solution(problem, appetite, x0, t0, frame, binding=False, shadow_price=0.0)
        return sol, years
    if method == "full":
        lp, rounds = _solve_on(problem, prog, prog.active, appetite), 1
    else:
        start = _first_years(problem, prog) if years is None else years
        lp, rounds = _working_set(problem, prog, appetite, start)
    x, t_x = _meet_appetite(problem, lp.scale, appetite, floor)
    frame = _frame(problem, x, problem.losses[lp.years], lp.tail_weight)
    sol = _solution(
        problem,
        appetite,
        x,
        t_x,
        frame,
        binding=True,
        # at the least appetite any price above the slope to its right fits: not one number
        shadow_price=lp.shadow_price if appetite > floor else math.nan,
        years=len(lp.years),
        rounds=rounds,
    )
    return sol, lp.years


def _solution(
    problem: LimitsProblem,
    appetite: float,
    x: np.ndarray,
    t_x: Estimate,
    frame: pl.DataFrame,
    *,
    binding: bool,
    shadow_price: float,
    years: int = 0,
    rounds: int = 0,
) -> LimitsSolution:
    return LimitsSolution(
        appetite=appetite,
        level=problem.level,
        scale=x,
        tvar=t_x,
        profit=float(x @ problem.margin),
        binding=binding,
        shadow_price=shadow_price,
        frame=frame,
        years=years,
        rounds=rounds,
    )


def _frame(
    problem: LimitsProblem, x: np.ndarray, rows: sparse.csr_array, weight: np.ndarray
) -> pl.DataFrame:
    """The per-segment table; contributions x_j Σ p_s L[s, j] over the tail measure p on rows."""
    contribution = np.asarray(rows.T @ weight, dtype=np.float64) * x
    return pl.DataFrame(
        {
            "segment": list(problem.segments),
            "exposure": problem.exposure,
            "scale": x,
            "limit": x * problem.exposure,
            "el": x * problem.el,
            "premium": x * problem.premium,
            "profit": x * problem.margin,
            "tvar_contribution": contribution,
        },
        schema=SEGMENT_SCHEMA,
    )


def solve_limits(
    problem: LimitsProblem, appetite: float, *, method: str = "tail"
) -> LimitsSolution:
    """Scale factors that maximise expected underwriting profit with TVaR_q ≤ ``appetite``.

    Parameters
    ----------
    problem : LimitsProblem
        From :func:`limits_problem`.
    appetite : float
        A, the bound on TVaR_q of the scaled gross claims (currency units).
    method : {"tail", "full"}
        ``"tail"``: the LP on a working set of years, grown until the solution's tail lies in it
        (exact, and fast: only tail years bind). ``"full"``: one LP on every year with a claim.

    Returns
    -------
    LimitsSolution

    Raises
    ------
    LimitsError
        When ``appetite`` is below TVaR_q of the portfolio with every segment at its lower bound
        (no scales meet it).
    """
    if method not in ("tail", "full"):
        raise ValueError(f"method must be 'tail' or 'full', got {method!r}")
    return _solve(problem, _Programme.of(problem), float(appetite), None, method)[0]


def efficient_frontier(
    problem: LimitsProblem,
    appetites: Sequence[float] | np.ndarray | None = None,
    *,
    points: int = 21,
) -> pl.DataFrame:
    """Optimal expected profit against TVaR_q as the appetite varies.

    Parameters
    ----------
    problem : LimitsProblem
        From :func:`limits_problem`.
    appetites : sequence of float, optional
        Appetites A (currency units). Default: ``points`` equally spaced from TVaR_q at the lower
        bounds (the least any scales reach) to TVaR_q of the unconstrained optimum (every
        profitable segment at its upper bound; beyond it profit stays flat).
    points : int
        Grid size of the default appetites.

    Returns
    -------
    polars.DataFrame
        One row per appetite, in increasing order: ``appetite``, ``tvar`` and ``tvar_se`` (the
        optimum's TVaR_q ± se), ``profit``, ``premium``, ``el`` (at the optimum), ``binding`` and
        ``shadow_price`` (the frontier's slope there, :attr:`LimitsSolution.shadow_price`).
        Profit is non-decreasing and concave in the appetite (the value of a linear programme
        as a function of its right-hand side): the shadow price falls as the appetite grows.

    Raises
    ------
    LimitsError
        When an appetite is below TVaR_q at the lower bounds.

    Notes
    -----
    Each appetite starts from the years the previous one ended with, which usually contain its
    binding tail already: the working set is the warm start (SciPy's HiGHS interface has none).
    """
    if appetites is None:
        lo = problem.tvar(problem.lower).value
        hi = problem.tvar(problem.optimum_unconstrained()).value
        grid = np.linspace(lo, hi, max(int(points), 2))
    else:
        grid = np.sort(np.asarray(appetites, dtype=np.float64))
    prog = _Programme.of(problem)
    years = None
    rows = []
    for a in grid:
        sol, years = _solve(problem, prog, float(a), years, "tail")
        rows.append(
            {
                "appetite": float(a),
                "tvar": sol.tvar.value,
                "tvar_se": sol.tvar.se,
                "profit": sol.profit,
                "premium": float(sol.scale @ problem.premium),
                "el": float(sol.scale @ problem.el),
                "binding": sol.binding,
                "shadow_price": sol.shadow_price,
            }
        )
    return pl.DataFrame(rows, schema=FRONTIER_SCHEMA)
