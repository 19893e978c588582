"""The sample-book generator: determinism, writing, the country table, and realism statistics.

The realism statistics are computed here from the generated tables (not read from the generator)
on a 200,000-buyer book with a fixed seed, against the bands the generator's documentation states.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pycountry
import pytest

from riskengine.book import Book, generate_book, load_book
from riskengine.book.generate import MARKER, premium_rate_band, sample_countries
from riskengine.book.summary import exposures_in
from riskengine.errors import OutputError
from riskengine.scenario.models import DEFAULT_GRADE_PD, DEFAULT_RATINGS

# --------------------------------------------------------------------------------------------
# Determinism and writing
# --------------------------------------------------------------------------------------------


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_seed_same_files_different_seed_different(tmp_path: Path, fmt: str) -> None:
    a = _contents(generate_book(2_000, seed=3, out=tmp_path / "a", fmt=fmt).path)
    b = _contents(generate_book(2_000, seed=3, out=tmp_path / "b", fmt=fmt).path)
    c = _contents(generate_book(2_000, seed=4, out=tmp_path / "c", fmt=fmt).path)
    assert a == b
    assert set(a) == {
        f"{t}.{fmt}" for t in ("buyers", "exposures", "policies", "countries", "fx")
    } | {MARKER}
    assert all(
        a[name] != c[name] for name in (f"buyers.{fmt}", f"exposures.{fmt}", f"policies.{fmt}")
    )


def test_written_book_validates_and_equals_the_returned_one(sample_book_dir: Path) -> None:
    book = load_book(sample_book_dir)
    again = generate_book(20_000, seed=11)
    for name, df in again.tables().items():
        assert book.tables()[name].equals(df), name
    marker = json.loads((sample_book_dir / MARKER).read_text())
    assert marker["n_buyers"] == 20_000 and marker["seed"] == 11


@pytest.mark.parametrize("n", [1, 2, 7, 50])
def test_small_books_are_valid(tmp_path: Path, n: int) -> None:
    generate_book(n, seed=n, out=tmp_path / "b")
    book = load_book(tmp_path / "b")
    assert book.buyers.height == n
    assert book.exposures.height >= n


def test_overwrites_a_generated_book_atomically(tmp_path: Path) -> None:
    out = tmp_path / "book"
    generate_book(500, seed=1, out=out)
    first = _contents(out)
    generate_book(800, seed=2, out=out)
    assert load_book(out).buyers.height == 800
    assert _contents(out) != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book"]  # no temporary folders left


def test_writes_into_an_empty_folder_and_creates_parents(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    generate_book(100, out=tmp_path / "empty")
    generate_book(100, out=tmp_path / "new" / "nested")
    assert (
        load_book(tmp_path / "empty").buyers.height
        == load_book(tmp_path / "new" / "nested").buyers.height
        == 100
    )


def test_refuses_to_overwrite_other_folders_and_files(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not a generated sample book"):
        generate_book(10, out=mine)
    assert _contents(mine) == {"notes.txt": b"keep me"}
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        generate_book(10, out=tmp_path / "file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "mine"]


@pytest.mark.parametrize(
    ("n", "fmt", "message"),
    [
        (0, "parquet", "n_buyers must be at least 1"),
        (10, "xls", "fmt must be one of parquet, csv, xlsx"),
    ],
)
def test_bad_arguments(n: int, fmt: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_book(n, fmt=fmt)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# The package's country table
# --------------------------------------------------------------------------------------------


def test_country_table() -> None:
    c = sample_countries()
    assert c.height >= 180
    assert c.get_column("country").is_unique().all()
    codes = set(c.get_column("country"))
    assert codes - {x.alpha_2 for x in pycountry.countries} == {"XK"}
    assert all(pycountry.currencies.get(alpha_3=x) for x in c.get_column("currency"))
    assert c.get_column("risk_grade").is_between(0, 7).all()
    assert 8 <= c.get_column("region").n_unique() <= 10
    assert c.get_column("trade_weight").sum() == pytest.approx(1.0, abs=1e-4)
    assert (c.get_column("trade_weight") > 0).all()
    grade = dict(zip(c.get_column("country"), c.get_column("risk_grade"), strict=True))
    # high-income OECD members are treated as grade 0; a few well-known classified countries
    assert all(grade[x] == 0 for x in ("DE", "US", "FR", "GB", "JP", "CH", "NL", "SE", "AU", "KR"))
    assert grade["CN"] == 2 and grade["IN"] == 3 and grade["RU"] == 7 and grade["AR"] == 7
    weight = dict(zip(c.get_column("country"), c.get_column("trade_weight"), strict=True))
    top = sorted(weight, key=weight.__getitem__, reverse=True)[:12]
    assert {"DE", "US", "FR", "CN"} <= set(top)


# --------------------------------------------------------------------------------------------
# Realism of a 200,000-buyer book
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stats(sample_book_200k: Book) -> dict[str, object]:
    """Per-buyer and per-policy figures computed from the tables (limits in EUR)."""
    book = sample_book_200k
    assert book.fx is not None
    ead = pl.col("limit_reporting") * pl.col("utilization")
    exp = (
        exposures_in(book, "EUR")
        .join(book.buyers.select("buyer_id", "country", "sector", "pd", "lgd"), on="buyer_id")
        .join(book.countries, on="country")
        .with_columns(
            turnover=ead * 365.0 / pl.col("payment_term_days"),
            # expected loss before policy terms, political loss 80 % of EAD
            expected_loss=ead
            * (
                pl.col("pd") * pl.col("lgd") * pl.col("commercial_cover")
                + pl.col("political_pd") * 0.8 * pl.col("political_cover")
            ),
        )
    )
    per_buyer = exp.group_by("buyer_id").agg(
        limit=pl.col("limit_reporting").sum(), policies=pl.col("policy_id").n_unique()
    )
    per_policy = (
        exp.group_by("policy_id")
        .agg(
            buyers=pl.col("buyer_id").n_unique(),
            grade=(pl.col("limit_reporting") * pl.col("risk_grade")).sum()
            / pl.col("limit_reporting").sum(),
            limits_eur=pl.col("limit_reporting").sum(),
            derived_turnover_eur=pl.col("turnover").sum(),
            expected_loss_eur=pl.col("expected_loss").sum(),
        )
        .join(book.policies, on="policy_id")
        .join(book.fx.rename({"rate": "fx"}), on="currency")
    )
    return {
        "exp": exp,
        "per_buyer": per_buyer.sort("limit", descending=True),
        "per_policy": per_policy,
    }


def test_countries_spread(sample_book_200k: Book) -> None:
    assert sample_book_200k.buyers.get_column("country").n_unique() >= 150
    assert set(sample_book_200k.countries.get_column("country")) == set(
        sample_book_200k.buyers.get_column("country")
    )


def test_rating_mix_is_mostly_b_and_bb(
    sample_book_200k: Book, stats: dict[str, pl.DataFrame]
) -> None:
    """Insured buyers are mostly SMEs with B-like default rates (claims near 0.14 % of insured
    turnover need a turnover-weighted PD of about 1.5–2 %); B is the most common rating by
    buyers and by insured turnover, so the rate card's most common cell is a B one; few CCC
    buyers remain, as insurers cut their limits."""
    share = dict(
        sample_book_200k.buyers.get_column("rating").value_counts(normalize=True).iter_rows()
    )
    assert set(share) == set(DEFAULT_RATINGS)
    assert share["BB"] + share["B"] > 0.75
    assert share["B"] > 1.5 * share["BB"] > 2 * share["BBB"]
    assert share["AAA"] + share["AA"] < 0.03
    assert 0.01 < share["CCC"] < 0.04
    exp = stats["exp"].join(sample_book_200k.buyers.select("buyer_id", "rating"), on="buyer_id")
    turnover = (
        exp.group_by("rating").agg(pl.col("turnover").sum()).sort("turnover", descending=True)
    )
    first, second = turnover.get_column("turnover").head(2).to_list()
    assert turnover.get_column("rating")[0] == "B" and first > 1.15 * second


def test_rating_worsens_with_country_risk(sample_book_200k: Book) -> None:
    b = sample_book_200k.buyers.join(
        sample_book_200k.countries.select("country", "risk_grade"), on="country"
    )
    ccc = (
        b.group_by(pl.col("risk_grade") >= 5)
        .agg((pl.col("rating") == "CCC").mean())
        .sort("risk_grade")
    )
    safe, risky = ccc.get_column("rating").to_list()
    assert risky > 1.5 * safe


def test_pd_is_exactly_the_rating_pd_and_lgd_rises_with_country_risk(
    sample_book_200k: Book,
) -> None:
    """Mean LGD after recoveries: 0.6 in grade-0 countries (Moody's senior unsecured recoveries
    are about 38 %), 0.025 more per grade, as recoveries are poorer where insolvency law is
    weaker."""
    b = sample_book_200k.buyers.join(
        sample_book_200k.countries.select("country", "risk_grade"), on="country"
    )
    expected = b.get_column("rating").replace_strict(DEFAULT_RATINGS, return_dtype=pl.Float64)
    assert (b.get_column("pd") == expected).all()
    assert b.get_column("pd").n_unique() == 7
    lgd = 0.6 + 0.025 * b.get_column("risk_grade").cast(pl.Float64)
    assert (b.get_column("lgd") - lgd).abs().max() < 1e-12
    # the LGD's spread and the asset correlation stay the scenario's
    assert all(b.get_column(c).null_count() == b.height for c in ("lgd_sd", "asset_correlation"))


def test_sectors_are_nace_with_manufacturing_and_trade_leading(sample_book_200k: Book) -> None:
    share = sample_book_200k.buyers.get_column("sector").value_counts(normalize=True, sort=True)
    assert set(share.get_column("sector")) <= set("ABCDEFGHIJKLMNOPQRSTU")
    assert set(share.get_column("sector").head(2)) == {"C", "G"}
    assert share.get_column("proportion").head(2).sum() > 0.5


def test_groups(sample_book_200k: Book) -> None:
    b = sample_book_200k.buyers
    assert 0.04 < b.get_column("group_id").is_not_null().mean() < 0.06
    g = (
        b.filter(pl.col("group_id").is_not_null())
        .group_by("group_id")
        .agg(
            size=pl.len(),
            main=pl.col("country").mode().first(),
            country=pl.col("country"),
        )
    )
    assert g.get_column("size").is_between(2, 6).all()
    members_in_main = (
        g.explode("country").select((pl.col("country") == pl.col("main")).mean()).item()
    )
    assert members_in_main > 0.85


def test_limits_are_heavy_tailed(stats: dict[str, pl.DataFrame]) -> None:
    limit = stats["per_buyer"].get_column("limit").to_numpy()
    top = limit[: len(limit) // 100].sum() / limit.sum()
    assert 0.25 <= top <= 0.40
    assert 50_000 <= np.median(limit) <= 100_000


def test_exposures_per_buyer_and_large_buyers_under_several_policies(
    sample_book_200k: Book, stats: dict[str, pl.DataFrame]
) -> None:
    assert 1.2 <= sample_book_200k.exposures.height / sample_book_200k.buyers.height <= 1.4
    policies = stats["per_buyer"].get_column("policies")
    top = policies.head(policies.len() // 100)
    assert top.mean() >= 2.0 and top.max() >= 6
    assert policies.tail(policies.len() // 2).mean() < 1.3


def test_policy_sizes_are_heavy_tailed(stats: dict[str, pl.DataFrame]) -> None:
    buyers = stats["per_policy"].get_column("buyers")
    assert 10 <= buyers.median() <= 50
    assert buyers.max() >= 1_000


def test_premium_rates_within_the_stated_bands(stats: dict[str, pl.DataFrame]) -> None:
    p = stats["per_policy"]
    rate = (p.get_column("premium") / p.get_column("turnover")).to_numpy()
    lo, hi = premium_rate_band(p.get_column("grade").to_numpy())
    assert np.all(rate >= lo * (1 - 1e-4)) and np.all(rate <= hi * (1 + 1e-4))
    developed = p.get_column("grade").to_numpy() == 0
    assert developed.sum() > 100
    assert rate[developed].min() >= 0.001 * (1 - 1e-4) and rate[developed].max() <= 0.005 * (
        1 + 1e-4
    )
    assert rate.min() >= 0.001 * (1 - 1e-4) and rate.max() <= 0.012 * (1 + 1e-4)
    # most rates lie inside their band, not on its bounds
    at_bound = (rate <= lo * (1 + 1e-4)) | (rate >= hi * (1 - 1e-4))
    assert at_bound.mean() < 0.4


def test_premiums_are_priced_on_expected_loss(stats: dict[str, pl.DataFrame]) -> None:
    """Rates follow the policy's expected loss rate on turnover (rank correlation), and the
    book's premium is about 1 / 0.38 of its expected loss (the market's 38 % loss ratio; the
    band caps lift it a little)."""
    p = stats["per_policy"]
    el = p.get_column("expected_loss_eur") * p.get_column("indemnity")
    premium = p.get_column("premium") * p.get_column("fx")
    turnover = p.get_column("turnover") * p.get_column("fx")
    rate_rank = (premium / turnover).rank().to_numpy()
    el_rank = (el / turnover).rank().to_numpy()
    assert np.corrcoef(rate_rank, el_rank)[0, 1] > 0.6
    assert 0.35 < el.sum() / premium.sum() < 0.5
    rate = premium.sum() / turnover.sum()
    assert 0.002 < rate < 0.006


def test_policy_terms(sample_book_200k: Book, stats: dict[str, pl.DataFrame]) -> None:
    p = sample_book_200k.policies
    assert p.get_column("policy_id").str.contains(r"^P\d{6}$").all()
    assert p.get_column("policyholder").n_unique() == p.height
    assert set(p.get_column("indemnity").unique()) == {0.85, 0.9, 0.95}
    assert (
        p.get_column("currency")
        .value_counts(normalize=True)
        .filter(pl.col("currency") == "EUR")
        .item(0, 1)
        > 0.5
    )
    ratio = (p.get_column("max_liability") / p.get_column("premium")).to_numpy()
    assert ratio.min() >= 30 - 1e-3 and ratio.max() <= 50 + 1e-3
    # no idle limits: a limit used at 0.3–1 revolving every 30–180 days carries more turnover
    q = stats["per_policy"]
    assert (
        (q.get_column("turnover") * q.get_column("fx")) > q.get_column("limits_eur")
    ).mean() > 0.9


def test_deductible_and_nql(stats: dict[str, pl.DataFrame]) -> None:
    """Aggregate first loss for about half the policies, 10–50 % of the expected loss (rounded
    to 1,000, at least 1,000); non-qualifying loss 0 for 40 %, else 1,000–5,000 EUR-equivalent
    (rounded to 100 units)."""
    p = stats["per_policy"]
    el = p.get_column("expected_loss_eur") * p.get_column("indemnity") / p.get_column("fx")
    d = p.get_column("deductible")
    assert 0.45 < (d > 0).mean() < 0.55
    has = (d > 0).to_numpy()
    assert (d.filter(d > 0) % 1_000 == 0).all()
    lo = np.maximum(np.round(0.1 * el.to_numpy() / 1_000) * 1_000, 1_000) - 1e-6
    hi = np.maximum(np.round(0.5 * el.to_numpy() / 1_000) * 1_000, 1_000) + 1e-6
    assert np.all((d.to_numpy() >= lo)[has]) and np.all((d.to_numpy() <= hi)[has])
    nql_eur = (p.get_column("nql") * p.get_column("fx")).filter(p.get_column("nql") > 0)
    assert 0.35 < (p.get_column("nql") == 0).mean() < 0.45
    # rounding to 100 units of the policy's currency moves the EUR value by at most 50 units
    slack = 50 * p.get_column("fx").max()
    assert nql_eur.min() >= 1_000 - slack and nql_eur.max() <= 5_000 + slack


def test_turnover_is_limits_times_utilisation_revolving_per_term(
    stats: dict[str, pl.DataFrame],
) -> None:
    """Declared turnover = Σ limit × utilisation × 365 / term of the policy's exposures × a
    factor of 0.8–1.25, spread over that whole range, centred in log."""
    p = stats["per_policy"]
    factor = (
        p.get_column("turnover") * p.get_column("fx") / p.get_column("derived_turnover_eur")
    ).to_numpy()
    # turnover is rounded to a unit of the policy's currency, the limits to 1,000 units
    assert factor.min() >= 0.8 * (1 - 1e-3) and factor.max() <= 1.25 * (1 + 1e-3)
    assert factor.min() < 0.82 and factor.max() > 1.22
    assert abs(np.median(np.log(factor))) < 0.02


def test_payment_terms(stats: dict[str, pl.DataFrame]) -> None:
    """30–180 days in standard steps; longer in emerging regions and for manufacturing,
    construction and public buyers, shorter for trade and hospitality; Chinese buyers near the
    94 days of Chinese firms' mean days sales outstanding."""
    e = stats["exp"]
    term = e.get_column("payment_term_days")
    assert set(term.unique()) <= {30, 45, 60, 75, 90, 120, 150, 180}
    assert (term.value_counts(normalize=True).get_column("proportion") > 0.003).all()
    assert 60 <= term.mean() <= 75

    def mean_by(column: str) -> dict[str, float]:
        m = e.group_by(column).agg(pl.col("payment_term_days").mean())
        return dict(m.iter_rows())

    region = mean_by("region")
    developed = ("Northern Europe", "North America", "Western Europe")
    emerging = [r for r in region if r not in (*developed, "Eastern Europe")]
    assert region["Northern Europe"] < region["North America"] < region["Western Europe"]
    assert 55 <= region["Western Europe"] <= 65
    assert min(region[r] for r in emerging) > 1.35 * region["Western Europe"]
    assert 85 <= mean_by("country")["CN"] <= 105
    sector = mean_by("sector")
    assert min(sector["C"], sector["F"], sector["Q"]) > 1.2 * max(sector["G"], sector["I"])
    # the exporter's practice: terms vary less within a policy than across the book
    log_term = e.select("policy_id", pl.col("payment_term_days").log().alias("x"))
    within = log_term.select((pl.col("x") - pl.col("x").mean().over("policy_id")).var()).item()
    assert within < 0.9 * log_term.get_column("x").var()


def test_exposure_terms(sample_book_200k: Book) -> None:
    e = sample_book_200k.exposures
    assert e.get_column("utilization").is_between(0.3, 1.0).all()
    assert 0.05 < e.get_column("currency").is_not_null().mean() < 0.25
    assert e.get_column("commercial_cover").mean() > 0.98
    assert 0.01 < 1 - e.get_column("political_cover").mean() < 0.08


def test_countries_and_fx_tables(sample_book_200k: Book) -> None:
    c = sample_book_200k.countries
    expected = pl.Series([DEFAULT_GRADE_PD[g] for g in c.get_column("risk_grade")])
    assert (c.get_column("political_pd") == expected).all()
    assert c.get_column("political_lgd").null_count() == c.height
    fx = sample_book_200k.fx
    assert fx is not None
    used = set(sample_book_200k.policies.get_column("currency")) | set(
        sample_book_200k.exposures.get_column("currency").drop_nulls()
    )
    assert set(fx.get_column("currency")) == used | {"EUR"}
    assert fx.filter(pl.col("currency") == "EUR").get_column("rate").to_list() == [1.0]
