"""Compile a book and a scenario: resolve, group into cells, pack (three steps, three modules).

:func:`compile_portfolio` is what runs call: :func:`~riskengine.portfolio.resolve.resolve` turns
the book into per-buyer parameters, :func:`~riskengine.portfolio.cells.group_cells` groups
buyers into cells and units and numbers them in visit order,
:func:`~riskengine.portfolio.pack.pack` builds the kernels' arrays. The
:class:`CompiledPortfolio` keeps the kernel arrays, the labels of every code, the segment layout,
the resolved parameters and the exact expected loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..book.model import Book
from ..errors import Problem, ScenarioError
from ..kernels.codes import N_TREATY_PARAMS
from ..kernels.portfolio import KernelPortfolio
from ..scenario.models import Scenario, StopLoss
from .cells import Cells, group_cells
from .expected import expected_ground_up
from .layout import SegmentLayout
from .pack import ExposureOrder, Shifts, order_exposures, pack, shift_fields
from .resolve import Resolved, resolve, scenario_source
from .stress import apply_stresses
from .treaties import treaty_kind, treaty_params, treaty_scopes

__all__ = [
    "CompiledPortfolio",
    "compile_portfolio",
    "premium_in_scope",
    "with_shifts",
    "same_mixture",
    "MIXTURE_FIELDS",
    "Shifts",
]


@dataclass
class CompiledPortfolio:
    """A compiled book and scenario: the kernel arrays plus the labels of every code.

    Attributes
    ----------
    kernel : KernelPortfolio
        What the kernels read.
    resolved : Resolved
        Per-buyer, per-exposure and per-policy parameters in book order.
    buyer_ids, exposure_ids : numpy.ndarray
        Labels of buyers and exposures in kernel order.
    country_codes, region_names, sector_codes, policy_ids, group_ids : numpy.ndarray
        Labels (object arrays of str) of the other codes.
    buyer_perm, exposure_perm : numpy.ndarray
        Book row of each kernel buyer and exposure.
    treaty_names : list of str
        In programme order; the YLT's ``ceded_<name>`` columns.
    treaty_premium : numpy.ndarray
        The book's premium in each treaty's scope (reporting currency; see
        :func:`premium_in_scope`).
    layout : SegmentLayout
        Columns of the segment matrix.
    book_premium : float
        Total premium in the reporting currency.
    expected_ground_up : float
        Exact expected ground-up loss (docs/model.md §7).
    """

    kernel: KernelPortfolio
    resolved: Resolved
    buyer_ids: np.ndarray
    exposure_ids: np.ndarray
    buyer_perm: np.ndarray
    exposure_perm: np.ndarray
    treaty_names: list[str]
    treaty_premium: np.ndarray
    layout: SegmentLayout
    book_premium: float
    expected_ground_up: float
    n_cells: int
    n_units: int
    stress_notes: list[str] = field(default_factory=list)

    @property
    def reporting_currency(self) -> str:
        return self.resolved.reporting_currency

    @property
    def country_codes(self) -> np.ndarray:
        return self.resolved.country_codes

    @property
    def region_names(self) -> np.ndarray:
        return self.resolved.region_names

    @property
    def sector_codes(self) -> np.ndarray:
        return self.resolved.sector_codes

    @property
    def policy_ids(self) -> np.ndarray:
        return self.resolved.policy_ids

    @property
    def group_ids(self) -> np.ndarray:
        return self.resolved.group_ids

    @property
    def n_buyers(self) -> int:
        return len(self.buyer_ids)

    @property
    def n_exposures(self) -> int:
        return len(self.exposure_ids)

    def nbytes(self) -> int:
        """Memory held by the kernel arrays (bytes)."""
        return int(sum(v.nbytes for v in self.kernel if isinstance(v, np.ndarray)))


def premium_in_scope(r: Resolved, scope: np.ndarray) -> float:
    """Premium of the buyers in ``scope`` (book order): each policy's premium split over its
    exposures in proportion to their limits (reporting currency)."""
    if scope.all():
        return r.book_premium
    limit = r.e_limit * r.e_fx
    per_policy = np.bincount(r.e_policy, weights=limit, minlength=len(r.policy_ids))
    share = np.divide(
        limit, per_policy[r.e_policy], out=np.zeros_like(limit), where=per_policy[r.e_policy] > 0
    )
    return float(np.sum(r.p_premium[r.e_policy] * share * scope[r.e_buyer]))


def _treaties(
    r: Resolved, cells: Cells, scenario: Scenario
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray, list[Problem]]:
    source = scenario_source(scenario)
    masks, problems = treaty_scopes(r, list(scenario.treaties), source)
    kinds, rows, premiums = [], [], []
    for i, (t, mask) in enumerate(zip(scenario.treaties, masks, strict=True)):
        premium = premium_in_scope(r, mask)
        premiums.append(premium)
        if isinstance(t, StopLoss) and t.attachment_lr is not None and premium <= 0:
            rule = "a stop loss in loss ratios needs premium in its scope (it is 0)"
            problems.append(Problem(source, f"treaties.{i}", rule, label="key"))
        kinds.append(treaty_kind(t))
        rows.append(treaty_params(t, premium))
    n_t = len(kinds)
    scope = (
        np.stack([m[cells.perm] for m in masks]).astype(np.uint8)
        if n_t
        else np.zeros((0, r.n_buyers), np.uint8)
    )
    params = np.stack(rows) if n_t else np.zeros((0, N_TREATY_PARAMS))
    arrays = (
        np.asarray(kinds, dtype=np.int32),
        np.ascontiguousarray(params),
        np.ascontiguousarray(scope),
    )
    return arrays, np.asarray(premiums, dtype=np.float64), problems


def compile_portfolio(
    book: Book, scenario: Scenario, *, shifts: Shifts | None = None
) -> CompiledPortfolio:
    """Resolve a book under a scenario into kernel arrays.

    With ``outputs.allocation`` the kernels also accumulate every exposure's claims (expected
    losses by segment) and simulate the segments allocation needs (policies; net claims for the
    net perspective). ``shifts`` sets mean shifts of the systematic draws (importance sampling,
    a stress's factor shift; :func:`with_shifts` changes them on a compiled portfolio).

    Raises
    ------
    BookError
        When the book breaks a rule that needs the scenario (see
        :func:`~riskengine.portfolio.resolve.resolve`).
    ScenarioError
        When a treaty's scope names countries, regions or sectors the book does not have, or a
        stop loss in loss ratios has no premium in its scope.
    """
    base = resolve(book, scenario)
    r, effect = (
        apply_stresses(base, list(scenario.stress), scenario) if scenario.stress else (base, None)
    )
    m = scenario.model
    cells = group_cells(r, m.copula == "student_t", float(m.dof), base if effect else None)
    if effect is not None and effect.factor_shift is not None:
        shifts = Shifts(
            components=shifts.components if shifts else None,
            probabilities=shifts.probabilities if shifts else None,
            stress=effect.factor_shift,
        )
    treaties, treaty_premium, problems = _treaties(r, cells, scenario)
    if problems:
        raise ScenarioError(problems, scenario_source(scenario))
    alloc = scenario.outputs.allocation
    policies = "policy" in scenario.outputs.segments or (
        alloc is not None and "policy" in alloc.dimensions
    )
    layout = SegmentLayout(
        n_countries=len(r.country_codes),
        n_sectors=len(r.sector_codes),
        n_policies=len(r.policy_ids) if policies else 0,
        net=alloc is not None and "net" in alloc.perspective,
    )
    eo: ExposureOrder = order_exposures(r, cells)
    kp = pack(
        r,
        cells,
        eo,
        scenario,
        treaties,
        layout,
        shifts,
        accumulate=alloc is not None,
        acc_net=alloc is not None and "net" in alloc.perspective,
    )
    return CompiledPortfolio(
        kernel=kp,
        resolved=r,
        buyer_ids=r.buyer_ids[cells.perm],
        exposure_ids=r.exposure_ids[eo.order],
        buyer_perm=cells.perm,
        exposure_perm=eo.order,
        treaty_names=[t.name for t in scenario.treaties],
        treaty_premium=treaty_premium,
        layout=layout,
        book_premium=r.book_premium,
        expected_ground_up=float(np.sum(expected_ground_up(r)[eo.order])),
        n_cells=cells.n_cells,
        n_units=cells.n_units,
        stress_notes=list(effect.notes) if effect else [],
    )


#: The kernel fields of an importance-sampling mixture (a stress's factor shift is not one).
MIXTURE_FIELDS = ("shifted", "is_mu", "is_cum", "is_log_alpha", "is_half2")


def same_mixture(cp: CompiledPortfolio, like: CompiledPortfolio) -> CompiledPortfolio:
    """``cp`` drawing its years from ``like``'s importance-sampling mixture, bit for bit (its
    own stress shift kept): a mixture chosen by a pilot run depends on the losses, and the years
    of two runs — a base and its stresses, monitoring off and on, a run and its verification —
    are paired only when they share it exactly."""
    import dataclasses

    src = like.kernel
    return dataclasses.replace(
        cp, kernel=cp.kernel._replace(**{n: getattr(src, n) for n in MIXTURE_FIELDS})
    )


def with_shifts(cp: CompiledPortfolio, shifts: Shifts) -> CompiledPortfolio:
    """``cp`` with other mean shifts of the draws (the rest shared, not copied)."""
    import dataclasses

    k = cp.kernel
    fields = shift_fields(len(k.factor_key), len(k.region_key), len(k.country_key), shifts)
    return dataclasses.replace(cp, kernel=k._replace(**fields))
