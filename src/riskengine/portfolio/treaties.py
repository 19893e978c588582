"""A scenario's reinsurance programme resolved into the kernels' treaty parameters.

Each treaty becomes a kind (``kernels.codes.TREATY_KINDS``), a parameter row
(``kernels.codes.TREATY_PARAMS``, reporting currency) and a scope mask over buyers. See
docs/reinsurance.md.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..errors import Problem
from ..kernels.codes import N_TREATY_PARAMS, TP_AAD, TP_CAP, TP_LIMIT, TP_RETENTION, TP_SHARE
from ..kernels.codes import TREATY_KINDS as _KINDS
from ..scenario.models import PerRiskXL, PoliticalEventXL, QuotaShare, StopLoss, Treaty

if TYPE_CHECKING:
    from .resolve import Resolved

__all__ = ["treaty_kind", "treaty_params", "treaty_scopes", "ceded_premium", "TREATY_KINDS"]

#: Kernel code of each treaty kind, by name.
TREATY_KINDS = {name: code for code, name in enumerate(_KINDS)}


def treaty_kind(t: Treaty) -> int:
    """The kernel's code of a treaty's kind."""
    if isinstance(t, QuotaShare):
        return TREATY_KINDS["quota_share"]
    if isinstance(t, PerRiskXL):
        return TREATY_KINDS["per_risk_xl_group" if t.per == "group" else "per_risk_xl_buyer"]
    if isinstance(t, PoliticalEventXL):
        return TREATY_KINDS["political_event_xl"]
    return TREATY_KINDS["stop_loss"]


def treaty_params(t: Treaty, premium_in_scope: float) -> np.ndarray:
    """A treaty's parameter row (``kernels.codes.TREATY_PARAMS``) in the reporting currency.

    Quota share: its share. Excess of loss: retention, limit, the annual cap limit × (1 +
    reinstatements) — at most the aggregate limit; inf when unlimited — and the annual aggregate
    deductible. Stop loss: attachment and limit, loss ratios converted with the premium in the
    treaty's scope.
    """
    row = np.zeros(N_TREATY_PARAMS)
    row[TP_LIMIT] = math.inf
    row[TP_CAP] = math.inf
    if isinstance(t, QuotaShare):
        row[TP_SHARE] = t.share
    elif isinstance(t, PerRiskXL | PoliticalEventXL):
        row[TP_RETENTION] = t.retention
        row[TP_LIMIT] = t.limit
        cap = math.inf if t.reinstatements is None else t.limit * (1 + t.reinstatements)
        row[TP_CAP] = cap if t.aggregate_limit is None else min(cap, t.aggregate_limit)
        row[TP_AAD] = t.aggregate_deductible
    else:
        assert isinstance(t, StopLoss)
        if t.attachment is not None:
            row[TP_RETENTION] = t.attachment
            row[TP_LIMIT] = t.limit
        else:
            row[TP_RETENTION] = t.attachment_lr * premium_in_scope
            row[TP_LIMIT] = t.limit_lr * premium_in_scope
    return row


def ceded_premium(t: Treaty, premium_in_scope: float) -> float:
    """The premium a treaty costs (reporting currency): its ``premium``; a quota share without
    one cedes its share of the premium in its scope."""
    if isinstance(t, QuotaShare) and t.premium is None:
        return t.share * premium_in_scope
    return float(t.premium or 0.0)


def treaty_scopes(
    r: Resolved, treaties: list[Treaty], source: str
) -> tuple[list[np.ndarray], list[Problem]]:
    """Each treaty's scope as a boolean mask over buyers (book order), and the problems found
    (a scope naming a country, region or sector the book does not have)."""
    problems: list[Problem] = []
    n_b = r.n_buyers
    labels = {
        "countries": (
            r.country_codes[r.b_country] if n_b else np.zeros(0, object),
            r.country_codes,
        ),
        "regions": (r.region_names[r.b_region] if n_b else np.zeros(0, object), r.region_names),
        "sectors": (r.sector_codes[r.b_sector] if n_b else np.zeros(0, object), r.sector_codes),
    }
    masks = []
    for i, t in enumerate(treaties):
        mask = np.ones(n_b, dtype=bool)
        if t.scope is not None:
            for key, (of_buyer, have) in labels.items():
                want = getattr(t.scope, key)
                if want is None:
                    continue
                unknown = sorted(set(want) - set(have))
                if unknown:
                    problems.append(
                        Problem(
                            source,
                            f"treaties.{i}.scope.{key}",
                            f"not in the book: {', '.join(unknown)}",
                            label="key",
                        )
                    )
                mask &= np.isin(of_buyer, np.asarray(want, dtype=object))
        masks.append(mask)
    return masks, problems
