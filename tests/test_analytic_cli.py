"""CreditRisk+ wired into riskengine: the scenario block, the inputs from a book, the command,
its files, the report's comparison with a simulation, and refusals of bad input.

References are computed here from the book's own columns, scipy's negative binomial law and the
closed forms of the one-factor Gaussian model (tests/reference/laws.py); statistical checks use
K = 4 standard errors reported by the simulation, and each shows that a plausibly wrong
parameter would fail it.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import integrate, stats

from reference.laws import finite_portfolio_pmf, vasicek_ppf
from reference.model import homogeneous_book
from reference.testing import K, mixed_book, mixed_scenario, run_cli
from riskengine.analytic import (
    analytic_inputs,
    credit_risk_plus,
    matched_pd_volatility,
    read_analytic,
)
from riskengine.book import generate_book, load_book
from riskengine.errors import OutputError, ScenarioError
from riskengine.portfolio.compile import compile_portfolio
from riskengine.portfolio.resolve import resolve
from riskengine.report.render import splice_section
from riskengine.scenario import load_scenario, parse_scenario


def write_book(book, folder: Path) -> Path:
    """``book``'s tables as Parquet files in ``folder`` (a book folder the CLI loads)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in book.tables().items():
        df.write_parquet(folder / f"{name}.parquet")
    return folder


def write_scenario(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))  # JSON is YAML
    return path


def analytic_json(folder: Path) -> dict:
    return json.loads((folder / "analytic.json").read_text())


def section_of(html: str, ident: str = "analytic") -> str:
    start = html.index(f'<section id="{ident}"')
    return html[start : html.index("</section>", start) + len("</section>")]


