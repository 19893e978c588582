"""A reinsurance programme applied to one simulated year, in plain NumPy and Python.

Written from the rules of the reinsurance issue, not from the kernel: the year's gross claims by
buyer and cause go in, the ceded loss of every treaty and the net loss come out.

Rules
-----
Treaties apply in the order the scenario lists them, each to what is net of those before it.
A treaty's ``scope`` (countries, regions, sectors; every list given must match, omitted lists
match all) selects the buyers whose claims it covers.

* ``quota_share``: cedes ``share`` × every in-scope net claim (commercial and political).
* ``per_risk_xl``: an *occurrence* is one buyer's in-scope net commercial claims of the year
  (``per: group``: the summed claims of a buyer group's in-scope members; a buyer without a group
  is its own occurrence). ``political_event_xl``: an occurrence is one country's in-scope net
  political claims of the year. Each occurrence x cedes min(max(x − retention, 0), limit); with S
  the year's sum of those, the year cedes min(max(S − aggregate_deductible, 0), C), C = the
  smaller of limit × (1 + reinstatements) (no cap when reinstatements are omitted) and the
  aggregate limit (none when omitted).
* ``stop_loss`` (last): X = the in-scope net total of the year; cedes min(max(X − attachment, 0),
  limit), with ``attachment_lr``/``limit_lr`` multiplied by the premium in the treaty's scope
  (:func:`premium_in_scope`; the book's premium when the treaty covers every buyer).

Two points the rules leave open only matter for the treaties that come *after* an excess of loss
(they change who keeps what, never the treaty's own ceded total):

1. ``cap_rule`` — when the annual cap or the aggregate deductible binds, which occurrences'
   recoveries are cut. ``"pro_rata"`` (the engine's convention): every occurrence's recovery is
   multiplied by paid / Σ recoveries. ``"in_order"`` (an alternative, for tests): occurrences in
   sorted key order first fill the deductible, then the cap.
2. ``split_rule`` — how an occurrence's recovery is taken from its buyers' net claims.
   ``"pro_rata"`` (the engine's convention): in proportion to each buyer's in-scope net claim.
   ``"in_order"`` (an alternative): from the buyers in id order, each down to zero before the next.

A stop loss takes its recovery from the in-scope buyers pro rata too (it is last, so nothing
depends on it). Nothing here imports the engine's kernels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from riskengine.book import Book

__all__ = [
    "BuyerMaps",
    "ProgrammeResult",
    "buyer_maps",
    "book_premium",
    "premium_in_scope",
    "year_claims",
    "apply_programme",
    "layer",
]


@dataclass(frozen=True)
class BuyerMaps:
    """Each buyer's labels, in sorted ``buyer_id`` order."""

    buyer_ids: list[str]
    country: list[str]
    region: list[str]
    sector: list[str]
    group: list[str | None]

    @property
    def n(self) -> int:
        return len(self.buyer_ids)


@dataclass(frozen=True)
class ProgrammeResult:
    """What a programme did to one year: ceded by treaty (programme order) and what is left.

    ``net_commercial``/``net_political`` are the buyers' claims net of the whole programme
    (sorted buyer order); ``net`` is their total.
    """

    ceded: dict[str, float]
    net: float
    net_commercial: np.ndarray
    net_political: np.ndarray


def buyer_maps(book: Book) -> BuyerMaps:
    """Country, region, sector and group of every buyer of ``book`` (sorted by buyer_id)."""
    buyers = book.buyers.sort("buyer_id")
    region_of = dict(
        zip(book.countries["country"].to_list(), book.countries["region"].to_list(), strict=True)
    )
    countries = buyers["country"].to_list()
    return BuyerMaps(
        buyer_ids=buyers["buyer_id"].to_list(),
        country=countries,
        region=[region_of[c] for c in countries],
        sector=buyers["sector"].to_list(),
        group=buyers["group_id"].to_list(),
    )


