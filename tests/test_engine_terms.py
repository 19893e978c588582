"""Policy terms, exactly, simulation by simulation.

The engine's draws (defaults, LGDs, events) of a simulation are read from ``replay``; fed to the
plain reference's deterministic ``reference_losses`` they must give the engine's own losses,
claims and their split to rounding (rtol 1e-12), for every simulation: ground_up, gross,
commercial, political, n_defaults, n_political_events, max_occurrence, every policy's claim, every
buyer's claim (and its commercial part), every country's political claim, every exposure's loss
and cause, and the run's segments. The replayed row must equal the run's YLT row bit for bit.

Books: random small books whose terms bind often (deductibles, nql, indemnity, maximum
liability in three currencies, several exposures per policy, buyers under two policies, covers
switched off, groups, political events with contagion), and hand-made years whose claims are
worked out in the comments (defaults forced with pd = 0.999999 and R² = 0; events with
political_pd 0.999999 or 0).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from reference.model import PER_SIM_KEYS, make_book, reference_losses, reference_portfolio
from reference.testing import segment_matrix
from riskengine.results.ylt import YLT_VALUE_COLUMNS as YLT_COLUMNS
from riskengine.run.replay import replay
from riskengine.run.simulate import simulate
from riskengine.scenario import Scenario, parse_scenario

RTOL = 1e-12
SURE = 0.999999  # a PD or event probability that is "certain" in a handful of simulated years
NEVER = 1e-12  # a PD that never fires in a handful of years


def scenario(**sections) -> Scenario:
    return parse_scenario(sections)


def close(a, b, what: str) -> None:
    np.testing.assert_allclose(
        np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=RTOL, atol=0, err_msg=what
    )


# -------------------------------------------------------------------------------------------------
# replay → matrices → reference_losses
# -------------------------------------------------------------------------------------------------
def replay_run(res, book, sc, sims: range):
    """Replays of ``sims`` and the engine's draws as reference matrices (sorted-id order)."""
    cp = res.compiled
    port = reference_portfolio(book, sc)
    bpos = {b: i for i, b in enumerate(port.buyer_ids)}
    cpos = {c: i for i, c in enumerate(port.country_ids)}
    n = len(sims)
    d = np.zeros((n, len(port.buyer_ids)), dtype=bool)
    lgd = np.zeros((n, len(port.buyer_ids)))
    ev = np.zeros((n, len(port.country_ids)), dtype=bool)
    reps = []
    for k, s in enumerate(sims):
        rp = replay(cp, s)
        reps.append(rp)
        ids = rp.defaults["buyer_id"].to_list()
        assert len(set(ids)) == len(ids), f"sim {s}: a buyer defaulted twice"
        for b, v in zip(ids, rp.defaults["lgd"].to_list(), strict=True):
            d[k, bpos[b]] = True
            lgd[k, bpos[b]] = v
        cs = rp.events["country"].to_list()
        assert len(set(cs)) == len(cs)
        ev[k, [cpos[c] for c in cs]] = True
    return port, reps, d, lgd, ev


