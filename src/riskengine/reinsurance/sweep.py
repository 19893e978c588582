"""Layer sizing: a retention / limit grid for one treaty, from one simulation.

``riskengine treaty SCENARIO --sweep xl_buyer.retention=1e6:5e6:9 --sweep xl_buyer.limit=4e6,8e6``
simulates the scenario's years once and, inside the kernel, re-applies the whole programme to
every year's claims for each grid point (the Cartesian product of the sweeps), so every point is
evaluated on exactly the same simulated years — differences between points are not noise.

For each grid point the table gives (amounts in the reporting currency):

* ``expected_ceded`` (± its standard error) and ``sd_ceded`` of the swept treaty;
* ``prob_attach``: share of years it cedes anything;
* ``premium`` = (1 + loading) × expected ceded (a technical premium at the given loading);
* ``rol``: rate on line, premium / limit (layers only);
* ``net_el``, ``net_var_99_5``, ``net_tvar_99_5`` and ``net_capital`` = VaR₉₉.₅ − EL of the net
  loss after the whole programme;
* ``layer_capital_relief`` = net capital of the programme without the swept treaty − net capital
  with it, on the same years: the capital this layer releases (a 1-unit layer releases about
  nothing);
* ``layer_relief_per_margin`` = layer capital relief / (premium − expected ceded): capital the
  layer releases per unit of margin paid away to the reinsurer (higher is a more efficient
  layer; empty without margin);
* ``programme_capital_relief`` = gross capital − net capital of the whole programme.

The programme "without the swept treaty" is one more grid point evaluated in the same pass,
with the treaty ceding nothing.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from pydantic import ValidationError

from ..errors import Problem, ScenarioError
from ..files import atomic_write, atomic_write_bytes, write_parquet
from ..kernels.codes import TP_LIMIT
from ..measures import mean_se, measures, sd_se
from ..portfolio.compile import compile_portfolio
from ..portfolio.treaties import treaty_params
from ..run.simulate import resolve_inputs, simulate
from ..scenario.models import Scenario

__all__ = ["Sweep", "parse_sweep", "sweep_treaty", "SweepResult", "SWEEPABLE"]

#: Keys that can be swept, by treaty type.
SWEEPABLE: dict[str, tuple[str, ...]] = {
    "quota_share": ("share",),
    "per_risk_xl": (
        "retention",
        "limit",
        "reinstatements",
        "aggregate_deductible",
        "aggregate_limit",
    ),
    "political_event_xl": (
        "retention",
        "limit",
        "reinstatements",
        "aggregate_deductible",
        "aggregate_limit",
    ),
    "stop_loss": ("attachment", "limit", "attachment_lr", "limit_lr"),
}

_SPEC = re.compile(r"^(?P<treaty>[A-Za-z_][A-Za-z0-9_]*)\.(?P<key>[a-z_]+)=(?P<values>.+)$")


@dataclass(frozen=True)
class Sweep:
    """One swept key: ``treaty.key`` over ``values``."""

    treaty: str
    key: str
    values: tuple[float, ...]


def _number(text: str, spec: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ScenarioError(
            [Problem("--sweep", spec, f"{text!r} is not a number", label="option")], "--sweep"
        ) from None


def parse_sweep(spec: str) -> Sweep:
    """Parse ``treaty.key=start:stop:n`` (n evenly spaced values) or ``treaty.key=v1,v2,…``."""
    m = _SPEC.match(spec.strip())
    if not m:
        raise ScenarioError(
            [
                Problem(
                    "--sweep",
                    spec,
                    "expected TREATY.KEY=START:STOP:N or TREATY.KEY=V1,V2,…",
                    label="option",
                )
            ],
            "--sweep",
        )
    values_text = m.group("values")
    if ":" in values_text:
        parts = values_text.split(":")
        if len(parts) != 3:
            raise ScenarioError(
                [Problem("--sweep", spec, "a range is START:STOP:N", label="option")], "--sweep"
            )
        start, stop, n = _number(parts[0], spec), _number(parts[1], spec), _number(parts[2], spec)
        if n < 1 or n != int(n) or n > 1000:
            raise ScenarioError(
                [
                    Problem(
                        "--sweep", spec, "N must be a whole number from 1 to 1000", label="option"
                    )
                ],
                "--sweep",
            )
        values = tuple(float(v) for v in np.linspace(start, stop, int(n)))
    else:
        values = tuple(_number(v, spec) for v in values_text.split(",") if v.strip())
    if not values:
        raise ScenarioError([Problem("--sweep", spec, "no values", label="option")], "--sweep")
    return Sweep(m.group("treaty"), m.group("key"), values)


@dataclass
class SweepResult:
    """The sizing table, the treaty swept and what produced it."""

    table: pl.DataFrame
    treaty: str
    keys: list[str]
    loading: float
    gross_capital: float
    capital_without: float
    reporting_currency: str
    sims: int

    def write(self, folder: str | Path) -> dict[str, Path]:
        """Write ``treaty_sweep.csv``, ``treaty_sweep.parquet`` and ``treaty_sweep.png``
        atomically."""
        from .plot import sweep_figure_png

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        return {
            "treaty_sweep.csv": atomic_write(folder / "treaty_sweep.csv", self.table.write_csv),
            "treaty_sweep.parquet": write_parquet(folder / "treaty_sweep.parquet", self.table),
            "treaty_sweep.png": atomic_write_bytes(
                folder / "treaty_sweep.png", sweep_figure_png(self)
            ),
        }


def _grid_treaties(
    scenario: Scenario, sweeps: list[Sweep]
) -> tuple[int, list[dict[str, float]], list[Any]]:
    names = {s.treaty for s in sweeps}
    if len(names) != 1:
        raise ScenarioError(
            [
                Problem(
                    "--sweep",
                    None,
                    f"all sweeps must be of one treaty (got {', '.join(sorted(names))})",
                    label="option",
                )
            ],
            "--sweep",
        )
    name = names.pop()
    idx = next((i for i, t in enumerate(scenario.treaties) if t.name == name), None)
    if idx is None:
        have = ", ".join(t.name for t in scenario.treaties) or "none"
        raise ScenarioError(
            [
                Problem(
                    "--sweep",
                    name,
                    f"no treaty of that name in the scenario (treaties: {have})",
                    label="option",
                )
            ],
            "--sweep",
        )
    base = scenario.treaties[idx]
    allowed = SWEEPABLE[base.type]
    problems = [
        Problem(
            "--sweep",
            f"{name}.{s.key}",
            f"cannot sweep {s.key!r} of a {base.type} (sweepable: {', '.join(allowed)})",
            label="option",
        )
        for s in sweeps
        if s.key not in allowed
    ]
    keys = [s.key for s in sweeps]
    if len(set(keys)) != len(keys):
        problems.append(Problem("--sweep", name, "a key is swept twice", label="option"))
    if problems:
        raise ScenarioError(problems, "--sweep")
    points = [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*[s.values for s in sweeps])
    ]
    variants = []
    for p in points:
        data = base.model_dump(by_alias=True)
        for k, v in p.items():
            data[k] = int(v) if k == "reinstatements" and float(v).is_integer() else v
        try:
            variants.append(type(base).model_validate(data))
        except ValidationError as exc:  # report the grid point and the rule it breaks
            rule = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            raise ScenarioError(
                [Problem("--sweep", f"{name} at {p}", rule, label="option")], "--sweep"
            ) from None
    return idx, points, variants


def sweep_treaty(
    book: Any,
    scenario: Scenario,
    sweeps: list[Sweep] | list[str],
    *,
    loading: float = 0.3,
    progress: Any = None,
    client: Any = None,
    scheduler: str | None = None,
) -> SweepResult:
    """Evaluate a grid of one treaty's terms on one set of simulated years.

    Parameters
    ----------
    book : Book or path
    scenario : Scenario
        Its programme must contain the swept treaty.
    sweeps : list of Sweep or str
        ``treaty.key=start:stop:n`` specs (see :func:`parse_sweep`), all of one treaty.
    loading : float
        Premium loading on expected ceded loss (premium = (1 + loading) × E[ceded]).

    Returns
    -------
    SweepResult
    """
    sweeps = [parse_sweep(s) if isinstance(s, str) else s for s in sweeps]
    book, scenario = resolve_inputs(book, scenario)
    k, points, variants = _grid_treaties(scenario, sweeps)
    cp = compile_portfolio(book, scenario)
    base_params = np.asarray(cp.kernel.t_params)
    # the grid points, then the programme without the swept treaty (it cedes nothing)
    grid = np.repeat(base_params[None, :, :], len(points) + 1, axis=0)
    for g, t in enumerate(variants):
        grid[g, k] = treaty_params(t, float(cp.treaty_premium[k]))
    grid[-1, k] = 0.0
    res = simulate(
        book,
        scenario,
        client=client,
        scheduler=scheduler,
        progress=progress,
        grid=grid,
        grid_k=k,
        compiled=cp,
    )
    assert res.grid is not None
    w = res.weights
    gross_capital = measures(res.ylt["gross"].to_numpy(), weights=w)["capital"]
    without = measures(res.grid[:, -1, 1], weights=w)["capital"]
    rows = []
    for g, p in enumerate(points):
        ceded = res.grid[:, g, 0]
        est = mean_se(ceded, w)
        nm = measures(res.grid[:, g, 1], weights=w)
        premium = (1 + loading) * est.value
        margin = premium - est.value
        limit = grid[g, k, TP_LIMIT]  # inf for a quota share
        layer_relief = without - nm["capital"]
        row: dict[str, Any] = dict(p)
        row.update(
            {
                "expected_ceded": est.value,
                "expected_ceded_se": est.se,
                "sd_ceded": sd_se(ceded, w).value if len(ceded) > 1 else 0.0,
                "prob_attach": mean_se((ceded > 0).astype(np.float64), w).value,
                "premium": premium,
                "rol": premium / limit if math.isfinite(limit) else None,
                "net_el": nm["EL"]["value"],
                "net_var_99_5": nm["VaR"]["99.5"]["value"],
                "net_tvar_99_5": nm["TVaR"]["99.5"]["value"],
                "net_capital": nm["capital"],
                "layer_capital_relief": layer_relief,
                "layer_relief_per_margin": layer_relief / margin if margin > 0 else None,
                "programme_capital_relief": gross_capital - nm["capital"],
            }
        )
        rows.append(row)
    table = pl.DataFrame(rows, infer_schema_length=None)
    return SweepResult(
        table=table,
        treaty=scenario.treaties[k].name,
        keys=[s.key for s in sweeps],
        loading=loading,
        gross_capital=gross_capital,
        capital_without=without,
        reporting_currency=cp.reporting_currency,
        sims=res.n_sims,
    )
