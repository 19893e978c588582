"""Pricing end to end: the `pricing:` block, `riskengine price` and its files, the report's
pricing section, and refusals of bad input.

References are computed here from the run's own files with plain NumPy: EL as the mean of the
years' gross losses, TVaR as the mean of the ⌈(1 − q)·n⌉ largest, allocated capital as the
allocation's contribution less EL, turnover as limit × utilization × 365 / term. Identities are
checked to rounding (relative 1e-9 or tighter); each test says what a wrong implementation would
break.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from reference.testing import run_cli
from riskengine.book import Book, generate_book, load_book
from riskengine.book.schema import MAX_TERM_DAYS
from riskengine.errors import OutputError, ScenarioError
from riskengine.pricing import (
    CREDIBILITY_K,
    RATINGS,
    TERM_BANDS,
    Loadings,
    RunFacts,
    exposure_turnover,
    insured_turnover,
    price_book,
    read_run,
    with_pricing_allocation,
)
from riskengine.pricing.oecd import oecd_mpr
from riskengine.report import add_pricing_to_report, render_report
from riskengine.scenario import parse_scenario
from riskengine.scenario.models import MAX_PAYMENT_TERM_DAYS

ROOT = Path(__file__).resolve().parents[1]
#: Simulated years of the end-to-end runs (enough tail years for TVaR 99.5: 20).
SIMS = 4_000
#: The twin buyer's two policies: the same limit on 30 and 120 days.
TWIN = {
    "buyer": "BTWIN",
    "short": ("ETWIN30", "PTWIN30", 30),
    "long": ("ETWIN120", "PTWIN120", 120),
}
TWIN_LIMIT = 4e6
TWIN_UTILIZATION = 0.8


# ---------------------------------------------------------------------------------------------
# Books, scenarios and runs
# ---------------------------------------------------------------------------------------------
def _append(frame: pl.DataFrame, rows: dict[str, list[Any]]) -> pl.DataFrame:
    extra = pl.DataFrame(rows).cast({k: frame.schema[k] for k in rows})
    return pl.concat([frame, extra], how="diagonal").select(frame.columns)


def twin_book() -> Book:
    """A small sample book plus one CCC buyer insured under two policies on identical terms,
    with the same limit and utilization, one on 30-day terms, the other on 120-day terms."""
    b = generate_book(400, seed=11)
    buyer = TWIN["buyer"]
    (e30, p30, t30), (e120, p120, t120) = TWIN["short"], TWIN["long"]
    buyers = _append(
        b.buyers,
        {"buyer_id": [buyer], "country": ["DE"], "sector": ["C"], "rating": ["CCC"]},
    )
    exposures = _append(
        b.exposures,
        {
            "exposure_id": [e30, e120],
            "policy_id": [p30, p120],
            "buyer_id": [buyer, buyer],
            "limit": [TWIN_LIMIT, TWIN_LIMIT],
            "utilization": [TWIN_UTILIZATION, TWIN_UTILIZATION],
            "payment_term_days": [t30, t120],
            "commercial_cover": [True, True],
            "political_cover": [True, True],
        },
    )
    policies = _append(
        b.policies,
        {
            "policy_id": [p30, p120],
            "currency": ["EUR", "EUR"],
            "policyholder": ["HTWIN30", "HTWIN120"],
            "indemnity": [0.9, 0.9],
            "deductible": [0.0, 0.0],
            "nql": [0.0, 0.0],
            "premium": [50_000.0, 50_000.0],
        },
    )
    return Book(buyers, exposures, policies, b.countries, b.fx)


def write_book(book: Book, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in book.tables().items():
        df.write_parquet(folder / f"{name}.parquet")
    return folder


def write_scenario(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))  # JSON is YAML
    return path


SCENARIO = {"name": "priced", "simulation": {"sims": SIMS, "seed": 7}}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("pricing")
    book = write_book(twin_book(), base / "book")
    return {
        "base": base,
        "book": book,
        "scenario": write_scenario(base / "priced.yaml", SCENARIO),
    }


@pytest.fixture(scope="module")
def priced_run(files: dict[str, Path]) -> dict[str, Any]:
    """`riskengine price` on the twin book, simulating, with a target return on capital."""
    from riskengine.cli import main

    out = files["base"] / "run"
    argv = ["price", str(files["scenario"]), "--book", str(files["book"]), "--out", str(out)]
    with pytest.raises(SystemExit) as info:
        main([*argv, "--target-roc", "0.12"])
    assert info.value.code == 0
    return {"out": out, "argv": argv}


def read(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(folder / name)


def reference_measures(folder: Path, level: float = 99.5) -> dict[str, float]:
    """EL, VaR and TVaR of the run's gross losses with plain NumPy (every weight is 1)."""
    ylt = read(folder, "ylt.parquet")
    assert (ylt["weight"] == 1.0).all()
    x = np.sort(ylt["gross"].to_numpy())
    n = len(x)
    q = level / 100
    k = math.ceil(round((1 - q) * n, 9))
    return {"el": float(x.mean()), "tvar": float(x[n - k :].mean()), "var": float(x[n - k - 1])}