def check_run_against_reference(book, sc: Scenario, sims: int, seed: int) -> dict[str, float]:
    """Simulate, replay every simulation, and compare everything with reference_losses.

    Returns a few activity counts, so that callers can assert the comparison was not vacuous.
    """
    res = simulate(book, sc, sims=sims, seed=seed, block_size=97)
    ylt = res.ylt
    port, reps, d, lgd, ev = replay_run(res, book, sc, range(sims))
    out = reference_losses(book, sc, d, lgd, ev)
    n_p, n_b, n_c = len(port.policy_ids), len(port.buyer_ids), len(port.country_ids)

    # 1. the replayed row is the run's row, bit for bit
    for k, rp in enumerate(reps):
        row = ylt.row(k, named=True)
        assert row["sim_id"] == rp.sim_id == k
        for col in YLT_COLUMNS:
            assert rp.row[col] == row[col], (k, col, rp.row[col], row[col])

    # 2. per-simulation totals
    for key in PER_SIM_KEYS:
        close(ylt[key].to_numpy(), out[key], key)

    # 3. per-entity claims
    ppos = {p: i for i, p in enumerate(port.policy_ids)}
    bpos = {b: i for i, b in enumerate(port.buyer_ids)}
    pol = np.zeros((sims, n_p))
    bc = np.zeros((sims, n_b))
    bp = np.zeros((sims, n_b))
    for k, rp in enumerate(reps):
        for p, c in rp.claims.iter_rows():
            pol[k, ppos[p]] = c
        for b, c, q in rp.buyer_claims.iter_rows():
            bc[k, bpos[b]] = c
            bp[k, bpos[b]] = q
        np.testing.assert_allclose(rp.claims["claim"].sum(), rp.row["gross"], rtol=1e-12)
    close(pol, out["policy_claims"], "policy claims")
    close(bc + bp, out["buyer_claims"], "buyer claims")
    close(bc, out["buyer_commercial"], "buyer commercial claims")
    cpol = np.zeros((sims, n_c))
    np.add.at(cpol.T, port.buyer_country, bp.T)
    close(cpol, out["country_political"], "country political claims")
    assert np.all(pol <= port.max_liability * (1 + 1e-15))

    # 4. every exposure's loss and cause: political precedence, covers, EAD in the reporting
    # currency
    epos = {e: i for i, e in enumerate(port.exposure_ids)}
    eb, c_e = port.exp_buyer, port.buyer_country[port.exp_buyer]
    below_nql = under_deductible = 0
    for k, rp in enumerate(reps):
        political = ev[k, c_e] & port.political_cover
        commercial = ~political & d[k, eb] & port.commercial_cover
        want = np.where(political, port.ead * port.plgd[c_e], 0.0) + np.where(
            commercial, port.ead * lgd[k, eb], 0.0
        )
        got = np.zeros(len(port.exposure_ids))
        cause = np.full(len(port.exposure_ids), "", dtype=object)
        for e, b, p, cs, loss in rp.losses.iter_rows():
            i = epos[e]
            assert port.buyer_ids[eb[i]] == b and port.policy_ids[port.exp_policy[i]] == p
            got[i] = loss
            cause[i] = cs
        close(got, want, f"exposure losses of sim {k}")
        nql = port.nql[port.exp_policy]
        below_nql += int(np.sum((want > 0) & (want < nql)))
        q = np.bincount(port.exp_policy, weights=np.where(want >= nql, want, 0.0), minlength=n_p)
        under_deductible += int(np.sum((q > 0) & (q <= port.deductible)))
        np.testing.assert_array_equal(cause[want > 0] == "political", political[want > 0])

    # 5. the run's segments (country, sector, policy) are the reference's split of the claims
    for dim, labels, key in (
        ("country", port.country_ids, "country_gross"),
        ("sector", port.sector_ids, "sector_gross"),
        ("policy", port.policy_ids, "policy_claims"),
    ):
        close(segment_matrix(res, dim, labels), out[key], f"{dim} segments")
        el = dict(res.segment_el(dim).iter_rows())
        close([el.get(v, 0.0) for v in labels], out[key].sum(0) / sims, f"{dim} segment EL")
    want_r = np.zeros((sims, len(port.region_ids)))
    np.add.at(want_r.T, port.country_region, out["country_gross"].T)
    close(segment_matrix(res, "region", port.region_ids), want_r, "region segments")

    return {
        "below_nql": below_nql,  # exposure losses the nql excluded
        "under_deductible": under_deductible,  # policy-years the deductible absorbed
        "claims": float((out["gross"] > 0).mean()),
        "political": float((out["political"] > 0).mean()),
        "capped": float((out["policy_claims"] == port.max_liability).mean()),
        "defaults": float(d.sum(1).mean()),
    }


