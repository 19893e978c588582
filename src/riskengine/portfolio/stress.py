"""Stress transforms: a book's resolved parameters changed as a stress test says.

A scenario's ``stress:`` entries (and each entry of a stress file) apply, in order, to the
resolved book before it is grouped into cells (docs/stress.md):

* ``pd_multiplier``: the selected buyers' PDs × m, capped below 1 (the capped buyers are
  counted and reported); their contagion PD follows;
* ``lgd_add``: added to the selected buyers' mean LGD, kept in [0, 1]; an LGD sd the new mean
  cannot carry (sd² ≥ μ(1 − μ)) is shrunk just inside it;
* ``asset_correlation_add``: added to the selected buyers' R², kept in [0, 0.99] (reported);
  the explicit model scales the buyer's loadings so its systematic variance moves by the same
  amount;
* ``limit_multiplier``: the selected buyers' exposure limits (and EADs) × m;
* ``political_events``: those countries have an event every year (event probability 1);
* ``factor_shift``: δ added to the named factors' draws every year (a vector the kernels add to
  Z: part of the model, not of the sampling);

``where`` selects buyers by country, region, sector, risk grade, rating (buyers the book gives
by that rating), group or buyer id: every list given must match. Names the book does not have
are refused, naming the stress and the key.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field

import numpy as np

from ..errors import Problem, ScenarioError
from ..scenario.models import Scenario, Stress
from .keys import float_bits, mix_keys
from .resolve import PD_CAP, Resolved, beta_shapes, scenario_source, structured_weights

__all__ = ["StressEffect", "apply_stresses", "STRESS_R2_CAP"]

#: A stressed R² is kept at most this.
STRESS_R2_CAP = 0.99


@dataclass
class StressEffect:
    """What the stresses did: the factor shift they add to Z, and notes for the run's summary
    (e.g. how many PDs were capped below 1)."""

    factor_shift: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def _suggest(unknown: str, names: list[str]) -> str:
    near = difflib.get_close_matches(unknown, names, n=1)
    return f" — did you mean {near[0]!r}?" if near else ""


def _select(r: Resolved, s: Stress, at: str, problems: list[Problem], source: str) -> np.ndarray:
    """Buyers (book order) the stress's ``where`` selects."""
    mask = np.ones(r.n_buyers, dtype=bool)
    w = s.where
    if w is None:
        return mask
    grade = r.c_grade[r.b_country]
    group = np.full(r.n_buyers, None, dtype=object)
    has = r.b_group >= 0
    group[has] = r.group_ids[r.b_group[has]]
    columns = {
        "country": (r.country_codes[r.b_country], r.country_codes),
        "region": (r.region_names[r.c_region[r.b_country]], r.region_names),
        "sector": (r.sector_codes[r.b_sector], r.sector_codes),
        "rating": (r.b_rating, np.unique(r.b_rating[r.b_rating != None])),  # noqa: E711
        "group": (group, r.group_ids),
        "buyer": (r.buyer_ids, r.buyer_ids),
    }
    for key, (of_buyer, known) in columns.items():
        want = getattr(w, key)
        if want is None:
            continue
        have = set(np.asarray(known).astype(str).tolist())
        for u in sorted(set(want) - have):
            rule = f"not in the book: {u!r}{_suggest(u, sorted(have))}"
            problems.append(Problem(source, f"{at}.where.{key}", rule, label="key"))
        mask &= np.isin(of_buyer.astype(str), np.asarray(want, dtype=str)) & (of_buyer != None)  # noqa: E711
    if w.risk_grade is not None:
        mask &= np.isin(np.nan_to_num(grade.astype(float), nan=-1), w.risk_grade)
    return mask


def _pd(r: Resolved, s: Stress, sel: np.ndarray, scenario: Scenario, effect: StressEffect) -> dict:
    pd = r.b_pd.copy()
    raw = pd[sel] * s.pd_multiplier
    capped = raw >= PD_CAP
    pd[sel] = np.minimum(raw, PD_CAP)
    if capped.any():
        effect.notes.append(
            f"stress {s.name!r}: {int(capped.sum())} PDs pushed to 1 or above were capped at "
            f"{PD_CAP}"
        )
    pol = scenario.political
    mult = pol.commercial_pd_multiplier
    cont = np.maximum(pd, np.minimum(pd * mult, PD_CAP)) if pol.enabled else pd
    return {"b_pd": pd, "b_pd_contagion": cont}


def _lgd(r: Resolved, s: Stress, sel: np.ndarray) -> dict:
    mu = r.b_lgd_mean.copy()
    sd = r.b_lgd_sd.copy()
    mu[sel] = np.clip(mu[sel] + s.lgd_add, 0.0, 1.0)
    limit = np.sqrt(mu * (1 - mu)) * (1 - 1e-6)  # the largest sd a beta with mean mu can have
    sd = np.where(sd > 0, np.minimum(sd, limit), 0.0)
    alpha, beta, _ = beta_shapes(mu, sd)
    return {"b_lgd_mean": mu, "b_lgd_sd": sd, "b_lgd_alpha": alpha, "b_lgd_beta": beta}