# ---------------------------------------------------------------------------------------------
# The scenario block and the shared constants
# ---------------------------------------------------------------------------------------------
def test_pricing_block_defaults_match_the_pricing_core() -> None:
    p = parse_scenario({}).pricing
    assert (p.cost_of_capital, p.expense_ratio, p.commission) == (0.10, 0.20, 0.05)
    loads = Loadings()
    assert (loads.cost_of_capital, loads.expense_ratio, loads.commission) == (0.10, 0.20, 0.05)
    assert (p.capital.measure, p.capital.level, p.payment_term_days) == ("tvar", 99.5, 60)
    assert tuple(p.term_bands) == TERM_BANDS == (30, 60, 90, 120, 180)
    assert p.credibility_k == CREDIBILITY_K == 50.0
    assert (p.target_roc, p.target_combined_ratio) == (None, None)
    # one bound for payment terms: the book's column and the scenario's keys
    assert MAX_PAYMENT_TERM_DAYS == MAX_TERM_DAYS == 720


@pytest.mark.parametrize(
    ("block", "needles"),
    [
        (
            {"expense_ratio": 0.8, "commission": 0.3},
            ["pricing.commission", "expense_ratio + commission = 1.1 must be below 1"],
        ),
        ({"term_bands": [60, 30]}, ["pricing.term_bands", "must increase strictly"]),
        ({"term_bands": [30, 900]}, ["pricing.term_bands", "900 is not in 1..720"]),
        ({"payment_term_days": 0}, ["pricing.payment_term_days", "must be ≥ 1"]),
        ({"capital": {"measure": "es"}}, ["pricing.capital.measure", "'tvar' or 'var'"]),
        ({"capital": {"level": 100}}, ["pricing.capital.level", "must be < 100"]),
        ({"credibility_k": 0}, ["pricing.credibility_k", "must be > 0"]),
        ({"cost_of_capital": 1.5}, ["pricing.cost_of_capital", "must be ≤ 1"]),
        (
            {"target_roc": 0.1, "target_combined_ratio": 0.9},
            ["pricing.target_combined_ratio", "at most one target"],
        ),
        (
            {"target_combined_ratio": 0.2},
            ["pricing.target_combined_ratio", "must exceed expense_ratio + commission = 0.25"],
        ),
        ({"cost_of_captial": 0.1}, ["pricing.cost_of_captial", "did you mean 'cost_of_capital'"]),
    ],
)
def test_bad_pricing_blocks_exit_2_naming_the_key(
    block: dict, needles: list[str], files: dict[str, Path], capsys: Any
) -> None:
    sc = write_scenario(files["base"] / "bad.yaml", {"pricing": block})
    out = files["base"] / "never"
    code, _, err = run_cli(
        ["price", str(sc), "--book", str(files["book"]), "--out", str(out)], capsys
    )
    assert code == 2
    assert "Traceback" not in err and "bad.yaml" in err
    for needle in needles:
        assert needle in err, err
    assert not out.exists()  # refused before simulating


