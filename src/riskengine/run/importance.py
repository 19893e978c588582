"""Importance sampling: choosing the mixture of mean shifts of the systematic and political draws.

Under ``simulation.importance_sampling`` each simulated year draws its independent normals — the
systematic factors (the explicit model's ξ before the Cholesky factor), the regional political
factors V and the countries' political draws η — from one component of a mixture: with
probability α_k their means are μ_k (one component, μ = 0, is plain Monte Carlo: the defensive
share). The year's weight is the likelihood ratio 1 / Σ_k α_k exp(μ_k·x − ½|μ_k|²), at most
1 / α_0 (docs/model.md §8). Any mixture gives unbiased estimates; a good one makes every kind of
tail year frequent.

``shift: auto`` builds the mixture from the book, in the spirit of Glasserman & Li (2005,
"Importance sampling for portfolio credit risk"), for a target loss x: the VaR at the sampling
level of a plain pilot run (its own simulation ids, disjoint from the run's). A credit
insurer's tail has more than one shape — a broad commercial downturn, or one large country's
political event — so one shift cannot cover it (a single mean shift toward the downturn leaves
the event years with huge, rare weights). The components are

* the **commercial downturns**: the most likely factor draws whose commercial expected loss
  reaches x — min ½|z|² subject to Σ_cells L_c Φ((t_c − a_cᵀz)/σ_c) ≥ x (L_c: the cell's EAD ×
  mean LGD of commercially covered exposures) — found by SLSQP from the gradient at 0 and from
  the factor axes along which x is nearest. The problem is not convex: a group of cells with a
  factor of its own (one country's buyers) is a local optimum of its own, and every distinct
  one is a downturn mode (the nearest is "commercial downturn"). Under the Student-t copula the
  thresholds are s·t_c with s = √(W/ν), and the search runs over (z, v) with W = F⁻¹_χ²ν(Φ(v)),
  min ½(|z|² + v²): most tail years have a small W, and the shift is the z of that most likely
  point (without v, the z needed to reach x at a typical W is far too large);
* one **political event** per country whose political loss (EAD × political LGD of its
  politically covered exposures) is at least 5 % of x: η_c shifted so that the event has
  probability ≈ 0.7, plus the (nearest) downturn that makes up the rest of x;

ranked by their probability — Φ(−t) for a downturn t standard deviations along its direction,
q_c Φ(−t) for country c's event with the downturn it needs — the most likely ``components``
kept, sharing 1 − defensive in proportion to it (each kind of tail year then comes about as often
as it contributes to the tail). The Student-t mixing variable is never shifted;
contagion and political precedence are ignored in the choice (not in the simulation).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import ndtr
from scipy.stats import chi2, norm

from ..errors import Problem, ScenarioError
from ..measures import var_se
from ..portfolio.compile import CompiledPortfolio, Shifts, with_shifts
from ..scenario.models import ImportanceSampling, Scenario
from .inprocess import run_sims

__all__ = ["apply_importance_sampling", "choose_shift", "shift_names", "PILOT_SIM0"]

log = logging.getLogger("riskengine")

#: The pilot run's first simulation id: far beyond any run's ids, so its draws are independent.
PILOT_SIM0 = 2**62
#: Factor axes the search for the commercial downturn also starts from (the nearest alone).
_AXIS_STARTS = 4
#: A political component shifts η_c so that the event is Φ(_EVENT_Z) likely (about 0.7).
_EVENT_Z = 0.52
_GU = 0  # ground_up column of the kernel's YLT rows


def shift_names(cp: CompiledPortfolio) -> list[str]:
    """Names of every shiftable draw, in the order of the shift vector: the factors, then
    ``political_region:<name>``, then ``political_country:<code>``."""
    r = cp.resolved
    return (
        list(r.factors.names)
        + [f"political_region:{x}" for x in r.region_names]
        + [f"political_country:{x}" for x in r.country_codes]
    )


@dataclass
class _Model:
    """The cells' commercial expected loss given the independent factor draws, and the
    countries' political losses (module docstring)."""

    n_f: int
    n_r: int
    chol: np.ndarray | None
    dof: float | None  # Student-t: the draws end with v, W = F⁻¹_χ²(Φ(v)); else None
    cell_loss: np.ndarray
    cell_thr: np.ndarray
    cell_inv_sig: np.ndarray
    fac_rows: np.ndarray
    fac_idx: np.ndarray
    fac_w: np.ndarray
    pol_loss: np.ndarray
    pol_b: float

    @property
    def n_x(self) -> int:
        """Draws the search runs over: the factors' independent draws (and v)."""
        return self.n_f + (self.dof is not None)

    def _scale(self, x: np.ndarray) -> tuple[float, float]:
        """s = √(W/ν) of the draws ``x`` and ds/dv (1, 0 for the Gaussian copula)."""
        if self.dof is None:
            return 1.0, 0.0
        v = float(x[self.n_f])
        w = float(chi2.ppf(ndtr(v), self.dof) if v < 0 else chi2.isf(ndtr(-v), self.dof))
        s = math.sqrt(w / self.dof)
        ds = math.exp(norm.logpdf(v) - chi2.logpdf(w, self.dof)) / (2 * s * self.dof)
        return s, ds

    def _u(self, x: np.ndarray, s: float) -> np.ndarray:
        indep = x[: self.n_f]
        z = self.chol @ indep if self.chol is not None else indep
        m = np.bincount(
            self.fac_rows, weights=self.fac_w * z[self.fac_idx], minlength=len(self.cell_thr)
        )
        return (s * self.cell_thr - m) * self.cell_inv_sig

    def commercial(self, x: np.ndarray) -> float:
        """E_comm[L | draws]: Σ_cells L_c Φ((s t_c − a_cᵀz)/σ_c)."""
        return float(np.sum(self.cell_loss * ndtr(self._u(x, self._scale(x)[0]))))

    def commercial_grad(self, x: np.ndarray) -> np.ndarray:
        """Its gradient with respect to the draws ``x``."""
        s, ds = self._scale(x)
        u = self._u(x, s)
        dens = self.cell_loss * np.exp(-0.5 * u * u) / math.sqrt(2 * math.pi) * self.cell_inv_sig
        g_z = np.bincount(
            self.fac_idx, weights=-dens[self.fac_rows] * self.fac_w, minlength=self.n_f
        )
        g = self.chol.T @ g_z if self.chol is not None else g_z
        if self.dof is None:
            return g
        return np.r_[g, ds * float(np.sum(dens * self.cell_thr))]


