"""Portfolio-wide limits end to end: segment inputs from a run and from a run folder, the command
``riskengine limits`` and its files, ``--verify`` re-simulation, the report's Limits section and
refusals of bad input.

The linear programme itself is tested in tests/test_limits_lp.py; here the references are
computed from the book's own columns and the run's files with plain NumPy: a segment's premium
from its policies, its claims from ``segments.parquet``, TVaR as the mean of the worst
⌈(1 − q)·n⌉ years.
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

import riskengine as rk
from reference.model import make_book
from reference.testing import run_cli
from riskengine.errors import OutputError
from riskengine.limits import (
    UNGRADED,
    LimitsError,
    LimitsOutputs,
    LimitsSettings,
    limit_stresses,
    plan_limits,
    read_limits,
    read_segment_inputs,
    segment_inputs,
    verify_limits,
)
from riskengine.report import add_limits_to_report, render_report
from riskengine.scenario import parse_scenario

COUNTRIES = {
    "country": ["DE", "FR", "BR", "TR", "CL"],
    "region": ["EU", "EU", "LATAM", "EU", "LATAM"],
    "risk_grade": [0, 0, 3, 5, None],
}
SIMS = 20_000
EXPENSES = 0.25  # the pricing defaults: expense_ratio 0.20 + commission 0.05


def limits_book(
    premium: tuple[float, float] = (5e6, 20e6),
    *,
    max_liability: float | None = None,
    per: int = 40,
) -> Any:
    """``per`` buyers in each country and sector (A, B); policy PA covers sector A, PB sector B.

    Limits of 1–5 m, utilisation 50–90 % by country, indemnity 90 %, PDs 2–4 % by country: each
    sector
    expects about 6 m of claims a year, so PA at 5 m of premium loses money after 25 % expenses
    and PB at 20 m earns some. CL has no risk grade.
    """
    rows = [(c, s) for c in COUNTRIES["country"] for s in ("A", "B") for _ in range(per)]
    n = len(rows)
    ids = [f"B{i:04d}" for i in range(n)]
    return make_book(
        buyers={
            "buyer_id": ids,
            "country": [c for c, _ in rows],
            "sector": [s for _, s in rows],
            "pd": [0.02 + 0.01 * (COUNTRIES["country"].index(c) % 3) for c, _ in rows],
            "lgd": [0.5] * n,
            "lgd_sd": [0.2] * n,
            "asset_correlation": [0.25] * n,
        },
        exposures={
            "exposure_id": [f"E{i:04d}" for i in range(n)],
            "policy_id": [f"P{s}" for _, s in rows],
            "buyer_id": ids,
            "limit": [1e6 * (1 + i % 5) for i in range(n)],
            "utilization": [0.5 + 0.1 * COUNTRIES["country"].index(c) for c, _ in rows],
        },
        policies={
            "policy_id": ["PA", "PB"],
            "currency": ["EUR", "EUR"],
            "indemnity": [0.9, 0.9],
            "max_liability": [max_liability] * 2,
            "premium": list(premium),
        },
        countries=COUNTRIES,
    )


def write_book(book: Any, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in book.tables().items():
        df.write_parquet(folder / f"{name}.parquet")
    return folder


def write_scenario(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))  # JSON is YAML
    return path


def tvar(y: np.ndarray, q: float) -> float:
    """Mean of the ⌈(1 − q)·n⌉ worst years (unweighted TVaR, as the measures define it)."""
    k = math.ceil((1 - q) * len(y) - 1e-9)
    return float(np.sort(y)[-k:].mean())


def claims_by(folder: Path, dimension: str, labels: list[str]) -> np.ndarray:
    """Gross claims [years, labels] of one dimension of a run folder's segments.parquet."""
    ylt = pl.read_parquet(folder / "ylt.parquet", columns=["sim_id"])
    seg = pl.read_parquet(folder / "segments.parquet").filter(pl.col("dimension") == dimension)
    row = {s: i for i, s in enumerate(ylt["sim_id"].to_list())}
    out = np.zeros((ylt.height, len(labels)))
    col = {s: j for j, s in enumerate(labels)}
    for s, g, v in seg.select("sim_id", "segment", "gross").iter_rows():
        out[row[s], col[g]] += v
    return out