def test_turnover_of_zero_counts_as_not_given() -> None:
    """The schema accepts policies.turnover = 0; pricing reads it as absent (the exposures'
    limit × utilization × 365 / term), as it reads a null, and still refuses a negative one."""
    limit, util, term = np.array([1e6, 3e6]), np.array([0.5, 1.0]), np.array([30.0, 90.0])
    own = limit * util * 365 / term
    given = np.array([0.0, np.nan])
    out = insured_turnover(limit, util, term, policy=np.array([0, 1]), policy_turnover=given)
    np.testing.assert_allclose(out, own, rtol=1e-15)
    ex = pl.DataFrame(
        {
            "exposure_id": ["E1", "E2", "E3"],
            "policy_id": ["P1", "P1", "P2"],
            "limit": [1e6, 3e6, 2e6],
            "utilization": [0.5, 1.0, 0.5],
            "payment_term_days": [30, 90, None],
        }
    )
    zero = exposure_turnover(
        ex,
        pl.DataFrame({"policy_id": ["P1", "P2"], "turnover": [0.0, 0.0]}),
        default_utilization=0.6,
    )
    null = exposure_turnover(
        ex,
        pl.DataFrame(
            {"policy_id": ["P1", "P2"], "turnover": [None, None]},
            schema_overrides={"turnover": pl.Float64},
        ),
        default_utilization=0.6,
    )
    assert zero["turnover"].to_list() == null["turnover"].to_list()
    np.testing.assert_allclose(zero["turnover"].to_numpy(), [*own, 2e6 * 0.5 * 365 / 60])
    from riskengine.errors import BookError

    with pytest.raises(BookError, match="policies: column 'turnover': 0 ≤ turnover"):
        insured_turnover(limit, util, term, policy=np.array([0, 1]), policy_turnover=[-1.0, 1.0])


# ---------------------------------------------------------------------------------------------
# The command's files: identities against the run's own files
# ---------------------------------------------------------------------------------------------
def test_price_writes_the_run_and_the_pricing_files(priced_run: dict[str, Any]) -> None:
    out = priced_run["out"]
    for name in (
        "summary.json",
        "ylt.parquet",
        "allocation.parquet",
        "report.html",
        "pricing.parquet",
        "rate_card.parquet",
        "rate_card.xlsx",
        "rating_factors.parquet",
        "country_rates.parquet",
    ):
        assert (out / name).exists(), name
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temporary files
    alloc = read(out, "allocation.parquet")
    assert {"policy", "exposure"} <= set(alloc["dimension"])
    assert set(alloc["perspective"]) == {"gross"} and set(alloc["level"]) == {99.5}
    html = (out / "report.html").read_text("utf-8")
    assert html.count('<section id="pricing"') == 1 and 'href="#pricing"' in html


def test_technical_premium_identity_per_policy(priced_run: dict[str, Any]) -> None:
    """Per policy: capital = TVaR contribution − EL (the allocation's), technical premium ×
    (1 − e − c) = EL + coc × capital, rates on turnover, adequacy."""
    out = priced_run["out"]
    p = read(out, "pricing.parquet")
    alloc = read(out, "allocation.parquet").filter(pl.col("dimension") == "policy")
    j = p.join(
        alloc.select(pl.col("segment").alias("policy_id"), "el", "tvar_contribution"),
        on="policy_id",
        suffix="_alloc",
    )
    assert j.height == p.height == generate_book(400, seed=11).policies.height + 2
    np.testing.assert_allclose(j["el"], j["el_alloc"], rtol=1e-15)
    np.testing.assert_allclose(
        j["capital"], j["tvar_contribution"] - j["el_alloc"], rtol=1e-12, atol=1e-9
    )
    tp = p["technical_premium"].to_numpy()
    np.testing.assert_allclose(
        tp * (1 - 0.20 - 0.05), p["el"].to_numpy() + 0.10 * p["capital"].to_numpy(), rtol=1e-12
    )
    turnover = p["turnover"].to_numpy()
    np.testing.assert_allclose(p["technical_rate"].to_numpy(), tp / turnover, rtol=1e-12)
    np.testing.assert_allclose(
        p["actual_rate"].to_numpy(), p["premium"].to_numpy() / turnover, rtol=1e-12
    )
    np.testing.assert_allclose(p["adequacy"].to_numpy(), p["premium"].to_numpy() / tp, rtol=1e-12)
    assert (p["technical_premium_se"] > 0).all()


