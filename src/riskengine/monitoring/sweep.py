"""A sweep of one monitoring parameter: ``KEY=START:STOP:N`` (or ``KEY=V1,V2,…``), parsed and
checked against the rules of the scenario's ``monitoring`` block."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from pydantic import ValidationError

from ..errors import Problem, ScenarioError
from ..scenario.models import MonitoringConfig

__all__ = ["SWEEPABLE", "MonitorSweep", "parse_monitor_sweep"]

#: The monitoring keys a sweep may vary (``reviews_per_year`` takes whole numbers).
SWEEPABLE = (
    "trigger_pd",
    "trigger_multiple",
    "signal_noise",
    "cut_to",
    "notice_days",
    "reviews_per_year",
)
#: Most grid points of one sweep.
MAX_POINTS = 100

_SPEC = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_.]*)=(?P<values>.+)$")
_SOURCE = "--sweep"


@dataclass(frozen=True)
class MonitorSweep:
    """One monitoring key swept over ``values`` (in the order given)."""

    key: str
    values: tuple[float, ...]

    def configs(self, base: MonitoringConfig) -> list[MonitoringConfig]:
        """``base`` with the key set to each value (monitoring enabled)."""
        return [
            base.model_copy(update={"enabled": True, self.key: _typed(self.key, v)})
            for v in self.values
        ]


def _fail(spec: str, rule: str) -> ScenarioError:
    return ScenarioError([Problem(_SOURCE, spec, rule, label="option")], _SOURCE)


def _number(text: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _fail(spec, f"{text.strip()!r} is not a number") from None
    if not np.isfinite(value):
        raise _fail(spec, f"{text.strip()!r} is not a finite number")
    return value


def _typed(key: str, value: float) -> float | int:
    return int(round(value)) if key == "reviews_per_year" else float(value)


def _values(text: str, spec: str) -> tuple[float, ...]:
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise _fail(spec, "a range is START:STOP:N (N evenly spaced values)")
        start, stop, n = (_number(p, spec) for p in parts)
        if n != int(n) or not 1 <= n <= MAX_POINTS:
            raise _fail(spec, f"N must be a whole number from 1 to {MAX_POINTS}")
        # 12 significant digits: 0.15, not 0.15000000000000002, in tables and labels
        return tuple(float(f"{v:.12g}") for v in np.linspace(start, stop, int(n)))
    values = tuple(_number(v, spec) for v in text.split(",") if v.strip())
    if not values:
        raise _fail(spec, "no values")
    if len(values) > MAX_POINTS:
        raise _fail(spec, f"at most {MAX_POINTS} values")
    return values


def parse_monitor_sweep(spec: str) -> MonitorSweep:
    """Parse ``KEY=START:STOP:N`` (N evenly spaced values, both ends included) or
    ``KEY=V1,V2,…`` for one of :data:`SWEEPABLE`; ``monitoring.`` before the key is allowed.

    Raises
    ------
    ScenarioError
        Naming the option, the spec and the rule broken: an unknown key, a malformed range,
        or a value the ``monitoring`` block does not allow (e.g. ``trigger_pd`` = 1: it must be
        below 1; ``reviews_per_year`` = 2.5: a whole number).
    """
    m = _SPEC.match(spec.strip())
    if not m:
        keys = ", ".join(SWEEPABLE)
        raise _fail(spec, f"expected KEY=START:STOP:N or KEY=V1,V2,… with KEY one of {keys}")
    key = m.group("key").removeprefix("monitoring.")
    if key not in SWEEPABLE:
        raise _fail(spec, f"{key!r} cannot be swept: the keys are {', '.join(SWEEPABLE)}")
    values = _values(m.group("values"), spec)
    for v in values:
        if key == "reviews_per_year" and v != round(v):
            raise _fail(spec, f"reviews_per_year = {v:g}: a whole number of reviews a year")
        try:
            MonitoringConfig.model_validate({key: _typed(key, v)})
        except ValidationError as err:
            why = "; ".join(e["msg"] for e in err.errors())
            raise _fail(spec, f"{key} = {v:g}: {why}") from None
    return MonitorSweep(key, values)
