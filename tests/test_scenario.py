"""Scenario files: validation messages, defaults, the JSON Schema and the generated docs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from riskengine.cli import main
from riskengine.errors import ScenarioError
from riskengine.scenario import (
    MAX_BLOCK_SIZE,
    MAX_SEED,
    MAX_SIMS,
    Scenario,
    baseline_scenario_path,
    load_scenario,
    parse_scenario,
    read_yaml,
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


# --------------------------------------------------------------------------------------------
# Simulation overrides: out-of-range values are ScenarioErrors naming the key and the bound
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "key", "bound"),
    [
        ({"sims": 10**12}, "simulation.sims", f"≤ {MAX_SIMS:,}"),
        ({"sims": 1e12}, "simulation.sims", f"≤ {MAX_SIMS:,}"),
        ({"sims": 0}, "simulation.sims", "> 0"),
        ({"seed": 2**64}, "simulation.seed", f"≤ {MAX_SEED:,}"),
        ({"seed": -1}, "simulation.seed", "≥ 0"),
        ({"block_size": 10**12}, "simulation.block_size", f"≤ {MAX_BLOCK_SIZE:,}"),
        ({"block_size": -3}, "simulation.block_size", "> 0"),
    ],
)
def test_with_simulation_refuses_out_of_range_values(
    changes: dict[str, float], key: str, bound: str
) -> None:
    with pytest.raises(ScenarioError) as e:
        parse_scenario({}).with_simulation(**changes, source="command line")
    (problem,) = e.value.problems
    assert (problem.file, problem.column, problem.label) == ("command line", key, "key")
    assert problem.rule.startswith(f"must be {bound} (got ")


def test_with_simulation_reports_every_bad_value_and_keeps_good_ones() -> None:
    sc = parse_scenario({"simulation": {"sims": 500, "seed": 3}})
    with pytest.raises(ScenarioError) as e:
        sc.with_simulation(sims=10**9, seed=2**63, block_size=1.5)
    assert [p.column for p in e.value.problems] == [
        "simulation.sims",
        "simulation.seed",
        "simulation.block_size",
    ]
    assert "must be an integer (got 1.5)" in str(e.value)
    changed = sc.with_simulation(sims=MAX_SIMS, seed=MAX_SEED, block_size=None)
    assert changed.simulation.sims == MAX_SIMS and changed.simulation.seed == MAX_SEED
    assert changed.simulation.block_size == sc.simulation.block_size
    assert sc.with_simulation() is sc


def test_simulation_limits_are_documented_in_the_schema_and_docs() -> None:
    schema = scenario_json_schema()["$defs"]["SimulationConfig"]["properties"]
    doc = (ROOT / "docs" / "scenario.md").read_text()
    for key, limit in (("sims", MAX_SIMS), ("seed", MAX_SEED), ("block_size", MAX_BLOCK_SIZE)):
        assert schema[key]["maximum"] == limit
        assert f"{limit:,}" in schema[key]["description"]
        row = next(line for line in doc.splitlines() if line.startswith(f"| `{key}` |"))
        assert f"{limit:,}" in row


# --------------------------------------------------------------------------------------------
# Numbers in YAML: 1e5 is a number
# --------------------------------------------------------------------------------------------


def _load_text(tmp_path: Path, text: str) -> Scenario:
    f = tmp_path / "s.yaml"
    f.write_text(text)
    return load_scenario(f)


@pytest.mark.parametrize(
    ("written", "value"),
    [("1e5", 100_000), ("2.5e4", 25_000), ("1.0e5", 100_000), ("100_000", 100_000), ("1E3", 1000)],
)
def test_integer_keys_accept_numbers_with_an_exponent(
    tmp_path: Path, written: str, value: int
) -> None:
    sc = _load_text(
        tmp_path,
        f"simulation: {{sims: {written}, seed: {written}, block_size: {written}}}\n"
        "treaties:\n"
        f"  - {{name: xl, type: per_risk_xl, retention: 1e6, limit: 4e6,"
        f" reinstatements: {written}}}\n",
    )
    sim = sc.simulation
    assert (sim.sims, sim.seed, sim.block_size, sc.treaties[0].reinstatements) == (value,) * 4
    assert all(type(v) is int for v in (sim.sims, sim.seed, sim.block_size))


def test_float_keys_accept_numbers_with_an_exponent(tmp_path: Path) -> None:
    sc = _load_text(
        tmp_path,
        "treaties:\n  - {name: xl, type: per_risk_xl, retention: 1e6, limit: 8e6, premium: .5e3}\n",
    )
    assert (sc.treaties[0].retention, sc.treaties[0].limit, sc.treaties[0].premium) == (
        1e6,
        8e6,
        500.0,
    )
    with pytest.raises(ScenarioError, match=r"premium': must be ≥ 0 \(got -0.0005\)"):
        _load_text(tmp_path, "treaties: [{name: q, type: quota_share, share: 1, premium: -5e-4}]")


@pytest.mark.parametrize("written", ["1.5", "1e5.5", "2.5e0", "ten"])
def test_integer_keys_refuse_what_is_not_a_whole_number(tmp_path: Path, written: str) -> None:
    with pytest.raises(ScenarioError) as e:
        _load_text(tmp_path, f"simulation: {{sims: {written}}}\n")
    (problem,) = e.value.problems
    assert problem.column == "simulation.sims"
    assert problem.rule.startswith("must be an integer (got ")


def test_the_scenario_loader_leaves_pyyaml_alone() -> None:
    assert read_yaml("a: 1e5\nb: '1e5'\nc: x1e5\n") == {"a": 100_000.0, "b": "1e5", "c": "x1e5"}
    assert yaml.safe_load("a: 1e5") == {"a": "1e5"}  # the shared SafeLoader is unchanged


# --------------------------------------------------------------------------------------------
# Unknown keys: the nearest valid one
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (
            {"simulation": {"blocksize": 10}},
            "key 'simulation.blocksize': unknown key — did you mean 'block_size'?",
        ),
        ({"simulations": {}}, "key 'simulations': unknown key — did you mean 'simulation'?"),
        (
            {"model": {"factor_weights": {"Global": 1.0}}},
            "key 'model.factor_weights.Global': unknown key — did you mean 'global'?",
        ),
        (
            {"treaties": [{"name": "x", "type": "per_risk_xl", "retension": 1, "limit": 2}]},
            "key 'treaties.0.retension': unknown key — did you mean 'retention'?",
        ),
        (
            {"outputs": {"zzz": 1}},
            "key 'outputs.zzz': unknown key — valid keys: segments, return_periods,"
            " occurrence_threshold, report, allocation",
        ),
    ],
)
def test_unknown_key_suggests_the_nearest_valid_one(data: dict, text: str) -> None:
    with pytest.raises(ScenarioError) as e:
        parse_scenario(data, "s.yaml")
    assert f"s.yaml: {text}" in [str(p) for p in e.value.problems]


# --------------------------------------------------------------------------------------------
# Every problem at once, model-level rules included
# --------------------------------------------------------------------------------------------


def test_rules_across_keys_are_checked_when_other_keys_fail(tmp_path: Path) -> None:
    sc = tmp_path / "s.yaml"
    sc.write_text(
        "simulation: {blocksize: 5000}\n"
        "model:\n"
        "  factor_weights: {global: 0.5, regoin: 0.3}\n"
        "  lgd: {mean: 0.1, sd: 0.5, sdd: 1}\n"
        "treaties:\n"
        "  - {name: sl, type: stop_loss, attachment: 1e6}\n"
        "  - {name: sl, type: quota_share, share: 2}\n"
        "  - {name: xl, type: per_risk_xl, retention: -1, limit: 1e6}\n"
    )
    with pytest.raises(ScenarioError) as e:
        load_scenario(sc)
    found = {(p.column, p.rule) for p in e.value.problems}
    assert found == {
        ("simulation.blocksize", "unknown key"),
        ("model.factor_weights.regoin", "unknown key"),
        ("model.factor_weights", "factor weights must sum to 1 (they sum to 0.5)"),
        ("model.lgd.sdd", "unknown key"),
        ("model.lgd", "a beta LGD needs sd² < mean·(1 − mean): sd 0.5 is too large for mean 0.1"),
        ("treaties.0", "give both attachment and limit"),
        ("treaties.1.share", "must be ≤ 1 (got 2)"),
        ("treaties.2.retention", "must be ≥ 0 (got -1)"),
        ("treaties", "duplicate treaty names: sl"),
        ("treaties", "stop loss 'sl' must be the last treaty of the programme"),
    }
    assert len(e.value.problems) == len(found)


def test_a_rule_is_skipped_when_a_key_it_reads_is_invalid() -> None:
    # region is invalid: the weights' sum cannot be judged, only region is reported
    with pytest.raises(ScenarioError) as e:
        parse_scenario({"model": {"factor_weights": {"global": 0.5, "region": 2}}})
    assert [(p.column, p.rule) for p in e.value.problems] == [
        ("model.factor_weights.region", "must be ≤ 1 (got 2)")
    ]