def test_policies_capital_and_el_add_up_to_the_books(priced_run: dict[str, Any]) -> None:
    out = priced_run["out"]
    p = read(out, "pricing.parquet")
    ref = reference_measures(out)
    assert p["el"].sum() == pytest.approx(ref["el"], rel=1e-9)
    assert p["capital"].sum() == pytest.approx(ref["tvar"] - ref["el"], rel=1e-9)
    assert (p["el"] >= 0).all() and p["capital"].sum() > 0


def test_turnover_is_declared_or_what_the_limits_carry(priced_run: dict[str, Any]) -> None:
    """A policy's turnover is its declared one in the reporting currency, else Σ limit ×
    utilization × 365 / term over its exposures (the scenario's 60 days where a term is null)."""
    book = load_book(priced_run["argv"][3])
    fx = dict(zip(book.fx["currency"], book.fx["rate"], strict=True)) | {"EUR": 1.0}
    ex = book.exposures.join(
        book.policies.select("policy_id", pl.col("currency").alias("pcur")), on="policy_id"
    )
    ex = ex.with_columns(
        pl.col("currency").fill_null(pl.col("pcur")).replace_strict(fx).alias("fx")
    )
    own = ex.group_by("policy_id").agg(
        (
            pl.col("limit")
            * pl.col("fx")
            * pl.col("utilization").fill_null(0.6)
            * 365
            / pl.col("payment_term_days").fill_null(60)
        )
        .sum()
        .alias("own")
    )
    want = book.policies.join(own, on="policy_id").select(
        "policy_id",
        pl.when(pl.col("turnover") > 0)
        .then(pl.col("turnover") * pl.col("currency").replace_strict(fx))
        .otherwise(pl.col("own"))
        .alias("want"),
    )
    got = read(priced_run["out"], "pricing.parquet").join(want, on="policy_id")
    assert got.height == book.policies.height
    np.testing.assert_allclose(got["turnover"], got["want"], rtol=1e-12)
    assert book.policies["turnover"].null_count() == 2  # the twin's policies: from their limits


def test_twin_buyer_equal_premiums_rates_in_the_ratio_of_the_terms(
    priced_run: dict[str, Any],
) -> None:
    """One buyer, two policies with the same limit and utilization on 30 and 120 days: the same
    claims in every year, so the same EL, capital and technical premium; the 120-day limit
    revolves a quarter as often, so its rate on turnover is four times the 30-day one's."""
    p = read(priced_run["out"], "pricing.parquet")
    (_, p30, t30), (_, p120, t120) = TWIN["short"], TWIN["long"]
    short = p.filter(pl.col("policy_id") == p30).row(0, named=True)
    long = p.filter(pl.col("policy_id") == p120).row(0, named=True)
    assert short["el"] > 0 and short["capital"] > 0  # the CCC buyer matters in the tail
    for col in ("el", "capital", "technical_premium"):
        assert long[col] == pytest.approx(short[col], rel=1e-12), col
    assert short["turnover"] == pytest.approx(TWIN_LIMIT * TWIN_UTILIZATION * 365 / t30, rel=1e-12)
    assert long["turnover"] == pytest.approx(TWIN_LIMIT * TWIN_UTILIZATION * 365 / t120, rel=1e-12)
    assert long["technical_rate"] / short["technical_rate"] == pytest.approx(4.0, rel=1e-12)
    assert long["actual_rate"] / short["actual_rate"] == pytest.approx(4.0, rel=1e-12)


