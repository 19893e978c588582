"""Scenario files: validation messages, defaults, the JSON Schema and the generated docs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from riskengine.cli import main
from riskengine.errors import ScenarioError
from riskengine.scenario import (
    baseline_scenario_path,
    load_scenario,
    parse_scenario,
    scenario_json_schema,
)
from riskengine.scenario.models import splice_scenario_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_empty_scenario_has_documented_defaults() -> None:
    sc = parse_scenario({})
    assert sc.simulation.sims == 10_000
    assert sc.model.copula == "gaussian"
    w = sc.model.factor_weights
    assert (w.global_, w.region, w.country, w.sector) == (0.35, 0.2, 0.3, 0.15)
    assert sc.ratings["B"] == 0.0293
    assert sc.treaties == []


def test_every_problem_reported_with_key_path() -> None:
    with pytest.raises(ScenarioError) as e:
        parse_scenario(
            {
                "simulation": {"sims": 0, "sim": 3},
                "model": {
                    "copula": "clayton",
                    "factor_weights": {"global": 0.5},
                    "lgd": {"mean": 0.1, "sd": 0.5},
                },
                "political": {"grade_pd": [0.1] * 7},
                "reporting_currency": "XXY",
            },
            "s.yaml",
        )
    text = str(e.value)
    for needle in (
        "key 'simulation.sims'",
        "key 'simulation.sim': unknown key",
        "key 'model.copula'",
        "key 'model.factor_weights': factor weights must sum to 1",
        "key 'model.lgd': a beta LGD needs sd²",
        "key 'political.grade_pd'",
        "key 'reporting_currency'",
    ):
        assert needle in text, needle
    assert len(e.value.problems) == 7


@pytest.mark.parametrize(
    ("treaties", "needle"),
    [
        (
            [
                {"name": "sl", "type": "stop_loss", "attachment": 1, "limit": 2},
                {"name": "q", "type": "quota_share", "share": 0.2},
            ],
            "must be the last",
        ),
        ([{"name": "x", "type": "per_risk_xl", "retention": -1, "limit": 2}], "retention"),
        (
            [{"name": "x", "type": "cat_xl", "retention": 1, "limit": 2}],
            "does not match any of the expected tags",
        ),
        (
            [
                {"name": "a", "type": "quota_share", "share": 0.2},
                {"name": "a", "type": "quota_share", "share": 0.1},
            ],
            "duplicate treaty names: a",
        ),
        ([{"name": "a b", "type": "quota_share", "share": 0.2}], "must be an identifier"),
        ([{"name": "s", "type": "stop_loss", "attachment": 1}], "give both attachment and limit"),
    ],
)
def test_invalid_programmes_refused(treaties: list, needle: str) -> None:
    with pytest.raises(ScenarioError) as e:
        parse_scenario({"treaties": treaties})
    assert needle in str(e.value)


def test_load_scenario_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n- 2\n")
    with pytest.raises(ScenarioError, match="must be a mapping"):
        load_scenario(lst)


def test_book_path_is_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "sc").mkdir()
    f = tmp_path / "sc" / "a.yaml"
    f.write_text("book: ../books/x\n")
    assert load_scenario(f).book == str((tmp_path / "books" / "x").resolve())


def test_cli_refuses_bad_scenario_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tiny_book_dir: Path
) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("simulation: {sims: -5}\nmodel: {copula: clayton}\n")
    with pytest.raises(SystemExit) as e:
        main(["simulate", str(f), "--out", str(tmp_path / "out"), "--book", str(tiny_book_dir)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "key 'simulation.sims'" in err and "key 'model.copula'" in err
    assert "Traceback" not in err


def test_shipped_scenarios_parse() -> None:
    files = sorted((ROOT / "scenarios").glob("*.yaml"))
    assert baseline_scenario_path().exists()
    assert {"baseline.yaml", "reinsurance.yaml"} <= {f.name for f in files}
    for f in files:
        load_scenario(f)  # raises ScenarioError on any problem


def test_json_schema_file_is_current() -> None:
    committed = json.loads((ROOT / "scenarios" / "scenario.schema.json").read_text())
    assert committed == scenario_json_schema(), (
        "run: riskengine scenario-schema --out scenarios/scenario.schema.json"
    )


def test_scenario_doc_is_current() -> None:
    doc = (ROOT / "docs" / "scenario.md").read_text()
    assert splice_scenario_markdown(doc) == doc, "regenerate docs/scenario.md (see its header)"