def book_premium(book: Book, reporting_currency: str = "EUR") -> float:
    """Σ policy premium (null: 0) converted into the reporting currency with the book's fx."""
    rates = (
        {}
        if book.fx is None
        else dict(zip(book.fx["currency"].to_list(), book.fx["rate"].to_list(), strict=True))
    )
    rates[reporting_currency] = 1.0
    total = 0.0
    for cur, prem in zip(
        book.policies["currency"].to_list(), book.policies["premium"].to_list(), strict=True
    ):
        total += (prem or 0.0) * rates[cur]
    return total


def premium_in_scope(book: Book, maps: BuyerMaps, t: Any, reporting_currency: str = "EUR") -> float:
    """Premium of the buyers in ``t``'s scope: each policy's premium split over its exposures in
    proportion to their limits (reporting currency); the book's premium without a scope."""
    if getattr(t, "scope", None) is None:
        return book_premium(book, reporting_currency)
    rates = {} if book.fx is None else dict(book.fx.select("currency", "rate").iter_rows())
    rates[reporting_currency] = 1.0
    pol_cur = dict(book.policies.select("policy_id", "currency").iter_rows())
    pol_prem = {
        p: (v or 0.0) * rates[pol_cur[p]]
        for p, v in book.policies.select("policy_id", "premium").iter_rows()
    }
    inside = set(np.asarray(maps.buyer_ids)[_in_scope(t, maps)].tolist())
    rows = book.exposures.select("policy_id", "buyer_id", "limit", "currency").iter_rows()
    limits: dict[str, list[tuple[str, float]]] = {}
    for p, b, lim, cur in rows:
        limits.setdefault(p, []).append((b, lim * rates[cur or pol_cur[p]]))
    total = 0.0
    for p, items in limits.items():
        whole = sum(v for _, v in items)
        total += sum(pol_prem[p] * v / whole for b, v in items if b in inside and whole > 0)
    return total


def year_claims(buyer_claims: pl.DataFrame, maps: BuyerMaps) -> tuple[np.ndarray, np.ndarray]:
    """(commercial, political) gross claims [buyers] from a frame ``buyer_id, commercial,
    political``
    (buyers absent from the frame claimed nothing)."""
    pos = {b: i for i, b in enumerate(maps.buyer_ids)}
    com = np.zeros(maps.n)
    pol = np.zeros(maps.n)
    for b, c, p in buyer_claims.select("buyer_id", "commercial", "political").iter_rows():
        com[pos[b]] += c
        pol[pos[b]] += p
    return com, pol


def layer(x: Any, retention: float, limit: float) -> Any:
    """What an occurrence x cedes to a layer: min(max(x − retention, 0), limit)."""
    return np.minimum(np.maximum(np.asarray(x, dtype=float) - retention, 0.0), limit)


def _in_scope(t: Any, maps: BuyerMaps) -> np.ndarray:
    mask = np.ones(maps.n, dtype=bool)
    scope = getattr(t, "scope", None)
    if scope is None:
        return mask
    for wanted, labels in (
        (scope.countries, maps.country),
        (scope.regions, maps.region),
        (scope.sectors, maps.sector),
    ):
        if wanted is not None:
            mask &= np.array([lab in set(wanted) for lab in labels], dtype=bool)
    return mask


def _take_from_buyers(net: np.ndarray, members: list[int], amount: float, split_rule: str) -> None:
    """Reduce ``net[members]`` by ``amount`` in total (``amount`` ≤ their sum)."""
    if amount <= 0:
        return
    if split_rule == "pro_rata":
        total = sum(net[b] for b in members)
        for b in members:
            net[b] -= amount * net[b] / total
    elif split_rule == "in_order":
        left = amount
        for b in members:  # members are in buyer-id order
            take = min(net[b], left)
            net[b] -= take
            left -= take
    else:
        raise ValueError(f"unknown split_rule {split_rule!r}")