def test_fitted_card_is_monotone_and_covers_the_grid(priced_run: dict[str, Any]) -> None:
    out = priced_run["out"]
    factors = read(out, "rating_factors.parquet")
    order = {
        "risk_grade": [str(g) for g in range(8)],
        "rating": list(RATINGS),
        "term_band": [str(b) for b in TERM_BANDS],
    }
    for factor, levels in order.items():
        f = factors.filter(pl.col("factor") == factor)
        assert f["level"].to_list() == levels
        rel = f["relativity"].to_numpy()
        assert rel[0] == pytest.approx(1.0) and np.all(np.diff(rel) >= -1e-12), (factor, rel)
    card = read(out, "rate_card.parquet")
    assert card.height == 8 * len(RATINGS) * len(TERM_BANDS)
    cube = (
        card.with_columns(pl.col("rating").replace_strict({r: i for i, r in enumerate(RATINGS)}))
        .sort("risk_grade", "rating", "term_band")["fitted_rate"]
        .to_numpy()
        .reshape(8, len(RATINGS), len(TERM_BANDS))
    )
    assert np.all(np.isfinite(cube)) and np.all(cube > 0)
    for axis in range(3):
        assert np.all(np.diff(cube, axis=axis) >= -1e-15 * cube.max()), axis
    # a longer term costs more per unit of turnover: the term relativities rise strictly here
    terms = factors.filter(pl.col("factor") == "term_band")["relativity"].to_numpy()
    assert terms[-1] > 2 * terms[0]


def test_calibration_meets_the_target_exactly_on_the_simulated_years(
    priced_run: dict[str, Any], capsys: Any
) -> None:
    """The calibrated card charges the book P; with EL and TVaR of the run's years, P meets the
    target return on capital (12 %) and, priced again from the folder, a combined ratio (85 %)."""
    out = priced_run["out"]
    ref = reference_measures(out)
    card = read(out, "rate_card.parquet")
    premium = float((card["fitted_rate"] * card["turnover"]).sum())
    roc = (premium * 0.75 - ref["el"]) / (ref["tvar"] - ref["el"])
    assert roc == pytest.approx(0.12, abs=1e-12)
    assert read(out, "pricing.parquet")["card_premium"].sum() == pytest.approx(premium, rel=1e-12)
    # the same run, priced from its folder, to a combined ratio
    argv = ["price", priced_run["argv"][1], "--book", priced_run["argv"][3], "--results", str(out)]
    code, text, err = run_cli([*argv, "--target-combined-ratio", "0.85"], capsys)
    assert code == 0, err
    card = read(out, "rate_card.parquet")
    premium = float((card["fitted_rate"] * card["turnover"]).sum())
    assert (ref["el"] + 0.25 * premium) / premium == pytest.approx(0.85, abs=1e-12)
    assert "calibrated to a combined ratio of 85.0 %" in text
    # without a target the card is the technical card: its premium is that of the fitted
    # technical rates, the same relativities, the factor gone
    code, text, err = run_cli(argv, capsys)
    assert code == 0 and "calibrated" not in text
    technical = read(out, "rate_card.parquet")
    ratio = (card["fitted_rate"] / technical["fitted_rate"]).to_numpy()
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)
    factor = ref["el"] / (float((technical["fitted_rate"] * technical["turnover"]).sum()) * 0.60)
    assert ratio[0] == pytest.approx(factor, rel=1e-12)


def test_priced_from_the_folder_equals_priced_in_memory(priced_run: dict[str, Any]) -> None:
    """`--results DIR` reads allocation.parquet and resolves the book itself: the same numbers
    as pricing the run the command simulated."""
    out = priced_run["out"]
    scenario = parse_scenario(SCENARIO)
    book = load_book(priced_run["argv"][3])
    from_folder = price_book(book, scenario, read_run(out, scenario.pricing), target_roc=0.12)
    import riskengine as rk

    res = rk.simulate(book, with_pricing_allocation(scenario))
    in_memory = price_book(
        book, scenario, RunFacts.of_results(res), resolved=res.compiled.resolved, target_roc=0.12
    )
    cols = ["policy_id", "turnover", "premium", "el", "capital", "technical_premium"]
    a, b = from_folder.policies.select(cols), in_memory.policies.select(cols)
    assert a["policy_id"].to_list() == b["policy_id"].to_list()
    for c in cols[1:]:
        np.testing.assert_allclose(a[c].to_numpy(), b[c].to_numpy(), rtol=1e-12, err_msg=c)
    assert from_folder.calibration.factor == pytest.approx(in_memory.calibration.factor, rel=1e-12)


