"""Scenario files (YAML) validated by pydantic models."""

from .models import (
    DEFAULT_GRADE_PD,
    DEFAULT_RATINGS,
    MAX_BLOCK_SIZE,
    MAX_SEED,
    MAX_SIMS,
    Scenario,
    load_scenario,
    parse_scenario,
    read_yaml,
    scenario_json_schema,
)

__all__ = [
    "DEFAULT_GRADE_PD",
    "DEFAULT_RATINGS",
    "MAX_BLOCK_SIZE",
    "MAX_SEED",
    "MAX_SIMS",
    "Scenario",
    "load_scenario",
    "parse_scenario",
    "read_yaml",
    "scenario_json_schema",
]


def baseline_scenario_path():
    """Path of ``scenarios/baseline.yaml``: shipped in the wheel, or the source checkout's."""
    from importlib import resources
    from pathlib import Path

    shipped = resources.files("riskengine").joinpath("_scenarios", "baseline.yaml")
    if shipped.is_file():
        return Path(str(shipped))
    return Path(__file__).resolve().parents[3] / "scenarios" / "baseline.yaml"


__all__ += ["baseline_scenario_path"]