def _r2(r: Resolved, s: Stress, sel: np.ndarray, scenario: Scenario, effect: StressEffect) -> dict:
    fm = r.factors
    r2 = r.b_r2.copy()
    raw = r2[sel] + s.asset_correlation_add
    clipped = (raw > STRESS_R2_CAP) | (raw < 0)
    if clipped.any():
        effect.notes.append(
            f"stress {s.name!r}: {int(clipped.sum())} R² kept in [0, {STRESS_R2_CAP}]"
        )
    r2[sel] = np.clip(raw, 0.0, STRESS_R2_CAP)
    if not fm.explicit:
        w = np.sqrt(r2)[:, None] * structured_weights(scenario)[None, :]
        factors = dataclasses.replace(
            fm, loading_w=w, sigma=np.sqrt(1 - r2), signature=float_bits(r2)
        )
    else:  # systematic variance v = 1 − σ²: scale the loadings to v + add
        v = 1 - fm.sigma**2
        target = np.clip(v + np.where(sel, s.asset_correlation_add, 0.0), 0.0, STRESS_R2_CAP)
        scale = np.sqrt(np.divide(target, v, out=np.zeros_like(v), where=v > 0))
        w = fm.loading_w * scale[:, None]
        cols = [float_bits(w[:, j]) for j in range(w.shape[1])]
        sig = mix_keys(*cols) if cols else fm.signature
        factors = dataclasses.replace(fm, loading_w=w, sigma=np.sqrt(1 - target), signature=sig)
    return {"b_r2": r2, "factors": factors}


def _limits(r: Resolved, s: Stress, sel: np.ndarray) -> dict:
    on = sel[r.e_buyer]
    limit = r.e_limit.copy()
    limit[on] *= s.limit_multiplier
    return {"e_limit": limit, "e_ead": limit * r.e_utilization * r.e_fx}


def _events(
    r: Resolved, s: Stress, at: str, problems: list[Problem], source: str, scenario: Scenario
) -> dict:
    have = set(r.country_codes.astype(str).tolist())
    q = r.c_event_pd.copy()
    if not scenario.political.enabled:
        rule = "forced political events need political.enabled: true"
        problems.append(Problem(source, f"{at}.political_events", rule, label="key"))
    for c in s.political_events or []:
        if c not in have:
            rule = f"not in the book: {c!r}{_suggest(c, sorted(have))}"
            problems.append(Problem(source, f"{at}.political_events", rule, label="key"))
    q[np.isin(r.country_codes.astype(str), s.political_events)] = 1.0
    return {"c_event_pd": q}


def _factor_shift(
    r: Resolved, s: Stress, at: str, problems: list[Problem], source: str, shift: np.ndarray
) -> None:
    names = list(r.factors.names)
    pos = {n: i for i, n in enumerate(names)}
    for name, delta in (s.factor_shift or {}).items():
        if name not in pos:
            rule = f"no factor named {name!r} in this book{_suggest(name, names)}"
            problems.append(Problem(source, f"{at}.factor_shift", rule, label="key"))
            continue
        shift[pos[name]] += delta


def apply_stresses(
    r: Resolved, stresses: list[Stress], scenario: Scenario, at: str = "stress"
) -> tuple[Resolved, StressEffect]:
    """``r`` under ``stresses`` (applied in order) and what they did.

    Raises
    ------
    ScenarioError
        Naming every stress key that names something the book does not have.
    """
    source = scenario_source(scenario)
    problems: list[Problem] = []
    effect = StressEffect()
    shift = np.zeros(len(r.factors.names))
    for i, s in enumerate(stresses):
        key = f"{at}.{i}" if at == "stress" else at
        sel = _select(r, s, key, problems, source)
        if s.where is not None and not sel.any():
            effect.notes.append(
                f"stress {s.name!r}: `where` selects no buyer of the book (every list given must "
                "match): its PD, LGD, R² and limit transforms change nothing"
            )
        changes: dict = {}
        if s.pd_multiplier is not None:
            changes.update(_pd(r, s, sel, scenario, effect))
        if s.lgd_add is not None:
            changes.update(_lgd(r, s, sel))
        if s.asset_correlation_add is not None:
            changes.update(_r2(r, s, sel, scenario, effect))
        if s.limit_multiplier is not None:
            changes.update(_limits(r, s, sel))
        if s.political_events is not None:
            changes.update(_events(r, s, key, problems, source, scenario))
        if s.factor_shift:
            _factor_shift(r, s, key, problems, source, shift)
        r = dataclasses.replace(r, **changes)
    if problems:
        raise ScenarioError(problems, source)
    effect.factor_shift = shift if np.any(shift != 0) else None
    return r, effect