def test_country_rates_and_the_oecd_benchmark(priced_run: dict[str, Any]) -> None:
    out = priced_run["out"]
    c = read(out, "country_rates.parquet")
    card = read(out, "rate_card.parquet")
    rating, band = c["rating"][0], c["term_band"][0]
    assert set(c["rating"]) == {rating} and set(c["term_band"]) == {band}
    # the most common rating and band by turnover
    by_rating = card.group_by("rating").agg(pl.col("turnover").sum()).sort("turnover")
    by_band = card.group_by("term_band").agg(pl.col("turnover").sum()).sort("turnover")
    assert rating == by_rating["rating"][-1] and band == by_band["term_band"][-1]
    cell = card.filter((pl.col("rating") == rating) & (pl.col("term_band") == band))
    fitted = dict(zip(cell["risk_grade"], cell["fitted_rate"], strict=True))
    for row in c.iter_rows(named=True):
        assert row["fitted_rate"] == pytest.approx(fitted[row["risk_grade"]], rel=1e-15)
        assert row["oecd_extrapolated"] is True
        if row["risk_grade"] == 0:
            assert row["oecd_mpr"] is None
        else:
            want = oecd_mpr(np.array([row["risk_grade"]]), np.array([band / 365]))[0]
            assert row["oecd_mpr"] == pytest.approx(want, rel=1e-15)
    # turnover by country adds up to the book's
    p = read(out, "pricing.parquet")
    assert c["turnover"].sum() == pytest.approx(p["turnover"].sum(), rel=1e-12)
    assert c["turnover"].is_sorted(descending=True)


def test_the_workbook_holds_the_card_factors_and_country_rates(priced_run: dict[str, Any]) -> None:
    path = priced_run["out"] / "rate_card.xlsx"
    import xlsxwriter  # noqa: F401 - the writer the workbook comes from

    sheets = {
        s: pl.read_excel(path, sheet_name=s, read_options={"header_row": 3})
        for s in ("Rate card", "Cells", "Factors", "Country rates")
    }
    card = read(priced_run["out"], "rate_card.parquet")
    pivot = sheets["Rate card"]
    assert pivot.columns[:2] == ["country risk grade", "buyer rating"]
    assert pivot.columns[2:] == [
        "≤ 30 days",
        "31–60 days",
        "61–90 days",
        "91–120 days",
        "> 120 days",
    ]
    assert pivot.height == 8 * len(RATINGS)
    top = card.filter((pl.col("risk_grade") == 3) & (pl.col("rating") == "B")).sort("term_band")
    row = pivot.filter((pl.col("country risk grade") == 3) & (pl.col("buyer rating") == "B"))
    np.testing.assert_allclose(row.select(pivot.columns[2:]).row(0), top["fitted_rate"], rtol=1e-12)
    assert sheets["Cells"].height == card.height
    assert sheets["Factors"].height == 8 + len(RATINGS) + len(TERM_BANDS)
    assert sheets["Country rates"].height == read(priced_run["out"], "country_rates.parquet").height
    # a title row above each table
    title = pl.read_excel(
        path, sheet_name="Rate card", has_header=False, read_options={"n_rows": 1}
    )
    assert "Rate card" in str(title.row(0)[0])


def test_the_command_prints_what_pricing_teams_read(files: dict[str, Path], capsys: Any) -> None:
    out = files["base"] / "run-print"
    code, text, err = run_cli(
        [
            "price",
            str(files["scenario"]),
            "--book",
            str(files["book"]),
            "--out",
            str(out),
            "--sims",
            "2000",
            "--top",
            "3",
        ],
        capsys,
    )
    assert code == 0, err
    assert (
        "most under-priced policies (top 3)" in text and "most over-priced policies (top 3)" in text
    )
    assert "rate card by country risk grade" in text and "realism:" in text
    p = read(out, "pricing.parquet").sort("adequacy")
    first = p.filter(pl.col("adequacy").is_not_null())["policy_id"][0]
    under = text[text.index("most under-priced") : text.index("most over-priced")]
    assert first in under
    assert "✓ added the pricing section" in text