def segments(folder: Path) -> dict[str, dict[str, Any]]:
    """limits.parquet by segment."""
    df = pl.read_parquet(folder / "limits.parquet")
    return {r["segment"]: r for r in df.iter_rows(named=True)}


@pytest.fixture(scope="module")
def book() -> Any:
    return limits_book()


@pytest.fixture(scope="module")
def run(book: Any) -> rk.Results:
    return rk.simulate(book, parse_scenario({"simulation": {"sims": SIMS}}))


# ---------------------------------------------------------------------------------------------
# Segment inputs
# ---------------------------------------------------------------------------------------------
def test_risk_grades_add_up_to_their_countries(run: rk.Results, book: Any) -> None:
    by_country = segment_inputs(run, "country")
    by_grade = segment_inputs(run, "risk_grade")
    assert by_grade.segments == ("0", "3", "5", UNGRADED)
    grade_of = {"DE": "0", "FR": "0", "BR": "3", "TR": "5", "CL": UNGRADED}
    country_losses = by_country.losses.toarray()
    checked = 0
    for j, g in enumerate(by_grade.segments):
        members = [i for i, c in enumerate(by_country.segments) if grade_of[c] == g]
        assert members
        summed = country_losses[:, members].sum(axis=1)
        np.testing.assert_allclose(by_grade.losses.toarray()[:, j], summed, rtol=1e-12, atol=0)
        for field in ("premium", "exposure", "el"):
            got, want = getattr(by_grade, field)[j], getattr(by_country, field)[members].sum()
            assert got == pytest.approx(want, rel=1e-12)
        checked += int(np.count_nonzero(summed))
    assert checked > 1000  # years with claims were compared
    # every segmentation holds the whole book: the year's gross loss, its premium and its EAD
    gross = run.ylt["gross"].to_numpy()
    for dim in ("country", "region", "sector", "risk_grade"):
        inp = segment_inputs(run, dim)
        np.testing.assert_allclose(np.asarray(inp.losses.sum(axis=1)).ravel(), gross, rtol=1e-9)
        assert inp.premium.sum() == pytest.approx(25e6, rel=1e-12)
        ead = (book.exposures["limit"] * book.exposures["utilization"]).sum()
        assert inp.exposure.sum() == pytest.approx(ead, rel=1e-12)


def test_premium_split_over_segments_by_ead(run: rk.Results, book: Any) -> None:
    """A policy's premium goes to each segment in proportion to the segment's EAD under it; a
    policy whose exposures all have an EAD of 0 splits by limit."""

    def reference(book: Any, labels: tuple[str, ...], premium: dict[str, float]) -> list[float]:
        ex = book.exposures.join(book.buyers.select("buyer_id", "country"), on="buyer_id")
        ex = ex.with_columns((pl.col("limit") * pl.col("utilization")).alias("ead"))
        out = []
        for c in labels:
            want = 0.0
            for pol, p in premium.items():
                mine = ex.filter(pl.col("policy_id") == pol)
                by = "ead" if mine["ead"].sum() > 0 else "limit"
                want += p * mine.filter(pl.col("country") == c)[by].sum() / mine[by].sum()
            out.append(want)
        return out

    inp = segment_inputs(run, "country")
    want = reference(book, inp.segments, {"PA": 5e6, "PB": 20e6})
    np.testing.assert_allclose(inp.premium, want, rtol=1e-12)
    assert not np.allclose(inp.premium, inp.premium.mean())  # EAD shares differ by country
    # PA's exposures unused: its premium follows the limits
    idle = limits_book(per=3)
    used = pl.when(pl.col("policy_id") == "PA").then(0.0).otherwise(pl.col("utilization"))
    idle = dataclasses.replace(
        idle, exposures=idle.exposures.with_columns(used.alias("utilization"))
    )
    res = rk.simulate(idle, parse_scenario({"simulation": {"sims": 100}}))
    inp = segment_inputs(res, "country")
    want = reference(idle, inp.segments, {"PA": 5e6, "PB": 20e6})
    np.testing.assert_allclose(inp.premium, want, rtol=1e-12)


