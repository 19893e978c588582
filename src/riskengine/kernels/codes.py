"""Names the kernels and their callers share: output columns, treaty kinds, treaty parameters.

Plain Python (no Numba), so that results, summaries and reports can import these declarations
without compiling or importing any kernel. Each tuple is the one declaration; the integer
constants are derived from it, so a column cannot be renumbered in one place and not another.
"""

from __future__ import annotations

__all__ = [
    "YLT_COLUMNS",
    "N_YLT",
    "TREATY_KINDS",
    "TREATY_PARAMS",
    "N_TREATY_PARAMS",
    "OCCURRENCE_KINDS",
    "CAUSES",
]

#: Columns of the kernel's per-simulation output matrix, in order. ``log_weight`` is the year's
#: log likelihood ratio (0 without importance sampling); the YLT's ``weight`` is its exponential.
#: ``loss_avoided``, ``turnover_lost`` and ``n_caught`` are dynamic limit management's (0 off).
YLT_COLUMNS = (
    "ground_up",
    "gross",
    "commercial",
    "political",
    "n_defaults",
    "n_political_events",
    "max_occurrence",
    "net",
    "log_weight",
    "loss_avoided",
    "turnover_lost",
    "n_caught",
)
N_YLT = len(YLT_COLUMNS)
Y_GROUND_UP = YLT_COLUMNS.index("ground_up")
Y_GROSS = YLT_COLUMNS.index("gross")
Y_COMMERCIAL = YLT_COLUMNS.index("commercial")
Y_POLITICAL = YLT_COLUMNS.index("political")
Y_N_DEFAULTS = YLT_COLUMNS.index("n_defaults")
Y_N_EVENTS = YLT_COLUMNS.index("n_political_events")
Y_MAX_OCC = YLT_COLUMNS.index("max_occurrence")
Y_NET = YLT_COLUMNS.index("net")
Y_LOG_WEIGHT = YLT_COLUMNS.index("log_weight")
Y_LOSS_AVOIDED = YLT_COLUMNS.index("loss_avoided")
Y_TURNOVER_LOST = YLT_COLUMNS.index("turnover_lost")
Y_N_CAUGHT = YLT_COLUMNS.index("n_caught")

#: Treaty kinds as the kernels know them, keyed by the name the scenario's types map onto.
TREATY_KINDS = (
    "quota_share",
    "per_risk_xl_buyer",
    "per_risk_xl_group",
    "political_event_xl",
    "stop_loss",
)
KIND_QS = TREATY_KINDS.index("quota_share")
KIND_XL_BUYER = TREATY_KINDS.index("per_risk_xl_buyer")
KIND_XL_GROUP = TREATY_KINDS.index("per_risk_xl_group")
KIND_XL_POLITICAL = TREATY_KINDS.index("political_event_xl")
KIND_STOP_LOSS = TREATY_KINDS.index("stop_loss")

#: Columns of a treaty's parameter row (reporting currency): the quota share's share; a layer's
#: retention (a stop loss's attachment) and limit; the annual cap (limit × (1 + reinstatements),
#: and at most the aggregate limit; inf: unlimited); the annual aggregate deductible.
TREATY_PARAMS = ("share", "retention", "limit", "annual_cap", "aggregate_deductible")
N_TREATY_PARAMS = len(TREATY_PARAMS)
TP_SHARE = TREATY_PARAMS.index("share")
TP_RETENTION = TREATY_PARAMS.index("retention")
TP_LIMIT = TREATY_PARAMS.index("limit")
TP_CAP = TREATY_PARAMS.index("annual_cap")
TP_AAD = TREATY_PARAMS.index("aggregate_deductible")

#: Exact claim accumulators (expected losses by exposure, buyer and group): each year's weighted
#: claim is rounded to a whole number of units of 2^-EL_UNIT_LOG2 (reporting currency; squares in
#: the square unit) and added to a two-word integer (hi · 2^62 + lo), so the totals are exact and
#: do not depend on the order years are added in: the same for any block size or executor.
EL_UNIT_LOG2 = 16
#: Columns of an accumulator array (two words per quantity; an entity per row, one cache line).
ACC_ROWS = (
    "gross_hi",
    "gross_lo",
    "net_hi",
    "net_lo",
    "gross2_hi",
    "gross2_lo",
    "net2_hi",
    "net2_lo",
)
ACC_GROSS, ACC_NET, ACC_GROSS2, ACC_NET2 = 0, 2, 4, 6

#: Kinds of recorded occurrences: a buyer's commercial claims, a country's political claims.
OCCURRENCE_KINDS = ("buyer", "country")
#: Causes of an exposure's loss.
CAUSES = ("commercial", "political")
