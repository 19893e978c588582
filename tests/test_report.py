"""report.html: self-contained, well-formed, escaped, and showing the run's own numbers."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from riskengine.book import generate_book
from riskengine.jobs import write_outputs
from riskengine.measures import tvar_se, var_se
from riskengine.report import fmt_amount, fmt_pct, fmt_se, render_report
from riskengine.report.plots import ep_points, return_period_grid
from riskengine.results import Results
from riskengine.run.simulate import simulate
from riskengine.scenario import parse_scenario

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
    """Parses a page; records unbalanced tags, tag counts, attributes, ids and text by element id."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.errors: list[str] = []
        self.tags: Counter[str] = Counter()
        self.attrs: list[tuple[str, str, str]] = []  # (tag, name, value)
        self.ids: Counter[str] = Counter()
        self.chunks: list[tuple[frozenset[str], str]] = []
        self.svg_labels: list[str] = []
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
        if tag == "svg":
            self.svg_labels.append(dict(attrs).get("aria-label") or "")
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
    from html import unescape

    return unescape(m.group(1))


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def book() -> Any:
    return generate_book(1_500, seed=7)


@pytest.fixture(scope="module")
def res(book: Any) -> Results:
    return simulate(book, parse_scenario({"name": NAME, "simulation": {"sims": 2000}}))


@pytest.fixture(scope="module")
def html(res: Results) -> str:
    return render_report(res)


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    return Page(html)


@pytest.fixture(scope="module")
def res_treaties(book: Any) -> Results:
    return simulate(
        book, parse_scenario({"name": NAME, "simulation": {"sims": 2000}, "treaties": TREATIES})
    )


# ---------------------------------------------------------------------------------------------
# Formatting
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


def test_plots_inline(page: Page) -> None:
    labels = page.svg_labels
    assert "Exceedance probability curves" in labels
    assert "Histogram of the annual gross loss" in labels
    assert any(lab.startswith("Top") and "countries" in lab for lab in labels)
    assert page.tags["svg"] == 3  # no treaties: no gross/ceded/net plot
    assert page.tags["path"] > 50 and page.tags["figcaption"] == 3
    assert "exceeded once every T years" in page.text("ep-curve")


def test_header(res: Results, html: str, page: Page) -> None:
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


def test_key_figures_show_the_runs_numbers(res: Results, page: Page) -> None:
    m = res.measures("gross")
    text = page.text("key-figures")
    el, var995 = m["EL"]["value"], m["VaR"]["99.5"]["value"]
    assert fmt_amount(el, CCY) in text
    assert fmt_amount(var995, CCY) in text
    assert fmt_se(m["EL"]["se"], el) in text
    assert fmt_amount(m["capital"], CCY) in text
    for lvl in ("90", "95", "99", "99.5", "99.9"):
        assert f"VaR {lvl} %" in text and f"TVaR {lvl} %" in text
    assert "net equals gross" in text
    # the 1-in-200 row of the EP table is VaR 99.5 %
    assert fmt_amount(var995, CCY) in page.text("ep-curve")


def test_top_country_and_sector(res: Results, html: str, page: Page) -> None:
    c = res.segment_el("country")
    s = res.segment_el("sector")
    text = page.text("segments")
    top = c["segment"][0]
    assert top in text and fmt_amount(c["el"][0], CCY) in text
    assert s["segment"][0] in text and fmt_amount(s["el"][0], CCY) in text
    # the top country is the first row of the countries table (which comes before the sectors')
    first = re.search(r"<tr><td>1</td><td><b>([^<]+)</b>", html)
    assert first and first.group(1) == top
    total = float(c["el"].sum())
    assert fmt_pct(c["el"][0] / total) in text
    assert "Total" in text and "Other (" in text


def test_book_section(res: Results, page: Page) -> None:
    text = page.text("book")
    cp = res.compiled
    assert f"{cp.n_buyers:,}" in text and f"{cp.n_exposures:,}" in text
    assert fmt_amount(cp.book_premium, CCY) in text
    assert fmt_amount(cp.expected_ground_up, CCY) in text
    assert "OK" in text


def test_render_leaves_matplotlib_alone(res: Results) -> None:
    import matplotlib

    def snapshot() -> dict[str, str]:
        # dict.__getitem__: reading rcParams["backend"] the normal way would resolve (and import pyplot)
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


def test_deterministic_apart_from_the_clock(res: Results, html: str) -> None:
    strip = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
    assert strip.sub("", render_report(res)) == strip.sub("", html)


