"""report.html: self-contained, well-formed, escaped, showing the run's own numbers, and laid out
so that a real browser shows every plot's text and never scrolls the page sideways."""

from __future__ import annotations

import base64
import dataclasses
import math
import os
import re
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import riskengine as rk
from riskengine.analytic import AnalyticOutputs, analyze
from riskengine.book import generate_book
from riskengine.jobs import write_outputs
from riskengine.limits import (
    LimitsOutputs,
    LimitsSettings,
    plan_limits,
    segment_inputs,
    verify_limits,
)
from riskengine.measures import tvar_se, var_se
from riskengine.monitoring import parse_monitor_sweep, run_monitoring
from riskengine.pricing import RunFacts, price_book, with_pricing_allocation
from riskengine.report import fmt_amount, fmt_pct, fmt_se, gather, render_report
from riskengine.report.nace import NACE_SECTIONS, sector_label
from riskengine.report.plots import ep_points, return_period_grid, svg_of
from riskengine.report.stats import concentration
from riskengine.scenario import parse_scenario
from riskengine.scenario.models import Stress
from riskengine.stress import run_stresses

NAME = "<b>&test</b>"
CCY = "EUR"
TREATIES = [
    {"name": "qs", "type": "quota_share", "share": 0.3, "premium": 1e6, "ceding_commission": 0.3},
    {
        "name": "xl",
        "type": "per_risk_xl",
        "retention": 2e6,
        "limit": 8e6,
        "reinstatements": 1,
        "premium": 3e5,
    },
    {"name": "sl", "type": "stop_loss", "attachment_lr": 0.8, "limit_lr": 1.0},
]


# ---------------------------------------------------------------------------------------------
# A small HTML checker on the standard library's parser
# ---------------------------------------------------------------------------------------------
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class Page(HTMLParser):
    """Parses a page: unbalanced tags, tag counts, attributes, ids, text by element id, plots."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.errors: list[str] = []
        self.tags: Counter[str] = Counter()
        self.attrs: list[tuple[str, str, str]] = []  # (tag, name, value)
        self.ids: Counter[str] = Counter()
        self.chunks: list[tuple[frozenset[str], str]] = []
        self.svg_labels: list[str] = []
        self.plot_texts: dict[str, list[str]] = {}  # svg aria-label -> data-text of its texts
        self.doctype = ""
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed: {[t for t, _ in self.stack]}")

    def _open(self, tag: str, attrs: list[tuple[str, str | None]]) -> str | None:
        self.tags[tag] += 1
        ident = None
        for k, v in attrs:
            self.attrs.append((tag, k, v or ""))
            if k == "id":
                ident = v
                self.ids[v or ""] += 1
        a = dict(attrs)
        if tag == "svg":
            self.svg_labels.append(a.get("aria-label") or "")
            self.plot_texts[self.svg_labels[-1]] = []
        if tag == "g" and a.get("class") == "mpl-text":
            self.plot_texts[self.svg_labels[-1]].append(a.get("data-text") or "")
        return ident

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ident = self._open(tag, attrs)
        if tag not in VOID:
            self.stack.append((tag, ident))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(
                f"unexpected </{tag}> (open: {self.stack[-1][0] if self.stack else None})"
            )
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.chunks.append((frozenset(i for _, i in self.stack if i), data))

    def text(self, ident: str | None = None) -> str:
        """Text content (entities decoded), of the element with id ``ident`` if given."""
        return " ".join(d for ids, d in self.chunks if ident is None or ident in ids)


def h1_text(html: str) -> str:
    m = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert m, "no <h1>"
    return unescape(m.group(1))


def cell_text(cell: str) -> str:
    """The text of a table cell's HTML, tags removed and white space collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split())


