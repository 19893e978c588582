"""Scenario files (YAML) validated by pydantic models."""

from .models import (
    DEFAULT_GRADE_PD,
    DEFAULT_RATINGS,
    Scenario,
    load_scenario,
    parse_scenario,
    scenario_json_schema,
)

__all__ = [
    "DEFAULT_GRADE_PD",
    "DEFAULT_RATINGS",
    "Scenario",
    "load_scenario",
    "parse_scenario",
    "scenario_json_schema",
]
