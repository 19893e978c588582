"""``riskengine limits --verify``: re-simulate the book with the proposed limits applied.

The linear programme scales each segment's claims with its limits, x_j L[s, j]. That is exact
only where no policy term binds: an aggregate first loss (deductible), a non-qualifying loss or a
maximum liability make a policy's claims non-linear in its limits (cutting limits under a binding
maximum liability cuts claims by less; under a first loss, by more), and so does reinsurance,
which the gross appetite does not see. Verification applies the proposed scales as stress
transforms — one ``limit_multiplier`` per distinct scale, with a ``where`` on the segments at
that scale — re-simulates the book and measures the gross TVaR and EL with their standard errors.

With the run's seed the re-simulated years are the run's years (common random numbers: a limit
transform leaves every cell's draws as they were; under importance sampling the run's mixture is
reused, so the weights are the run's too), so the difference from the linear figure is the
policy terms' doing alone. While the re-simulated TVaR exceeds the appetite, the appetite
the linear programme sees is lowered by the excess and the limits solved and re-simulated again,
:data:`VERIFY_ROUNDS` simulations at most.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from ..measures import mean_se, tvar_se
from ..portfolio.resolve import Resolved
from ..scenario.models import OutputsConfig, Scenario, Stress, Where
from .inputs import UNGRADED, segment_map
from .plan import LimitsPlan, VerifyRound

__all__ = ["VERIFY_ROUNDS", "VERIFY_RTOL", "limit_stresses", "verify_limits"]

log = logging.getLogger("riskengine")

#: Re-simulations ``--verify`` runs at most.
VERIFY_ROUNDS = 3

#: A re-simulated TVaR within this relative distance above the appetite is within it: where no
#: term binds the re-simulation gives the linear figure, which the optimum puts at the appetite,
#: up to the rounding of the kernels' sums (about 1e-15).
VERIFY_RTOL = 1e-9


def limit_stresses(
    resolved: Resolved, dimension: str, segments: tuple[str, ...] | list[str], scale: np.ndarray
) -> list[Stress]:
    """Stress transforms that apply ``scale`` to each segment's limits.

    One ``limit_multiplier`` per distinct scale other than 1, selecting its segments with a
    ``where`` on ``dimension`` (risk grades by ``risk_grade``; countries without a grade by
    their codes).

    Parameters
    ----------
    resolved : Resolved
        The book the segments are of (for the countries of the ungraded segment).
    dimension : {"country", "region", "sector", "risk_grade"}
    segments : sequence of str
        Segment labels (as :class:`~riskengine.limits.SegmentInputs` gives them).
    scale : numpy.ndarray
        Scale of each segment.
    """
    scale = np.asarray(scale, dtype=np.float64)
    out: list[Stress] = []
    for k, x in enumerate(np.unique(scale[scale != 1.0])):
        labels = [s for s, v in zip(segments, scale, strict=True) if v == x]
        wheres: list[Where] = []
        if dimension == "risk_grade":
            grades = [int(s) for s in labels if s != UNGRADED]
            if grades:
                wheres.append(Where(risk_grade=grades))
            if UNGRADED in labels:
                smap = segment_map(resolved, dimension)
                ungraded = int(np.flatnonzero(smap.labels == UNGRADED)[0])
                wheres.append(Where(country=smap.countries(resolved, ungraded)))
        else:
            wheres.append(Where(**{dimension: labels}))
        for i, where in enumerate(wheres):
            name = f"limits_{k}" + (f"_{i}" if i else "")
            description = f"proposed limits: {dimension} × {x:.6g}"
            out.append(
                Stress(name=name, description=description, limit_multiplier=float(x), where=where)
            )
    return out


def _measure(plan: LimitsPlan, res: Any, round_: int) -> VerifyRound:
    """The re-simulated gross TVaR and EL against the linear figures of ``plan``."""
    gross = res.ylt["gross"].to_numpy()
    w = res.weights
    order = np.argsort(gross, kind="stable")
    t = tvar_se(gross[order], plan.settings.level / 100.0, None if w is None else w[order])
    el = mean_se(gross, w)
    sol = plan.solution
    return VerifyRound(
        round=round_,
        lp_appetite=plan.lp_appetite,
        lp_tvar=sol.tvar.value,
        tvar=t.value,
        tvar_se=t.se,
        lp_el=float(sol.scale @ plan.problem.el),
        el=el.value,
        el_se=el.se,
        within=bool(t.value <= plan.settings.appetite * (1 + VERIFY_RTOL)),
    )


def _run_mixture(book: Any, scenario: Scenario, base: Any) -> Any:
    """The compiled portfolio whose importance-sampling mixture the run used (None without
    one): ``base``, else compiled and sampled again as the run was (same book, scenario and
    seed: the same pilot, the same mixture)."""
    if scenario.simulation.importance_sampling is None:
        return None
    if base is None:
        from ..portfolio.compile import compile_portfolio
        from ..run.importance import apply_importance_sampling

        base, _ = apply_importance_sampling(compile_portfolio(book, scenario), scenario)
    return base if base.kernel.shifted else None


def verify_limits(
    plan: LimitsPlan,
    book: Any,
    scenario: Scenario,
    resolved: Resolved,
    *,
    rounds: int = VERIFY_ROUNDS,
    progress: Callable[[int, int, int], None] | None = None,
    base: Any = None,
    sims: int | None = None,
    seed: int | None = None,
    **options: Any,
) -> LimitsPlan:
    """Re-simulate ``book`` with ``plan``'s limits applied; tighten while TVaR exceeds the appetite.

    Parameters
    ----------
    plan : LimitsPlan
        From :func:`~riskengine.limits.plan_limits`.
    book : Book
        The book the run simulated.
    scenario : Scenario
        Its scenario; the limits are applied after its own ``stress:`` list.
    resolved : Resolved
        ``book`` resolved under ``scenario`` (the labels of the plan's segments).
    rounds : int
        Re-simulations at most (≥ 1).
    progress : callable, optional
        ``progress(round, done_sims, total_sims)``.
    base : CompiledPortfolio, optional
        The run's compiled portfolio (``Results.compiled``): its importance-sampling mixture is
        reused; without it, a scenario with importance sampling has it chosen again as the run
        did.
    sims, seed : int, optional
        Override the scenario's: give the run's for common random numbers.
    options
        Passed to :func:`riskengine.run.simulate.simulate` (``scheduler``, ``client``).

    Returns
    -------
    LimitsPlan
        The last plan simulated, with every round in ``rounds``: within the appetite when the
        last round is (``plan.verified``).
    """
    from ..portfolio.compile import compile_portfolio, same_mixture
    from ..run.simulate import simulate as simulate_years  # the kernels load on first use only

    scenario = scenario.with_simulation(sims=sims, seed=seed)
    like = _run_mixture(book, scenario, base)
    quiet = OutputsConfig(segments=[], report=False)
    done: list[VerifyRound] = []
    floor = plan.problem.tvar(plan.problem.lower).value
    for r in range(1, max(int(rounds), 1) + 1):
        stresses = limit_stresses(
            resolved, plan.inputs.dimension, plan.inputs.segments, plan.solution.scale
        )
        sc = scenario.model_copy(update={"stress": [*scenario.stress, *stresses], "outputs": quiet})
        bar = None if progress is None else (lambda d, t, r=r: progress(r, d, t))
        # the run's mixture, not one chosen for the limits: the same draws, the same weights
        cp = None if like is None else same_mixture(compile_portfolio(book, sc), like)
        res = simulate_years(book, sc, progress=bar, compiled=cp, **options)
        done.append(_measure(plan, res, r))
        last = done[-1]
        log.info("limits --verify round %d: TVaR %.6g ± %.3g", r, last.tvar, last.tvar_se)
        if last.within or r == rounds:
            break
        lower = plan.lp_appetite - (last.tvar - plan.settings.appetite)
        if lower < floor:  # the bounds allow no lower appetite: stop with what we have
            break
        plan = plan.resolved_at(lower)
    return dataclasses.replace(plan, rounds=tuple(done))