def test_few_simulations_and_a_tiny_book(book: Any) -> None:
    tiny = generate_book(20, seed=2)
    res = simulate(tiny, parse_scenario({"name": "tiny", "simulation": {"sims": 50}}))
    html = render_report(res)
    page = Page(html)
    assert page.errors == [] and "could not be rendered" not in html
    assert "too few years to show the 1-in-200 loss" in html
    assert 'class="beyond"' in html  # return periods beyond 50 years are greyed


def test_write_includes_report(res: Results, tmp_path: Path) -> None:
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


def test_treaty_section(res_treaties: Results) -> None:
    html = render_report(res_treaties)
    page = _treaty_section(html)
    text = page.text("reinsurance")
    for t in ("qs", "xl", "sl"):
        assert t in text
    assert "Gross, ceded and net AEP curves" in page.svg_labels
    assert page.tags["svg"] == 4
    net = res_treaties.measures("net")
    assert fmt_amount(net["EL"]["value"], CCY) in page.text("key-figures")
    assert "Capital relief" in text
    # the treaty metrics are there (test_treaty_metrics_failing_leaves_the_rest: when they fail)
    assert "Treaty metrics unavailable" not in text
    m = res_treaties.summary()["treaties"]
    assert "Expected ceded loss" in text and "Probability of attachment" in text
    for t in ("qs", "xl", "sl"):
        assert fmt_amount(m[t]["expected_ceded"], CCY) in text, t


def test_treaty_metrics_rendered_whatever_their_keys(
    res_treaties: Results, monkeypatch: pytest.MonkeyPatch
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
        },
        "xl": {
            "expected_ceded": 10.0,
            "prob_attach": 0.01,
            "share_of_gross_el": 0.001,
            "by_layer": {"a": 1.0, "b": 2.0},
        },
        "sl": {"expected_ceded": np.float64(0.0)},
    }
    real = Results.summary

    def summary(self: Results) -> dict[str, Any]:
        out = real(self)
        out["treaties"] = fake
        return out

    monkeypatch.setattr(Results, "summary", summary)
    html = render_report(res_treaties)
    text = _treaty_section(html).text("reinsurance")
    assert "1.23 m EUR" in text and "± 0.012 m" in text  # value with its merged _se
    assert "Expected ceded se" not in text
    assert "99.9 %" in text and "30.0 %" in text and "0.100 %" in text
    assert "New metric" in text and "Comment" in text and "By layer" in text
    assert "<i>escaped</i>" not in html and "&lt;i&gt;escaped&lt;/i&gt;" in html


def test_treaty_metrics_failing_leaves_the_rest(
    res_treaties: Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Results.summary

    def summary(self: Results) -> dict[str, Any]:
        if self.treaty_names:
            raise ModuleNotFoundError("No module named 'riskengine.reinsurance.metrics'")
        return real(self)

    monkeypatch.setattr(Results, "summary", summary)
    html = render_report(res_treaties)
    page = _treaty_section(html)
    text = page.text("reinsurance")
    assert "Treaty metrics unavailable" in text and "ModuleNotFoundError" in text
    m = res_treaties.measures("ceded_qs")
    assert fmt_amount(m["EL"]["value"], CCY) in text
    assert fmt_amount(res_treaties.measures("net")["EL"]["value"], CCY) in page.text("key-figures")
    assert page.tags["svg"] == 4


# ---------------------------------------------------------------------------------------------
# Speed and a real browser
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_render_time_100k_sims() -> None:
    book = generate_book(300, seed=5)
    res = simulate(
        book,
        parse_scenario({"name": "big", "simulation": {"sims": 100_000}, "treaties": TREATIES[:1]}),
    )
    render_report(res)  # imports and first-use costs
    t = time.perf_counter()
    html = render_report(res)
    elapsed = time.perf_counter() - t
    assert elapsed < 3.0, f"render took {elapsed:.2f} s"  # ~0.7-0.9 s on a 2-core dev box
    assert len(html) < 600_000  # no per-simulation points in the SVGs


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")
def test_chromium_renders_the_page(res_treaties: Results, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    out.write_text(render_report(res_treaties), "utf-8")
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        out.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert dom.count("<svg") == 4 and 'aria-label="Exceedance probability curves"' in dom
    assert 'aria-label="Histogram of the annual gross loss"' in dom
    assert "Key figures" in dom and "Treaty metrics" in dom
    assert "<b>&amp;test</b>" not in dom and "&lt;b&gt;&amp;test&lt;/b&gt;" in dom