# ---------------------------------------------------------------------------------------------
# Bad --results folders
# ---------------------------------------------------------------------------------------------
def test_bad_results_folders_exit_2_with_a_message(
    files: dict[str, Path], priced_run: dict[str, Any], capsys: Any
) -> None:
    base = files["base"]
    price = ["price", str(files["scenario"]), "--book", str(files["book"])]
    # no such folder, not a run
    code, _, err = run_cli([*price, "--results", str(base / "absent")], capsys)
    assert code == 2 and "no such folder" in err
    (base / "empty").mkdir()
    code, _, err = run_cli([*price, "--results", str(base / "empty")], capsys)
    assert code == 2 and "not a finished run" in err
    # a run without an allocation
    plain = base / "plain"
    code, _, _ = run_cli(
        [
            "simulate",
            str(files["scenario"]),
            "--book",
            str(files["book"]),
            "--out",
            str(plain),
            "--sims",
            "500",
        ],
        capsys,
    )
    assert code == 0
    code, _, err = run_cli([*price, "--results", str(plain)], capsys)
    assert code == 2 and "no allocation.parquet" in err and "riskengine price SCENARIO --out" in err
    # an allocation without exposures, and one at another level
    only_policy = {
        **SCENARIO,
        "outputs": {"allocation": {"dimensions": ["policy", "country"], "levels": [99]}},
    }
    sc = write_scenario(base / "only-policy.yaml", only_policy)
    run = base / "only-policy"
    code, _, err = run_cli(
        ["simulate", str(sc), "--book", str(files["book"]), "--out", str(run), "--sims", "1000"],
        capsys,
    )
    assert code == 0, err
    code, _, err = run_cli([*price, "--results", str(run)], capsys)
    assert code == 2
    assert (
        "allocation.parquet: column 'dimension': no gross allocation by policy and exposure "
        "at 99.5 %" in err
    )
    assert "gross at 99 % by country, policy" in err and "riskengine allocate" in err
    # another book
    other = write_book(generate_book(300, seed=3), base / "other-book")
    code, _, err = run_cli(
        [
            "price",
            str(files["scenario"]),
            "--book",
            str(other),
            "--results",
            str(priced_run["out"]),
        ],
        capsys,
    )
    assert code == 2 and "the run simulated another book" in err
    # usage: two targets, no --out, --sims with --results
    code, _, err = run_cli(
        [
            *price,
            "--results",
            str(priced_run["out"]),
            "--target-roc",
            "0.1",
            "--target-combined-ratio",
            "0.9",
        ],
        capsys,
    )
    assert code == 2 and "give one target" in err
    code, _, err = run_cli(price, capsys)
    assert code == 2 and "--out" in err
    code, _, err = run_cli([*price, "--results", str(priced_run["out"]), "--sims", "10"], capsys)
    assert code == 2 and "--sims" in err
    # a target out of range, named as the scenario key it replaces
    code, _, err = run_cli(
        [*price, "--results", str(priced_run["out"]), "--target-roc", "-2"], capsys
    )
    assert code == 2 and "command line: key 'pricing.target_roc': must be > -1" in err
    assert "Traceback" not in err


def test_read_run_names_the_file_and_rule(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="no such folder"):
        read_run(tmp_path / "nope", parse_scenario({}).pricing)
    with pytest.raises(ScenarioError, match="pricing.target_roc"):
        from riskengine.pricing.job import with_targets

        with_targets(parse_scenario({}), -5.0, None)


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------
def section_of(html: str, ident: str = "pricing") -> str:
    start = html.index(f'<section id="{ident}"')
    return html[start : html.index("</section>", start) + len("</section>")]