# -------------------------------------------------------------------------------------------------
# random books whose terms bind
# -------------------------------------------------------------------------------------------------
def random_book(seed: int, n_buyers: int = 14, n_policies: int = 5, n_exposures: int = 26):
    """A small random book: four countries in two regions, three currencies, policies whose
    deductible, nql and maximum liability are of the size of one loss, so that each binds in some
    years; some buyers under two policies, some covers switched off, one group spanning cells."""
    g = np.random.default_rng(seed)
    countries = ["AR", "BR", "DE", "FR"]
    ids = [f"b{i:02d}" for i in range(n_buyers)]
    group = [None] * n_buyers
    group[0] = group[1] = "G1"  # same country and PD below: may share a cell
    group[2] = group[3] = "G2"
    buyers = {
        "buyer_id": ids,
        "country": ["DE", "DE", "FR", "AR"] + g.choice(countries, n_buyers - 4).tolist(),
        "sector": g.choice(["C", "G", "F"], n_buyers).tolist(),
        "pd": [0.2, 0.2, 0.3, 0.1] + np.round(g.uniform(0.02, 0.4, n_buyers - 4), 3).tolist(),
        "lgd": np.round(g.uniform(0.2, 0.9, n_buyers), 2).tolist(),
        "lgd_sd": [0.0 if i % 3 == 0 else 0.1 for i in range(n_buyers)],
        "asset_correlation": [0.3] * n_buyers,
        "group_id": group,
    }
    pols = [f"P{i}" for i in range(n_policies)]
    eb = (
        list(range(n_buyers)) + g.integers(0, n_buyers, n_exposures - n_buyers).tolist()
    )  # repeats: 2 policies
    exposures = {
        "exposure_id": [f"e{i:02d}" for i in range(n_exposures)],
        "policy_id": [
            pols[i % n_policies] if i < n_buyers else g.choice(pols) for i in range(n_exposures)
        ],
        "buyer_id": [ids[b] for b in eb],
        "limit": np.round(g.uniform(100, 2000, n_exposures), 0).tolist(),
        "utilization": [
            None if i % 4 == 0 else float(np.round(g.uniform(0.3, 1), 2))
            for i in range(n_exposures)
        ],
        "currency": g.choice([None, None, "EUR", "USD", "GBP"], n_exposures).tolist(),
        "commercial_cover": (g.uniform(size=n_exposures) > 0.1).tolist(),
        "political_cover": (g.uniform(size=n_exposures) > 0.3).tolist(),
    }
    policies = {
        "policy_id": pols,
        "currency": ["EUR", "USD", "GBP", "EUR", "USD"][:n_policies],
        "indemnity": [0.9, 0.85, 1.0, 0.95, 0.8][:n_policies],
        "deductible": [100.0, 0.0, 300.0, 50.0, 600.0][:n_policies],
        "nql": [60.0, 150.0, 0.0, 20.0, 100.0][:n_policies],
        "max_liability": [None, 900.0, 1200.0, 700.0, None][:n_policies],
    }
    return make_book(
        buyers,
        exposures,
        policies,
        {
            "country": countries,
            "region": ["LATAM", "LATAM", "EU", "EU"],
            "political_pd": [0.25, 0.1, 0.0, 0.05],
            "political_lgd": [0.9, None, None, 0.6],
        },
        {"currency": ["USD", "GBP"], "rate": [0.92, 1.17]},
    )


