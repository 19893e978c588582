"""The book schema, declared once.

Every table of a book (docs/data-format.md) is declared here as a :class:`Table` of :class:`Column`
records. Loading, validation, the sample-book generator and the data-format documentation all
read these declarations; nothing else in the package spells out a column list.

Conventions
-----------
* ``required`` columns must be present in the file; optional columns that are absent are added
  by the loader, filled with ``default`` (``None`` means null: the value then comes from the
  scenario at compile time, see ``fill_from``).
* Ranges are checked on non-null values. ``nullable=False`` additionally refuses nulls.
* Amounts are in the currency named on the row (exposures: the exposure's currency, else its
  policy's; policies: the policy's currency) and at most :data:`MAX_AMOUNT`: a larger one is a
  typing or unit error, and would overflow the simulation's sums. Rates are annual.
* ``fraction`` columns hold shares written as fractions (0.015, not 1.5 %): a message about
  their range asks whether a percentage was typed when the offending values lie in (1, 100].
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

__all__ = [
    "MAX_AMOUNT",
    "MAX_FX_RATE",
    "MAX_TERM_DAYS",
    "Column",
    "Range",
    "Table",
    "TABLES",
    "REFERENCES",
    "Reference",
    "ISO_COUNTRY_ALLOW_LIST",
    "Rule",
    "RULES",
    "CODE_RULES",
    "table",
    "type_name",
    "column_rules",
    "markdown",
    "splice_markdown",
    "write_markdown",
]


@dataclass(frozen=True)
class Range:
    """A closed or open numeric interval a column's values must lie in.

    ``None`` on a side means unbounded. ``text`` is the rule as users read it in messages.
    """

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def text(self, column: str) -> str:
        parts = []
        if self.lo is not None:
            parts.append(f"{_fmt(self.lo)} {'<' if self.lo_open else '≤'} ")
        parts.append(column)
        if self.hi is not None:
            parts.append(f" {'<' if self.hi_open else '≤'} {_fmt(self.hi)}")
        return "".join(parts)

    def violated(self, col: pl.Expr) -> pl.Expr:
        """Expression that is true on non-null values outside the range.

        NaN and ±inf are outside every range: book values are finite numbers.
        """
        col = col.cast(pl.Float64)
        bad = ~col.is_finite()  # NaN never satisfies a range; an infinite amount is no amount
        if self.lo is not None:
            bad = bad | ((col <= self.lo) if self.lo_open else (col < self.lo))
        if self.hi is not None:
            bad = bad | ((col >= self.hi) if self.hi_open else (col > self.hi))
        return col.is_not_null() & bad


def _fmt(x: float) -> str:
    mantissa, e, exponent = f"{x:g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if e else mantissa


@dataclass(frozen=True)
class Column:
    """One column of a book table.

    Parameters
    ----------
    name : str
        Column name in the file.
    dtype : polars.DataType
        Type the loader casts to (strictly: a value that does not cast is a type error).
    required : bool
        Whether the file must carry the column.
    description : str
        What it means, with its unit; used by the docs.
    default : Any
        Value for absent columns and for nulls (``None``: stays null, resolved at compile time).
    nullable : bool
        Whether null values are allowed in the file.
    range : Range or None
        Numeric range of valid values.
    unique : bool
        Whether values must be unique within the table.
    code : str or None
        ``"country"`` (ISO 3166-1 alpha-2) or ``"currency"`` (ISO 4217) code checks.
    fill_from : str or None
        Where a null is resolved from at compile time (documentation only).
    fraction : bool
        Whether values are shares written as fractions (messages then recognise percentages).
    """

    name: str
    dtype: Any
    required: bool
    description: str
    default: Any = None
    nullable: bool = True
    range: Range | None = None
    unique: bool = False
    code: str | None = None
    fill_from: str | None = None
    fraction: bool = False


@dataclass(frozen=True)
class Table:
    """A book table: its file stem, key column and columns.

    ``key`` is the table's unique identifier column; a table without one (``factor_loadings``)
    names the columns that are unique together in ``unique_together``. Messages identify rows by
    the key, else by the ``unique_together`` values joined with ``/``.
    """

    name: str
    key: str | None
    description: str
    columns: tuple[Column, ...]
    required: bool = True
    unique_together: tuple[str, ...] = ()

    @property
    def id_columns(self) -> tuple[str, ...]:
        """Columns that identify a row in messages."""
        return (self.key,) if self.key is not None else self.unique_together

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def polars_schema(self) -> dict[str, Any]:
        return {c.name: c.dtype for c in self.columns}


@dataclass(frozen=True)
class Reference:
    """Referential integrity: every non-null ``table.column`` is in ``target.target_column``."""

    table: str
    column: str
    target: str
    target_column: str
    rule: str = field(default="")


#: Codes accepted as ISO 3166-1 alpha-2 although the standard has not assigned them.
#: XK is Kosovo's user-assigned code, used by the EU, the IMF and SWIFT.
ISO_COUNTRY_ALLOW_LIST: dict[str, str] = {"XK": "Kosovo"}

#: Largest amount a book may hold, in the row's currency: far above any real credit limit,
#: premium or turnover (10¹⁵ EUR is about ten times world GDP), and small enough that amounts
#: converted at :data:`MAX_FX_RATE` and summed over any book stay far from float overflow.
MAX_AMOUNT = 1e15
#: Largest exchange rate (units of the reporting currency per unit).
MAX_FX_RATE = 1e6
#: Longest payment term (days): two years, far beyond short-term trade credit's 30–180 days.
MAX_TERM_DAYS = 720

_P01 = Range(0.0, 1.0)
_AMOUNT = Range(0.0, MAX_AMOUNT)
_POSITIVE_AMOUNT = Range(0.0, MAX_AMOUNT, lo_open=True)

BUYERS = Table(
    name="buyers",
    key="buyer_id",
    description="One row per insured buyer (the exporter's customer whose non-payment is covered).",
    columns=(
        Column("buyer_id", pl.String, True, "Buyer identifier.", nullable=False, unique=True),
        Column(
            "country",
            pl.String,
            True,
            "Buyer's country, ISO 3166-1 alpha-2.",
            nullable=False,
            code="country",
        ),
        Column(
            "sector",
            pl.String,
            True,
            "Buyer's sector (e.g. a NACE section letter).",
            nullable=False,
        ),
        Column(
            "rating",
            pl.String,
            False,
            "Rating, mapped to a PD by the scenario's `ratings` table where `pd` is null.",
        ),
        Column(
            "pd",
            pl.Float64,
            False,
            "Annual probability of default (fraction).",
            range=Range(0.0, 1.0, lo_open=True, hi_open=True),
            fraction=True,
            fill_from="scenario ratings[rating]",
        ),
        Column(
            "lgd",
            pl.Float64,
            False,
            "Mean loss given default (fraction of EAD).",
            range=_P01,
            fraction=True,
            fill_from="scenario model.lgd.mean",
        ),
        Column(
            "lgd_sd",
            pl.Float64,
            False,
            "Standard deviation of the beta LGD (fraction); 0 means deterministic; "
            "needs lgd_sd² < lgd·(1 − lgd).",
            range=Range(0.0, None),
            fill_from="scenario model.lgd.sd",
        ),
        Column(
            "asset_correlation",
            pl.Float64,
            False,
            "Asset correlation R² (fraction).",
            range=Range(0.0, 1.0, hi_open=True),
            fraction=True,
            fill_from="scenario model.asset_correlation",
        ),
        Column(
            "group_id",
            pl.String,
            False,
            "Buyer group; buyers of one group share one idiosyncratic draw.",
        ),
    ),
)

EXPOSURES = Table(
    name="exposures",
    key="exposure_id",
    description="One row per credit limit: a policy's cover on a buyer.",
    columns=(
        Column("exposure_id", pl.String, True, "Exposure identifier.", nullable=False, unique=True),
        Column("policy_id", pl.String, True, "Policy that grants the cover.", nullable=False),
        Column("buyer_id", pl.String, True, "Covered buyer.", nullable=False),
        Column(
            "limit",
            pl.Float64,
            True,
            "Approved credit limit (amount, exposure currency).",
            nullable=False,
            range=_POSITIVE_AMOUNT,
        ),
        Column(
            "utilization",
            pl.Float64,
            False,
            "Expected share of the limit outstanding at default (fraction).",
            range=_P01,
            fraction=True,
            fill_from="scenario model.utilization",
        ),
        Column(
            "currency",
            pl.String,
            False,
            "ISO 4217 currency of the limit; null: the policy's.",
            code="currency",
            fill_from="policies.currency",
        ),
        Column(
            "payment_term_days",
            pl.Int64,
            False,
            "Payment term the exporter grants the buyer (days): the limit revolves once per term, "
            "so it carries limit × utilization × 365 / payment_term_days of insured turnover a "
            "year.",
            range=Range(1, MAX_TERM_DAYS),
            fill_from="scenario pricing.payment_term_days",
        ),
        Column(
            "commercial_cover",
            pl.Boolean,
            False,
            "Whether commercial risk (insolvency, protracted default) is covered.",
            default=True,
        ),
        Column(
            "political_cover",
            pl.Boolean,
            False,
            "Whether political risk (war, transfer, embargo) is covered.",
            default=True,
        ),
    ),
)

POLICIES = Table(
    name="policies",
    key="policy_id",
    description="One row per credit insurance policy (one policyholder's annual contract).",
    columns=(
        Column("policy_id", pl.String, True, "Policy identifier.", nullable=False, unique=True),
        Column(
            "currency",
            pl.String,
            True,
            "ISO 4217 currency of the policy's amounts.",
            nullable=False,
            code="currency",
        ),
        Column("policyholder", pl.String, False, "Insured exporter."),
        Column(
            "indemnity",
            pl.Float64,
            False,
            "Share of a qualifying loss the insurer pays (fraction).",
            default=0.9,
            range=_P01,
            fraction=True,
        ),
        Column(
            "deductible",
            pl.Float64,
            False,
            "Aggregate first loss per policy year (amount).",
            default=0.0,
            range=_AMOUNT,
        ),
        Column(
            "nql",
            pl.Float64,
            False,
            "Non-qualifying loss: an exposure's loss below it is not paid (amount).",
            default=0.0,
            range=_AMOUNT,
        ),
        Column(
            "max_liability",
            pl.Float64,
            False,
            "Cap on the policy's claims per year (amount); null: none.",
            range=_POSITIVE_AMOUNT,
        ),
        Column(
            "premium",
            pl.Float64,
            False,
            "Annual premium (amount).",
            default=0.0,
            range=_AMOUNT,
        ),
        Column(
            "turnover",
            pl.Float64,
            False,
            "Insured annual turnover the premium is charged on (amount); pricing splits it over "
            "the policy's exposures in proportion to limit × utilization × 365 / "
            "payment_term_days, and reads 0 as not given.",
            range=_AMOUNT,
            fill_from="Σ limit × utilization × 365 / payment_term_days of its exposures (0 too)",
        ),
    ),
)

COUNTRIES = Table(
    name="countries",
    key="country",
    description="One row per country buyers are in.",
    columns=(
        Column(
            "country",
            pl.String,
            True,
            "ISO 3166-1 alpha-2 code.",
            nullable=False,
            unique=True,
            code="country",
        ),
        Column(
            "region",
            pl.String,
            True,
            "Region (shares a regional systematic and political factor).",
            nullable=False,
        ),
        Column(
            "risk_grade",
            pl.Int64,
            False,
            "OECD-style country risk grade, 0 (lowest risk) to 7.",
            range=Range(0, 7),
        ),
        Column(
            "political_pd",
            pl.Float64,
            False,
            "Annual probability of a political loss event (fraction).",
            range=Range(0.0, 1.0, hi_open=True),
            fraction=True,
            fill_from="scenario political.grade_pd[risk_grade]",
        ),
        Column(
            "political_lgd",
            pl.Float64,
            False,
            "Loss given a political event (fraction of EAD).",
            range=_P01,
            fraction=True,
            fill_from="scenario political.lgd",
        ),
    ),
)

FX = Table(
    name="fx",
    key="currency",
    description="Exchange rates into the reporting currency.",
    required=False,
    columns=(
        Column(
            "currency",
            pl.String,
            True,
            "ISO 4217 code.",
            nullable=False,
            unique=True,
            code="currency",
        ),
        Column(
            "rate",
            pl.Float64,
            True,
            "Units of the reporting currency per unit of `currency`.",
            nullable=False,
            range=Range(0.0, MAX_FX_RATE, lo_open=True),
        ),
    ),
)

FACTOR_LOADINGS = Table(
    name="factor_loadings",
    key=None,
    description=(
        "Optional explicit factor model: replaces the structured factors for the whole book."
    ),
    required=False,
    unique_together=("buyer_id", "factor"),
    columns=(
        Column("buyer_id", pl.String, True, "Buyer.", nullable=False),
        Column(
            "factor",
            pl.String,
            True,
            "Factor name (a row/column of the scenario's factor correlation matrix).",
            nullable=False,
        ),
        Column(
            "loading",
            pl.Float64,
            True,
            "Loading a_i on the factor.",
            nullable=False,
            range=Range(-1.0, 1.0),
        ),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (BUYERS, EXPOSURES, POLICIES, COUNTRIES, FX, FACTOR_LOADINGS)
}

REFERENCES: tuple[Reference, ...] = (
    Reference("exposures", "buyer_id", "buyers", "buyer_id", "every exposure's buyer is in buyers"),
    Reference(
        "exposures", "policy_id", "policies", "policy_id", "every exposure's policy is in policies"
    ),
    Reference("buyers", "country", "countries", "country", "every buyer's country is in countries"),
    Reference(
        "factor_loadings", "buyer_id", "buyers", "buyer_id", "every loading's buyer is in buyers"
    ),
)


def table(name: str) -> Table:
    """Return the declared :class:`Table` called ``name``."""
    return TABLES[name]


@dataclass(frozen=True)
class Rule:
    """A rule across columns or tables, declared here, checked by :mod:`riskengine.book.validate`.

    ``text`` is the rule as users read it, both in messages and in the docs.
    """

    table: str
    column: str | None
    text: str


#: What a ``code`` check requires, by :attr:`Column.code`.
CODE_RULES: dict[str, str] = {
    "country": "ISO 3166-1 alpha-2 country code",
    "currency": "ISO 4217 currency code",
}

#: Rules beyond single columns, by name (the validator looks them up by these names).
RULES: dict[str, Rule] = {
    "rows": Rule(
        "buyers, exposures, policies, countries", None, "each of these tables has at least one row"
    ),
    "pd_or_rating": Rule(
        "buyers", "pd", "each buyer has a pd or a rating (at least one is not null)"
    ),
    "lgd_sd_beta": Rule(
        "buyers", "lgd_sd", "lgd_sd² < lgd·(1 − lgd) where lgd_sd > 0 and lgd is given"
    ),
    "fx_coverage": Rule(
        "policies, exposures",
        "currency",
        "every currency used has a rate in fx unless it is the reporting currency",
    ),
    "reporting_rate": Rule("fx", "rate", "the reporting currency, if listed in fx, has rate 1"),
}

_TYPE_NAMES: dict[Any, str] = {
    pl.String: "string",
    pl.Float64: "float",
    pl.Int64: "integer",
    pl.Boolean: "boolean",
}


def type_name(dtype: Any) -> str:
    """The name the docs and messages use for a declared dtype (``"float"``, ``"string"``, …)."""
    return _TYPE_NAMES.get(dtype, str(dtype))


def column_rules(col: Column) -> list[str]:
    """The single-column rules of ``col``, as users read them (for messages and docs)."""
    rules = []
    if not col.nullable:
        rules.append("not null")
    if col.range is not None:
        rules.append(col.range.text(col.name))
    if col.unique:
        rules.append("unique")
    if col.code is not None:
        rules.append(CODE_RULES[col.code])
    return rules


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_default(col: Column) -> str:
    if col.default is not None:
        return f"`{str(col.default).lower() if isinstance(col.default, bool) else col.default}`"
    if col.fill_from is not None:
        return f"null → {col.fill_from}"
    return "—" if col.required else "null"


def _md_table(t: Table) -> list[str]:
    lines = [
        f"### `{t.name}`",
        "",
        t.description,
        "",
        f"File: `{t.name}.parquet` or `{t.name}.csv`, or sheet `{t.name}` of a workbook "
        f"({'required' if t.required else 'optional'}). "
        + (
            f"Key: `{t.key}`."
            if t.key
            else f"Unique together: {', '.join(f'`{c}`' for c in t.unique_together)}."
        ),
        "",
        "| column | type | required | default | rules | description |",
        "|---|---|---|---|---|---|",
    ]
    for c in t.columns:
        cells = [
            f"`{c.name}`",
            type_name(c.dtype),
            "yes" if c.required else "no",
            _md_default(c),
            "; ".join(column_rules(c)) or "—",
            c.description,
        ]
        lines.append("| " + " | ".join(_md_cell(x) for x in cells) + " |")
    lines.append("")
    return lines


def markdown() -> str:
    """Render every table, column and rule of the book schema as Markdown.

    ``docs/data-format.md`` carries exactly this text between its ``BEGIN``/``END`` schema
    markers (a test checks it); refresh it with :func:`write_markdown`.

    Returns
    -------
    str
        Markdown text, ending with a newline.
    """
    lines: list[str] = []
    for t in TABLES.values():
        lines += _md_table(t)
    lines += ["### Rules across columns and tables", ""]
    lines += [
        f"- `{r.table}.{r.column}` → `{r.target}.{r.target_column}`: {r.rule}." for r in REFERENCES
    ]
    lines += [
        f"- {r.table}" + (f" `{r.column}`" if r.column else "") + f": {r.text}."
        for r in RULES.values()
    ]
    lines.append("")
    return "\n".join(lines)


#: Markers around the generated schema section of ``docs/data-format.md``.
DOC_BEGIN = (
    "<!-- BEGIN schema: generated by riskengine.book.schema.markdown(); do not edit by hand -->"
)
DOC_END = "<!-- END schema -->"


def splice_markdown(doc: str) -> str:
    """Return ``doc`` with the text between :data:`DOC_BEGIN` and :data:`DOC_END` replaced.

    The new text is :func:`markdown`.
    """
    head, sep, rest = doc.partition(DOC_BEGIN)
    _, sep2, tail = rest.partition(DOC_END)
    if not sep or not sep2:
        raise ValueError("the document lacks the schema markers")
    return f"{head}{DOC_BEGIN}\n{markdown()}{DOC_END}{tail}"


def write_markdown(path: str | os.PathLike[str]) -> None:
    """Refresh the generated schema section of the Markdown file at ``path`` in place.

    ``python -c "from riskengine.book.schema import write_markdown;
    write_markdown('docs/data-format.md')"``
    """
    p = Path(path)
    p.write_text(splice_markdown(p.read_text(encoding="utf-8")), encoding="utf-8")