def _model(cp: CompiledPortfolio) -> _Model:
    k = cp.kernel
    er, br = k.exp_rec, k.buyer_rec
    lgd_mean = k.lgd_class["mean"][br["lgd_class"]]
    n_cells = len(k.cell_key)
    comm = er["comm"].astype(bool)
    exp_cell = k.buyer_cell[er["buyer"]]
    cell_loss = np.bincount(
        exp_cell[comm], weights=er["ead"][comm] * lgd_mean[er["buyer"][comm]], minlength=n_cells
    )
    rows = np.repeat(np.arange(n_cells), np.diff(k.cell_fac_ptr))
    pol = er["pol"].astype(bool)
    country = br["country"][er["buyer"]]
    n_c = len(k.country_key)
    pol_ead = np.bincount(country[pol], weights=er["ead"][pol], minlength=n_c) * k.country_plgd
    has_pol = bool(k.pol_enabled)
    return _Model(
        n_f=len(k.factor_key),
        n_r=len(k.region_key),
        chol=np.asarray(k.factor_chol) if k.explicit else None,
        dof=float(k.dof) if k.student_t else None,
        cell_loss=cell_loss,
        cell_thr=np.asarray(k.cell_thr0),
        cell_inv_sig=np.asarray(k.cell_inv_sigma),
        fac_rows=rows,
        fac_idx=np.asarray(k.cell_fac_idx, dtype=np.int64),
        fac_w=np.asarray(k.cell_fac_w),
        pol_loss=pol_ead if has_pol else np.zeros(0),
        pol_b=float(k.pol_b),
    )


def _pilot_var(cp: CompiledPortfolio, sims: int, level: float) -> float:
    ids = PILOT_SIM0 + np.arange(sims, dtype=np.int64)
    out, _, _ = run_sims(cp.kernel, ids, segments=False)
    return var_se(np.sort(out.ylt[:, _GU]), level).value