def random_scenario(copula: str = "gaussian", political: bool = True) -> Scenario:
    return scenario(
        model={"copula": copula, "dof": 4.0, "utilization": 0.7, "lgd": {"mean": 0.5, "sd": 0.2}},
        political={
            "enabled": political,
            "correlation": 0.5,
            "commercial_pd_multiplier": 2.0,
            "lgd": 0.8,
        },
        outputs={"segments": ["country", "sector", "policy"]},
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("book_seed", "copula", "political"),
    [(1, "gaussian", True), (2, "student_t", True), (3, "gaussian", False), (4, "student_t", True)],
)
def test_claims_equal_reference_losses_of_the_engines_draws(book_seed, copula, political):
    book, sc = random_book(book_seed), random_scenario(copula, political)
    act = check_run_against_reference(book, sc, sims=400, seed=1000 + book_seed)
    # the comparison bites: claims, caps, deductibles and (when enabled) political claims occur
    assert act["claims"] > 0.5 and act["defaults"] > 1
    assert act["capped"] > 0 and act["below_nql"] > 0 and act["under_deductible"] > 0
    assert (act["political"] > 0.05) == political


def edge_book():
    """Corners: groups spanning countries (one with an event-prone country), buyers without
    exposures, zero utilisation (EAD 0), political LGD 0 (an event that costs nothing but still
    takes precedence), a policy without exposures, a country without buyers."""
    ids = [f"b{i:02d}" for i in range(12)]
    return make_book(
        {
            "buyer_id": ids,
            "country": ["AR", "BR", "AR", "DE", "DE", "FR", "AR", "BR", "FR", "DE", "AR", "BR"],
            "sector": ["C", "C", "G", "G", "C", "F", "F", "C", "G", "C", "C", "C"],
            "pd": [0.2, 0.3, 0.2, 0.1, 0.4, 0.2, 0.3, 0.3, 0.1, 0.5, 0.2, 0.3],
            "lgd": [0.5] * 12,
            "lgd_sd": [0.2] * 12,
            "asset_correlation": [0.4] * 12,
            "group_id": ["GA", "GA", "GA", None, "GB", "GB", None, None, None, None, "GC", "GC"],
        },
        {
            "exposure_id": [f"e{i:02d}" for i in range(14)],
            "policy_id": [
                "P1",
                "P1",
                "P2",
                "P2",
                "P1",
                "P2",
                "P1",
                "P2",
                "P1",
                "P2",
                "P1",
                "P2",
                "P1",
                "P2",
            ],
            "buyer_id": ids[:10] + ["b00", "b04", "b05", "b06"],  # b10, b11: no exposures
            "limit": [1000.0] * 14,
            "utilization": [1.0, 0.0] + [0.8] * 12,
        },
        {
            "policy_id": ["P1", "P2", "P3"],
            "currency": ["EUR"] * 3,
            "deductible": [200.0, 0.0, 0.0],
            "nql": [100.0, 0.0, 0.0],
            "max_liability": [1500.0, None, None],
        },
        {
            "country": ["AR", "BR", "DE", "FR", "XK"],
            "region": ["LATAM", "LATAM", "EU", "EU", "EU"],
            "political_pd": [0.3, 0.2, 0.0, 0.1, 0.2],
            "political_lgd": [0.0, 0.7, None, 1.0, None],
        },
    )


@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_corner_cases_equal_reference_losses(copula):
    sc = scenario(
        model={"copula": copula, "dof": 3.0},
        political={"commercial_pd_multiplier": 2.5, "correlation": 0.6},
        outputs={"segments": ["country", "sector", "policy"]},
    )
    act = check_run_against_reference(edge_book(), sc, sims=300, seed=3)
    assert act["claims"] > 0.5 and act["political"] > 0.1 and act["capped"] > 0