def test_folder_reader_gives_the_runs_inputs(run: rk.Results, book: Any, tmp_path: Path) -> None:
    sc = parse_scenario({"simulation": {"sims": 2000}, "outputs": {"segments": ["region"]}})
    res = rk.simulate(book, sc)
    rk.write_outputs(res, tmp_path, report=False)
    r = res.compiled.resolved
    for dim in ("region", "sector", "country"):
        if dim != "region":  # the folder has regions only
            with pytest.raises(OutputError, match=f"has no {dim} segments"):
                read_segment_inputs(tmp_path, r, dim, book_hash=book.content_hash())
            continue
        a = segment_inputs(res, dim)
        b = read_segment_inputs(tmp_path, r, dim, book_hash=book.content_hash())
        assert a.segments == b.segments
        # the folder's regions were summed from countries in another order: equal to rounding
        np.testing.assert_allclose(a.losses.toarray(), b.losses.toarray(), rtol=1e-12)
        np.testing.assert_array_equal(a.premium, b.premium)


# ---------------------------------------------------------------------------------------------
# The command: a case whose answer is known
# ---------------------------------------------------------------------------------------------
def test_a_loss_making_segment_is_cut_first(tmp_path: Path, capsys: Any) -> None:
    """By sector: A earns 0.75 × 5 m − EL_A < 0, B earns 0.75 × 20 m − EL_B > 0. Claims are ≥ 0
    and TVaR is positively homogeneous, so the optimum closes A and scales B to
    min(max_scale, appetite / TVaR(L_B)), whatever the appetite."""
    bk = write_book(limits_book(), tmp_path / "book")
    limits = {"max_scale": 1.2, "level": 99.0}  # the scenario's limits block is honoured
    # no segments asked for: the command keeps the ones --by needs (and writes them)
    outputs = {"segments": []}
    sc = write_scenario(
        tmp_path / "sc.yaml",
        {"name": "known", "simulation": {"sims": SIMS}, "limits": limits, "outputs": outputs},
    )
    out = tmp_path / "out"
    argv = ["limits", str(sc), "--book", str(bk), "--by", "sector", "--out", str(out)]
    code, text, err = run_cli([*argv, "--appetite", "40m"], capsys)
    assert code == 0, err
    claims = claims_by(out, "sector", ["A", "B"])
    el = claims.mean(axis=0)
    margin = 0.75 * np.array([5e6, 20e6]) - el
    assert margin[0] < 0 < margin[1]  # the premise
    t_b = tvar(claims[:, 1], 0.99)
    assert 1.2 * t_b > 40e6  # the appetite binds: B is between its bounds
    got = segments(out)
    assert got["A"]["scale"] == 0.0 and got["A"]["el"] == 0.0
    assert got["B"]["scale"] == pytest.approx(40e6 / t_b, rel=1e-9)
    assert got["B"]["profit"] == pytest.approx(40e6 / t_b * margin[1], rel=1e-9)
    assert got["B"]["tvar_contribution"] == pytest.approx(40e6, rel=1e-9)
    assert got["B"]["limit"] == pytest.approx(got["B"]["scale"] * got["B"]["exposure"], rel=1e-12)
    doc = json.loads((out / "limits.json").read_text())
    assert doc["proposed"]["binding"] and doc["proposed"]["tvar"] == pytest.approx(40e6, rel=1e-9)
    # the shadow price: profit per unit of TVaR of the one free segment
    assert doc["proposed"]["shadow_price"] == pytest.approx(margin[1] / t_b, rel=1e-6)
    assert doc["settings"] == {
        "appetite": 40e6,
        "expense_share": EXPENSES,
        "min_scale": 0.0,
        "max_scale": 1.2,
        "level": 99.0,
    }
    assert "linearly" in text and "B" in text
    for name in ("frontier.parquet", "frontier.png", "report.html", "segments.parquet"):
        assert (out / name).exists(), name
    assert 'id="limits"' in (out / "report.html").read_text()
    assert doc["run"]["book_hash"] == rk.load_book(bk).content_hash()
    frontier = pl.read_parquet(out / "frontier.parquet")
    assert frontier.height == 21
    np.testing.assert_allclose(frontier["profit"], frontier["tvar"] / t_b * margin[1], rtol=1e-6)

    # a large appetite from the same run folder: B at max_scale, A still closed
    code, text, err = run_cli(
        [*argv, "--results", str(out), "--appetite", "1e12", "--frontier", "5"], capsys
    )
    assert code == 0, err
    got = segments(out)
    assert (got["A"]["scale"], got["B"]["scale"]) == (0.0, 1.2)
    assert "does not bind" in text
    assert pl.read_parquet(out / "frontier.parquet").height == 5