def rows_of(html: str, section: str, heading: str) -> list[list[str]]:
    """Text of the cells of each body row of the table under ``<h3>heading</h3>`` in a section."""
    body = re.search(rf'<section id="{section}".*?</section>', html, re.S)
    assert body, section
    m = re.search(rf"<h3>{re.escape(heading)}</h3>.*?<tbody>(.*?)</tbody>", body.group(0), re.S)
    assert m, f"no table under {heading!r} in {section}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", m.group(1), re.S)
    return [[cell_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


# ---------------------------------------------------------------------------------------------
# References computed from the book's own tables (nothing from the engine)
# ---------------------------------------------------------------------------------------------
def fx_rates(book: Any) -> dict[str, float]:
    fx = book.fx
    rates = dict(zip(fx["currency"], fx["rate"], strict=True)) if fx is not None else {}
    return {**rates, CCY: 1.0}


def reference_buyers(book: Any, utilization: float = 0.6) -> pl.DataFrame:
    """buyer_id, group_id, country, sector, ead: Σ limit × utilisation × fx over the exposures."""
    rates = fx_rates(book)
    pol = book.policies.select("policy_id", pl.col("currency").alias("pcur"))
    ex = book.exposures.join(pol, on="policy_id")
    ex = ex.with_columns(
        (
            pl.col("limit")
            * pl.col("utilization").fill_null(utilization)
            * pl.col("currency").fill_null(pl.col("pcur")).replace_strict(rates)
        ).alias("ead")
    )
    per = ex.group_by("buyer_id").agg(pl.col("ead").sum())
    return (
        book.buyers.select("buyer_id", "group_id", "country", "sector")
        .join(per, on="buyer_id", how="left")
        .with_columns(pl.col("ead").fill_null(0.0))
    )


def reference_premium(book: Any) -> float:
    rates = fx_rates(book)
    p = book.policies
    return float((p["premium"].fill_null(0.0) * p["currency"].replace_strict(rates)).sum())


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def book() -> Any:
    return generate_book(1_500, seed=7)


@pytest.fixture(scope="module")
def res(book: Any) -> rk.Results:
    return rk.simulate(book, parse_scenario({"name": NAME, "simulation": {"sims": 2000}}))


@pytest.fixture(scope="module")
def html(res: rk.Results) -> str:
    return render_report(res)


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    return Page(html)


@pytest.fixture(scope="module")
def res_treaties(book: Any) -> rk.Results:
    return rk.simulate(
        book, parse_scenario({"name": NAME, "simulation": {"sims": 2000}, "treaties": TREATIES})
    )


@pytest.fixture(scope="module")
def res_capital(book: Any) -> rk.Results:
    """Capital allocated (net listed first) under importance sampling, with a quota share."""
    allocation = {
        "perspective": ["net", "gross"],
        "levels": [99.0, 99.5],
        "dimensions": ["country", "sector", "buyer", "group", "policy"],
    }
    sc = {
        "name": NAME,
        "simulation": {"sims": 2000, "importance_sampling": {"pilot": 1000}},
        "treaties": TREATIES[:1],
        "outputs": {"allocation": allocation},
    }
    return rk.simulate(book, parse_scenario(sc))


@pytest.fixture(scope="module")
def html_capital(res_capital: rk.Results) -> str:
    return render_report(res_capital)


@pytest.fixture(scope="module")
def cheap_book(book: Any) -> Any:
    """The book with a quarter of its premium: loss ratios above 100 % happen often."""
    return dataclasses.replace(book, policies=book.policies.with_columns(pl.col("premium") * 0.25))


# ---------------------------------------------------------------------------------------------
# Formatting and names
# ---------------------------------------------------------------------------------------------
def test_amount_format() -> None:
    assert fmt_amount(12_345_678, "EUR") == "12.3 m EUR"
    assert fmt_amount(1_234, "EUR") == "1.23 k EUR"
    assert fmt_amount(999_960, "EUR") == "1.00 m EUR"
    assert fmt_amount(2.5e9) == "2.50 bn"
    assert fmt_amount(512.4, "USD") == "512 USD"
    assert fmt_amount(0, "EUR") == "0 EUR"
    assert fmt_amount(-1_500) == "\u22121.50 k"
    assert fmt_amount(math.nan, "EUR") == "—"
    assert fmt_amount(None) == "—"
    assert fmt_se(410_000, 12_300_000) == "± 0.41 m"
    assert fmt_se(17_000, 669_000) == "± 17 k"
    assert fmt_se(0.0, 669_000) == "± 0"
    assert fmt_se(math.nan, 669_000) == ""
    assert fmt_pct(0.123) == "12.3 %"
    assert fmt_pct(0.005) == "0.500 %"
    assert fmt_pct(1.0) == "100 %"
    assert fmt_pct(1e-7) == "< 0.001 %"
    assert fmt_pct(0.99996) == "100 %"


def test_nace_sections() -> None:
    assert list(NACE_SECTIONS) == [chr(c) for c in range(ord("A"), ord("U") + 1)]
    assert sector_label("C") == "C — Manufacturing"
    assert sector_label("G") == "G — Wholesale and retail"
    assert sector_label("retail") == "retail"  # a book's own codes stay as they are
    assert all(len(short) <= 24 for _, short in NACE_SECTIONS.values())


def test_ep_points_follow_measures_conventions() -> None:
    rng = np.random.default_rng(1)
    xs = np.sort(rng.lognormal(10, 1.5, 3_001))
    rps = np.array([1.0, 1.5, 2, 10, 200, 1000, 3001])
    aep = ep_points(xs, rps)
    tv = ep_points(xs, rps, "TVaR")
    for t, a, b in zip(rps, aep, tv, strict=True):
        assert a == var_se(xs, 1 - 1 / t).value
        assert b == pytest.approx(tvar_se(xs, 1 - 1 / t).value, rel=1e-12)
    grid = return_period_grid(100_000)
    assert grid[0] == 1 and grid[-1] == 100_000 and len(grid) <= 240 and np.all(np.diff(grid) > 0)


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------
def test_well_formed(html: str, page: Page) -> None:
    assert html.startswith("<!DOCTYPE html>")
    assert page.doctype.lower() == "doctype html"
    assert page.errors == []
    assert page.tags["html"] == page.tags["head"] == page.tags["body"] == 1
    assert page.tags["title"] == 1 + page.tags["svg"]  # the page's, and one per plot
    assert page.tags["main"] == 1 and page.tags["h1"] == 1
    dup = [i for i, c in page.ids.items() if c > 1]
    assert dup == [], f"duplicate ids: {dup[:5]}"
    assert "could not be rendered" not in html
    # every contents entry points at a section of the page
    targets = [v[1:] for tag, k, v in page.attrs if tag == "a" and k == "href"]
    assert targets and all(page.ids[t] == 1 for t in targets), targets


def test_self_contained(html: str, page: Page) -> None:
    for tag, name, value in page.attrs:
        if name in ("src", "href", "xlink:href", "action", "poster", "data"):
            assert not re.match(r"\s*(https?:)?//", value, re.I), (tag, name, value)
            assert not value.strip().lower().startswith(("javascript:", "file:")), (
                tag,
                name,
                value,
            )
    assert page.tags["script"] == 0 and page.tags["link"] == 0 and page.tags["iframe"] == 0
    assert page.tags["img"] == 0  # plots are inline SVG
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert not re.search(r"""\b(src|href)\s*=\s*["']?https?:""", html, re.I)
    assert "/*" not in html.split("</style>")[0]  # the style sheet is inlined without comments


def test_plots_inline(res: rk.Results, page: Page) -> None:
    labels = page.svg_labels
    assert "Exceedance probability curves" in labels
    assert "Histogram of the annual gross loss" in labels
    assert "Share of the EAD held by the largest buyers" in labels
    assert any(lab.startswith("Top") and "countries" in lab for lab in labels)
    assert page.tags["svg"] == 4  # no treaties: no gross/ceded/net plot
    assert page.tags["path"] > 50 and page.tags["figcaption"] == 4
    assert "exceeded once every T years" in page.text("ep-curve")
    # every plot's texts are marked for the browser test, with the string they draw
    assert all(len(page.plot_texts[lab]) >= 8 for lab in labels), page.plot_texts
    ep = page.plot_texts["Exceedance probability curves"]
    assert "2,000" in ep and "Return period (years, log scale)" in ep  # the last tick: n
    hist = page.plot_texts["Histogram of the annual gross loss"]
    el = res.measures("gross")["EL"]["value"]
    assert f"EL: {fmt_amount(el, CCY)}" in hist and "Gross claims" in hist


def test_header(res: rk.Results, html: str, page: Page) -> None:
    head = page.text()
    for s in (
        "in-memory book",
        "EUR",
        "2,000",
        str(res.scenario.simulation.seed),
        "gaussian",
        "Wall time",
        "riskengine",
    ):
        assert s in head
    assert h1_text(html) == NAME


def test_names_escaped(html: str, page: Page) -> None:
    assert NAME not in html
    assert "&lt;b&gt;&amp;test&lt;/b&gt;" in html
    assert page.tags["b"] == html.count("<b>")  # no stray <b> from the name
    assert NAME in page.text()


def test_key_figures_show_the_runs_numbers(res: rk.Results, html: str, page: Page) -> None:
    text = page.text("key-figures")
    for p in ("ground_up", "gross"):
        m = res.measures(p)
        el, var995 = m["EL"]["value"], m["VaR"]["99.5"]["value"]
        assert fmt_amount(el, CCY) in text and fmt_se(m["EL"]["se"], el) in text, p
        assert fmt_amount(var995, CCY) in text and fmt_amount(m["capital"], CCY) in text, p
    head = re.search(r'<section id="key-figures".*?<thead>(.*?)</thead>', html, re.S)
    assert head and re.findall(r"<th[^>]*>(.*?)</th>", head.group(1)) == [
        "Measure",
        "Ground-up",
        "Gross",
    ]
    for lvl in ("90", "95", "99", "99.5", "99.9"):
        assert f"VaR {lvl} %" in text and f"TVaR {lvl} %" in text
    assert "net equals gross" in text
    # the 1-in-200 row of the EP table is VaR 99.5 %, and the table has ground-up beside gross
    ep = page.text("ep-curve")
    assert fmt_amount(res.measures("gross")["VaR"]["99.5"]["value"], CCY) in ep
    assert fmt_amount(res.measures("ground_up")["VaR"]["99.5"]["value"], CCY) in ep


def test_loss_ratio_exceedance(cheap_book: Any) -> None:
    premium = reference_premium(cheap_book)
    treaties = [
        {
            "name": "qs",
            "type": "quota_share",
            "share": 0.4,
            "premium": 0.35 * premium,
            "ceding_commission": 0.25,
        },
        {
            "name": "xl",
            "type": "per_risk_xl",
            "retention": 1e6,
            "limit": 4e6,
            "reinstatements": 1,
            "reinstatement_rate": 1.0,
            "premium": 0.05 * premium,
        },
    ]
    res = rk.simulate(
        cheap_book,
        parse_scenario({"name": "lr", "simulation": {"sims": 2000}, "treaties": treaties}),
    )
    html = render_report(res)
    y = res.ylt
    gross, net = y["gross"].to_numpy(), y["net"].to_numpy()
    # net premium of each year: premium less premiums net of commission and the reinstatement
    # premium (pro rata to the limit reinstated, at most one limit)
    rip = 0.05 * premium * np.minimum(y["ceded_xl"].to_numpy(), 4e6) / 4e6
    net_premium = premium - 0.35 * premium * 0.75 - 0.05 * premium - rip
    n = len(gross)
    k_gross, k_net = int(np.sum(gross > premium)), int(np.sum(net > net_premium))
    assert 50 < k_gross < n - 50 and 50 < k_net < n - 50  # the case tests something
    rows = {r[0]: r for r in rows_of(html, "key-figures", "Loss ratio")}
    for name, k, expected in (
        ("Gross", k_gross, gross.mean() / premium),
        ("Net", k_net, net.mean() / net_premium.mean()),
    ):
        p = k / n
        assert rows[name][1] == fmt_pct(expected), name
        cell = rows[name][3]
        assert cell.startswith(fmt_pct(p)), (name, cell)
        assert f"{k:,} of {n:,} years" in cell, (name, cell)
        assert f"± {fmt_pct(math.sqrt(p * (1 - p) / (n - 1)))}" in cell, (name, cell)
    text = Page(html).text("key-figures")
    assert "divided by the book premium" in text and "net premium" in text
    assert fmt_amount(premium, CCY) in text


def test_loss_ratio_with_no_year_above_100(book: Any) -> None:
    rich = dataclasses.replace(book, policies=book.policies.with_columns(pl.col("premium") * 50))
    res = rk.simulate(rich, parse_scenario({"name": "rich", "simulation": {"sims": 2000}}))
    assert not np.any(res.ylt["gross"].to_numpy() > reference_premium(rich))
    rows = rows_of(render_report(res), "key-figures", "Loss ratio")
    assert [r[0] for r in rows] == ["Gross"]  # no treaties: no net loss ratio
    assert rows[0][3] == f"0 % 0 of 2,000 years; below {fmt_pct(3 / 2000)} (95 %)"


def test_assumptions_section(book: Any) -> None:
    grade_pd = [0.0, 0.0003, 0.0006, 0.0012, 0.0035, 0.008, 0.017, 0.033]
    sc = parse_scenario(
        {
            "name": "assumptions",
            "simulation": {"sims": 300, "seed": 4242, "block_size": 150},
            "model": {
                "copula": "student_t",
                "dof": 4.5,
                "asset_correlation": 0.17,
                "factor_weights": {"global": 0.4, "region": 0.1, "country": 0.3, "sector": 0.2},
                "lgd": {"mean": 0.45, "sd": 0.2},
                "utilization": 0.55,
            },
            "political": {
                "correlation": 0.25,
                "grade_pd": grade_pd,
                "lgd": 0.7,
                "commercial_pd_multiplier": 2.5,
            },
            "ratings": {"BB": 0.006, "B": 0.03, "CCC": 0.25},
        }
    )
    page = Page(render_report(rk.simulate(book, sc)))
    text = " ".join(page.text("assumptions").split())
    for s in (
        "Student-t, ν = 4.5",
        "global 40 % · region 10 % · country 30 % · sector 20 %",
        "Asset correlation R² 0.17",
        "beta, mean 45 %, sd 20 %",
        "55 % of the limit",
        "Political correlation 0.25",
        "Political LGD 70 %",
        "× 2.5",
        "300",
        "seed 4242, blocks of 150",
        "Annual probability " + " ".join(f"{100 * q:.6g} %" for q in grade_pd),
        "Annual PD 0.6 % 3 % 25 %",
    ):
        assert s in text, (s, text)


def test_concentration_matches_the_book(book: Any, res: rk.Results, html: str) -> None:
    ref = reference_buyers(book).sort(["ead", "buyer_id"], descending=[True, False])
    total = float(ref["ead"].sum())
    c = concentration(gather(res).book, top=15)
    assert c.total_ead == pytest.approx(total, rel=1e-12)
    assert c.top_buyers["buyer_id"].to_list() == ref["buyer_id"].head(15).to_list()
    np.testing.assert_allclose(c.top_buyers["ead"], ref["ead"].head(15), rtol=1e-12)
    for k in (1, 10, 100):
        assert c.top_shares[k] == pytest.approx(float(ref["ead"].head(k).sum()) / total)
    shares = ref["ead"].to_numpy() / total
    assert c.hhi_buyers == pytest.approx(float(np.sum(shares**2)), rel=1e-9)
    groups = (
        ref.filter(pl.col("group_id").is_not_null())
        .group_by("group_id")
        .agg(pl.col("ead").sum(), pl.len().alias("buyers"))
        .sort(["ead", "group_id"], descending=[True, False])
    )
    assert c.n_groups == groups.height > 10
    assert c.top_groups["group_id"].to_list() == groups["group_id"].head(10).to_list()
    assert c.top_groups["buyers"].to_list() == groups["buyers"].head(10).to_list()
    for dim, df in (("country", c.by_country), ("sector", c.by_sector)):
        want = ref.group_by(dim).agg(pl.col("ead").sum()).sort(dim)
        got = df.sort(dim)
        assert got[dim].to_list() == want[dim].to_list()
        np.testing.assert_allclose(got["ead"], want["ead"], rtol=1e-12)
    # the page shows them: the 15 largest buyers in order, the shares, sectors by name
    rows = rows_of(html, "concentration", "Largest 15 buyers")
    assert [r[1] for r in rows] == ref["buyer_id"].head(15).to_list()
    assert rows[0][5] == fmt_amount(ref["ead"][0], CCY)
    assert [r[6] for r in rows[:3]] == [fmt_pct(s) for s in shares[:3]]
    text = Page(html).text("concentration")
    assert fmt_pct(c.top_shares[10]) in text and fmt_pct(c.top_shares[100]) in text
    sectors = rows_of(html, "concentration", "EAD by sector")
    labels = [r[1] for r in sectors if r[0]]
    assert sorted(labels) == sorted(sector_label(s) for s in ref["sector"].unique())
    assert all(" — " in label for label in labels)  # names, not letters


def test_sectors_by_expected_loss_have_names(res: rk.Results, html: str) -> None:
    s = res.segment_el("sector")
    rows = rows_of(html, "segments", "Sectors")
    assert rows[0][1] == sector_label(s["segment"][0]) and " — " in rows[0][1]
    assert rows[0][2] == fmt_amount(s["el"][0], CCY)


def test_top_country_and_sector(res: rk.Results, page: Page, html: str) -> None:
    c = res.segment_el("country")
    s = res.segment_el("sector")
    text = page.text("segments")
    top = c["segment"][0]
    assert top in text and fmt_amount(c["el"][0], CCY) in text
    assert fmt_amount(s["el"][0], CCY) in text
    rows = rows_of(html, "segments", "Countries")
    assert rows[0][0] == "1" and rows[0][1].split()[0] == top
    total = float(c["el"].sum())
    assert rows[0][4] == fmt_pct(c["el"][0] / total)
    assert rows[-1][1] == "Total" and rows[-2][1].startswith("Other (")


def test_book_section(book: Any, page: Page) -> None:
    text = page.text("book")
    assert f"{book.buyers.height:,}" in text and f"{book.exposures.height:,}" in text
    assert fmt_amount(reference_premium(book), CCY) in text
    assert fmt_amount(float(reference_buyers(book)["ead"].sum()), CCY) in text
    assert "OK" in text


def test_render_leaves_matplotlib_alone(res: rk.Results) -> None:
    import matplotlib

    def snapshot() -> dict[str, str]:
        # dict.__getitem__: reading rcParams["backend"] the normal way would resolve it (and
        # import pyplot)
        return {k: repr(dict.__getitem__(matplotlib.rcParams, k)) for k in matplotlib.rcParams}

    had_pyplot = "matplotlib.pyplot" in sys.modules
    backend = matplotlib.get_backend() if had_pyplot else None
    before = snapshot()
    render_report(res)
    assert snapshot() == before
    if not had_pyplot:
        assert "matplotlib.pyplot" not in sys.modules
    else:
        assert matplotlib.get_backend() == backend


def test_deterministic_apart_from_the_clock(res: rk.Results, html: str) -> None:
    strip = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
    assert strip.sub("", render_report(res)) == strip.sub("", html)


def test_few_simulations_and_a_tiny_book() -> None:
    tiny = generate_book(20, seed=2)
    res = rk.simulate(tiny, parse_scenario({"name": "tiny", "simulation": {"sims": 50}}))
    html = render_report(res)
    page = Page(html)
    assert page.errors == [] and "could not be rendered" not in html
    assert "too few years to show the 1-in-200 loss" in html
    assert 'class="beyond"' in html  # return periods beyond 50 years are greyed
    assert "Largest 100 buyers" not in html  # only 20 buyers


def test_write_includes_report(res: rk.Results, tmp_path: Path) -> None:
    written = write_outputs(res, tmp_path / "out", report=True)
    text = written["report.html"].read_text("utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Exceedance probability curves" in text


# ---------------------------------------------------------------------------------------------
# Treaties
# ---------------------------------------------------------------------------------------------
def _treaty_section(html: str) -> Page:
    page = Page(html)
    assert page.errors == [] and "could not be rendered" not in html
    return page


def test_treaty_section(res_treaties: rk.Results) -> None:
    html = render_report(res_treaties)
    page = _treaty_section(html)
    text = page.text("reinsurance")
    for t in ("qs", "xl", "sl"):
        assert t in text
    assert "Gross, ceded and net AEP curves" in page.svg_labels
    assert page.tags["svg"] == 5
    net = res_treaties.measures("net")
    key = page.text("key-figures")
    assert fmt_amount(net["EL"]["value"], CCY) in key
    assert fmt_amount(net["VaR"]["99.5"]["value"], CCY) in key
    assert "Capital relief" in text
    # the treaty metrics are there (test_treaty_metrics_failing_leaves_the_rest: when they fail)
    assert "Treaty metrics unavailable" not in text
    m = res_treaties.summary()["treaties"]
    assert "Expected ceded loss" in text and "Probability of attachment" in text
    for t in ("qs", "xl", "sl"):
        assert fmt_amount(m[t]["expected_ceded"], CCY) in text, t


def test_net_loss_distribution_beside_gross(res_treaties: rk.Results) -> None:
    page = Page(render_report(res_treaties))
    label = "Histogram of the annual gross loss and net loss"
    texts = page.plot_texts[label]
    net = res_treaties.measures("net")
    assert "Gross claims" in texts and "Net of reinsurance" in texts
    assert f"EL: {fmt_amount(net['EL']['value'], CCY)}" in texts
    assert f"VaR 99.5 %: {fmt_amount(net['VaR']['99.5']['value'], CCY)}" in texts
    assert any(t.startswith("Net premium: ") for t in texts)
    ep = page.plot_texts["Exceedance probability curves"]
    assert "AEP net" in ep and "AEP gross" in ep


def test_treaty_metrics_rendered_whatever_their_keys(
    res_treaties: rk.Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = {
        "qs": {
            "expected_ceded": 1_234_567.0,
            "expected_ceded_se": 12_345.0,
            "sd": 2_000_000.0,
            "prob_attach": 0.9991,
            "prob_exhaust": None,
            "expected_reinstatement_premium": 0.0,
            "share_of_gross_el": 0.3,
            "new_metric": {"value": 5.0, "se": 0.5},
            "comment": "<i>escaped</i>",
            "premium": 1e6,
            "ceding_commission": 3e5,
        },
        "xl": {
            "expected_ceded": 10.0,
            "prob_attach": 0.01,
            "share_of_gross_el": 0.001,
            "by_layer": {"a": 1.0, "b": 2.0},
            "premium": 3e5,
            "ceding_commission": 0.0,
        },
        "sl": {"expected_ceded": np.float64(0.0), "premium": 0.0, "ceding_commission": 0.0},
    }
    real = rk.Results.summary

    def summary(self: rk.Results) -> dict[str, Any]:
        out = real(self)
        out["treaties"] = fake
        return out

    monkeypatch.setattr(rk.Results, "summary", summary)
    html = render_report(res_treaties)
    text = _treaty_section(html).text("reinsurance")
    assert "1.23 m EUR" in text and "± 0.012 m" in text  # value with its merged _se
    assert "Expected ceded se" not in text
    assert "99.9 %" in text and "30.0 %" in text and "0.100 %" in text
    assert "New metric" in text and "Comment" in text and "By layer" in text
    assert "<i>escaped</i>" not in html and "&lt;i&gt;escaped&lt;/i&gt;" in html


def test_treaty_metrics_failing_leaves_the_rest(
    res_treaties: rk.Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = rk.Results.summary

    def summary(self: rk.Results) -> dict[str, Any]:
        if self.treaty_names:
            raise ModuleNotFoundError("No module named 'riskengine.reinsurance.metrics'")
        return real(self)

    monkeypatch.setattr(rk.Results, "summary", summary)
    html = render_report(res_treaties)
    page = _treaty_section(html)
    text = page.text("reinsurance")
    assert "Treaty metrics unavailable" in text and "ModuleNotFoundError" in text
    m = res_treaties.measures("ceded_qs")
    assert fmt_amount(m["EL"]["value"], CCY) in text
    assert fmt_amount(res_treaties.measures("net")["EL"]["value"], CCY) in page.text("key-figures")
    assert page.tags["svg"] == 5


# ---------------------------------------------------------------------------------------------
# Capital allocation and importance sampling
# ---------------------------------------------------------------------------------------------
def amount_cell(value: float, se: float = math.nan) -> str:
    """The text of a cell showing ``value`` with its standard error below it."""
    return f"{fmt_amount(value, CCY)} {fmt_se(se, value)}".strip()


def reference_allocation(res: rk.Results, p: str, dim: str, level: float) -> pl.DataFrame:
    """The allocation table's rows, largest TVaR contribution first, with capital (TVaR
    contribution − EL, standard errors combined as independent) and the shares."""
    t = res.allocation(perspective=p, dimension=dim, level=level)
    t = t.sort(["tvar_contribution", "segment"], descending=[True, False])
    cap = pl.col("tvar_contribution") - pl.col("el")
    return t.with_columns(
        cap.alias("capital"),
        (pl.col("tvar_contribution_se") ** 2 + pl.col("el_se") ** 2).sqrt().alias("capital_se"),
        (cap / cap.sum()).alias("capital_share"),
        (pl.col("el") / pl.col("el").sum()).alias("el_share"),
        (pl.col("ead") / pl.col("ead").sum()).alias("ead_share"),
    )


def capital_row(r: dict[str, Any], amounts: tuple[str, ...], shares: tuple[str, ...]) -> list:
    return [amount_cell(r[c], r[f"{c}_se"]) for c in amounts] + [fmt_pct(r[c]) for c in shares]


def test_capital_section_shows_the_allocation_table(
    book: Any, res_capital: rk.Results, html_capital: str
) -> None:
    page = Page(html_capital)
    assert page.errors == [] and "could not be rendered" not in html_capital
    assert page.ids["capital"] == 1 and '<a href="#capital">' in html_capital
    # gross first, then net; the highest level allocated
    assert html_capital.index('id="capital-gross"') < html_capital.index('id="capital-net"')
    assert "Levels allocated: 99, 99.5 %" in page.text("capital")
    full = ("tvar_contribution", "var_contribution", "el", "capital")
    full_shares = ("capital_share", "share", "el_share", "ead_share")
    short = ("tvar_contribution", "el", "capital")
    checked = 0
    for p, name in (("gross", "Gross"), ("net", "Net")):
        tvar = res_capital.measures(p)["TVaR"]["99.5"]["value"]
        for dim, heading, top in (("country", "country", 15), ("sector", "sector", 21)):
            ref = reference_allocation(res_capital, p, dim, 99.5)
            rows = rows_of(html_capital, "capital", f"{name}: contributions by {heading}")
            k = min(top, ref.height)
            assert [r[0] for r in rows[:k]] == [str(i) for i in range(1, k + 1)]
            for row, r in zip(rows[:k], ref.head(k).iter_rows(named=True), strict=True):
                want = r["segment"] if dim == "country" else sector_label(r["segment"])
                assert row[1] == want or row[1].split()[0] == want, (row, r)
                assert row[2:] == capital_row(r, full, full_shares), (p, dim, row)
                checked += 1
            # the total: the contributions add up to TVaR (and the page says so)
            assert rows[-1][1] == "Total"
            assert rows[-1][2] == fmt_amount(float(ref["tvar_contribution"].sum()), CCY)
            assert rows[-1][2] == fmt_amount(tvar, CCY)
            assert float(ref["tvar_contribution"].sum()) == pytest.approx(tvar, rel=1e-9)
            if ref.height > k:
                rest = ref.tail(ref.height - k)
                assert rows[-2][1] == f"Other ({ref.height - k:,})"
                assert rows[-2][2] == fmt_amount(float(rest["tvar_contribution"].sum()), CCY)
        se = res_capital.measures(p)["TVaR"]["99.5"]["se"]
        assert f"{fmt_amount(tvar, CCY)} {fmt_se(se, tvar)}" in page.text(f"capital-{p}")
        # the largest buyers with their country, and the 10 largest's share of the capital
        ref = reference_allocation(res_capital, p, "buyer", 99.5)
        rows = rows_of(html_capital, "capital", f"{name}: largest 15 buyers")
        country = dict(zip(book.buyers["buyer_id"], book.buyers["country"], strict=True))
        for row, r in zip(rows[:15], ref.head(15).iter_rows(named=True), strict=True):
            assert row[1] == r["segment"] and row[2] == country[r["segment"]]
            assert row[4:] == capital_row(r, short, ("capital_share", "el_share", "ead_share"))
            checked += 1
        top10 = float(ref.head(10)["capital"].sum() / ref["capital"].sum())
        assert f"{fmt_pct(top10)} of the capital" in page.text(f"capital-{p}")
        # buyer groups: the real ones, the buyers without a group apart
        groups = set(book.buyers["group_id"].drop_nulls())
        ref = reference_allocation(res_capital, p, "group", 99.5).filter(
            pl.col("segment").is_in(groups)
        )
        rows = rows_of(html_capital, "capital", f"{name}: largest 10 buyer groups")
        assert [r[1] for r in rows[:10]] == ref["segment"].head(10).to_list()
        alone = book.buyers["group_id"].null_count()
        assert rows[-2][1] == f"Buyers without a group ({alone:,})"
        assert rows[-1][1] == "Total" and rows[-1][3] == fmt_amount(tvar, CCY)  # after Buyers
    n_sectors = book.buyers["sector"].n_unique()
    assert n_sectors > 15 and checked == 2 * (15 + min(21, n_sectors) + 15)
    # the contributions and the concentration plots
    for p, name in (("gross", "Gross"), ("net", "Net")):
        assert f"{name}: top 15 countries by contribution to TVaR 99.5 %" in page.svg_labels
        scatter = page.plot_texts[f"{name}: share of capital against share of exposure"]
        assert "Countries" in scatter and "Sectors" in scatter
        top = reference_allocation(res_capital, p, "country", 99.5)["segment"][0]
        assert top in scatter  # the largest country is labelled


def test_no_capital_section_without_allocation(res: rk.Results, html: str, page: Page) -> None:
    assert res.allocation_table is None
    assert "capital" not in page.ids and 'href="#capital"' not in html
    assert "Capital allocation" not in html and "Importance sampling" not in html


def test_capital_section_without_the_dimensions_it_shows(book: Any) -> None:
    allocation = {"levels": [99.0], "dimensions": ["region", "policy"]}
    sc = {"name": "regions", "simulation": {"sims": 1000}, "outputs": {"allocation": allocation}}
    html = render_report(rk.simulate(book, parse_scenario(sc)))
    page = Page(html)
    assert page.errors == [] and "could not be rendered" not in html
    assert page.ids["capital"] == 1 and "allocated capital by none of" in page.text("capital")
    assert "Levels allocated: 99 %" in page.text("capital")


def test_importance_sampling_is_said_and_every_figure_weighted(
    book: Any, res_capital: rk.Results, html_capital: str
) -> None:
    info = res_capital.summary()["importance_sampling"]
    w = res_capital.ylt["weight"].to_numpy()
    n = len(w)
    assert w.std() > 0.1  # the years are weighted
    page = Page(html_capital)
    key = " ".join(page.text("key-figures").split())
    assert "Importance sampling." in key
    assert f"{round(info['effective_sims']):,} of {n:,} years" in key
    first = info["components"][0]
    share = (1 - info["defensive"]) * first["share"]
    assert f"{first['mode']} ({fmt_pct(share)} of years)" in key
    assert f"{fmt_pct(info['defensive'])} of years drawn without a shift" in key
    card = " ".join(page.text("capital-gross").split())
    assert f"{round(info['effective_sims']):,} effective years" in card
    # loss ratios: Σ w·1{claims > premium} / n, not the share of simulated years
    premium = reference_premium(book)
    gross = res_capital.ylt["gross"].to_numpy()
    over = gross > premium
    p_w, p_plain = float(np.dot(w, over)) / n, float(over.mean())
    assert fmt_pct(p_w) != fmt_pct(p_plain)  # the check can tell the two apart
    row = rows_of(html_capital, "key-figures", "Loss ratio")[0]
    assert row[1] == fmt_pct(float(np.dot(w, gross)) / n / premium)
    assert row[3].startswith(fmt_pct(p_w)) and f"{int(over.sum()):,} of {n:,} years" in row[3]
    # the EP curves are the weighted measures; the expected loss by cause is weighted
    d = gather(res_capital)
    for p in ("gross", "net"):
        m = res_capital.measures(p)
        pts = d.ep_points(p, np.array([200.0, 1000.0]))
        assert pts[0] == m["VaR"]["99.5"]["value"] and pts[1] == m["VaR"]["99.9"]["value"]
        tv = d.ep_points(p, np.array([200.0]), "TVaR")[0]
        assert tv == pytest.approx(m["TVaR"]["99.5"]["value"], rel=1e-9)
    gu = res_capital.measures("ground_up")["EL"]["value"]
    assert gu != pytest.approx(float(res_capital.ylt["ground_up"].mean()), rel=1e-3)
    assert fmt_amount(gu, CCY) in page.text("distribution")
    assert (
        "Weighted years (log scale)"
        in page.plot_texts["Histogram of the annual gross loss and net loss"]
    )


@pytest.mark.slow
def test_render_100k_sims_stays_small() -> None:
    book = generate_book(300, seed=5)
    res = rk.simulate(
        book,
        parse_scenario({"name": "big", "simulation": {"sims": 100_000}, "treaties": TREATIES[:1]}),
    )
    html = render_report(res)
    assert len(html) < 700_000  # no per-simulation points in the SVGs
    assert "100,000" in Page(html).plot_texts["Exceedance probability curves"]


# ---------------------------------------------------------------------------------------------
# A real browser: Debian's chromium driven through chromedriver (selenium)
# ---------------------------------------------------------------------------------------------
#: Where the browser test leaves its pages and full-page screenshots (gitignored).
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "report"
#: Viewport widths (CSS px): a typical laptop and a phone.
WIDTHS = (1366, 390)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

#: Measures the rendered page: the page's width against the window's, and each plot's texts
#: (matplotlib's text groups, class mpl-text) against the plot's box and against each other.
LAYOUT_JS = r"""
const doc = document.documentElement;
const out = {width: doc.clientWidth, scrollWidth: doc.scrollWidth, texts: {}, problems: [],
             scrolling_tables: []};
if (doc.scrollWidth > doc.clientWidth) {
  out.problems.push(`the page is ${doc.scrollWidth}px wide in a ${doc.clientWidth}px window`);
}
const inside = (r, b) => r.left >= b.left - 0.5 && r.right <= b.right + 0.5 &&
                         r.top >= b.top - 0.5 && r.bottom <= b.bottom + 0.5;
const px = r => `[${r.left.toFixed(1)}, ${r.right.toFixed(1)}] × ` +
                `[${r.top.toFixed(1)}, ${r.bottom.toFixed(1)}]`;
for (const svg of document.querySelectorAll("svg")) {
  const name = svg.getAttribute("aria-label") || "(unnamed)";
  const box = svg.getBoundingClientRect();
  if (box.width < 100 || box.height < 50) {
    out.problems.push(`plot '${name}' is shown at ${box.width}×${box.height}px`);
  }
  const seen = [];
  for (const t of svg.querySelectorAll("g.mpl-text")) {
    const r = t.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const what = `text '${t.dataset.text}' of plot '${name}'`;
    if (!inside(r, box)) out.problems.push(`${what} at ${px(r)} lies outside its SVG ${px(box)}`);
    for (const [other, o] of seen) {
      const w = Math.min(r.right, o.right) - Math.max(r.left, o.left);
      const h = Math.min(r.bottom, o.bottom) - Math.max(r.top, o.top);
      if (w > 1 && h > 1) out.problems.push(`${what} overlaps text '${other}'`);
    }
    seen.push([t.dataset.text, r]);
  }
  out.texts[name] = seen.length;
}
for (const w of document.querySelectorAll(".table-wrap")) {
  if (w.scrollWidth > w.clientWidth + 1) {
    const where = (w.closest("section") || {}).id;
    const title = (w.previousElementSibling || {}).textContent || "";
    out.scrolling_tables.push(`${where}: ${title} (${w.scrollWidth} > ${w.clientWidth}px)`);
  }
}
return out;
"""


def _browser_binaries() -> tuple[str, str]:
    """Paths of chromium and chromedriver; fails (never skips) when one is missing."""
    chromium = os.environ.get("RISKENGINE_CHROMIUM") or next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None
    )
    driver = os.environ.get("RISKENGINE_CHROMEDRIVER") or shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail(
            "the report's browser test needs Debian's chromium and chromium-driver: "
            "`make test` installs them (apt-get), or set RISKENGINE_SKIP_BROWSER=1 to skip it",
            pytrace=False,
        )
    return chromium, driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless chromium driven by chromedriver; skipped only with RISKENGINE_SKIP_BROWSER=1."""
    if os.environ.get("RISKENGINE_SKIP_BROWSER") == "1":
        pytest.skip("RISKENGINE_SKIP_BROWSER=1")
    chromium, driver_path = _browser_binaries()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium  # with both paths given, selenium looks nothing up
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


def _viewport(driver: Any, width: int, height: int) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def _layout(driver: Any, page: Path, width: int) -> dict[str, Any]:
    _viewport(driver, width, 900)
    driver.get(page.as_uri())
    return driver.execute_script(LAYOUT_JS)


def _screenshot(driver: Any, width: int, out: Path) -> Path:
    """A full-page PNG of the page loaded, at ``width`` CSS pixels."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    _viewport(driver, width, height)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    out.write_bytes(base64.b64decode(shot["data"]))
    return out


@pytest.mark.slow
@pytest.mark.xdist_group("browser")
def test_layout_in_a_real_browser(
    browser: Any, res_treaties: rk.Results, res_capital: rk.Results, book: Any
) -> None:
    # the treaty run, a run whose EP axis ends at a long label (20,000 years), shown with
    # CreditRisk+ of its book (the comparison section), a priced run (the pricing section), a
    # run that allocated capital (gross and net) under importance sampling (the capital section),
    # the treaty run with portfolio limits by country, verified by re-simulation, a run with
    # monitoring and its sweep, and the treaty run with stress tests (gross and net tornados; a
    # stress that lowers the loss, a long name and a capped PD's note)
    small = generate_book(200, seed=3)
    long_sc = parse_scenario({"name": "long axis", "simulation": {"sims": 20_000}})
    long_axis = rk.simulate(small, long_sc)
    crplus = AnalyticOutputs.of(analyze(small, long_sc))
    priced_sc = parse_scenario({"name": NAME, "simulation": {"sims": 2000}})
    priced_res = rk.simulate(book, with_pricing_allocation(priced_sc))
    priced = price_book(
        book,
        priced_sc,
        RunFacts.of_results(priced_res),
        resolved=priced_res.compiled.resolved,
        target_roc=0.12,
    )
    appetite = 0.7 * res_treaties.measures("gross")["TVaR"]["99.5"]["value"]
    plan = plan_limits(segment_inputs(res_treaties, "country"), LimitsSettings(appetite, 0.25))
    plan = verify_limits(plan, book, res_treaties.scenario, res_treaties.compiled.resolved)
    limits = LimitsOutputs.of(plan)
    # dynamic limit management with a ten-point trigger sweep (the sweep's plot and tables)
    mon_sc = parse_scenario({"name": "monitored", "simulation": {"sims": 2000}})
    monitored = run_monitoring(small, mon_sc, parse_monitor_sweep("trigger_pd=0.05:0.5:10"))
    stresses = [
        Stress(name="recession_one_in_two_hundred_years", factor_shift={"global": -2.576}),
        Stress(name="safer", pd_multiplier=0.5, description="PDs <halved>"),
        Stress(name="one_default", pd_multiplier=1000, where={"buyer": ["B0000001"]}),
    ]
    stressed = run_stresses(book, res_treaties.scenario, stresses, base=res_treaties)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems, shots = [], []
    for name, res, analytic, pricing, lim, monitor, stress in (
        ("treaties", res_treaties, None, None, None, None, None),
        ("long-axis", long_axis, crplus, None, None, None, None),
        ("priced", priced_res, None, priced, None, None, None),
        ("capital", res_capital, None, None, None, None, None),
        ("limits", res_treaties, None, None, limits, None, None),
        ("monitoring", monitored.on, None, None, None, monitored.table, None),
        ("stress", res_treaties, None, None, None, None, stressed),
    ):
        page = ARTIFACTS / f"report-{name}.html"
        html = render_report(res, analytic, pricing, limits=lim, monitor=monitor, stress=stress)
        page.write_text(html, "utf-8")
        assert ('id="analytic"' in html) == (analytic is not None)
        assert ('id="pricing"' in html) == (pricing is not None)
        # the capital section shows with an allocation: the capital run's, and pricing's
        assert ('id="capital"' in html) == (res.allocation_table is not None)
        assert ('id="limits"' in html) == (lim is not None)
        assert ('id="monitoring"' in html) == (monitor is not None)
        assert ('id="stress"' in html) == (stress is not None)
        n_plots = len(Page(page.read_text("utf-8")).svg_labels)
        for width in WIDTHS:
            got = _layout(browser, page, width)
            where = f"{page.name} at {width}px"
            problems += [f"{where}: {p}" for p in got["problems"]]
            # every plot was measured, each with its ticks, labels and legend
            assert len(got["texts"]) == n_plots and min(got["texts"].values()) >= 8, got
            if width >= 1024:  # on a laptop no table needs a scroll bar
                problems += [f"{where}: table scrolls: {t}" for t in got["scrolling_tables"]]
            shots.append(_screenshot(browser, width, ARTIFACTS / f"{page.stem}-{width}px.png"))
    print("report pages and full-page screenshots:", *shots, sep="\n  ")
    assert problems == [], "\n".join([*problems, "screenshots:", *map(str, shots)])


@pytest.mark.slow
@pytest.mark.xdist_group("browser")
def test_layout_check_catches_a_broken_page(browser: Any, tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot()
    ax.plot([1, 2], [1, 2])
    ax.set_xlabel("a label that runs past the right edge of the figure", x=1.0, ha="left")
    ax.set_title("title", loc="left")
    ax.text(0.0, 1.02, "title", transform=ax.transAxes)  # on top of the title
    svg = svg_of(fig, "broken", "broken plot")
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><body style='margin:0'>"
        f"<div style='width:600px'>{svg}</div><div style='width:2000px'>wide</div></body></html>",
        "utf-8",
    )
    got = _layout(browser, page, 1366)
    text = "\n".join(got["problems"])
    assert "the page is 2000px wide in a" in text
    assert "text 'a label that runs past the right edge of the figure'" in text
    assert "lies outside its SVG" in text
    assert "text 'title' of plot 'broken plot' overlaps text 'title'" in text