def test_nql_boundary_and_zero_lgd_exactly():
    # LGD sd 0: losses are exact binary fractions. P1's nql is 50: B's loss 100·0.5 = 50 qualifies
    # (L ≥ nql), C's 99·0.5 = 49.5 does not; D has LGD 0 (no loss entry at all).
    book = make_book(
        {
            "buyer_id": ["A", "B", "C", "D"],
            "country": ["DE"] * 4,
            "sector": ["C"] * 4,
            "pd": [0.5, 0.5, 0.5, 0.5],
            "lgd": [0.5, 0.5, 0.5, 0.0],
            "lgd_sd": [0.0] * 4,
            "asset_correlation": [0.2] * 4,
        },
        {
            "exposure_id": ["e1", "e2", "e3", "e4"],
            "policy_id": ["P1"] * 4,
            "buyer_id": ["A", "B", "C", "D"],
            "limit": [1000.0, 100.0, 99.0, 500.0],
            "utilization": [1.0] * 4,
        },
        {
            "policy_id": ["P1"],
            "currency": ["EUR"],
            "indemnity": [0.75],
            "deductible": [25.0],
            "nql": [50.0],
        },
        {"country": ["DE"], "region": ["EU"], "political_pd": [0.0]},
    )
    sc = scenario(outputs={"segments": ["country", "sector", "policy"]})
    act = check_run_against_reference(book, sc, sims=200, seed=8)
    assert act["claims"] > 0.5
    res = simulate(book, sc, sims=200, seed=8)
    years_b = years_c = 0  # years in which B (at the nql) and C (below it) lost
    for s in range(200):
        rp = replay(res.compiled, s)
        assert "D" not in rp.losses["buyer_id"].to_list()  # a zero loss is no loss entry
        b_loss = rp.losses.filter(pl.col("buyer_id") == "B")["loss"].to_list()
        if b_loss:
            years_b += 1
            assert b_loss == [50.0]
            assert (
                rp.buyer_claims.filter(pl.col("buyer_id") == "B")["commercial"].item() > 0
            )  # qualifies
        years_c += rp.losses.filter(pl.col("buyer_id") == "C").height
        assert "C" not in rp.buyer_claims["buyer_id"].to_list()  # never qualifies
    assert years_b > 50 and years_c > 50  # pd 0.5: both boundaries were met many times


# -------------------------------------------------------------------------------------------------
# hand-computed years
# -------------------------------------------------------------------------------------------------
def hand_book(*, f_pd: float = SURE, ar_pd: float = SURE):
    """Every buyer but G defaults (pd 0.999999, R² 0; G: pd 1e-12); AR has an event (q 0.999999).

    fx: USD 0.5, GBP 2.0 EUR per unit. LGD 0.5 (sd 0) everywhere; political LGD of AR 0.8.
    """
    ids = ["A", "B", "C", "D", "E", "F", "G"]
    pds = [SURE, SURE, SURE, SURE, SURE, f_pd, NEVER]
    ex = [  # id, policy, buyer, limit, currency, commercial, political
        ("e01", "P1", "A", 1000.0, None, True, True),
        ("e02", "P1", "B", 100.0, None, True, True),
        ("e03", "P1", "C", 99.0, None, True, True),
        ("e04", "P2", "D", 800.0, None, True, True),
        ("e05", "P2", "A", 200.0, "EUR", True, True),
        ("e06", "P3", "E", 100.0, None, False, True),
        ("e07", "P3", "F", 100.0, None, True, True),
        ("e08", "P3", "F", 50.0, None, True, False),
        ("e09", "P4", "G", 500.0, None, True, True),
        ("e10", "P4", "C", 400.0, None, True, True),
    ]
    return make_book(
        {
            "buyer_id": ids,
            "country": ["DE", "DE", "DE", "US", "US", "AR", "DE"],
            "sector": ["C", "C", "G", "C", "F", "C", "C"],
            "pd": pds,
            "lgd": [0.5] * 7,
            "lgd_sd": [0.0] * 7,
            "asset_correlation": [0.0] * 7,
        },
        {
            "exposure_id": [r[0] for r in ex],
            "policy_id": [r[1] for r in ex],
            "buyer_id": [r[2] for r in ex],
            "limit": [r[3] for r in ex],
            "utilization": [1.0] * len(ex),
            "currency": [r[4] for r in ex],
            "commercial_cover": [r[5] for r in ex],
            "political_cover": [r[6] for r in ex],
        },
        {
            "policy_id": ["P1", "P2", "P3", "P4"],
            "currency": ["EUR", "USD", "GBP", "EUR"],
            "indemnity": [0.9, 1.0, 0.95, 0.9],
            "deductible": [100.0, 200.0, 0.0, 1000.0],
            "nql": [50.0, 0.0, 0.0, 0.0],
            "max_liability": [None, 300.0, None, None],
        },
        {
            "country": ["AR", "BR", "DE", "US"],
            "region": ["LATAM", "LATAM", "EU", "NA"],
            "political_pd": [ar_pd, 0.0, 0.0, 0.0],
            "political_lgd": [0.8, None, None, None],
        },
        {"currency": ["USD", "GBP"], "rate": [0.5, 2.0]},
    )