def test_report_section_shows_the_priced_numbers(priced_run: dict[str, Any]) -> None:
    out = priced_run["out"]
    html = (out / "report.html").read_text("utf-8")
    sec = section_of(html)
    assert 'aria-label="Rate card by country risk grade' in sec
    for title in (
        "Adequacy by country risk grade",
        "Adequacy by sector",
        "Adequacy by policy size",
    ):
        assert title in sec
    # the section sits before the footer, once, and its link is in the contents
    assert html.index('<section id="pricing"') < html.index("<footer")
    p = read(out, "pricing.parquet")
    adequacy = p["premium"].sum() / p["technical_premium"].sum()
    assert f"<dd>{adequacy:.2f}" in sec
    # the totals row of each adequacy table is the book's adequacy
    totals = re.findall(r'<tr class="total[^"]*"><td>Total</td>(.*?)</tr>', sec)
    assert len(totals) == 3
    for row in totals:
        assert re.sub(r"<[^>]+>", " ", row).split()[-1] == f"{adequacy:.2f}"


def test_add_pricing_to_report_replaces_and_leaves_other_runs_alone(
    priced_run: dict[str, Any], tmp_path: Path
) -> None:
    out = priced_run["out"]
    scenario = parse_scenario(SCENARIO)
    book = load_book(priced_run["argv"][3])
    priced = price_book(book, scenario, read_run(out, scenario.pricing))
    before = (out / "report.html").read_text("utf-8")
    status = add_pricing_to_report(out, priced)
    assert status.added
    after = (out / "report.html").read_text("utf-8")
    assert after.count('<section id="pricing"') == 1 and after.count('href="#pricing"') == 1
    assert (
        before[: before.index('<section id="pricing"')]
        == after[: after.index('<section id="pricing"')]
    )
    # a folder without a run: nothing; a run of another book: left alone, said why
    assert add_pricing_to_report(tmp_path, priced).message == ""
    other = dataclasses.replace(priced, book_hash="0" * 64)
    status = add_pricing_to_report(out, other)
    assert not status.added and "another book" in status.message


def test_render_report_with_pricing(priced_run: dict[str, Any]) -> None:
    import riskengine as rk

    scenario = parse_scenario(SCENARIO)
    book = load_book(priced_run["argv"][3])
    res = rk.simulate(book, with_pricing_allocation(scenario), sims=1000)
    priced = price_book(book, scenario, RunFacts.of_results(res), resolved=res.compiled.resolved)
    html = render_report(res, pricing=priced)
    assert '<section id="pricing"' in html and 'href="#pricing"' in html
    assert '<section id="pricing"' not in render_report(res)
    other = dataclasses.replace(priced, book_hash="f" * 64)
    assert '<section id="pricing"' not in render_report(res, pricing=other)


# ---------------------------------------------------------------------------------------------
# Realism through the command (issue 12, item 5)
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_price_command_on_the_sample_book_lands_in_the_market_ranges(
    tmp_path: Path, capsys: Any
) -> None:
    """`riskengine price` with the default pricing parameters on the 100,000-buyer sample book:
    the published card at its most common rating and term (B buyers, terms up to 60 days) lies
    within 0.1–0.5 % of insured turnover for grades 0–1 and 0.3–1.2 % for grades 3–6, rising
    with the grade."""
    book = tmp_path / "book"
    code, _, err = run_cli(
        ["generate-book", "--buyers", "100000", "--seed", "2026", "--out", str(book)], capsys
    )
    assert code == 0, err
    scenario = ROOT / "scenarios" / "baseline.yaml"
    out = tmp_path / "run"
    code, text, err = run_cli(
        ["price", str(scenario), "--book", str(book), "--out", str(out), "--sims", "10000"], capsys
    )
    assert code == 0, err
    countries = read(out, "country_rates.parquet")
    assert countries["rating"][0] == "B" and countries["term_band"][0] == 60
    card = (
        read(out, "rate_card.parquet")
        .filter((pl.col("rating") == "B") & (pl.col("term_band") == 60))
        .sort("risk_grade")
    )
    rate = dict(zip(card["risk_grade"], card["fitted_rate"], strict=True))
    for g in (0, 1):
        assert 0.001 <= rate[g] <= 0.005, (g, rate[g])
    for g in (3, 4, 5, 6):
        assert 0.003 <= rate[g] <= 0.012, (g, rate[g])
    assert np.all(np.diff(card["fitted_rate"].to_numpy()) >= 0)
    assert rate[6] > 1.3 * rate[0]
    assert (
        "realism: 6 of 6 graded rates within the market's ranges; rising with the grade: yes"
        in text
    )
