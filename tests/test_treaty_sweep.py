"""Layer sizing: ``parse_sweep``, ``sweep_treaty`` and the ``riskengine treaty`` command.

Every grid point is evaluated on the same simulated years as a plain run of the scenario, so the
point equal to the scenario's own terms must reproduce the plain run exactly, and expected
ceded loss must move monotonically with the terms (no noise between points).
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from reference.model import make_book
from reference.testing import run_cli
from riskengine.book import Book
from riskengine.errors import ScenarioError
from riskengine.reinsurance.sweep import SWEEPABLE, Sweep, parse_sweep, sweep_treaty
from riskengine.run.simulate import simulate
from riskengine.scenario import Scenario, parse_scenario

PROGRAMME = [
    {"name": "qs", "type": "quota_share", "share": 0.3},
    {
        "name": "xl_buyer",
        "type": "per_risk_xl",
        "retention": 2e6,
        "limit": 8e6,
        "reinstatements": 1,
        "reinstatement_rate": 1.0,
        "premium": 1.2e6,
    },
    {"name": "pol_xl", "type": "political_event_xl", "retention": 5e6, "limit": 4e7},
    {"name": "sl", "type": "stop_loss", "attachment_lr": 0.9, "limit_lr": 0.5},
]
SIMS = 4000


# =================================================================================================
# parse_sweep
# =================================================================================================
def test_parse_sweep_range_and_list_forms():
    s = parse_sweep("xl_buyer.retention=1e6:5e6:9")
    assert s == Sweep("xl_buyer", "retention", tuple(np.linspace(1e6, 5e6, 9)))
    assert s.values[0] == 1e6 and s.values[-1] == 5e6 and s.values[2] == 2e6
    assert parse_sweep("xl_buyer.limit=4e6,8e6, 1.2e7") == Sweep(
        "xl_buyer", "limit", (4e6, 8e6, 1.2e7)
    )
    assert parse_sweep("  sl.attachment_lr=0.9  ") == Sweep("sl", "attachment_lr", (0.9,))
    assert parse_sweep("qs.share=0.1:0.1:1").values == (0.1,)
    assert parse_sweep("xl_buyer.reinstatements=0:3:4").values == (0.0, 1.0, 2.0, 3.0)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("xl_buyer.retention", "TREATY.KEY=START:STOP:N"),
        ("retention=1e6:2e6:3", "TREATY.KEY=START:STOP:N"),
        ("xl_buyer.retention=", "TREATY.KEY=START:STOP:N"),
        ("1xl.retention=1,2", "TREATY.KEY=START:STOP:N"),
        ("xl_buyer.retention=1e6:5e6", "START:STOP:N"),
        ("xl_buyer.retention=1e6:5e6:3:4", "START:STOP:N"),
        ("xl_buyer.retention=1e6:5e6:0", "whole number from 1 to 1000"),
        ("xl_buyer.retention=1e6:5e6:2.5", "whole number from 1 to 1000"),
        ("xl_buyer.retention=1e6:5e6:1001", "whole number from 1 to 1000"),
        ("xl_buyer.retention=a:5e6:3", "'a' is not a number"),
        ("xl_buyer.retention=1e6,two", "'two' is not a number"),
        ("xl_buyer.retention=,", "no values"),
    ],
)
def test_parse_sweep_errors(spec, words):
    with pytest.raises(ScenarioError) as info:
        parse_sweep(spec)
    assert words in str(info.value)
    assert "--sweep" in str(info.value)


# =================================================================================================
# a small book where the programme attaches
# =================================================================================================
def sweep_book() -> Book:
    """60 buyers in four countries (two with political risk), claims of 0.5–13 m, premium 12 m."""
    n = 60
    rng = np.random.default_rng(4)
    ids = [f"b{i:03d}" for i in range(n)]
    countries = ["DE", "FR", "BR", "AR"]
    limits = np.round(np.exp(rng.normal(math.log(4e6), 0.8, n)), -4)
    return make_book(
        buyers={
            "buyer_id": ids,
            "country": [countries[i % 4] for i in range(n)],
            "sector": ["C", "G", "F"] * (n // 3),
            "pd": np.round(rng.uniform(0.02, 0.1, n), 3),
            "lgd": [0.6] * n,
            "lgd_sd": [0.2] * n,
        },
        exposures={
            "exposure_id": [f"e{i:03d}" for i in range(n)],
            "policy_id": [f"P{i % 3}" for i in range(n)],
            "buyer_id": ids,
            "limit": limits,
            "utilization": [1.0] * n,
        },
        policies={"policy_id": ["P0", "P1", "P2"], "currency": ["EUR"] * 3, "premium": [4e6] * 3},
        countries={
            "country": countries,
            "region": ["EU", "EU", "LATAM", "LATAM"],
            "political_pd": [0.0, 0.0, 0.05, 0.08],
        },
    )


def sweep_scenario(sims: int = SIMS) -> Scenario:
    return parse_scenario(
        {
            "simulation": {"sims": sims, "seed": 31, "block_size": 1000},
            "treaties": PROGRAMME,
            "outputs": {"segments": [], "report": False},
        }
    )


@pytest.fixture(scope="module")
def book() -> Book:
    return sweep_book()


@pytest.fixture(scope="module")
def plain(book):
    return simulate(book, sweep_scenario())


# =================================================================================================
# sweep_treaty
# =================================================================================================
def test_grid_point_with_the_scenarios_terms_reproduces_the_plain_run(book, plain):
    res = sweep_treaty(book, sweep_scenario(), ["xl_buyer.retention=1e6:5e6:5"])
    assert res.treaty == "xl_buyer" and res.keys == ["retention"] and res.sims == SIMS
    t = res.table
    assert t["retention"].to_list() == [1e6, 2e6, 3e6, 4e6, 5e6]
    own = t.filter(pl.col("retention") == 2e6).row(0, named=True)
    summ = plain.summary()
    # the same simulated years: equal to the last bit
    assert own["expected_ceded"] == summ["treaties"]["xl_buyer"]["expected_ceded"]
    # the same years' ceded losses; NumPy's and Polars's means sum them in different orders
    assert own["expected_ceded"] == pytest.approx(plain.ylt["ceded_xl_buyer"].mean(), rel=1e-12)
    assert own["net_capital"] == summ["capital"]["net"]
    assert own["programme_capital_relief"] == summ["capital"]["relief"]
    assert own["net_el"] == summ["measures"]["net"]["EL"]["value"]
    assert res.gross_capital == summ["capital"]["gross"]
    assert own["prob_attach"] == summ["treaties"]["xl_buyer"]["prob_attach"] > 0.05
    # premium at the loading, rate on line, relief per margin
    assert own["premium"] == pytest.approx(1.3 * own["expected_ceded"], rel=1e-12)
    assert own["rol"] == pytest.approx(own["premium"] / 8e6, rel=1e-12)
    assert own["layer_relief_per_margin"] == pytest.approx(
        own["layer_capital_relief"] / (0.3 * own["expected_ceded"]), rel=1e-12
    )
    # the layer's own relief: the programme without it, on the same years, minus with it
    without = [t for t in PROGRAMME if t["name"] != "xl_buyer"]
    alone = simulate(book, sweep_scenario().model_copy(update={"treaties": treaties_of(without)}))
    assert own["layer_capital_relief"] == pytest.approx(
        alone.summary()["capital"]["net"] - own["net_capital"], rel=1e-12
    )
    assert res.capital_without == pytest.approx(alone.summary()["capital"]["net"], rel=1e-12)


def treaties_of(items: list[dict]) -> list:
    return list(parse_scenario({"treaties": items}).treaties)


def test_a_one_unit_layer_relieves_no_capital(book, plain):
    """A layer of 1 EUR can release at most what it cedes in the VaR year plus its EL."""
    res = sweep_treaty(book, sweep_scenario(), ["xl_buyer.limit=1,8e6"])
    tiny, real = res.table.sort("limit").rows(named=True)
    n_buyers = book.buyers.height
    assert abs(tiny["layer_capital_relief"]) <= n_buyers * 1.0 + tiny["expected_ceded"]
    assert real["layer_capital_relief"] > 1e5  # a real layer releases capital
    # the programme's relief is the programme's, not the layer's: large for both points
    assert tiny["programme_capital_relief"] > 1e6 and real["programme_capital_relief"] > 1e6
    # per unit of margin: small for the 1-unit layer (it was 333 million before)
    assert abs(tiny["layer_relief_per_margin"]) < 10


def test_expected_ceded_decreases_in_retention_and_increases_in_limit(book, plain):
    res = sweep_treaty(
        book, sweep_scenario(), ["xl_buyer.retention=0:6e6:7", "xl_buyer.limit=2e6,4e6,8e6,1.6e7"]
    )
    t = res.table
    assert t.height == 28 and res.keys == ["retention", "limit"]
    for lim, sub in t.group_by("limit", maintain_order=True):
        ceded = sub.sort("retention")["expected_ceded"].to_numpy()
        assert np.all(np.diff(ceded) <= 0), lim
        assert ceded[0] > ceded[-1] > 0
    for ret, sub in t.group_by("retention", maintain_order=True):
        ceded = sub.sort("limit")["expected_ceded"].to_numpy()
        assert np.all(np.diff(ceded) >= 0), ret
        assert ceded[-1] > ceded[0]
    # a larger layer leaves less net loss (later treaties see less, never more)
    t0 = t.filter(pl.col("retention") == 0).sort("limit")
    assert np.all(np.diff(t0["net_el"].to_numpy()) <= 1e-6)
    # the point equal to the scenario's terms, again the plain run's
    own = t.filter((pl.col("retention") == 2e6) & (pl.col("limit") == 8e6)).row(0, named=True)
    # the same years' ceded losses; NumPy's and Polars's means sum them in different orders
    assert own["expected_ceded"] == pytest.approx(plain.ylt["ceded_xl_buyer"].mean(), rel=1e-12)


def test_sweeping_the_quota_share_moves_what_the_xl_sees(book, plain):
    res = sweep_treaty(book, sweep_scenario(), [Sweep("qs", "share", (0.1, 0.3, 0.5))])
    t = res.table.sort("share")
    assert np.all(np.diff(t["expected_ceded"].to_numpy()) > 0)
    assert t["rol"].to_list() == [None] * 3  # no limit: no rate on line
    own = t.filter(pl.col("share") == 0.3).row(0, named=True)
    assert own["expected_ceded"] == pytest.approx(plain.ylt["ceded_qs"].mean(), rel=1e-12)
    assert own["net_capital"] == plain.summary()["capital"]["net"]


def test_more_reinstatements_cede_more(book):
    t = sweep_treaty(book, sweep_scenario(), ["xl_buyer.reinstatements=0,1,2,5"]).table
    ceded = t.sort("reinstatements")["expected_ceded"].to_numpy()
    assert np.all(np.diff(ceded) >= 0) and ceded[-1] > ceded[0]


def test_fractional_reinstatements_are_refused_not_truncated(book):
    with pytest.raises(ScenarioError, match="reinstatements"):
        sweep_treaty(book, sweep_scenario(100), ["xl_buyer.reinstatements=0:2:5"])


@pytest.mark.parametrize(
    ("sweeps", "words"),
    [
        (["nope.retention=1e6:2e6:2"], ["'nope'", "no treaty of that name", "xl_buyer"]),
        (["xl_buyer.premium=1e5,2e5"], ["'premium'", "sweepable", "retention"]),
        (["qs.retention=1e6,2e6"], ["'retention'", "quota_share", "share"]),
        (
            ["xl_buyer.retention=1e6,2e6", "pol_xl.limit=1e7,2e7"],
            ["one treaty", "pol_xl", "xl_buyer"],
        ),
        (["xl_buyer.retention=1e6,2e6", "xl_buyer.retention=3e6"], ["swept twice"]),
        (["xl_buyer.retention=-1e6,1e6"], ["xl_buyer at {'retention': -1000000.0}"]),
        (
            ["sl.attachment=1e6,2e6"],
            ["sl at {'attachment': 1000000.0}"],
        ),  # the sl is in loss ratios
    ],
)
def test_bad_sweeps_are_refused(book, sweeps, words):
    with pytest.raises(ScenarioError) as info:
        sweep_treaty(book, sweep_scenario(100), sweeps)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("xl_buyer.retention=-1e6,1e6", "greater than or equal to 0"),
        (
            "sl.attachment=1e6,2e6",
            "give either attachment and limit, or attachment_lr and limit_lr",
        ),
    ],
)
def test_an_invalid_grid_point_names_the_rule_it_breaks(book, spec, rule):
    with pytest.raises(ScenarioError) as info:
        sweep_treaty(book, sweep_scenario(100), [spec])
    assert rule in str(info.value)
    assert "errors.pydantic.dev" not in str(info.value)


def test_every_sweepable_key_is_a_field_of_its_treaty():
    from riskengine.scenario.models import PerRiskXL, PoliticalEventXL, QuotaShare, StopLoss

    models = {
        "quota_share": QuotaShare,
        "per_risk_xl": PerRiskXL,
        "political_event_xl": PoliticalEventXL,
        "stop_loss": StopLoss,
    }
    for kind, keys in SWEEPABLE.items():
        assert set(keys) <= set(models[kind].model_fields), kind


# =================================================================================================
# riskengine treaty
# =================================================================================================
def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of a PNG file, each CRC checked (raises on a malformed file)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


@pytest.fixture
def scenario_file(tmp_path: Path, book: Book) -> Path:
    folder = tmp_path / "book"
    folder.mkdir()
    for name, df in book.tables().items():
        df.write_parquet(folder / f"{name}.parquet")
    path = tmp_path / "programme.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "programme",
                "book": "book",
                "simulation": {"sims": SIMS, "seed": 31, "block_size": 1000},
                "treaties": PROGRAMME,
                "outputs": {"segments": [], "report": False},
            }
        )
    )
    return path


def test_treaty_command_prints_the_table_and_writes_csv_parquet_png(
    scenario_file, tmp_path, capsys, plain, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps tables to 80 columns when not on a terminal
    out = tmp_path / "sweep"
    code, stdout, stderr = run_cli(
        [
            "treaty",
            str(scenario_file),
            "--sweep",
            "xl_buyer.retention=1e6:5e6:5",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, stderr
    assert "xl_buyer: 5 grid points on 4,000 simulated years" in stdout
    for head in ("retention", "P(attach)", "premium", "ROL", "net capital", "relief"):
        assert head in stdout
    for value in ("1.00 m", "2.00 m", "3.00 m", "4.00 m", "5.00 m"):
        assert value in stdout  # retentions as people write them, not 1e+06
    assert "e+06" not in stdout
    csv = pl.read_csv(out / "treaty_sweep.csv")
    parquet = pl.read_parquet(out / "treaty_sweep.parquet")
    assert csv["retention"].to_list() == [1e6, 2e6, 3e6, 4e6, 5e6]
    assert parquet.columns == csv.columns and parquet.height == 5
    np.testing.assert_allclose(
        parquet["expected_ceded"].to_numpy(), csv["expected_ceded"].to_numpy(), rtol=1e-12
    )
    # the CLI run is the plain run's years (same scenario, same book)
    assert (
        parquet.filter(pl.col("retention") == 2e6)["expected_ceded"][0]
        == plain.ylt["ceded_xl_buyer"].mean()
    )
    chunks = png_chunks((out / "treaty_sweep.png").read_bytes())
    kinds = [k for k, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert width > 500 and height > 300
    assert "treaty_sweep.png" in stdout


@pytest.mark.parametrize(
    ("sweeps", "words"),
    [
        (["nope.retention=1e6:5e6:5"], ["'nope'", "no treaty of that name"]),
        (["xl_buyer.premium=1e5,2e5"], ["'premium'", "sweepable"]),
        (["xl_buyer.retention=1e6,2e6", "pol_xl.limit=1e7,2e7"], ["one treaty"]),
        (["xl_buyer.retention:1e6"], ["TREATY.KEY=START:STOP:N"]),
    ],
)
def test_treaty_command_refuses_bad_sweeps(scenario_file, tmp_path, capsys, sweeps, words):
    argv = ["treaty", str(scenario_file), "--out", str(tmp_path / "sweep"), "--sims", "50"]
    for s in sweeps:
        argv += ["--sweep", s]
    code, stdout, stderr = run_cli(argv, capsys)
    assert code == 2
    assert "Traceback" not in stdout + stderr
    assert stderr.startswith("error:")
    for w in words:
        assert w in stderr, (w, stderr)
    assert not (tmp_path / "sweep" / "treaty_sweep.csv").exists()


def test_treaty_command_heads_the_expected_ceded_column(
    scenario_file, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "200")
    code, stdout, _ = run_cli(
        [
            "treaty",
            str(scenario_file),
            "--sweep",
            "xl_buyer.retention=1e6,2e6",
            "--out",
            str(tmp_path / "sweep"),
            "--sims",
            "200",
        ],
        capsys,
    )
    assert code == 0
    assert "E[ceded]" in stdout