# P1 (EUR; indemnity 0.9, deductible 100, nql 50): A 1000·0.5 = 500, B 100·0.5 = 50 (= nql:
#   qualifies), C 99·0.5 = 49.5 (< nql: not paid). Qualifying 550 → 0.9·(550 − 100) = 405,
#   split 500:50 → A 368.1818…, B 36.8181….
# P2 (USD at 0.5; indemnity 1, deductible 200 USD = 100, cap 300 USD = 150): D 800 USD = 400 EUR
#   → 200; A's e05 is in EUR: 200 → 100. Qualifying 300 → 300 − 100 = 200, capped at 150, split
#   2:1 → D 100, A 50.
# P3 (GBP at 2; indemnity 0.95): E has no commercial cover (US: no event) → 0. F is in AR, which
#   has an event: e07 (political cover) 100 GBP = 200 → political 200·0.8 = 160 although F also
#   defaults (political precedence); e08 (no political cover) 50 GBP = 100 → commercial 50.
#   0.95·210 = 199.5 → F political 152, F commercial 47.5.
# P4 (deductible 1000): G does not default; C's e10 400·0.5 = 200 < 1000 → claim 0.
HAND_YEAR = {
    "ground_up": 500 + 50 + 49.5 + 200 + 100 + 160 + 50 + 200,
    "gross": 405 + 150 + 199.5,
    "commercial": 405 + 150 + 47.5,
    "political": 152.0,
    "n_defaults": 6,
    "n_political_events": 1,
    "max_occurrence": 405 * 500 / 550 + 50,  # A: 368.18… + 50 (two policies), above AR's 152
    "policy": {"P1": 405.0, "P2": 150.0, "P3": 199.5, "P4": 0.0},
    "buyer": {
        "A": (405 * 500 / 550 + 50, 0.0),
        "B": (405 * 50 / 550, 0.0),
        "D": (100.0, 0.0),
        "F": (47.5, 152.0),
    },
}

# F does not default (pd 1e-12) but AR has its event: e07 is still a political loss of 160;
# e08 (commercial cover only) loses nothing. P3: 0.95·160 = 152, all political.
NO_F_DEFAULT = {
    **HAND_YEAR,
    "ground_up": HAND_YEAR["ground_up"] - 50,
    "gross": 405 + 150 + 152.0,
    "commercial": 405 + 150,
    "n_defaults": 5,
    "policy": {"P1": 405.0, "P2": 150.0, "P3": 152.0, "P4": 0.0},
    "buyer": {
        "A": (405 * 500 / 550 + 50, 0.0),
        "B": (405 * 50 / 550, 0.0),
        "D": (100.0, 0.0),
        "F": (0.0, 152.0),
    },
}

# No event in AR (political_pd 0): F defaults and both its exposures are commercial:
# e07 200·0.5 = 100, e08 50 → P3 0.95·150 = 142.5, all commercial, all F's.
NO_EVENT = {
    **HAND_YEAR,
    "ground_up": HAND_YEAR["ground_up"] - 160 + 100,
    "gross": 405 + 150 + 142.5,
    "commercial": 405 + 150 + 142.5,
    "political": 0.0,
    "n_political_events": 0,
    "policy": {"P1": 405.0, "P2": 150.0, "P3": 142.5, "P4": 0.0},
    "buyer": {
        "A": (405 * 500 / 550 + 50, 0.0),
        "B": (405 * 50 / 550, 0.0),
        "D": (100.0, 0.0),
        "F": (142.5, 0.0),
    },
}


