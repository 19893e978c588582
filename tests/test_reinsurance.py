"""Reinsurance treaties (issue 4): the kernel against a plain reference, closed forms, invariants,
metrics, occurrences and refused programmes.

* Exact per-simulation checks: on a 12-buyer book where every claim is known (one exposure per
  buyer, utilisation 1, indemnity 1, no policy terms, deterministic LGD), each simulated year is
  replayed, its claims are checked against the book (EAD × LGD for a default, EAD × political
  LGD in an event year) and fed to ``reference.treaties.apply_programme``; the engine's
  ``ceded_<name>`` and ``net`` must agree to 1e-9 relative.
* Statistical checks use fixed seeds and K = 4 standard errors computed by the test (a normal
  deviation beyond 4 has probability 6.3e-5), with a power check that a plausible mistake would
  have failed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import yaml
from scipy import stats

from reference.model import homogeneous_book, make_book
from reference.testing import K, binom_se, run_cli
from reference.treaties import (
    BuyerMaps,
    apply_programme,
    book_premium,
    buyer_maps,
    layer,
    premium_in_scope,
    year_claims,
)
from riskengine.book import Book, generate_book
from riskengine.errors import ScenarioError
from riskengine.portfolio.compile import compile_portfolio
from riskengine.results import Results
from riskengine.run.replay import replay, replay_year
from riskengine.run.simulate import simulate
from riskengine.scenario import Scenario, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
RTOL = 1e-9

# =================================================================================================
# a book where every claim is known
# =================================================================================================
# buyer: (country, sector, pd, lgd, limit, policy, group)
KNOWN = {
    "b01": ("DE", "C", 0.30, 0.5, 8e6, "P1", None),  # 4.0e6
    "b02": ("DE", "G", 0.30, 1.0, 12e6, "P1", None),  # 12.0e6: exhausts an 8e6 xs 2e6 layer
    "b03": ("DE", "C", 0.40, 0.4, 3e6, "P1", None),  # 1.2e6: below the retention
    "b04": ("FR", "C", 0.30, 0.6, 10e6, "P2", None),  # 6.0e6
    "b05": ("FR", "F", 0.25, 0.8, 5e6, "P2", "G1"),  # 4.0e6
    "b06": ("FR", "G", 0.25, 0.5, 4e6, "P2", "G1"),  # 2.0e6: exactly the retention
    "b07": ("BR", "C", 0.30, 0.5, 6e6, "P3", None),  # USD: 6e6 · 0.9 · 0.5 = 2.7e6
    "b08": ("BR", "F", 0.35, 0.7, 9e6, "P3", "G2"),  # USD: 5.67e6
    "b09": ("AR", "G", 0.30, 0.5, 7e6, "P2", None),  # 3.5e6
    "b10": ("AR", "C", 0.20, 0.9, 15e6, "P1", None),  # 13.5e6
    "b11": ("AR", "F", 0.30, 0.4, 5e6, "P3", "G2"),  # USD: 1.8e6 (group across two countries)
    "b12": ("DE", "F", 0.40, 0.3, 2e6, "P2", None),  # 0.6e6
}
# country: (region, political_pd, political_lgd or None for the scenario's 0.8)
COUNTRIES = {
    "AR": ("LATAM", 0.20, 0.6),
    "BR": ("LATAM", 0.15, None),
    "DE": ("EU", 0.0, None),
    "FR": ("EU", 0.12, 0.5),
}
POLICIES = {"P1": ("EUR", 1.5e6), "P2": ("EUR", 1.5e6), "P3": ("USD", 1.0e6)}
USD = 0.9
PREMIUM = 1.5e6 + 1.5e6 + 1.0e6 * USD  # 3.9e6 EUR
POLITICAL_LGD = 0.8


def known_book() -> Book:
    ids = sorted(KNOWN)
    return make_book(
        buyers={
            "buyer_id": ids,
            "country": [KNOWN[b][0] for b in ids],
            "sector": [KNOWN[b][1] for b in ids],
            "pd": [KNOWN[b][2] for b in ids],
            "lgd": [KNOWN[b][3] for b in ids],
            "lgd_sd": [0.0] * len(ids),
            "group_id": [KNOWN[b][6] for b in ids],
        },
        exposures={
            "exposure_id": [f"e{b}" for b in ids],
            "policy_id": [KNOWN[b][5] for b in ids],
            "buyer_id": ids,
            "limit": [KNOWN[b][4] for b in ids],
            "utilization": [1.0] * len(ids),
        },
        policies={
            "policy_id": list(POLICIES),
            "currency": [v[0] for v in POLICIES.values()],
            "indemnity": [1.0] * len(POLICIES),
            "premium": [v[1] for v in POLICIES.values()],
        },
        countries={
            "country": list(COUNTRIES),
            "region": [v[0] for v in COUNTRIES.values()],
            "political_pd": [v[1] for v in COUNTRIES.values()],
            "political_lgd": [v[2] for v in COUNTRIES.values()],
        },
        fx={"currency": ["USD"], "rate": [USD]},
    )


def ead(b: str) -> float:
    return KNOWN[b][4] * (USD if POLICIES[KNOWN[b][5]][0] == "USD" else 1.0)


def known_claims(defaults: set[str], events: set[str]) -> dict[str, tuple[float, float]]:
    """Each buyer's (commercial, political) claim from the year's defaulted buyers and event
    countries alone."""
    out = {}
    for b, (country, *_rest) in KNOWN.items():
        if country in events:
            plgd = COUNTRIES[country][2] or POLITICAL_LGD
            out[b] = (0.0, ead(b) * plgd)
        elif b in defaults:
            out[b] = (ead(b) * KNOWN[b][3], 0.0)
        else:
            out[b] = (0.0, 0.0)
    return out


def year_of(cp: Any, s: int, maps: Any) -> tuple[set[str], set[str], np.ndarray, np.ndarray]:
    """Year ``s`` replayed alone: (defaulted buyers, event countries, commercial and political
    claims by buyer in ``maps`` order). This is :func:`riskengine.run.replay.replay` without
    building its Polars frames (a hundred times faster); ``check_run`` compares the two on every
    tenth year."""
    y = replay_year(cp, int(s))
    dl, ev, buyers, b_comm, b_pol = (
        y.defaults,
        y.events,
        y.buyers,
        y.buyer_commercial,
        y.buyer_political,
    )
    pos = {b: i for i, b in enumerate(maps.buyer_ids)}
    com, pol = np.zeros(maps.n), np.zeros(maps.n)
    for b, c, p in zip(cp.buyer_ids[buyers], b_comm, b_pol, strict=True):
        com[pos[b]] += c
        pol[pos[b]] += p
    return set(cp.buyer_ids[dl].tolist()), set(cp.country_codes[ev].tolist()), com, pol


def known_scenario(
    treaties: list[dict], *, sims: int = 400, seed: int = 17, **outputs: Any
) -> Scenario:
    return parse_scenario(
        {
            "simulation": {"sims": sims, "seed": seed, "block_size": 128},
            "model": {"asset_correlation": 0.3},
            "political": {
                "correlation": 0.5,
                "commercial_pd_multiplier": 2.0,
                "lgd": POLITICAL_LGD,
            },
            "treaties": treaties,
            "outputs": {"segments": [], "report": False, **outputs},
        }
    )


# treaties used below (amounts in EUR)
QS = {"name": "qs", "type": "quota_share", "share": 0.3}
XL = {"name": "xl_buyer", "type": "per_risk_xl", "retention": 2e6, "limit": 8e6}
XL_R1 = {**XL, "reinstatements": 1, "reinstatement_rate": 1.0, "premium": 1.2e6}
XL_R0 = {**XL, "reinstatements": 0}
XL_GROUP = {
    "name": "xl_group",
    "type": "per_risk_xl",
    "per": "group",
    "retention": 2e6,
    "limit": 8e6,
    "reinstatements": 1,
}
POL = {"name": "pol_xl", "type": "political_event_xl", "retention": 5e6, "limit": 8e6}
POL_R0 = {**POL, "reinstatements": 0}
SL = {"name": "sl", "type": "stop_loss", "attachment": 8e6, "limit": 10e6}
SL_LR = {"name": "sl", "type": "stop_loss", "attachment_lr": 2.0, "limit_lr": 2.5}


def check_run(res: Results, book: Book, **conventions: str) -> list[dict[str, Any]]:
    """Replay every simulated year of ``res``; check its claims against the book and the ceded
    and net losses against the reference. Returns, per year, the claims and the reference."""
    maps = buyer_maps(book)
    cp = res.compiled
    treaties = res.scenario.treaties
    names = [t.name for t in treaties]
    ylt = res.ylt
    premiums = {t.name: premium_in_scope(book, maps, t) for t in treaties}
    years = []
    for s in range(res.n_sims):
        defaults, events, com, pol = year_of(cp, s, maps)
        row = ylt.row(s, named=True)
        if s % 10 == 0:  # the public replay gives the same year
            rp = replay(cp, s)
            assert rp.ceded == {n: row[f"ceded_{n}"] for n in names}
            assert (
                set(rp.defaults["buyer_id"].to_list()) == defaults
                and set(rp.events["country"].to_list()) == events
            )
            np.testing.assert_array_equal(
                np.stack(year_claims(rp.buyer_claims, maps)), np.stack([com, pol])
            )
        want = known_claims(defaults, events)
        np.testing.assert_allclose(com, [want[b][0] for b in maps.buyer_ids], rtol=1e-12, atol=1e-6)
        np.testing.assert_allclose(pol, [want[b][1] for b in maps.buyer_ids], rtol=1e-12, atol=1e-6)
        ref = apply_programme(
            com, pol, maps, treaties, book_premium=PREMIUM, premiums=premiums, **conventions
        )
        got = [row[f"ceded_{n}"] for n in names] + [row["net"]]
        np.testing.assert_allclose(
            got, [ref.ceded[n] for n in names] + [ref.net], rtol=RTOL, atol=1e-6, err_msg=f"sim {s}"
        )
        years.append({"commercial": com, "political": pol, "ref": ref, "gross": row["gross"]})
    return years


def run_known(treaties: list[dict], **kw: Any) -> tuple[Book, Results]:
    book = known_book()
    return book, simulate(book, known_scenario(treaties, **kw))


# =================================================================================================
# the reference itself, by hand
# =================================================================================================
def hand_maps() -> BuyerMaps:
    return BuyerMaps(
        buyer_ids=["A", "B", "C", "D"],
        country=["DE", "DE", "BR", "BR"],
        region=["EU", "EU", "LATAM", "LATAM"],
        sector=["C", "G", "C", "F"],
        group=["G", "G", None, None],
    )


def treaties_of(*items: dict) -> list[Any]:
    return list(parse_scenario({"treaties": list(items)}).treaties)


def test_reference_by_hand_inuring_both_ways():
    maps = hand_maps()
    com = np.array([12e6, 0.0, 0.0, 0.0])
    pol = np.zeros(4)
    # QS before XL: the occurrence is 0.7 · 12e6 = 8.4e6, the layer cedes 6.4e6
    a = apply_programme(com, pol, maps, treaties_of(QS, XL))
    assert a.ceded == pytest.approx(
        {"qs": 3.6e6, "xl_buyer": 6.4e6}, rel=1e-12
    ) and a.net == pytest.approx(2.0e6, rel=1e-12)
    # XL before QS: the layer cedes 8e6 (exhausted), the QS 30 % of the 4e6 left
    b = apply_programme(com, pol, maps, treaties_of(XL, QS))
    assert b.ceded == pytest.approx(
        {"xl_buyer": 8e6, "qs": 1.2e6}, rel=1e-12
    ) and b.net == pytest.approx(2.8e6, rel=1e-12)


def test_reference_by_hand_group_cap_scope_and_stop_loss():
    maps = hand_maps()
    com = np.array([5e6, 3e6, 9e6, 1e6])
    pol = np.array([0.0, 0.0, 0.0, 4e6])
    # per group: G = A + B = 8e6 cedes 6e6; C cedes 7e6; D's 1e6 nothing; cap 8e6 → × 8/13
    r = apply_programme(com, pol, maps, treaties_of({**XL_R0, "per": "group"}))
    assert r.ceded["xl_buyer"] == pytest.approx(8e6, rel=1e-12)
    f = 8 / 13
    np.testing.assert_allclose(
        r.net_commercial, [5e6 - 6e6 * f * 5 / 8, 3e6 - 6e6 * f * 3 / 8, 9e6 - 7e6 * f, 1e6]
    )
    # in order (sorted occurrence keys: buyer C before group G): C fills 7e6 of the cap, G gets
    # the 1e6 left, taken from A first
    r = apply_programme(
        com,
        pol,
        maps,
        treaties_of({**XL_R0, "per": "group"}),
        cap_rule="in_order",
        split_rule="in_order",
    )
    np.testing.assert_allclose(r.net_commercial, [4e6, 3e6, 2e6, 1e6])
    r = apply_programme(
        com,
        pol,
        maps,
        treaties_of({**XL_R0, "per": "group"}),
        cap_rule="pro_rata",
        split_rule="in_order",
    )
    np.testing.assert_allclose(r.net_commercial, [5e6 - 6e6 * f, 3e6, 9e6 - 7e6 * f, 1e6])
    # scope: XL on EU buyers only cedes A's 3e6 and B's 1e6; a stop loss on sector C only
    r = apply_programme(com, pol, maps, treaties_of({**XL, "scope": {"regions": ["EU"]}}))
    assert r.ceded["xl_buyer"] == pytest.approx(4e6, rel=1e-12)
    sl_c = {
        "name": "sl",
        "type": "stop_loss",
        "attachment": 10e6,
        "limit": 2e6,
        "scope": {"sectors": ["C"]},
    }
    r = apply_programme(com, pol, maps, treaties_of(sl_c))
    assert r.ceded["sl"] == pytest.approx(2e6, rel=1e-12)  # C-sector total 14e6
    np.testing.assert_allclose(r.net_commercial, [5e6 * 12 / 14, 3e6, 9e6 * 12 / 14, 1e6])
    # political XL per country: BR's 4e6 below a 5e6 retention
    r = apply_programme(
        com, pol, maps, treaties_of(POL, SL_LR), book_premium=4e6
    )  # SL 10e6 xs 8e6 on 22e6
    assert r.ceded == pytest.approx({"pol_xl": 0.0, "sl": 10e6}, rel=1e-12)


# =================================================================================================
# exact per-simulation checks on the known book
# =================================================================================================
PROGRAMMES = {
    "quota_share": [QS],
    "per_risk_xl unlimited": [XL],
    "per_risk_xl 1 reinstatement": [XL_R1],
    "per_risk_xl per group": [XL_GROUP],
    "political_event_xl": [POL],
    "stop_loss amounts": [SL],
    "stop_loss loss ratios": [SL_LR],
    "full programme": [QS, XL_R1, POL, SL_LR],
    "scope by country": [{**XL, "scope": {"countries": ["DE", "FR"]}}],
    "scope by region": [
        {**QS, "scope": {"regions": ["LATAM"]}},
        {**POL, "scope": {"regions": ["LATAM"]}},
    ],
    "scope by sector": [{**SL, "scope": {"sectors": ["C", "F"]}}],
    "scope by country and sector": [
        {**XL_GROUP, "scope": {"countries": ["FR", "BR"], "sectors": ["F"]}}
    ],
    "political scope by sector": [{**POL, "retention": 2e6, "scope": {"sectors": ["C", "F"]}}, SL],
    "stop_loss loss ratios in scope": [{**SL_LR, "scope": {"countries": ["BR", "FR"]}}],
    "per_risk_xl aggregate deductible and limit": [
        {**XL, "aggregate_deductible": 3e6, "aggregate_limit": 10e6}
    ],
    "political_event_xl aggregate deductible": [{**POL, "aggregate_deductible": 2e6}],
    "aggregate terms inside a programme": [
        QS,
        {**XL_R1, "aggregate_deductible": 1e6, "aggregate_limit": 12e6},
        POL,
        SL_LR,
    ],
}


@pytest.mark.parametrize("name", list(PROGRAMMES))
def test_each_treaty_matches_the_reference_in_every_year(name):
    book, res = run_known(PROGRAMMES[name])
    years = check_run(res, book)
    # the checks bite: every treaty cedes in some years and not in others
    for t in res.treaty_names:
        c = res.ylt[f"ceded_{t}"].to_numpy()
        assert 0.02 < (c > 0).mean() < 0.98, t
    assert sum(y["gross"] > 0 for y in years) > 100


def test_reinstatement_caps_bind():
    book, res = run_known([XL_R0, POL_R0])
    years = check_run(res, book)
    maps = buyer_maps(book)
    xl_raw = np.array([layer(y["commercial"], 2e6, 8e6).sum() for y in years])
    country = np.array(maps.country)
    pol_raw = np.array(
        [sum(layer(y["political"][country == c].sum(), 5e6, 8e6) for c in COUNTRIES) for y in years]
    )
    xl = res.ylt["ceded_xl_buyer"].to_numpy()
    pol = res.ylt["ceded_pol_xl"].to_numpy()
    assert (xl_raw > 8e6).sum() >= 20 and (pol_raw > 8e6).sum() >= 3  # the caps bind in these years
    np.testing.assert_allclose(xl, np.minimum(xl_raw, 8e6), rtol=RTOL)
    np.testing.assert_allclose(pol, np.minimum(pol_raw, 8e6), rtol=RTOL)
    assert xl.max() == 8e6 and pol.max() == 8e6


def test_aggregate_deductible_and_limit_bind_exactly_in_every_year():
    terms = {"aggregate_deductible": 3e6, "aggregate_limit": 9e6}
    book, res = run_known([{**XL, **terms}, {**POL, **terms, "reinstatements": 0}])
    years = check_run(res, book)
    maps = buyer_maps(book)
    country = np.array(maps.country)
    xl_raw = np.array([layer(y["commercial"], 2e6, 8e6).sum() for y in years])
    pol_raw = np.array(
        [sum(layer(y["political"][country == c].sum(), 5e6, 8e6) for c in COUNTRIES) for y in years]
    )
    xl = res.ylt["ceded_xl_buyer"].to_numpy()
    pol = res.ylt["ceded_pol_xl"].to_numpy()
    np.testing.assert_allclose(xl, np.clip(xl_raw - 3e6, 0, 9e6), rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(pol, np.clip(pol_raw - 3e6, 0, 8e6), rtol=RTOL, atol=1e-6)
    # the terms bite: years below the deductible, years at the aggregate limit
    assert ((xl_raw > 0) & (xl_raw <= 3e6)).sum() >= 5 and (xl_raw > 12e6).sum() >= 5
    # the metrics' capacity is the aggregate limit (9e6), and 8e6 (no reinstatement) for the other
    m = res.summary()["treaties"]
    assert m["xl_buyer"]["prob_exhaust"] == pytest.approx((xl >= 9e6 * (1 - 1e-12)).mean())
    assert m["xl_buyer"]["prob_exhaust"] > 0.005
    assert m["pol_xl"]["prob_exhaust"] == pytest.approx((pol >= 8e6 * (1 - 1e-12)).mean())


def test_quota_share_cedes_its_share_of_the_premium_in_scope():
    scoped = {**QS, "name": "qs_latam", "ceding_commission": 0.3, "scope": {"regions": ["LATAM"]}}
    book, res = run_known([{**QS, "ceding_commission": 0.25}, scoped], sims=500)
    maps = buyer_maps(book)
    m = res.summary()["treaties"]
    latam = premium_in_scope(book, maps, res.scenario.treaties[1])
    assert 0 < latam < PREMIUM
    for name, premium, commission in (("qs", PREMIUM, 0.25), ("qs_latam", latam, 0.3)):
        mt = m[name]
        assert mt["premium"] == pytest.approx(0.3 * premium, rel=1e-12)
        assert mt["ceding_commission"] == pytest.approx(commission * 0.3 * premium, rel=1e-12)
        # the commission is subtracted once: the cedant pays premium − commission for the cover
        assert mt["expected_margin"] == pytest.approx(
            mt["premium"] - mt["ceding_commission"] - mt["expected_ceded"], rel=1e-12
        )
    # a quota share given a premium keeps it
    _, res2 = run_known([{**QS, "premium": 1e5}], sims=50)
    assert res2.summary()["treaties"]["qs"]["premium"] == 1e5


def test_inuring_order_quota_share_before_and_after_the_xl():
    book, before = run_known([QS, XL])
    _, after = run_known([XL, QS])
    years = check_run(before, book)
    check_run(after, book)
    a, b = before.ylt, after.ylt
    np.testing.assert_array_equal(a["gross"].to_numpy(), b["gross"].to_numpy())  # the same years
    gross = a["gross"].to_numpy()
    com = np.array([y["commercial"] for y in years])
    # QS first: it cedes 30 % of gross; each occurrence reaches the XL scaled by 0.7
    np.testing.assert_allclose(a["ceded_qs"].to_numpy(), 0.3 * gross, rtol=RTOL)
    np.testing.assert_allclose(
        a["ceded_xl_buyer"].to_numpy(), layer(0.7 * com, 2e6, 8e6).sum(1), rtol=RTOL, atol=1e-6
    )
    # XL first: it sees the full occurrences; the QS takes 30 % of the year's net total
    xl_full = layer(com, 2e6, 8e6).sum(1)
    np.testing.assert_allclose(b["ceded_xl_buyer"].to_numpy(), xl_full, rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(
        b["ceded_qs"].to_numpy(), 0.3 * (gross - xl_full), rtol=RTOL, atol=1e-6
    )
    # the expected differences: the XL cedes less behind the QS, the QS more; which net is lower
    # depends on the occurrence (12e6: 2.0e6 vs 2.8e6 net; 4e6: 2.8e6 − 0.6e6 vs 0.7 · 2e6 …)
    assert np.all(a["ceded_xl_buyer"].to_numpy() <= b["ceded_xl_buyer"].to_numpy() + 1e-6)
    assert np.all(a["ceded_qs"].to_numpy() >= b["ceded_qs"].to_numpy() - 1e-6)
    assert (a["ceded_xl_buyer"].to_numpy() < b["ceded_xl_buyer"].to_numpy() - 1).mean() > 0.2
    net_diff = a["net"].to_numpy() - b["net"].to_numpy()
    np.testing.assert_allclose(
        net_diff, 0.7 * xl_full - layer(0.7 * com, 2e6, 8e6).sum(1), rtol=RTOL, atol=1e-6
    )
    assert (net_diff < -1).any() and (net_diff > 1).any()  # neither order is always better


def test_per_group_differs_from_per_buyer():
    unlimited = {k: v for k, v in XL_GROUP.items() if k != "reinstatements"}
    book, by_group = run_known([unlimited])
    _, by_buyer = run_known([{**unlimited, "per": "buyer"}])
    years = check_run(by_group, book)
    g = by_group.ylt["ceded_xl_group"].to_numpy()
    b = by_buyer.ylt["ceded_xl_group"].to_numpy()
    assert np.all(
        g >= b - 1e-6
    )  # summing a group's claims into one occurrence cedes at least as much
    # b05 (4e6) and b06 (2e6) of G1 in one year: 4e6 as a group, 2e6 as two buyers
    both = np.array([y["commercial"][4] > 0 and y["commercial"][5] > 0 for y in years])
    assert both.sum() >= 5 and np.all(g[both] - b[both] >= 2e6 - 1e-6)


def test_conventions_do_not_matter_when_only_totals_come_after():
    """QS, a capped per-group XL, a capped political XL and a stop loss on the total: who keeps
    what after the XLs changes nothing downstream, so every convention gives the engine's
    numbers."""
    programme = [QS, {**XL_GROUP, "reinstatements": 0}, POL_R0, SL]
    book, res = run_known(programme)
    years = check_run(res, book)
    maps = buyer_maps(book)
    split_used = 0
    for y in years:
        base = y["ref"]
        for cap_rule in ("pro_rata", "in_order"):
            for split_rule in ("pro_rata", "in_order"):
                alt = apply_programme(
                    y["commercial"],
                    y["political"],
                    maps,
                    res.scenario.treaties,
                    book_premium=PREMIUM,
                    cap_rule=cap_rule,
                    split_rule=split_rule,
                )
                for n in res.treaty_names:
                    assert alt.ceded[n] == pytest.approx(base.ceded[n], rel=RTOL, abs=1e-6)
                if np.abs(alt.net_commercial - base.net_commercial).max() > 1.0:
                    split_used += 1  # the conventions left buyers with different nets
    xl = res.ylt["ceded_xl_group"].to_numpy()
    assert (xl == 8e6).sum() >= 10  # the cap binds
    assert split_used >= 10  # the conventions were exercised, and still nothing downstream changed


def test_conventions_matter_downstream_and_the_engine_uses_pro_rata():
    """A capped per-buyer XL, then a per-group XL, then a stop loss on sectors C and F: what the
    later treaties see depends on the conventions; the engine follows the documented pro-rata
    ones."""
    programme = [
        XL_R0,
        {"name": "xl_group", "type": "per_risk_xl", "per": "group", "retention": 1e6, "limit": 3e6},
        {
            "name": "sl",
            "type": "stop_loss",
            "attachment": 4e6,
            "limit": 6e6,
            "scope": {"sectors": ["C", "F"]},
        },
    ]
    book, res = run_known(programme, sims=600)
    years = check_run(res, book)  # pro rata / pro rata
    maps = buyer_maps(book)
    differs = {("in_order", "pro_rata"): 0, ("pro_rata", "in_order"): 0}
    for y in years:
        for cap_rule, split_rule in differs:
            alt = apply_programme(
                y["commercial"],
                y["political"],
                maps,
                res.scenario.treaties,
                book_premium=PREMIUM,
                cap_rule=cap_rule,
                split_rule=split_rule,
            )
            assert alt.ceded["xl_buyer"] == pytest.approx(
                y["ref"].ceded["xl_buyer"], rel=RTOL
            )  # own total: same
            if any(abs(alt.ceded[n] - y["ref"].ceded[n]) > 1.0 for n in ("xl_group", "sl")):
                differs[(cap_rule, split_rule)] += 1
    assert all(v >= 3 for v in differs.values()), (
        differs
    )  # power: another convention would have failed


def test_sample_book_years_match_the_reference():
    """A generated book (several policies per buyer, deductibles, nql, fx, groups): a sample of
    years with claims, replayed and compared with the reference."""
    book = generate_book(300, seed=5)
    treaties = [
        {
            "name": "qs",
            "type": "quota_share",
            "share": 0.25,
            "scope": {"regions": ["Western Europe"]},
        },
        {
            "name": "xl",
            "type": "per_risk_xl",
            "per": "group",
            "retention": 3e4,
            "limit": 1e5,
            "reinstatements": 1,
        },
        {"name": "pol", "type": "political_event_xl", "retention": 1e4, "limit": 1e5},
        {"name": "sl", "type": "stop_loss", "attachment_lr": 0.3, "limit_lr": 0.4},
    ]
    sc = parse_scenario(
        {
            "simulation": {"sims": 3000, "seed": 3},
            "political": {"grade_pd": [0, 0.002, 0.005, 0.01, 0.03, 0.07, 0.15, 0.3]},
            "treaties": treaties,
            "outputs": {"segments": [], "report": False},
        }
    )
    res = simulate(book, sc)
    maps = buyer_maps(book)
    prem = book_premium(book)
    assert prem == pytest.approx(res.compiled.book_premium, rel=1e-12)
    ylt = res.ylt
    cols = [f"ceded_{n}" for n in res.treaty_names]
    interesting = ylt.filter(pl.any_horizontal(pl.col(c) > 0 for c in cols))["sim_id"].to_numpy()
    assert len(interesting) > 100
    rng = np.random.default_rng(0)
    sims = np.r_[rng.choice(interesting, 60, replace=False), np.arange(20)]
    for s in sims:
        rp = replay(res.compiled, int(s))
        com, pol = year_claims(rp.buyer_claims, maps)
        ref = apply_programme(com, pol, maps, sc.treaties, book_premium=prem)
        row = ylt.row(int(s), named=True)
        np.testing.assert_allclose(
            [row[c] for c in cols] + [row["net"]],
            [ref.ceded[n] for n in res.treaty_names] + [ref.net],
            rtol=RTOL,
            atol=1e-6,
            err_msg=f"sim {s}",
        )
    for n in res.treaty_names:  # every treaty was exercised in the sample
        assert (ylt[f"ceded_{n}"].to_numpy()[sims] > 0).any(), n


# =================================================================================================
# invariants on every row of larger runs
# =================================================================================================
def invariant_run(treaties: list[dict], seed: int) -> tuple[Results, Scenario]:
    book = generate_book(400, seed=seed)
    sc = parse_scenario(
        {
            "simulation": {"sims": 20_000, "seed": seed, "block_size": 5000},
            "political": {"grade_pd": [0, 0.002, 0.005, 0.01, 0.03, 0.07, 0.15, 0.3]},
            "treaties": treaties,
            "outputs": {"segments": [], "report": False},
        }
    )
    return simulate(book, sc), sc


INVARIANT_PROGRAMMES = {
    "qs first": [
        {"name": "qs", "type": "quota_share", "share": 0.3},
        {
            "name": "xl",
            "type": "per_risk_xl",
            "retention": 4e4,
            "limit": 1.5e5,
            "reinstatements": 1,
        },
        {
            "name": "pol",
            "type": "political_event_xl",
            "retention": 2e4,
            "limit": 2e5,
            "reinstatements": 0,
        },
        {"name": "sl", "type": "stop_loss", "attachment_lr": 0.3, "limit_lr": 0.5},
    ],
    "qs after the xls": [
        {
            "name": "xl",
            "type": "per_risk_xl",
            "per": "group",
            "retention": 5e4,
            "limit": 1e5,
            "reinstatements": 2,
        },
        {"name": "pol", "type": "political_event_xl", "retention": 2e4, "limit": 2e5},
        {"name": "qs", "type": "quota_share", "share": 0.4},
        {"name": "sl", "type": "stop_loss", "attachment": 1.5e5, "limit": 2e5},
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(INVARIANT_PROGRAMMES))
def test_invariants_on_every_row(name):
    res, sc = invariant_run(INVARIANT_PROGRAMMES[name], seed=11 if name == "qs first" else 12)
    ylt = res.ylt
    gross = ylt["gross"].to_numpy()
    net = ylt["net"].to_numpy()
    ceded = {t.name: ylt[f"ceded_{t.name}"].to_numpy() for t in sc.treaties}
    total = sum(ceded.values())
    np.testing.assert_allclose(total + net, gross, rtol=1e-9, atol=1e-9 * max(gross.max(), 1.0))
    assert np.all(net >= -1e-9 * gross.max())
    before = np.zeros_like(gross)  # Σ ceded by the treaties before each one (none is scoped)
    for t in sc.treaties:
        c = ceded[t.name]
        assert np.all(c >= 0), t.name
        assert (c > 0).mean() > 0.002, t.name  # the checks below bite
        reaching = gross - before
        assert np.all(c <= reaching * (1 + 1e-12) + 1e-9), t.name
        if t.type == "quota_share":
            np.testing.assert_allclose(c, t.share * reaching, rtol=1e-9, atol=1e-6)
        elif t.type == "stop_loss":
            prem = res.compiled.book_premium
            a, lim = (
                (t.attachment, t.limit)
                if t.attachment is not None
                else (t.attachment_lr * prem, t.limit_lr * prem)
            )
            assert np.all(c <= lim)
            np.testing.assert_allclose(c, layer(reaching, a, lim), rtol=1e-9, atol=1e-6)
            assert (c == lim).any()  # exhausted in some years
        else:
            cap = math.inf if t.reinstatements is None else t.limit * (1 + t.reinstatements)
            assert np.all(c <= cap), t.name
            n_occ = (
                ylt["n_defaults"].to_numpy()
                if t.type == "per_risk_xl"
                else ylt["n_political_events"].to_numpy()
            )
            assert np.all(c <= t.limit * n_occ * (1 + 1e-12)), (
                t.name
            )  # at most one limit per occurrence
        before = before + c


# =================================================================================================
# closed forms: a layer's expected loss
# =================================================================================================
def independent_book(n: int, seed: int) -> tuple[Book, np.ndarray, np.ndarray]:
    """n independent buyers (R² = 0), no political risk, deterministic LGD 0.6, indemnity 0.9,
    one exposure each: buyer i claims x_i = 0.9 · 0.6 · limit_i with probability pd_i."""
    rng = np.random.default_rng(seed)
    limits = np.round(np.exp(rng.normal(math.log(4e5), 0.9, n)), -3)
    pds = np.round(rng.uniform(0.01, 0.12, n), 4)
    ids = [f"b{i:04d}" for i in range(n)]
    book = make_book(
        buyers={
            "buyer_id": ids,
            "country": ["DE"] * n,
            "sector": ["C"] * n,
            "pd": pds,
            "lgd": [0.6] * n,
            "lgd_sd": [0.0] * n,
            "asset_correlation": [0.0] * n,
        },
        exposures={
            "exposure_id": [f"e{i:04d}" for i in range(n)],
            "policy_id": ["P1"] * n,
            "buyer_id": ids,
            "limit": limits,
            "utilization": [1.0] * n,
        },
        policies={"policy_id": ["P1"], "currency": ["EUR"], "indemnity": [0.9], "premium": [1e6]},
        countries={"country": ["DE"], "region": ["EU"], "political_pd": [0.0]},
    )
    return book, 0.9 * 0.6 * limits, pds


@pytest.mark.slow
@pytest.mark.parametrize("with_qs", [False, True])
def test_layer_expected_loss_matches_the_closed_form(with_qs):
    """E[ceded] = Σ pd_i · min(max(s·x_i − R, 0), L), s = 1 − QS share before the layer (unlimited
    reinstatements, independent buyers)."""
    book, x, pds = independent_book(250, seed=1)
    r, lim = 2e5, 4e5
    treaties = ([QS] if with_qs else []) + [
        {"name": "xl", "type": "per_risk_xl", "retention": r, "limit": lim}
    ]
    sims = 20_000
    sc = parse_scenario(
        {
            "simulation": {"sims": sims, "seed": 99},
            "political": {"enabled": False},
            "treaties": treaties,
            "outputs": {"segments": [], "report": False},
        }
    )
    res = simulate(book, sc)
    c = res.ylt["ceded_xl"].to_numpy()
    s = 0.7 if with_qs else 1.0
    exact = float(np.sum(pds * layer(s * x, r, lim)))
    se = c.std(ddof=1) / math.sqrt(sims)
    assert abs(c.mean() - exact) <= K * se, (c.mean(), exact, se)
    # power: the QS ignored (or wrongly applied), or the retention forgotten, would be detected
    wrong = float(np.sum(pds * layer((1.0 if with_qs else 0.7) * x, r, lim)))
    assert abs(wrong - exact) > 2 * K * se
    assert abs(float(np.sum(pds * np.minimum(s * x, lim))) - exact) > 2 * K * se


@pytest.mark.slow
def test_capped_layer_on_identical_buyers_is_a_capped_binomial():
    """n identical independent buyers claiming 1 each: the year cedes min(N·0.5, cap) with
    N ~ Binomial(n, pd); mean, P(exhaust) and the reinstatement premium against the exact law."""
    n, pd, sims = 200, 0.02, 20_000
    book = homogeneous_book(n, pd, 0.0, lgd=1.0)
    r, lim, reinst, rate, premium = 0.25, 0.5, 2, 0.8, 0.3
    sc = parse_scenario(
        {
            "simulation": {"sims": sims, "seed": 5},
            "political": {"enabled": False},
            "treaties": [
                {
                    "name": "xl",
                    "type": "per_risk_xl",
                    "retention": r,
                    "limit": lim,
                    "reinstatements": reinst,
                    "reinstatement_rate": rate,
                    "premium": premium,
                }
            ],
            "outputs": {"segments": [], "report": False},
        }
    )
    res = simulate(book, sc)
    c = res.ylt["ceded_xl"].to_numpy()
    k = np.arange(n + 1)
    pmf = stats.binom.pmf(k, n, pd)
    per_occ = min(max(1.0 - r, 0.0), lim)
    cap = lim * (1 + reinst)
    law = np.minimum(k * per_occ, cap)
    mean, var = float(pmf @ law), float(pmf @ law**2) - float(pmf @ law) ** 2
    se = math.sqrt(var / sims)
    assert abs(c.mean() - mean) <= K * se
    assert abs(n * pd * per_occ - mean) > 2 * K * se  # power: the cap forgotten
    assert set(np.round(np.unique(c), 12)) <= set(np.round(law, 12))  # only the law's values occur
    m = res.summary()["treaties"]["xl"]
    p_exhaust = float(pmf[k * per_occ >= cap].sum())
    assert abs(m["prob_exhaust"] - p_exhaust) <= K * binom_se(p_exhaust, sims)
    p_attach = 1 - pmf[0]
    assert abs(m["prob_attach"] - p_attach) <= K * binom_se(p_attach, sims)
    rip_law = rate * premium * np.minimum(law, lim * reinst) / lim
    rip, rip_var = float(pmf @ rip_law), float(pmf @ rip_law**2) - float(pmf @ rip_law) ** 2
    assert abs(m["expected_reinstatement_premium"] - rip) <= K * math.sqrt(rip_var / sims)


# =================================================================================================
# summary.json: treaty metrics and capital relief, recomputed from the YLT
# =================================================================================================
def test_treaty_metrics_recomputed_from_the_ylt(tmp_path):
    programme = [
        {**QS, "premium": 2e6, "ceding_commission": 0.3},
        XL_R1,
        {**POL, "premium": 3e5},
        {**SL_LR, "premium": 1e5},
    ]
    book, res = run_known(programme, sims=20_000, seed=3)
    assert res.compiled.book_premium == pytest.approx(PREMIUM, rel=1e-12)
    assert book_premium(book) == pytest.approx(PREMIUM, rel=1e-12)
    ylt = res.ylt
    gross = ylt["gross"].to_numpy()
    summ = res.summary()
    metrics = summ["treaties"]
    assert list(metrics) == ["qs", "xl_buyer", "pol_xl", "sl"]
    capacity = {"qs": None, "xl_buyer": 16e6, "pol_xl": None, "sl": 2.5 * PREMIUM}
    for t in res.scenario.treaties:
        c = ylt[f"ceded_{t.name}"].to_numpy()
        m = metrics[t.name]
        assert m["type"] == t.type
        assert m["expected_ceded"] == pytest.approx(c.mean(), rel=1e-12)
        assert m["expected_ceded_se"] == pytest.approx(c.std(ddof=1) / math.sqrt(len(c)), rel=1e-9)
        assert m["sd"] == pytest.approx(c.std(ddof=1), rel=1e-9)
        assert m["prob_attach"] == pytest.approx((c > 0).mean(), abs=1e-15)
        assert 0.01 < m["prob_attach"] < 0.99
        cap = capacity[t.name]
        if cap is None:
            assert m["prob_exhaust"] is None
        else:
            assert m["prob_exhaust"] == pytest.approx((c >= cap * (1 - 1e-12)).mean(), abs=1e-15)
            assert m["prob_exhaust"] > 0.001  # exhausted in some years
        assert m["share_of_gross_el"] == pytest.approx(c.mean() / gross.mean(), rel=1e-12)
        if (
            t.type == "per_risk_xl"
        ):  # rate × premium × E[min(ceded, limit × reinstatements)] / limit
            rip = 1.0 * 1.2e6 * np.minimum(c, 8e6 * 1).mean() / 8e6
            assert m["expected_reinstatement_premium"] == pytest.approx(rip, rel=1e-12) and rip > 0
        else:
            assert m["expected_reinstatement_premium"] == 0.0
        assert m["premium"] == t.premium
        assert m["ceding_commission"] == pytest.approx(t.premium * t.ceding_commission, rel=1e-12)
        assert m["expected_margin"] == pytest.approx(
            t.premium + m["expected_reinstatement_premium"] - m["ceding_commission"] - c.mean(),
            rel=1e-12,
        )
    assert metrics["qs"]["share_of_gross_el"] == pytest.approx(0.3, rel=1e-12)

    # net measures and capital relief = gross capital − net capital (VaR 99.5 − EL, lower quantile)
    def capital(x: np.ndarray) -> float:
        return float(np.sort(x)[math.ceil(0.995 * len(x)) - 1] - x.mean())

    net = ylt["net"].to_numpy()
    assert summ["measures"]["net"]["EL"]["value"] == pytest.approx(net.mean(), rel=1e-12)
    assert summ["capital"]["gross"] == pytest.approx(capital(gross), rel=1e-12)
    assert summ["capital"]["net"] == pytest.approx(capital(net), rel=1e-12)
    assert summ["capital"]["relief"] == pytest.approx(capital(gross) - capital(net), rel=1e-12)
    assert summ["capital"]["relief"] > 0
    # the written summary carries the same numbers
    res.write(tmp_path / "out")
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert written["treaties"]["xl_buyer"]["expected_reinstatement_premium"] == pytest.approx(
        metrics["xl_buyer"]["expected_reinstatement_premium"], rel=1e-15
    )
    assert written["capital"]["relief"] == pytest.approx(summ["capital"]["relief"], rel=1e-15)
    ylt_file = pl.read_parquet(tmp_path / "out" / "ylt.parquet")
    assert [c for c in ylt_file.columns if c.startswith("ceded_")] == [
        "ceded_qs",
        "ceded_xl_buyer",
        "ceded_pol_xl",
        "ceded_sl",
    ]
    assert ylt_file.columns[-1] == "net"


# =================================================================================================
# occurrences.parquet
# =================================================================================================
def test_occurrences_hold_exactly_the_gross_occurrences_above_the_threshold(tmp_path):
    thr = 4e6  # b01's and b05's claims are exactly 4e6: not above it
    book, res = run_known([XL_R1], sims=300, seed=23, occurrence_threshold=thr)
    res.write(tmp_path)
    occ = pl.read_parquet(tmp_path / "occurrences.parquet")
    assert occ.schema == pl.Schema(
        {"sim_id": pl.Int64, "kind": pl.String, "id": pl.String, "gross": pl.Float64}
    )
    assert occ.equals(res.occurrences())
    maps = buyer_maps(book)
    country = np.array(maps.country)
    want = []
    at_threshold = 0
    for s in range(res.n_sims):
        rp = replay(res.compiled, s)
        com, pol = year_claims(rp.buyer_claims, maps)
        want += [(s, "buyer", b, com[i]) for i, b in enumerate(maps.buyer_ids) if com[i] > thr]
        at_threshold += int(np.sum(com == thr))
        for c in sorted(COUNTRIES):
            x = pol[country == c].sum()
            if x > thr:
                want.append((s, "country", c, x))
    got = sorted(occ.iter_rows())
    want.sort()
    assert [g[:3] for g in got] == [w[:3] for w in want]
    np.testing.assert_allclose([g[3] for g in got], [w[3] for w in want], rtol=1e-12)
    assert {g[1] for g in got} == {
        "buyer",
        "country",
    } and at_threshold > 10  # both kinds; the boundary was hit
    # no threshold: no file
    _, plain = run_known([XL_R1], sims=10)
    plain.write(tmp_path / "plain")
    assert not (tmp_path / "plain" / "occurrences.parquet").exists()


def test_every_positive_claim_is_an_occurrence_at_threshold_zero():
    """Threshold 0: every buyer's positive commercial claim and every country's positive political
    claim, in every year (more than a chunk's first buffer holds, so the engine's re-run path
    too)."""
    book, res = run_known([XL], sims=2000, seed=29, occurrence_threshold=0.0)
    res_b = simulate(
        book,
        known_scenario([XL], sims=2000, seed=29, occurrence_threshold=0.0).with_simulation(
            block_size=2000
        ),
    )
    occ = res.occurrences()
    assert occ.equals(res_b.occurrences())  # any block size: the same rows, in the same order
    assert occ.height > 4 * 1024
    maps = buyer_maps(book)
    country = np.array(maps.country)
    n_buyer = n_country = 0
    for s in range(res.n_sims):
        _, _, com, pol = year_of(res.compiled, s, maps)
        n_buyer += int((com > 0).sum())
        n_country += sum(int(pol[country == c].sum() > 0) for c in COUNTRIES)
    counts = dict(occ.group_by("kind").len().iter_rows())
    assert counts == {"buyer": n_buyer, "country": n_country}
    assert occ["sim_id"].is_sorted()


def test_results_do_not_depend_on_the_block_size():
    programme = [QS, XL_GROUP, POL_R0, SL_LR]
    book = known_book()
    a = simulate(
        book,
        known_scenario(programme, sims=900, occurrence_threshold=3e6).with_simulation(
            block_size=37
        ),
    )
    b = simulate(
        book,
        known_scenario(programme, sims=900, occurrence_threshold=3e6).with_simulation(
            block_size=900
        ),
    )
    assert a.ylt.equals(b.ylt)
    assert a.occurrences().equals(b.occurrences())
    assert a.summary()["treaties"] == b.summary()["treaties"]


# =================================================================================================
# refused programmes
# =================================================================================================
REFUSED = [
    # id, treaties, words the message must contain
    ("stop loss not last", [SL, QS], ["'sl'", "last"]),
    (
        "negative retention",
        [QS, {**XL, "retention": -1.0}],
        ["treaties.1.retention", "must be ≥ 0"],
    ),
    (
        "unknown type",
        [{"name": "surplus", "type": "surplus_share", "share": 0.3}],
        ["treaties.0", "'surplus_share'", "type"],
    ),
    ("duplicate name", [QS, {**QS, "share": 0.2}], ["duplicate", "qs"]),
]


@pytest.mark.parametrize(("case", "treaties", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_parse_scenario_refuses_bad_programmes(case, treaties, words):
    with pytest.raises(ScenarioError) as info:
        parse_scenario({"treaties": treaties})
    text = str(info.value)
    for w in words:
        assert w in text, (w, text)


@pytest.mark.parametrize(
    "treaties", [[SL, QS], [QS, {**QS, "share": 0.2}]], ids=["stop loss not last", "duplicate name"]
)
def test_programme_errors_name_the_treaties_key(treaties):
    with pytest.raises(ScenarioError) as info:
        parse_scenario({"treaties": treaties})
    assert any(
        p.column is not None and p.column.startswith("treaties") for p in info.value.problems
    ), str(info.value)


def _scenario_file(path: Path, treaties: list[dict]) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "name": "bad",
                "simulation": {"sims": 50, "seed": 1},
                "treaties": treaties,
                "outputs": {"report": False},
            }
        )
    )
    return path


SCOPE_NOT_IN_BOOK = (
    "scope not in the book",
    [{**XL, "scope": {"countries": ["DE", "JP"]}}],
    ["treaties.0.scope.countries", "not in the book", "JP"],
)


@pytest.mark.parametrize(
    ("case", "treaties", "words"),
    [*REFUSED, SCOPE_NOT_IN_BOOK],
    ids=[r[0] for r in [*REFUSED, SCOPE_NOT_IN_BOOK]],
)
def test_simulate_command_refuses_bad_programmes(
    case, treaties, words, tiny_book_dir, tmp_path, capsys
):
    sc = _scenario_file(tmp_path / "bad.yaml", treaties)
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(
        ["simulate", str(sc), "--book", str(tiny_book_dir), "--out", str(out)], capsys
    )
    assert code == 2
    assert "Traceback" not in stdout + stderr
    assert stderr.startswith("error:")
    for w in words:
        assert w in stderr, (w, stderr)
    assert not (out / "ylt.parquet").exists()  # refused before any simulation


def test_scope_naming_a_region_or_sector_not_in_the_book_is_refused_before_simulating(
    tiny_book_dir,
):
    from riskengine.book import load_book

    book = load_book(tiny_book_dir)
    sc = parse_scenario(
        {"treaties": [{**QS, "scope": {"regions": ["Atlantis"], "sectors": ["C", "ZZ"]}}]}
    )
    with pytest.raises(ScenarioError) as info:
        compile_portfolio(book, sc)
    text = str(info.value)
    assert "treaties.0.scope.regions" in text and "Atlantis" in text
    assert "treaties.0.scope.sectors" in text and "ZZ" in text


def test_simulate_command_writes_ceded_columns_and_treaty_metrics(tiny_book_dir, tmp_path, capsys):
    sc = _scenario_file(tmp_path / "ok.yaml", [QS, {**XL, "retention": 1e4, "limit": 5e4}, SL_LR])
    code, stdout, stderr = run_cli(
        [
            "simulate",
            str(sc),
            "--book",
            str(tiny_book_dir),
            "--out",
            str(tmp_path / "out"),
            "--sims",
            "500",
        ],
        capsys,
    )
    assert code == 0, stderr
    assert "capital relief" in stdout and "xl_buyer" in stdout
    ylt = pl.read_parquet(tmp_path / "out" / "ylt.parquet")
    assert {"ceded_qs", "ceded_xl_buyer", "ceded_sl", "net"} <= set(ylt.columns)
    summ = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert set(summ["treaties"]) == {"qs", "xl_buyer", "sl"} and "relief" in summ["capital"]


# =================================================================================================
# scenarios/reinsurance.yaml
# =================================================================================================
def test_reinsurance_scenario_file_parses_and_runs():
    sc = load_scenario(ROOT / "scenarios" / "reinsurance.yaml")
    assert [(t.name, t.type) for t in sc.treaties] == [
        ("qs", "quota_share"),
        ("xl_buyer", "per_risk_xl"),
        ("pol_xl", "political_event_xl"),
        ("sl", "stop_loss"),
    ]
    xl = sc.treaties[1]
    assert (xl.retention, xl.limit, xl.reinstatements, xl.reinstatement_rate, xl.premium) == (
        3e6,
        2.5e7,
        2,
        1.0,
        5e6,
    )
    assert sc.book is not None and Path(sc.book) == (ROOT / "books" / "sample").resolve()
    res = simulate(generate_book(2000, seed=8), sc, sims=64, block_size=32)
    assert res.n_sims == 64
    for t in sc.treaties:
        assert f"ceded_{t.name}" in res.ylt.columns
    gross = res.ylt["gross"].to_numpy()
    total = sum(res.ylt[f"ceded_{t.name}"].to_numpy() for t in sc.treaties)
    np.testing.assert_allclose(total + res.ylt["net"].to_numpy(), gross, rtol=1e-9, atol=1e-6)