def apply_programme(
    commercial: np.ndarray,
    political: np.ndarray,
    maps: BuyerMaps,
    treaties: Sequence[Any],
    *,
    book_premium: float = 0.0,
    premiums: dict[str, float] | None = None,
    cap_rule: str = "pro_rata",
    split_rule: str = "pro_rata",
) -> ProgrammeResult:
    """Apply ``treaties`` (scenario treaty models, in order) to one year's gross buyer claims.

    Parameters
    ----------
    commercial, political : float arrays [buyers]
        Gross claims by cause, in ``maps`` order (reporting currency).
    maps : BuyerMaps
    treaties : sequence of scenario treaties
        ``riskengine.scenario.models`` QuotaShare, PerRiskXL, PoliticalEventXL, StopLoss.
    book_premium : float
        Book premium in the reporting currency (stop-loss loss ratios).
    premiums : dict, optional
        Premium in each treaty's scope by treaty name (default: ``book_premium``).
    cap_rule, split_rule : {"pro_rata", "in_order"}
        The two open conventions (module docstring); "pro_rata" is the engine's.
    """
    net_c = np.array(commercial, dtype=float)
    net_p = np.array(political, dtype=float)
    ceded: dict[str, float] = {}
    for t in treaties:
        scope = _in_scope(t, maps)
        if t.type == "quota_share":
            take_c = t.share * net_c * scope
            take_p = t.share * net_p * scope
            net_c -= take_c
            net_p -= take_p
            ceded[t.name] = float(take_c.sum() + take_p.sum())
        elif t.type in ("per_risk_xl", "political_event_xl"):
            if t.type == "political_event_xl":
                net, keys = net_p, [("country", c) for c in maps.country]
            elif t.per == "group":
                net = net_c
                keys = [
                    ("group", g) if g is not None else ("buyer", b)
                    for g, b in zip(maps.group, maps.buyer_ids, strict=True)
                ]
            else:
                net, keys = net_c, [("buyer", b) for b in maps.buyer_ids]
            occ: dict[tuple[str, str], list[int]] = {}
            for i in range(maps.n):
                if scope[i] and net[i] > 0:
                    occ.setdefault(keys[i], []).append(i)
            order = sorted(occ)
            x = {k: sum(net[i] for i in occ[k]) for k in order}
            rec = {k: float(layer(x[k], t.retention, t.limit)) for k in order}
            total = sum(rec.values())
            cap = math.inf if t.reinstatements is None else t.limit * (1 + t.reinstatements)
            if t.aggregate_limit is not None:
                cap = min(cap, t.aggregate_limit)
            deductible = t.aggregate_deductible
            paid = min(max(total - deductible, 0.0), cap)
            if paid < total:
                if cap_rule == "pro_rata":
                    rec = {k: r * paid / total for k, r in rec.items()}
                elif cap_rule == "in_order":
                    skip, left = deductible, paid
                    for k in order:
                        kept = min(rec[k], skip)
                        skip -= kept
                        rec[k] = min(rec[k] - kept, left)
                        left -= rec[k]
                else:
                    raise ValueError(f"unknown cap_rule {cap_rule!r}")
            for k in order:
                _take_from_buyers(net, occ[k], rec[k], split_rule)
            ceded[t.name] = float(paid)
        elif t.type == "stop_loss":
            if t.attachment is not None:
                attachment, limit = t.attachment, t.limit
            else:
                prem = (premiums or {}).get(t.name, book_premium)
                attachment, limit = t.attachment_lr * prem, t.limit_lr * prem
            x_total = float(net_c[scope].sum() + net_p[scope].sum())
            rec = float(layer(x_total, attachment, limit))
            if rec > 0:
                keep = 1.0 - rec / x_total
                net_c[scope] *= keep
                net_p[scope] *= keep
            ceded[t.name] = rec
        else:
            raise ValueError(f"unknown treaty type {t.type!r}")
    return ProgrammeResult(
        ceded=ceded, net=float(net_c.sum() + net_p.sum()), net_commercial=net_c, net_political=net_p
    )