def choose_shift(
    cp: CompiledPortfolio, level: float, pilot: int, components: int
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The automatic mixture for ``level`` (a fraction): components [K, n] (order of
    :func:`shift_names`) and their relative likelihoods (large-deviations weights
    exp(−½|μ_k|²), normalised)."""
    target = _pilot_var(cp, pilot, level)
    model = _model(cp)
    n_f, n_r = model.n_f, model.n_r
    n = n_f + n_r + len(cp.country_codes)
    info: dict[str, Any] = {"target": target}
    comm0 = model.commercial(np.zeros(model.n_x))
    directions = _commercial_directions(model, target)
    direction = directions[0] if directions else None
    # each mode: (its probability, by the normal tail of the downturn it needs, its means, name)
    modes: list[tuple[float, np.ndarray, str]] = []
    names = shift_names(cp)
    for k, d in enumerate(directions):
        t = _scale_to(model, d, target)
        theta = np.zeros(n)
        theta[:n_f] = t * d[:n_f]
        name = f" ({names[int(np.argmax(np.abs(d[:n_f])))]})" if k else ""
        modes.append((float(ndtr(-t)), theta, f"commercial downturn{name}"))
    thr = np.asarray(cp.kernel.country_polthr)
    if cp.kernel.pol_enabled and len(model.pol_loss):
        b = model.pol_b
        for c in np.argsort(-model.pol_loss):
            if not np.isfinite(thr[c]) or model.pol_loss[c] < 0.05 * target:
                continue
            mu_c = (thr[c] - _EVENT_Z) / b  # the event then has probability Φ(0.52) ≈ 0.7
            need = target - model.pol_loss[c]
            t = 0.0
            if need > comm0 and direction is not None:
                t = _scale_to(model, direction, need)
            elif need > comm0:
                continue
            theta = np.zeros(n)
            theta[:n_f] = t * direction[:n_f] if direction is not None else 0.0
            theta[n_f + n_r + c] = mu_c
            prob = float(ndtr(thr[c]) * ndtr(-t))  # the event, and the downturn it needs
            modes.append((prob, theta, f"event in {cp.country_codes[c]}"))
    if not modes:
        return np.zeros((1, n)), np.ones(1), {**info, "status": "no shift needed"}
    modes.sort(key=lambda m: -m[0])
    modes = modes[:components]
    prob = np.array([m[0] for m in modes])
    share = prob / prob.sum()
    info["status"] = "ok"
    info["components"] = [
        {"mode": m[2], "norm": float(np.linalg.norm(m[1])), "probability": m[0], "share": float(p)}
        for m, p in zip(modes, share, strict=True)
    ]
    return np.stack([m[1] for m in modes]), share, info


def _commercial_directions(model: _Model, target: float) -> list[np.ndarray]:
    """Unit directions of the most likely factor draws whose commercial expected loss reaches
    ``target`` (min ½|z|² subject to E_comm[L | z] ≥ target; Student-t: over (z, v)), the
    nearest first; none when no factor moves it.

    The feasible set is not convex: each group of cells with a factor of its own (a country in a
    model with country factors) is a local optimum, and the steepest factor at 0 need not be the
    nearest. The search starts from the gradient at 0 and from the factor axes along which the
    target is nearest alone (:data:`_AXIS_STARTS` of them); every distinct local optimum is a
    mode of the tail (two directions closer than cos 0.99 are one).
    """
    n_x = model.n_x
    g0 = model.commercial_grad(np.zeros(n_x))
    if not np.any(g0[: model.n_f]):
        return []
    starts = [g0 / np.linalg.norm(g0)]
    axes = []
    for f in np.nonzero(g0[: model.n_f])[0]:
        e = np.zeros(n_x)
        e[f] = np.sign(g0[f])
        if model.commercial(8.0 * e) >= target:  # the target is reachable along this axis
            axes.append((_scale_to(model, e, target), f, e))
    starts += [e for _, _, e in sorted(axes, key=lambda a: a[:2])[:_AXIS_STARTS]]
    scale = max(target, 1.0)
    found, message = [], ""
    for x0 in starts:
        res = minimize(
            lambda z: (0.5 * float(z @ z), z),
            x0,
            jac=True,
            method="SLSQP",
            bounds=[(-8.0, 8.0)] * n_x,
            constraints=[
                {
                    "type": "ineq",
                    "fun": lambda z: (model.commercial(z) - target) / scale,
                    "jac": lambda z: model.commercial_grad(z) / scale,
                }
            ],
            options={"maxiter": 200, "ftol": 1e-10},
        )
        if not (res.success and np.any(res.x)):
            message = res.message
            continue
        found.append(res.x)
    if not found:
        log.warning("importance sampling: the shift optimiser stopped early (%s)", message)
        found = [g0]
    out: list[np.ndarray] = []
    for x in sorted(found, key=lambda x: float(x @ x)):
        d = x / np.linalg.norm(x)
        if all(float(d @ o) < 0.99 for o in out):
            out.append(d)
    return out


def _scale_to(model: _Model, direction: np.ndarray, target: float) -> float:
    """The t ≥ 0 with E_comm[L | t·direction] = target (bisection; capped at 8)."""
    lo, hi = 0.0, 8.0
    if model.commercial(hi * direction) < target:
        return hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if model.commercial(mid * direction) < target:
            lo = mid
        else:
            hi = mid
    return hi


def _given_shift(cp: CompiledPortfolio, given: dict[str, float], source: str) -> np.ndarray:
    names = shift_names(cp)
    pos = {n: i for i, n in enumerate(names)}
    unknown = sorted(set(given) - set(pos))
    if unknown:
        import difflib

        problems = []
        for u in unknown:
            near = difflib.get_close_matches(u, names, n=1)
            hint = f" — did you mean {near[0]!r}?" if near else ""
            rule = f"no draw named {u!r} in this book{hint}"
            problems.append(
                Problem(source, "simulation.importance_sampling.shift", rule, label="key")
            )
        raise ScenarioError(problems, source)
    theta = np.zeros(len(names))
    for name, value in given.items():
        theta[pos[name]] = value
    return theta


def _drawn(cp: CompiledPortfolio) -> np.ndarray:
    """Which draws of :func:`shift_names` a year makes: every factor; the political draws only
    with political risk on, and a country's η only when it can have an event (q_c > 0)."""
    k = cp.kernel
    pol = bool(k.pol_enabled)
    return np.r_[
        np.ones(len(k.factor_key), bool),
        np.full(len(k.region_key), pol),
        pol & (np.asarray(k.country_polthr) > -np.inf),
    ]


def apply_importance_sampling(
    cp: CompiledPortfolio, scenario: Scenario
) -> tuple[CompiledPortfolio, dict[str, Any] | None]:
    """``cp`` with the scenario's importance-sampling mixture (unchanged without one), and what
    was done (for the run's summary)."""
    cfg: ImportanceSampling | None = scenario.simulation.importance_sampling
    if cfg is None:
        return cp, None
    alloc = scenario.outputs.allocation
    level_pct = cfg.level or (max(alloc.levels) if alloc is not None else 99.9)
    info: dict[str, Any] = {"method": cfg.method, "level": level_pct, "defensive": cfg.defensive}
    names = shift_names(cp)
    if cfg.shift == "auto":
        mus, likelihood, found = choose_shift(cp, level_pct / 100.0, cfg.pilot, cfg.components)
        info.update({"shift": "auto", "pilot": cfg.pilot, **found})
    else:
        mus = _given_shift(cp, dict(cfg.shift), scenario.source)[None, :]
        likelihood = np.ones(1)
        info["shift"] = "given"
        info["means"] = {names[i]: float(mus[0, i]) for i in np.nonzero(mus[0])[0]}
    drawn = _drawn(cp)
    never = [names[i] for i in np.nonzero(np.any(mus != 0, axis=0) & ~drawn)[0]]
    if never:  # a draw no year makes must not enter the likelihood ratio
        log.warning("importance sampling: no year draws %s; their shift is ignored", never)
        mus = np.where(drawn, mus, 0.0)
        if "means" in info:
            info["means"] = {k: v for k, v in info["means"].items() if k not in never}
    if not np.any(mus):
        return cp, {**info, "components": []}
    components = np.vstack([np.zeros((1, mus.shape[1])), mus]) if cfg.defensive > 0 else mus
    probabilities = (
        np.r_[cfg.defensive, (1 - cfg.defensive) * likelihood] if cfg.defensive > 0 else likelihood
    )
    stress = np.asarray(cp.kernel.stress_shift) if cp.kernel.stressed else None
    shifts = Shifts(components=components, probabilities=probabilities, stress=stress)
    return with_shifts(cp, shifts), info
