"""The exact EL accumulators (kernels/accumulate.py) against plain NumPy on the run's own years."""

from __future__ import annotations

import numpy as np
import polars as pl

from conftest import tiny_frames
from riskengine.book import from_frames
from riskengine.jobs import simulate
from riskengine.scenario import parse_scenario


def test_el_and_its_standard_error_of_a_large_buyer_match_its_years() -> None:
    # one buyer whose claims pass 100,000 (their squares overflow a 64-bit integer of units):
    # its EL and EL standard error are the mean and standard error of the gross YLT
    f = tiny_frames()
    f["buyers"] = f["buyers"].filter(pl.col("buyer_id") == "B3").with_columns(pd=pl.lit(0.2))
    f["exposures"] = (
        f["exposures"].filter(pl.col("exposure_id") == "E3").with_columns(limit=pl.lit(2_000_000.0))
    )
    f["policies"] = f["policies"].filter(pl.col("policy_id") == "P2")
    book = from_frames(f["buyers"], f["exposures"], f["policies"], f["countries"], f["fx"])
    sc = parse_scenario(
        {
            "name": "one buyer",
            "simulation": {"sims": 4_000, "seed": 3},
            "outputs": {"allocation": {"levels": [99.0], "dimensions": ["buyer", "policy"]}},
        }
    )
    res = simulate(book, sc)
    gross = res.ylt["gross"].to_numpy()
    assert gross.max() > 100_000  # claims whose squares in units exceed 2^63
    el = res.tail.el.filter(pl.col("perspective") == "gross")
    for row in el.iter_rows(named=True):
        assert np.isclose(row["el"], gross.mean(), rtol=1e-9), row
        se = gross.std(ddof=1) / np.sqrt(len(gross))
        assert np.isclose(row["el_se"], se, rtol=1e-6), (row, se)


def test_net_words_are_accumulated_only_for_the_net_perspective() -> None:
    # the same years with the gross perspective alone and with gross and net: the gross words
    # are identical, the net words zero without net and the net EL the net YLT's mean with it
    from riskengine.kernels.codes import ACC_GROSS, ACC_GROSS2, ACC_NET, ACC_NET2

    f = tiny_frames()
    book = from_frames(f["buyers"], f["exposures"], f["policies"], f["countries"], f["fx"])
    runs = {}
    for persp in (["gross"], ["gross", "net"]):
        sc = parse_scenario(
            {
                "name": "net or not",
                "simulation": {"sims": 3_000, "seed": 8},
                "treaties": [{"name": "qs", "type": "quota_share", "share": 0.4}],
                "outputs": {"allocation": {"perspective": persp, "levels": [99.0]}},
            }
        )
        runs[len(persp)] = simulate(book, sc)
    one, both = runs[1].accumulated, runs[2].accumulated
    for a, b in ((one.exposures, both.exposures), (one.buyers, both.buyers)):
        for row in (ACC_GROSS, ACC_GROSS2):
            np.testing.assert_array_equal(a[:, row : row + 2], b[:, row : row + 2])
    assert one.exposures[:, ACC_GROSS].any() or one.exposures[:, ACC_GROSS + 1].any()
    for acc in (one.exposures, one.buyers, one.groups):
        assert not acc[:, ACC_NET : ACC_NET + 2].any() and not acc[:, ACC_NET2 : ACC_NET2 + 2].any()
    assert both.exposures[:, ACC_NET + 1].any()
    net = runs[2].tail.el.filter(
        (pl.col("perspective") == "net") & (pl.col("dimension") == "buyer")
    )
    assert np.isclose(net["el"].sum(), runs[2].ylt["net"].mean(), rtol=1e-9)