# ---------------------------------------------------------------------------------------------
# --verify
# ---------------------------------------------------------------------------------------------
def test_verify_without_binding_terms_reproduces_the_linear_tvar(
    book: Any, run: rk.Results
) -> None:
    """No policy term binds: with the run's seed the re-simulated years are the run's years with
    each segment's claims scaled, so the re-simulated TVaR is the optimum's, to rounding."""
    appetite = 0.6 * run.measures("gross")["TVaR"]["99.5"]["value"]
    plan = plan_limits(segment_inputs(run, "country"), LimitsSettings(appetite, EXPENSES))
    scale = plan.solution.scale
    assert np.any((scale > 0) & (scale < 1.5)) and len(np.unique(scale)) >= 3
    checked = verify_limits(plan, book, run.scenario, run.compiled.resolved)
    (only,) = checked.rounds
    assert only.within and checked.verified
    assert only.tvar == pytest.approx(appetite, rel=1e-12)
    assert only.el == pytest.approx(only.lp_el, rel=1e-12)


@pytest.mark.slow
def test_verify_under_importance_sampling_keeps_the_runs_years_and_weights(book: Any) -> None:
    """With importance sampling the re-simulation reuses the run's mixture — taken from the run,
    or chosen again as the run chose it — so the weighted TVaR is still the optimum's."""
    sampling = {"pilot": 1_000, "components": 1}
    sc = parse_scenario({"simulation": {"sims": 5_000, "importance_sampling": sampling}})
    res = rk.simulate(book, sc)
    assert res.weights is not None  # the years are weighted
    inputs = segment_inputs(res, "region")
    assert inputs.weights is not None
    appetite = 0.7 * res.measures("gross")["TVaR"]["99.5"]["value"]
    plan = plan_limits(inputs, LimitsSettings(appetite, EXPENSES))
    assert plan.solution.binding
    for base in (res.compiled, None):
        (only,) = verify_limits(plan, book, sc, res.compiled.resolved, base=base).rounds
        assert only.tvar == pytest.approx(plan.solution.tvar.value, rel=1e-12)
        assert only.tvar_se == pytest.approx(plan.solution.tvar.se, rel=1e-9)
        assert only.el == pytest.approx(only.lp_el, rel=1e-12)


def test_stresses_apply_each_segments_scale(run: rk.Results) -> None:
    """The stress transforms of a plan scale exactly each segment's exposures by its scale."""
    from riskengine.portfolio.stress import apply_stresses

    r = run.compiled.resolved
    labels = ("0", "3", "5", UNGRADED)
    scale = np.array([0.5, 1.0, 0.5, 0.0])
    stresses = limit_stresses(r, "risk_grade", labels, scale)
    got = {
        (s.limit_multiplier, tuple(s.where.risk_grade or ()), tuple(s.where.country or ()))
        for s in stresses
    }
    assert got == {(0.5, (0, 5), ()), (0.0, (), ("CL",))}
    stressed, _ = apply_stresses(r, stresses, run.scenario)
    before = segment_inputs(run, "risk_grade").exposure
    grade = {"DE": "0", "FR": "0", "BR": "3", "TR": "5", "CL": UNGRADED}
    country = r.country_codes[r.b_country[r.e_buyer]]
    after = [stressed.e_ead[[grade[c] == g for c in country]].sum() for g in labels]
    np.testing.assert_allclose(after, scale * before, rtol=1e-12)