@pytest.mark.parametrize(
    ("book_kw", "political", "want"),
    [
        ({}, True, HAND_YEAR),
        ({"f_pd": NEVER}, True, NO_F_DEFAULT),
        ({"ar_pd": 0.0}, True, NO_EVENT),
        ({}, False, NO_EVENT),  # political risk switched off in the scenario: the same as q = 0
    ],
    ids=["event-and-default", "event-only", "no-event", "political-disabled"],
)
def test_hand_computed_years(book_kw, political, want):
    book = hand_book(**book_kw)
    sc = scenario(
        political={"enabled": political}, outputs={"segments": ["country", "sector", "policy"]}
    )
    sims = 5
    res = simulate(book, sc, sims=sims, seed=77)
    for s in range(sims):
        rp = replay(res.compiled, s)
        for key in (
            "ground_up",
            "gross",
            "commercial",
            "political",
            "n_defaults",
            "n_political_events",
            "max_occurrence",
        ):
            assert rp.row[key] == pytest.approx(want[key], rel=1e-12), (s, key)
            assert res.ylt[key][s] == rp.row[key]
        assert dict(rp.claims.iter_rows()) == pytest.approx(want["policy"], rel=1e-12)
        got = {b: (c, p) for b, c, p in rp.buyer_claims.iter_rows()}
        assert set(got) == set(want["buyer"]), (
            s
        )  # C (not qualifying / under the deductible), E, G: no claim
        for b, (c, p) in want["buyer"].items():
            assert got[b] == pytest.approx((c, p), rel=1e-12, abs=0), (s, b)
        defaulted = set(rp.defaults["buyer_id"].to_list())
        assert (
            "G" not in defaulted and "E" in defaulted
        )  # E defaults; without commercial cover it costs nothing
        assert set(rp.events["country"].to_list()) == (
            {"AR"} if want["n_political_events"] else set()
        )
        causes = dict(
            zip(rp.losses["exposure_id"].to_list(), rp.losses["cause"].to_list(), strict=True)
        )
        assert causes.get("e07") == ("political" if want["n_political_events"] else "commercial")
        assert "e06" not in causes and "e09" not in causes
    # the same years through the reference's policy terms
    check_run_against_reference(book, sc, sims=sims, seed=77)


def test_claims_never_exceed_max_liability_and_split_adds_up():
    book, sc = random_book(11), random_scenario("gaussian", True)
    res = simulate(book, sc, sims=3000, seed=5)
    ylt = res.ylt
    port = reference_portfolio(book, sc)
    close(ylt["commercial"] + ylt["political"], ylt["gross"], "commercial + political = gross")
    assert (ylt["gross"] <= ylt["ground_up"] * (1 + 1e-12)).all()  # indemnity ≤ 1
    assert (ylt["max_occurrence"] <= ylt["gross"] * (1 + 1e-12)).all()
    pol = res.segments(["policy"])
    cap = dict(zip(port.policy_ids, port.max_liability, strict=True))
    assert all(
        g <= cap[p] * (1 + 1e-15)
        for p, g in zip(pol["segment"].to_list(), pol["gross"].to_list(), strict=True)
    )
    assert any(
        g == cap[p] for p, g in zip(pol["segment"].to_list(), pol["gross"].to_list(), strict=True)
    )
    for dim in ("country", "sector", "policy"):
        by_sim = res.segments([dim]).group_by("sim_id").agg(pl.col("gross").sum()).sort("sim_id")
        g = ylt.filter(pl.col("gross") > 0)
        np.testing.assert_array_equal(by_sim["sim_id"].to_numpy(), g["sim_id"].to_numpy())
        close(by_sim["gross"].to_numpy(), g["gross"].to_numpy(), dim)