def cells(section: str, label: str) -> list[str]:
    """The text of the table row starting with ``label`` (tags stripped, one item per cell)."""
    row = re.search(rf"<tr[^>]*><td>{re.escape(label)}</td>(.*?)</tr>", section, re.S)
    assert row, label
    return [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", row[1])]


# ---------------------------------------------------------------------------------------------
# The scenario block
# ---------------------------------------------------------------------------------------------
def test_analytic_block_defaults() -> None:
    a = parse_scenario({}).analytic
    assert (a.band, a.pd_volatility, a.sector_by, a.specific_share) == (None, 0.5, "none", 0.0)
    b = parse_scenario({"analytic": {"band": 1e4, "sector_by": "region", "specific_share": 0.2}})
    assert (b.analytic.band, b.analytic.sector_by, b.analytic.specific_share) == (
        1e4,
        "region",
        0.2,
    )


def test_bad_analytic_block_lists_every_problem() -> None:
    bad = {
        "band": -1,
        "pd_volatility": -0.1,
        "sector_by": "industry",
        "specific_share": 1.0,
        "bnad": 2,
    }
    with pytest.raises(ScenarioError) as e:
        parse_scenario({"analytic": bad}, "s.yaml")
    text = str(e.value)
    for key in ("band", "pd_volatility", "sector_by", "specific_share", "bnad"):
        assert f"key 'analytic.{key}'" in text, key
    assert "did you mean 'band'?" in text
    assert "must be < 1 (got 1)" in text


# ---------------------------------------------------------------------------------------------
# Inputs from a book
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sector_by", ["none", "country", "region", "sector"])
def test_inputs_from_the_books_columns(sector_by: str) -> None:
    book = mixed_book()
    sc = mixed_scenario().model_copy(
        update={"analytic": parse_scenario({"analytic": {"sector_by": sector_by}}).analytic}
    )
    inp = analytic_inputs(resolve(book, sc), sc.analytic)
    # reference: Σ limit × utilisation × fx × mean LGD over exposures with commercial cover,
    # defaults from mixed_scenario (utilisation 0.7, LGD mean 0.45), fx into EUR
    fx = {"EUR": 1.0, "USD": 0.92, "GBP": 1.17}
    pol_ccy = dict(book.policies.select("policy_id", "currency").iter_rows())
    buyers = book.buyers.to_dicts()
    lgd = {b["buyer_id"]: b["lgd"] if b["lgd"] is not None else 0.45 for b in buyers}
    want = dict.fromkeys(lgd, 0.0)
    for e in book.exposures.to_dicts():
        if e["commercial_cover"]:
            ccy = e["currency"] or pol_ccy[e["policy_id"]]
            util = 0.7 if e["utilization"] is None else e["utilization"]
            want[e["buyer_id"]] += e["limit"] * util * fx[ccy] * lgd[e["buyer_id"]]
    assert list(inp.buyer_ids) == [b["buyer_id"] for b in buyers]
    np.testing.assert_allclose(inp.exposure, [want[b] for b in inp.buyer_ids], rtol=1e-14)
    assert inp.exposure[inp.buyer_ids.tolist().index("b09")] == 0.0  # no commercial cover
    ratings = sc.ratings
    pds = [b["pd"] if b["pd"] is not None else ratings[b["rating"]] for b in buyers]
    np.testing.assert_array_equal(inp.pd, pds)
    region = {"AR": "LATAM", "BR": "LATAM", "DE": "EU", "FR": "EU"}
    label = {
        "none": ["book"] * len(buyers),
        "country": [b["country"] for b in buyers],
        "region": [region[b["country"]] for b in buyers],
        "sector": [b["sector"] for b in buyers],
    }[sector_by]
    assert list(inp.sector_labels[inp.sector]) == label
    assert list(inp.sector_labels) == sorted(set(label))


def test_matched_pd_volatility_matches_the_pairwise_default_covariance() -> None:
    # p₂ = ∫ Φ((Φ⁻¹(p) − √ρ z)/√(1 − ρ))² φ(z) dz: the joint default probability by quadrature
    for p, rho in [(0.01, 0.05), (0.03, 0.2), (0.2, 0.5)]:
        a = stats.norm.ppf(p)

        def f(z: float, a: float = a, rho: float = rho) -> float:
            return stats.norm.cdf((a - math.sqrt(rho) * z) / math.sqrt(1 - rho)) ** 2 * (
                stats.norm.pdf(z)
            )

        p2 = integrate.quad(f, -12, 12, epsabs=1e-15, epsrel=1e-12)[0]
        assert matched_pd_volatility(p, rho) == pytest.approx(math.sqrt(p2 - p * p) / p, 1e-9)
    assert matched_pd_volatility(0.02, 0.0) == 0.0


# ---------------------------------------------------------------------------------------------
# The command and its files
# ---------------------------------------------------------------------------------------------
def test_exact_negative_binomial_through_the_command(tmp_path: Path, capsys) -> None:
    n, p, v = 400, 0.02, 0.8
    book = write_book(homogeneous_book(n, p, 0.1), tmp_path / "book")
    sc = write_scenario(
        tmp_path / "nb.yaml", {"name": "nb", "analytic": {"band": 1.0, "pd_volatility": v}}
    )
    folder = tmp_path / "o"
    argv = ["analytic", str(sc), "--book", str(book), "--out", str(folder)]
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    dist = pl.read_parquet(folder / "analytic_distribution.parquet")
    assert dist.columns == ["loss", "probability"]
    # one sector, unit exposures: the number of defaults is negative binomial with r = 1/v²
    # and mean n p (CSFB A8.3)
    r = 1 / v**2
    law = stats.nbinom(r, 1 / (1 + v**2 * n * p))
    k = np.arange(dist.height)
    np.testing.assert_array_equal(dist["loss"].to_numpy(), k.astype(float))
    np.testing.assert_allclose(dist["probability"].to_numpy(), law.pmf(k), rtol=0, atol=1e-13)
    assert law.sf(dist.height - 1) <= 1e-12  # the grid leaves out at most its bound
    doc = analytic_json(folder)
    m = doc["measures"]["ground_up"]
    assert m["EL"] == {"value": pytest.approx(n * p, rel=1e-14), "se": 0.0}
    assert m["SD"]["value"] == pytest.approx(law.std(), rel=1e-12)
    big = np.arange(2000)
    pmf = law.pmf(big)
    for key, level in (("90", 0.9), ("99", 0.99), ("99.5", 0.995), ("99.9", 0.999)):
        var = int(np.searchsorted(np.cumsum(pmf), level - 1e-12))
        assert m["VaR"][key] == {"value": float(var), "se": 0.0}
        # brute-force TVaR: the worst (1 − q) of probability, the atom at VaR in part
        above = big > var
        tvar = (np.sum(big[above] * pmf[above]) + var * (1 - level - pmf[above].sum())) / (
            1 - level
        )
        assert m["TVaR"][key]["value"] == pytest.approx(tvar, rel=1e-9)
    assert m["capital"] == pytest.approx(m["VaR"]["99.5"]["value"] - n * p, rel=1e-12)
    assert doc["model"]["band"] == 1.0 and doc["model"]["sectors"] == 1
    assert doc["run"]["reporting_currency"] == "EUR" and doc["levels"] == [90, 95, 99, 99.5, 99.9]
    # contributions add up: buyers are alike, so each of the n has 1/n of EL, SD and VaR
    c = doc["contributions"]
    assert c["buyers"]["top"] == 10 and c["buyers"]["of"] == n and len(c["buyers"]["rows"]) == 10
    row = c["buyers"]["rows"][0]
    assert row["el"] == pytest.approx(p, rel=1e-12)
    assert row["sd"] == pytest.approx(law.std() / n, rel=1e-12)
    assert row["var"] == pytest.approx(m["VaR"]["99.5"]["value"] / n, rel=1e-12)
    (country,) = c["country"]
    assert country["segment"] == "DE" and country["exposure"] == pytest.approx(n)
    assert country["var"] == pytest.approx(m["VaR"]["99.5"]["value"], rel=1e-12)
    # the printout
    assert "CreditRisk+ ground-up loss (400 buyers" in out and "EL" in out
    assert "buyers in" in out and "✓ wrote" in out


def test_el_equals_the_simulations_exact_expected_ground_up(
    sample_book_dir: Path, tmp_path: Path, capsys
) -> None:
    """On the sample book with political events off, CreditRisk+'s EL is the simulated model's
    exact expected ground-up loss (docs/model.md §7): the same exposures, PDs and mean LGDs."""
    for political, same in ((False, True), (True, False)):
        data = {"political": {"enabled": political}, "analytic": {"sector_by": "country"}}
        sc_path = write_scenario(tmp_path / f"s{political}.yaml", data)
        out = tmp_path / f"out{political}"
        argv = ["analytic", str(sc_path), "--book", str(sample_book_dir), "--out", str(out)]
        code, _, err = run_cli(argv, capsys)
        assert code == 0, err
        exact = compile_portfolio(load_book(sample_book_dir), load_scenario(sc_path))
        el = analytic_json(out)["measures"]["ground_up"]["EL"]["value"]
        # political events on: the exact expected loss differs (the check can fail)
        assert (abs(el - exact.expected_ground_up) <= 1e-12 * el) == same
    doc = analytic_json(out)
    assert doc["book"]["buyers"] == 20_000
    assert len(doc["contributions"]["country"]) == doc["model"]["sectors"]
    total = sum(r["var"] for r in doc["contributions"]["sector"])
    assert total == pytest.approx(doc["measures"]["ground_up"]["VaR"]["99.5"]["value"], 1e-9)


def test_bad_input_exits_2_with_a_message(tmp_path: Path, capsys, frames) -> None:
    from conftest import write_tables

    good = write_tables(tmp_path / "good", frames)
    # a bad analytic block: every key named
    bad = write_scenario(tmp_path / "bad.yaml", {"analytic": {"band": 0, "sector_by": "city"}})
    code, _, err = run_cli(["analytic", str(bad), "--book", str(good)], capsys)
    assert code == 2 and "Traceback" not in err
    assert f"{bad}: key 'analytic.band'" in err and "key 'analytic.sector_by'" in err
    # a rating the scenario has no PD for
    frames["buyers"] = frames["buyers"].with_columns(
        rating=pl.Series(["ZZ", "BB", "B", "CCC", "QQ"])
    )
    no_pd = write_tables(tmp_path / "no_pd", frames)
    ok = write_scenario(tmp_path / "ok.yaml", {})
    code, _, err = run_cli(["analytic", str(ok), "--book", str(no_pd)], capsys)
    assert code == 2 and "Traceback" not in err
    assert "buyers.csv: column 'rating'" in err and "not in the ratings table" in err
    assert "(first: B5)" in err  # B1 has a pd; B5's rating QQ has none
    # a loss unit too small for the grid: named as the scenario file's key
    tiny = write_scenario(tmp_path / "tiny.yaml", {"analytic": {"band": 1e-6}})
    code, _, err = run_cli(["analytic", str(tiny), "--book", str(good)], capsys)
    assert code == 2 and "Traceback" not in err
    assert f"{tiny}: key 'analytic.band'" in err


# ---------------------------------------------------------------------------------------------
# The report: CreditRisk+ beside the simulation
# ---------------------------------------------------------------------------------------------
def test_report_shows_the_comparison_in_either_order(tmp_path: Path, capsys) -> None:
    book = tmp_path / "book"
    generate_book(300, seed=5, out=book)
    sc = write_scenario(
        tmp_path / "s.yaml",
        {
            "name": "cmp",
            "book": "book",
            "simulation": {"sims": 2000},
            "political": {"enabled": False},
        },
    )
    first, second = tmp_path / "sim-first", tmp_path / "analytic-first"
    for folder, order in ((first, ("simulate", "analytic")), (second, ("analytic", "simulate"))):
        for command in order:
            code, out, err = run_cli([command, str(sc), "--out", str(folder)], capsys)
            assert code == 0, err
        if order[-1] == "analytic":
            assert f"✓ added the CreditRisk+ comparison to {folder / 'report.html'}" in out
    pages = [(f / "report.html").read_text() for f in (first, second)]
    # the same comparison, whichever ran first (but for how long CreditRisk+ took)
    sections = [re.sub(r"computed in [0-9.]+ s", "computed in … s", section_of(p)) for p in pages]
    assert "computed in … s" in sections[0]
    assert sections[0] == sections[1]
    for page in pages:
        assert page.count('<section id="analytic"') == 1
        nav = re.search(r'<nav class="toc">(.*?)</nav>', page)[1]
        assert re.findall(r'href="#([\w-]+)"', nav).index("analytic") == 4  # after distribution
        assert page.index('id="distribution"') < page.index('id="analytic"')
        assert page.index('id="analytic"') < page.index('id="concentration"')
    s = sections[0]
    assert "equals CreditRisk+'s EL" in s and 'class="note warn"' not in s
    assert 'aria-label="Ground-up exceedance curves: CreditRisk+ and simulation"' in s
    # the table shows the numbers of both files
    doc = analytic_json(first)
    summary = json.loads((first / "summary.json").read_text())
    from riskengine.report import fmt_amount

    for label, get in (
        ("Expected loss (EL)", lambda m: m["EL"]),
        ("VaR 99.5 %", lambda m: m["VaR"]["99.5"]),
        ("TVaR 99 %", lambda m: m["TVaR"]["99"]),
    ):
        a = get(doc["measures"]["ground_up"])["value"]
        sim = get(summary["measures"]["ground_up"])
        row = cells(s, label)
        assert " ".join(row[0]) == fmt_amount(a, "EUR")
        assert " ".join(row[1]).startswith(fmt_amount(sim["value"], "EUR"))
        z = (sim["value"] - a) / sim["se"]
        assert row[3] == [f"{z:+.2f}".replace("-", "\u2212")]
    # rerunning analytic replaces the section, it does not add another
    code, _, err = run_cli(["analytic", str(sc), "--out", str(first)], capsys)
    assert code == 0, err
    assert (first / "report.html").read_text().count('<section id="analytic"') == 1


def test_report_warns_when_political_events_are_on(tmp_path: Path, capsys) -> None:
    book = tmp_path / "book"
    generate_book(300, seed=5, out=book)
    sc = write_scenario(tmp_path / "s.yaml", {"book": "book", "simulation": {"sims": 1000}})
    for command in ("analytic", "simulate"):
        code, _, err = run_cli([command, str(sc), "--out", str(tmp_path / "o")], capsys)
        assert code == 0, err
    s = section_of((tmp_path / "o" / "report.html").read_text())
    assert 'class="note warn"' in s and "<strong>Not here</strong>" in s


def test_report_left_alone_for_another_book(tmp_path: Path, capsys) -> None:
    generate_book(300, seed=5, out=tmp_path / "a")
    generate_book(300, seed=6, out=tmp_path / "b")
    sc = write_scenario(tmp_path / "s.yaml", {"simulation": {"sims": 500}})
    folder = tmp_path / "o"
    argv = ["simulate", str(sc), "--book", str(tmp_path / "a"), "--out", str(folder)]
    assert run_cli(argv, capsys)[0] == 0
    before = (folder / "report.html").read_bytes()
    argv = ["analytic", str(sc), "--book", str(tmp_path / "b"), "--out", str(folder)]
    code, out, _ = run_cli(argv, capsys)
    assert code == 0 and "not changed: CreditRisk+ was computed on another book" in out
    assert (folder / "report.html").read_bytes() == before
    assert read_analytic(folder) is not None
    # and the other order: a new simulation of book a leaves book b's CreditRisk+ out
    argv = ["simulate", str(sc), "--book", str(tmp_path / "a"), "--out", str(folder)]
    assert run_cli(argv, capsys)[0] == 0
    assert 'id="analytic"' not in (folder / "report.html").read_text()


def test_splice_section_adds_in_page_order_and_replaces() -> None:
    page = (
        '<main><nav class="toc"><a href="#key-figures">Key figures</a><a href="#distribution">'
        'Loss distribution</a><a href="#book">Book</a></nav><section id="key-figures">k</section>'
        '<section id="distribution">d</section><section id="book">b</section><footer>f</footer>'
    )
    once = splice_section(page, "analytic", "CreditRisk+", '<section id="analytic">A</section>')
    assert once.index('id="distribution"') < once.index('id="analytic"') < once.index('id="book"')
    assert (
        '<a href="#distribution">Loss distribution</a><a href="#analytic">CreditRisk+</a>' in once
    )
    twice = splice_section(once, "analytic", "CreditRisk+", '<section id="analytic">B</section>')
    assert twice == once.replace(">A<", ">B<")
    # no later section on the page: before the footer
    bare = '<nav class="toc"></nav><section id="key-figures">k</section><footer>f</footer>'
    added = splice_section(bare, "analytic", "CreditRisk+", '<section id="analytic">A</section>')
    assert added.endswith('<section id="analytic">A</section><footer>f</footer>')
    assert '<nav class="toc"><a href="#analytic">CreditRisk+</a></nav>' in added


# ---------------------------------------------------------------------------------------------
# CreditRisk+ against the simulation of a matched one-factor book
# ---------------------------------------------------------------------------------------------
def _joint_default(p: float, rho: float) -> float:
    """p₂ = P(two buyers default) in the one-factor Gaussian model, by quadrature."""
    a = stats.norm.ppf(p)

    def f(z: float) -> float:
        return stats.norm.cdf((a - math.sqrt(rho) * z) / math.sqrt(1 - rho)) ** 2 * stats.norm.pdf(
            z
        )

    return integrate.quad(f, -12, 12, epsabs=1e-15, epsrel=1e-12)[0]


@pytest.mark.slow
def test_matched_sector_variance_reproduces_the_simulations_sd_and_var(
    tmp_path: Path, capsys
) -> None:
    """n identical buyers (PD p, R² ρ, unit exposure, LGD 1 with sd 0) in a one-factor Gaussian
    simulation, and CreditRisk+ with one sector whose variance matches the default correlation:
    v² p² = p₂ − p² (``matched_pd_volatility``).

    SD: every pair of buyers has the same covariance in both models, so the variances differ
    only by the diagonal, Poisson against Bernoulli: Var_CR+ − Var_sim = p₂ n exactly. The
    simulated SD must equal √(Var_CR+ − p₂ n) within K standard errors.

    VaR: the two laws differ in shape (gamma against Vasicek) at matched variance; their gap is
    that of the large-portfolio limits, n (F_Vasicek⁻¹(q) − p F_Gamma⁻¹(q)), computed here from
    scipy's laws, up to granularity: the premise checks on the exact finite laws that the gap
    of the two models is within 2 units of it. The simulated VaR must lie within that gap,
    2 units and K standard errors of CreditRisk+'s. A sector variance from the default
    pd_volatility 0.5, or from 0.8, fails both checks.
    """
    n, p, rho, sims = 5000, 0.01, 0.05, 20_000
    v = matched_pd_volatility(p, rho)
    p2 = _joint_default(p, rho)
    book = write_book(homogeneous_book(n, p, rho), tmp_path / "book")
    sc = write_scenario(
        tmp_path / "s.yaml",
        {
            "name": "matched",
            "simulation": {"sims": sims, "seed": 20261129},
            "model": {"factor_weights": {"global": 1.0}},
            "political": {"enabled": False},
            "analytic": {"band": 1.0, "pd_volatility": v},
        },
    )
    out = tmp_path / "o"
    for command in ("simulate", "analytic"):
        code, _, err = run_cli([command, str(sc), "--book", str(book), "--out", str(out)], capsys)
        assert code == 0, err
    cr = analytic_json(out)["measures"]["ground_up"]
    sim = json.loads((out / "summary.json").read_text())["measures"]["ground_up"]

    def sd_gap(sd_cr: float) -> float:
        return abs(sim["SD"]["value"] - math.sqrt(sd_cr**2 - p2 * n))

    assert sd_gap(cr["SD"]["value"]) <= K * sim["SD"]["se"]
    for wrong in (0.5, 0.8):  # CSFB eq. 118 for one sector: SD² = Σ p E² + v² (Σ p E)²
        assert sd_gap(math.sqrt(n * p + (wrong * n * p) ** 2)) > K * sim["SD"]["se"]

    cdf = np.cumsum(finite_portfolio_pmf(n, p, rho))
    for key, q in (("99", 0.99), ("99.5", 0.995)):
        # the limits' gap: Vasicek against gamma at the same mean p and variance v² p²
        limit_gap = n * (vasicek_ppf(q, p, rho) - p * stats.gamma.ppf(q, 1 / v**2, scale=v**2))
        # premise: the exact finite laws differ by the limits' gap within 2 units
        exact = float(np.searchsorted(cdf, q))
        assert abs((exact - cr["VaR"][key]["value"]) - limit_gap) <= 2
        se = sim["VaR"][key]["se"]
        tolerance = abs(limit_gap) + 2 + K * se
        assert abs(sim["VaR"][key]["value"] - cr["VaR"][key]["value"]) <= tolerance
        for wrong in (0.5, 0.8):
            other = credit_risk_plus(np.ones(n), np.full(n, p), pd_volatility=wrong, band=1.0)
            assert abs(sim["VaR"][key]["value"] - other.quantile(q)) > tolerance
    assert 'id="analytic"' in (out / "report.html").read_text()


def test_unreadable_analytic_outputs_are_refused_and_left_out_of_the_report(
    tmp_path: Path, capsys
) -> None:
    book = tmp_path / "book"
    generate_book(300, seed=5, out=book)
    sc = write_scenario(tmp_path / "s.yaml", {"book": "book", "simulation": {"sims": 500}})
    folder = tmp_path / "o"
    code, out, err = run_cli(["analytic", str(sc), "--out", str(folder), "--top", "3"], capsys)
    assert code == 0, err
    # --top: the printed tables have 3 rows, analytic.json lists at least 10 buyers
    assert "buyers (top 3 of 300)" in out and "by country (top 3 of" in out
    assert len(analytic_json(folder)["contributions"]["buyers"]["rows"]) == 10
    (folder / "analytic.json").write_text("{not json")
    with pytest.raises(OutputError) as e:
        read_analytic(folder)
    assert str(folder / "analytic.json") in str(e.value)
    assert "cannot read the CreditRisk+ outputs" in str(e.value)
    code, _, err = run_cli(["simulate", str(sc), "--out", str(folder)], capsys)
    assert code == 0, err
    assert 'id="analytic"' not in (folder / "report.html").read_text()


def test_a_damaged_simulation_leaves_its_report_alone(tmp_path: Path, capsys) -> None:
    book = tmp_path / "book"
    generate_book(300, seed=5, out=book)
    sc = write_scenario(tmp_path / "s.yaml", {"book": "book", "simulation": {"sims": 500}})
    folder = tmp_path / "o"
    assert run_cli(["simulate", str(sc), "--out", str(folder)], capsys)[0] == 0
    (folder / "ylt.parquet").write_bytes(b"PAR1 half a file")
    before = (folder / "report.html").read_bytes()
    code, out, err = run_cli(["analytic", str(sc), "--out", str(folder)], capsys)
    assert code == 0, err
    assert "not changed: cannot read the simulation" in out
    assert (folder / "report.html").read_bytes() == before