@pytest.mark.slow
def test_verify_tightens_until_the_resimulated_tvar_is_within_the_appetite(
    tmp_path: Path, capsys: Any
) -> None:
    """A maximum liability that binds in the bad years: cutting limits cuts those years' claims
    by less than the linear programme assumes, so the first proposal overshoots the appetite and
    --verify tightens it. The re-simulated TVaR is checked here by simulating the proposed
    limits independently (stresses built from limits.parquet)."""
    bk = limits_book(max_liability=60e6)
    folder = write_book(bk, tmp_path / "book")
    sc_path = write_scenario(tmp_path / "sc.yaml", {"simulation": {"sims": SIMS}})
    out = tmp_path / "out"
    appetite = 72e6  # 60 % of today's TVaR 99.5 % (both policies at their cap: 120 m)
    code, text, err = run_cli(
        [
            "limits",
            str(sc_path),
            "--book",
            str(folder),
            "--by",
            "country",
            "--appetite",
            f"{appetite:.0f}",
            "--out",
            str(out),
            "--verify",
        ],
        capsys,
    )
    assert code == 0, err
    doc = json.loads((out / "limits.json").read_text())
    assert doc["current"]["tvar"] == pytest.approx(120e6, rel=1e-12)  # the caps bind
    rounds = doc["verify"]["rounds"]
    assert len(rounds) >= 2
    assert not rounds[0]["within"] and rounds[0]["tvar"] > appetite + 2 * rounds[0]["tvar_se"]
    last = rounds[-1]
    assert last["within"] and last["tvar"] <= appetite
    assert last["lp_appetite"] < appetite
    assert "--verify" in text and "re-simulated" in text
    # the last round's limits, simulated here from limits.parquet, give the reported TVaR
    got = pl.read_parquet(out / "limits.parquet")
    stresses = [
        {"name": f"s{i}", "limit_multiplier": x, "where": {"country": [c]}}
        for i, (c, x) in enumerate(got.select("segment", "scale").iter_rows())
    ]
    res = rk.simulate(bk, parse_scenario({"simulation": {"sims": SIMS}, "stress": stresses}))
    assert tvar(res.ylt["gross"].to_numpy(), 0.995) == pytest.approx(last["tvar"], rel=1e-12)


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------
def _cells(html: str) -> list[list[str]]:
    start = html.index('<section id="limits"')
    body = html[start : html.index("</section>", start)]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    clean = [
        [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in rows
    ]
    return [r for r in clean if r]


def test_report_shows_the_limits_of_its_run(run: rk.Results, tmp_path: Path) -> None:
    from riskengine.report.format import fmt_amount

    appetite = 0.7 * run.measures("gross")["TVaR"]["99.5"]["value"]
    plan = plan_limits(segment_inputs(run, "country"), LimitsSettings(appetite, EXPENSES))
    outputs = LimitsOutputs.of(plan)
    assert 'id="limits"' not in render_report(run)
    html = render_report(run, limits=outputs)
    assert 'href="#limits"' in html and "Limits by country" in html
    rows = {r[0]: r for r in _cells(html) if len(r) == 8}
    for r in plan.frame().iter_rows(named=True):
        cells = rows[r["segment"]]
        assert cells[1] == fmt_amount(r["exposure"], "EUR")
        assert cells[2] == fmt_amount(r["limit"], "EUR")
        assert cells[3] == f"{r['scale']:.2f}"
        assert cells[7] == fmt_amount(r["tvar_contribution"], "EUR")
    assert rows["All segments"][2] == fmt_amount(float(plan.frame()["limit"].sum()), "EUR")
    # spliced into a written run's page, the same section; a page of another book is left alone
    rk.write_outputs(run, tmp_path)
    assert add_limits_to_report(tmp_path, outputs).added
    page = (tmp_path / "report.html").read_text()
    assert _cells(page) == _cells(html)
    run_block = {**outputs.document["run"], "book_hash": "0" * 64}
    other = LimitsOutputs(
        {**outputs.document, "run": run_block}, outputs.segments, outputs.frontier
    )
    status = add_limits_to_report(tmp_path, other)
    assert not status.added and "another book" in status.message


def test_limits_outputs_round_trip_and_damage_is_refused(run: rk.Results, tmp_path: Path) -> None:
    from riskengine.limits import write_limits

    plan = plan_limits(segment_inputs(run, "region"), LimitsSettings(1e8, EXPENSES))
    assert read_limits(tmp_path) is None
    write_limits(plan, tmp_path)
    back = read_limits(tmp_path)
    assert back is not None and back.dimension == "region"
    assert back.segments.equals(plan.frame()) and back.frontier.equals(plan.frontier)
    (tmp_path / "frontier.parquet").write_bytes(b"not parquet")
    with pytest.raises(OutputError, match="cannot read the limits outputs"):
        read_limits(tmp_path)


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A book, its scenario, and run folders with and without segments."""
    root = tmp_path_factory.mktemp("limits-bad")
    paths = {"book": write_book(limits_book(per=10), root / "book")}
    bk = rk.load_book(paths["book"])  # the book the command loads (its hash)
    paths["sc"] = write_scenario(root / "sc.yaml", {"simulation": {"sims": 500}})
    for name, seg in (("none", []), ("sector", ["sector"])):
        sc = parse_scenario(
            {"simulation": {"sims": 500}, "outputs": {"segments": seg, "report": False}}
        )
        rk.write_outputs(rk.simulate(bk, sc), root / name)
        paths[name] = root / name
    other = limits_book(premium=(1e6, 1e6), per=10)
    rk.write_outputs(
        rk.simulate(other, parse_scenario({"simulation": {"sims": 500}})), root / "other"
    )
    paths["other"] = root / "other"
    return paths


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--by", "buyer", "--appetite", "1m"],
            ["--by", "country, region, sector, risk_grade", "'buyer'"],
        ),
        (["--by", "country", "--appetite", "-5m"], ["--appetite", "≥ 0", "'-5m'"]),
        (["--by", "country", "--appetite", "lots"], ["--appetite", "'lots'"]),
        (
            ["--by", "country", "--appetite", "1m", "--results", "{none}"],
            ["no segments.parquet", "outputs.segments", "'country'"],
        ),
        (
            ["--by", "risk_grade", "--appetite", "1m", "--results", "{sector}"],
            [
                "segments.parquet",
                "has no risk_grade segments (it has: sector)",
                "'country'",
                "summed from countries",
            ],
        ),
        (
            ["--by", "sector", "--appetite", "1m", "--results", "{other}"],
            ["summary.json", "another book", "--book"],
        ),
        (["--by", "sector", "--appetite", "1m", "--results", "{book}"], ["not a finished run"]),
    ],
    ids=[
        "unknown-by",
        "negative",
        "not-a-number",
        "no-segments",
        "no-country",
        "other-book",
        "not-a-run",
    ],
)
def test_bad_input_exits_2_with_a_message(
    folders: dict[str, Path], args: list[str], expected: list[str], capsys: Any
) -> None:
    args = [a.format(**{k: str(v) for k, v in folders.items()}) for a in args]
    argv = ["limits", str(folders["sc"]), "--book", str(folders["book"]), *args]
    code, out, err = run_cli([*argv, "--out", str(folders["book"].parent / "x")], capsys)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    for piece in expected:
        assert piece in err, (piece, err)


def test_an_appetite_below_the_least_the_bounds_allow_is_refused(run: rk.Results) -> None:
    inp = segment_inputs(run, "sector")
    with pytest.raises(LimitsError, match="appetite") as info:
        plan_limits(inp, LimitsSettings(1.0, EXPENSES, min_scale=0.5))
    assert "lower bound" in str(info.value)
    with pytest.raises(LimitsError, match="≥ 0"):
        LimitsSettings(-1.0, EXPENSES)


def test_limits_block_rules() -> None:
    from riskengine.errors import ScenarioError

    with pytest.raises(ScenarioError) as info:
        parse_scenario({"limits": {"min_scale": 2, "max_scale": 1, "level": 100, "hurdle": 1}})
    text = str(info.value)
    for piece in ("limits.level", "limits.hurdle", "min_scale 2 must not exceed max_scale 1"):
        assert piece in text
    assert parse_scenario({}).limits.max_scale == 1.5


def test_benchmark_smoke() -> None:
    """benchmarks/limits_lp.py runs (tiny); its two solves agree. No time is asserted."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import limits_lp

    r = limits_lp.measure(buyers=600, sims=1_000)
    assert r["segments"] > 20 and r["claims_stored"] > 0
    assert r["scale_difference"] < 1e-9  # working set and all years: the same optimum
    assert r["frontier_points"] == 21 and r["solve_rounds"] >= 1
    # today's TVaR of the summed country claims is the run's gross TVaR, which set the appetite
    assert r["appetite"] == pytest.approx(limits_lp.APPETITE_SHARE * r["tvar_today"], rel=1e-9)
    assert "| one solve (working set) |" in limits_lp.markdown(r)
