"""Scenario files: pydantic models that refuse unknown keys and wrong values.

A scenario says how to simulate a book: the number of simulated years, the seed, the correlation
model, political risk, the rating table, the reinsurance programme and the outputs. Every key
has a documented default, so an empty file is a valid scenario.

Every problem of a file is reported at once. pydantic skips a model's "after" validators when
one of its fields failed; so the rules across a model's fields are declared with :func:`_rule`
(the fields each reads) and checked by :meth:`_Strict._check_rules`, which runs every rule whose
fields are valid, whether or not other fields of the model failed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Literal, get_args

import pycountry
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import Problem, ScenarioError

__all__ = [
    "MAX_SIMS",
    "MAX_BLOCK_SIZE",
    "MAX_SEED",
    "Scenario",
    "SimulationConfig",
    "ModelConfig",
    "FactorWeights",
    "FactorCorrelation",
    "LGDConfig",
    "PoliticalConfig",
    "OutputsConfig",
    "AllocationConfig",
    "ImportanceSampling",
    "AnalyticConfig",
    "MonitoringConfig",
    "LimitsConfig",
    "PricingConfig",
    "PricingCapital",
    "DEFAULT_TERM_BANDS",
    "DEFAULT_CREDIBILITY_K",
    "MAX_PAYMENT_TERM_DAYS",
    "Stress",
    "StressFile",
    "Where",
    "load_stresses",
    "Scope",
    "QuotaShare",
    "PerRiskXL",
    "PoliticalEventXL",
    "StopLoss",
    "Treaty",
    "load_scenario",
    "parse_scenario",
    "read_yaml",
    "scenario_json_schema",
    "DEFAULT_RATINGS",
    "DEFAULT_GRADE_PD",
]

#: Long-run one-year corporate default rates (S&P 2024 annual study, 1981–2024), with AAA set to
#: 1 bp (observed 0.00 %) so that every rating carries some risk.
DEFAULT_RATINGS: dict[str, float] = {
    "AAA": 0.0001,
    "AA": 0.0002,
    "A": 0.0005,
    "BBB": 0.0014,
    "BB": 0.0056,
    "B": 0.0293,
    "CCC": 0.2612,
}

#: Annual probability of a political loss event by OECD-style country risk grade 0..7
#: (illustrative, increasing roughly geometrically with the grade).
DEFAULT_GRADE_PD: list[float] = [0.0, 0.0002, 0.0005, 0.001, 0.003, 0.007, 0.015, 0.03]


#: Most simulated years a run may ask for (``simulation.sims``).
MAX_SIMS = 100_000_000
#: Largest block of simulations (``simulation.block_size``).
MAX_BLOCK_SIZE = 10_000_000
#: Largest seed (``simulation.seed``): seeds are integers from 0 to 2**63 − 1.
MAX_SEED = 2**63 - 1
#: Largest ``analytic.pd_volatility``: a default rate whose standard deviation is 10 times its
#: mean is almost always near 0 with rare huge jumps, which no credit book's history supports;
#: and the loss grid grows with its square (11 million points at 10 on the 100,000-buyer sample
#: book with one sector).
MAX_PD_VOLATILITY = 10.0
#: Largest ``limits.max_scale`` and ``stress[].limit_multiplier``: ``riskengine limits
#: --verify`` applies the proposed scales as limit multipliers.
MAX_LIMIT_SCALE = 100.0


@dataclass(frozen=True)
class _RuleSpec:
    """What :func:`_rule` records on a rule: the fields it reads, where its message goes."""

    fields: tuple[str, ...]
    at: str | None  # the key its problem names (None: the model itself)
    raw: bool  # whether it also reads the raw input of fields that failed validation


def _rule(*fields: str, at: str | None = None, raw: bool = False) -> Callable[..., Any]:
    """Declare a rule across ``fields`` of a model.

    The decorated function takes an object with those fields as attributes (the model, or the
    fields' values when another field failed) and raises ``ValueError`` when the rule is
    broken. With ``raw``, fields that failed validation are passed as given in the input
    (the function must then read whatever it finds); otherwise the rule is skipped when one of
    its fields failed, as it cannot be judged.
    """

    def mark(fn: Callable[[Any], None]) -> staticmethod:
        fn.__rule__ = _RuleSpec(fields, at, raw)  # type: ignore[attr-defined]
        return staticmethod(fn)

    return mark


@cache
def _rules(model: type[BaseModel]) -> tuple[Callable[[Any], None], ...]:
    """The rules declared on ``model`` and its bases, in declaration order."""
    found: dict[str, Callable[[Any], None]] = {}
    for klass in reversed(model.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, staticmethod) and hasattr(value.__func__, "__rule__"):
                found[name] = value.__func__
    return tuple(found.values())


@cache
def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """Validates one field of ``model`` on its own: its type and constraints."""
    field = model.model_fields[name]
    if not field.metadata:
        return TypeAdapter(field.annotation)
    return TypeAdapter(Annotated[(field.annotation, *field.metadata)])


def _rule_error(spec: _RuleSpec, data: Any, exc: ValueError) -> dict[str, Any]:
    loc = (spec.at,) if spec.at else ()
    return {"type": "value_error", "loc": loc, "input": data, "ctx": {"error": exc}}


def _broken(rules: tuple[Callable[[Any], None], ...], values: Any, data: Any) -> list[dict]:
    """Line errors of the ``rules`` that ``values`` break."""
    errors = []
    for check in rules:
        try:
            check(values)
        except ValueError as exc:
            errors.append(_rule_error(check.__rule__, data, exc))  # type: ignore[attr-defined]
    return errors


def _partial_rules(model: type[BaseModel], data: Any, errors: list[dict]) -> list[dict]:
    """Line errors of the rules of ``model`` whose fields are valid, although others failed."""
    if not isinstance(data, dict) or any(not e["loc"] for e in errors):
        return []  # not a mapping, or the model as a whole failed
    failed = {e["loc"][0] for e in errors}
    found = []
    for check in _rules(model):
        spec: _RuleSpec = check.__rule__  # type: ignore[attr-defined]
        values: dict[str, Any] = {}
        for name in spec.fields:
            field = model.model_fields[name]
            key = field.alias if field.alias in data else name  # by alias, or by name
            if key not in data:
                if field.is_required():
                    break
                values[name] = field.get_default(call_default_factory=True)
            elif key not in failed:
                try:
                    values[name] = _field_adapter(model, name).validate_python(data[key])
                except ValidationError:  # pragma: no cover - the field validated in the model
                    break
            elif spec.raw:
                values[name] = data[key]
            else:
                break
        else:
            found += _broken((check,), SimpleNamespace(**values), data)
    return found


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @model_validator(mode="wrap")
    @classmethod
    def _check_rules(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        """Validate, then check every rule (:func:`_rule`) that the valid fields allow."""
        try:
            model = handler(data)
        except ValidationError as err:
            errors = err.errors()
            extra = _partial_rules(cls, data, errors)
            if not extra:
                raise
            try:
                combined = ValidationError.from_exception_data(cls.__name__, errors + extra)
            except (KeyError, TypeError, ValueError):  # pragma: no cover - an unknown error type
                raise err from None
            raise combined from None
        broken = _broken(_rules(cls), model, data)
        if broken:
            raise ValidationError.from_exception_data(cls.__name__, broken)
        return model


class ImportanceSampling(_Strict):
    """Importance sampling: the systematic and political draws shifted towards the tail."""

    method: Literal["mean_shift"] = Field(
        "mean_shift",
        description=(
            "Mean shift of the independent normal draws behind the systematic factors (the "
            "explicit model's ξ before the Cholesky factor) and of the political draws "
            "(regional V, country η); each year's weight is the likelihood ratio."
        ),
    )
    shift: Literal["auto"] | dict[str, float] = Field(
        "auto",
        description=(
            "'auto': chosen for `level` from a pilot run (the most likely draws whose "
            "conditional expected loss reaches the pilot's VaR); or the means by draw name: "
            "`global`, `region:<name>`, `country:<code>`, `sector:<code>` (explicit model: the "
            "factor names), `political_region:<name>`, `political_country:<code>` (omitted: 0)."
        ),
    )
    level: float | None = Field(
        None,
        gt=50,
        lt=100,
        description=(
            "Level (percent) the automatic shift aims at; omitted: the highest of "
            "outputs.allocation.levels, else 99.9."
        ),
    )
    pilot: int = Field(
        5000,
        ge=100,
        le=1_000_000,
        description="Years of the plain pilot run the automatic shift is chosen from.",
    )
    components: int = Field(
        8,
        ge=1,
        le=32,
        description=(
            "'auto': the most shift components of the mixture (the commercial downturn and the "
            "political events of the countries that can reach the target loss)."
        ),
    )
    defensive: float = Field(
        0.1,
        ge=0,
        lt=1,
        description=(
            "Share of years drawn without a shift (a defensive mixture: bounds every weight by "
            "1 / defensive)."
        ),
    )


class SimulationConfig(_Strict):
    """How many years to simulate and how."""

    sims: int = Field(
        10_000,
        gt=0,
        le=MAX_SIMS,
        description=f"Number of simulated policy years, 1 to {MAX_SIMS:,} (1e8).",
    )
    seed: int = Field(
        20261128,
        ge=0,
        le=MAX_SEED,
        description=(
            f"Seed of the counter-based generator, an integer from 0 to 2**63 − 1 ({MAX_SEED:,})."
        ),
    )
    block_size: int = Field(
        10_000,
        gt=0,
        le=MAX_BLOCK_SIZE,
        description=(
            "Simulations per block (a unit of work and of checkpointing), "
            f"1 to {MAX_BLOCK_SIZE:,} (1e7)."
        ),
    )
    importance_sampling: ImportanceSampling | None = Field(
        None,
        description=(
            "Importance sampling (docs/model.md §8); omitted: plain Monte Carlo (every weight 1)."
        ),
    )


class FactorWeights(_Strict):
    """Weights of the structured model's factors (omitted ones weigh 0; they sum to 1)."""

    global_: float = Field(
        0.0, ge=0, le=1, alias="global", description="Weight of the single global factor."
    )
    region: float = Field(0.0, ge=0, le=1, description="Weight of the buyer's region factor.")
    country: float = Field(0.0, ge=0, le=1, description="Weight of the buyer's country factor.")
    sector: float = Field(0.0, ge=0, le=1, description="Weight of the buyer's sector factor.")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @_rule("global_", "region", "country", "sector")
    def _sum_to_one(w: Any) -> None:
        total = w.global_ + w.region + w.country + w.sector
        if not math.isclose(total, 1.0, rel_tol=0, abs_tol=1e-9):
            raise ValueError(f"factor weights must sum to 1 (they sum to {total:g})")


class FactorCorrelation(_Strict):
    """Correlation matrix of the explicit model's factors (used with a `factor_loadings` table)."""

    factors: list[str] = Field(..., min_length=1, description="Factor names, in matrix order.")
    matrix: list[list[float]] = Field(
        ..., description="Correlation matrix Σ_F (symmetric, positive definite, unit diagonal)."
    )

    @_rule("factors", "matrix")
    def _correlation(c: Any) -> None:
        import numpy as np

        n = len(c.factors)
        if len(set(c.factors)) != n:
            raise ValueError("factor names must be unique")
        m = np.asarray(c.matrix, dtype=float)
        if m.shape != (n, n):
            raise ValueError(f"matrix must be {n}×{n} to match `factors`")
        if not np.allclose(m, m.T, atol=1e-12) or not np.allclose(np.diag(m), 1.0, atol=1e-12):
            raise ValueError("matrix must be symmetric with a unit diagonal")
        if np.any(np.abs(m) > 1):
            raise ValueError("correlations must lie in [-1, 1]")
        try:
            np.linalg.cholesky(m)
        except np.linalg.LinAlgError:
            raise ValueError("matrix must be positive definite") from None


class LGDConfig(_Strict):
    """Beta loss given default where a buyer has none."""

    mean: float = Field(0.5, ge=0, le=1, description="Mean LGD (fraction of EAD).")
    sd: float = Field(0.25, ge=0, description="Standard deviation of LGD; 0 means deterministic.")

    @_rule("mean", "sd")
    def _beta_exists(lgd: Any) -> None:
        if lgd.sd > 0 and not lgd.sd**2 < lgd.mean * (1 - lgd.mean):
            raise ValueError(
                f"a beta LGD needs sd² < mean·(1 − mean): sd {lgd.sd:g} is too large "
                f"for mean {lgd.mean:g}"
            )


class ModelConfig(_Strict):
    """The commercial default model (docs/model.md)."""

    copula: Literal["gaussian", "student_t"] = Field(
        "gaussian", description="Dependence of buyers' asset values."
    )
    dof: float = Field(
        6.0, gt=0, le=1e6, description="Degrees of freedom ν of the Student-t copula."
    )
    asset_correlation: float = Field(0.2, ge=0, lt=1, description="R² where a buyer has none.")
    factor_weights: FactorWeights = Field(
        default_factory=lambda: FactorWeights(
            **{"global": 0.35, "region": 0.2, "country": 0.3, "sector": 0.15}
        ),
        description="Structured model weights (global, region, country, sector).",
    )
    factor_correlation: FactorCorrelation | None = Field(
        None,
        description=(
            "Explicit model: correlation of the factors named in the book's factor_loadings table."
        ),
    )
    lgd: LGDConfig = Field(default_factory=LGDConfig, description="LGD where a buyer has none.")
    utilization: float = Field(
        0.6, ge=0, le=1, description="Utilisation where an exposure has none."
    )


class PoliticalConfig(_Strict):
    """Political (country) events."""

    enabled: bool = Field(True, description="Simulate political events at all.")
    correlation: float = Field(
        0.3, ge=0, lt=1, description="ρ_p: correlation of two countries' events within a region."
    )
    grade_pd: list[float] = Field(
        default_factory=lambda: list(DEFAULT_GRADE_PD),
        min_length=8,
        max_length=8,
        description="Event probability by risk grade 0..7 where a country has no political_pd.",
    )
    lgd: float = Field(
        0.8, ge=0, le=1, description="Loss given a political event where a country has none."
    )
    commercial_pd_multiplier: float = Field(
        1.5,
        ge=1,
        le=1000,
        description="Multiplier of buyers' PDs in their country's event years (capped below 1).",
    )

    @field_validator("grade_pd")
    @classmethod
    def _probabilities(cls, v: list[float]) -> list[float]:
        for g, q in enumerate(v):
            if not 0 <= q < 1:
                raise ValueError(f"grade {g}: probability {q:g} is not in [0, 1)")
        return v


class Scope(_Strict):
    """Which claims a treaty covers: those matching every list given (omitted lists match all)."""

    countries: list[str] | None = Field(None, min_length=1, description="ISO 3166-1 alpha-2 codes.")
    regions: list[str] | None = Field(
        None, min_length=1, description="Region names as in the book's countries table."
    )
    sectors: list[str] | None = Field(
        None, min_length=1, description="Sector codes as in the book's buyers table."
    )


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: The transforms a stress may apply; ``where`` selects the buyers of the second group.
_STRESS_BUYER_TRANSFORMS = ("pd_multiplier", "lgd_add", "asset_correlation_add", "limit_multiplier")
_STRESS_TRANSFORMS = (*_STRESS_BUYER_TRANSFORMS, "factor_shift", "political_events")


class Where(_Strict):
    """Which buyers a stress applies to: those matching every list given (omitted lists match
    all; within a list, any value)."""

    country: list[str] | None = Field(None, min_length=1, description="ISO 3166-1 alpha-2 codes.")
    region: list[str] | None = Field(
        None, min_length=1, description="Region names as in the book's countries table."
    )
    sector: list[str] | None = Field(
        None, min_length=1, description="Sector codes as in the book's buyers table."
    )
    risk_grade: list[int] | None = Field(
        None, min_length=1, description="Country risk grades 0..7 (OECD scale)."
    )
    rating: list[str] | None = Field(
        None, min_length=1, description="Ratings: buyers the book gives by that rating."
    )
    group: list[str] | None = Field(None, min_length=1, description="Buyer groups (group_id).")
    buyer: list[str] | None = Field(None, min_length=1, description="Buyers (buyer_id).")

    @field_validator("risk_grade")
    @classmethod
    def _grades(cls, v: list[int] | None) -> list[int] | None:
        for g in v or []:
            if not 0 <= g <= 7:
                raise ValueError(f"risk grade {g} is not in 0..7")
        return v


class Stress(_Strict):
    """A stress test: transforms applied to the book and model (docs/stress.md)."""

    name: str = Field("stress", description="Identifier, shown in stress.parquet and the report.")
    description: str = Field("", description="What the stress means, for readers.")
    pd_multiplier: float | None = Field(
        None,
        gt=0,
        le=1000,
        description="PDs of the selected buyers multiplied by this (capped below 1, reported).",
    )
    lgd_add: float | None = Field(
        None,
        ge=-1,
        le=1,
        description=(
            "Added to the selected buyers' mean LGD (kept in [0, 1]; the LGD sd shrunk where "
            "needed to keep the beta law valid)."
        ),
    )
    asset_correlation_add: float | None = Field(
        None,
        ge=-1,
        lt=1,
        description="Added to the selected buyers' R² (kept in [0, 0.99], reported).",
    )
    limit_multiplier: float | None = Field(
        None,
        ge=0,
        le=MAX_LIMIT_SCALE,
        description="Limits of the selected buyers' exposures multiplied by this.",
    )
    factor_shift: dict[str, float] | None = Field(
        None,
        description=(
            "δ added to these systematic factors' draws every year (`global`, `region:<name>`, "
            "`country:<code>`, `sector:<code>`, or the explicit model's factor names; negative "
            "is a downturn). Part of the model, not of the sampling: no likelihood ratio."
        ),
    )
    political_events: list[str] | None = Field(
        None,
        min_length=1,
        description="Countries (ISO codes) with a political event every year.",
    )
    where: Where | None = Field(
        None, description="The buyers the PD, LGD, R² and limit transforms apply to; omitted: all."
    )

    @field_validator("name")
    @classmethod
    def _identifier(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"stress name {v!r} must be an identifier (letters, digits, _)")
        return v

    @field_validator("factor_shift")
    @classmethod
    def _finite_shift(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        bad = sorted(k for k, d in (v or {}).items() if not math.isfinite(d))
        if bad:
            raise ValueError(f"a factor shift must be a finite number (not for {', '.join(bad)})")
        return v

    @_rule(*_STRESS_TRANSFORMS)
    def _transforms(s: Any) -> None:
        if all(getattr(s, k) in (None, {}) for k in _STRESS_TRANSFORMS):
            raise ValueError(
                f"a stress changes nothing without one of {', '.join(_STRESS_TRANSFORMS)}"
            )

    @_rule("where", *_STRESS_TRANSFORMS, at="where")
    def _where_selects_for(s: Any) -> None:
        buyers = any(getattr(s, k) is not None for k in _STRESS_BUYER_TRANSFORMS)
        book = bool(s.factor_shift) or s.political_events is not None
        if s.where is not None and book and not buyers:  # with neither, _transforms says it
            raise ValueError(
                f"`where` selects the buyers of {', '.join(_STRESS_BUYER_TRANSFORMS)} and this "
                "stress has none of them (factor_shift and political_events apply to the whole "
                "book)"
            )


class StressFile(_Strict):
    """A file of stresses for ``riskengine stress --stresses FILE``: each entry is run alone
    against the base scenario."""

    stress: list[Stress] = Field(
        ..., min_length=1, description="The stresses, each run separately."
    )

    @field_validator("stress")
    @classmethod
    def _unique(cls, v: list[Stress]) -> list[Stress]:
        names = [s.name for s in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate stress names: {', '.join(dup)}")
        return v


class _TreatyBase(_Strict):
    name: str = Field(..., description="Identifier; the YLT column is ceded_<name>.")
    premium: float = Field(
        0.0, ge=0, description="Annual reinsurance premium (reporting currency)."
    )
    ceding_commission: float = Field(
        0.0, ge=0, le=1, description="Commission paid back to the cedant (fraction of premium)."
    )
    scope: Scope | None = Field(None, description="Claims covered; omitted: all.")

    @field_validator("name")
    @classmethod
    def _identifier(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"treaty name {v!r} must be an identifier (letters, digits, _)")
        return v


class QuotaShare(_TreatyBase):
    """Cedes a fixed share of every claim in scope (and of the premium in scope)."""

    type: Literal["quota_share"]
    share: float = Field(..., gt=0, le=1, description="Ceded share.")
    premium: float | None = Field(  # type: ignore[assignment]
        None,
        ge=0,
        description=(
            "Ceded premium (reporting currency); omitted: share × the book's premium in scope "
            "(a proportional treaty cedes its share of the premium)."
        ),
    )


class _XLBase(_TreatyBase):
    retention: float = Field(..., ge=0, description="Occurrence retention (reporting currency).")
    limit: float = Field(..., gt=0, description="Occurrence limit (reporting currency).")
    reinstatements: int | None = Field(
        None,
        ge=0,
        description=(
            "Number of reinstatements; null/omitted: unlimited. "
            "A year cedes ≤ limit·(1 + reinstatements)."
        ),
    )
    reinstatement_rate: float = Field(
        0.0,
        ge=0,
        description=(
            "A reinstatement's premium as a share of `premium`, pro rata to the limit used."
        ),
    )
    aggregate_deductible: float = Field(
        0.0,
        ge=0,
        description=(
            "Annual aggregate deductible (reporting currency): the year's layer losses are paid "
            "only above it."
        ),
    )
    aggregate_limit: float | None = Field(
        None,
        gt=0,
        description=(
            "Annual aggregate limit (reporting currency); omitted: limit·(1 + reinstatements). "
            "A year cedes at most the smaller of the two."
        ),
    )


class PerRiskXL(_XLBase):
    """Excess of loss per buyer (or buyer group) on commercial claims."""

    type: Literal["per_risk_xl"]
    per: Literal["buyer", "group"] = Field(
        "buyer", description="Occurrence unit: a buyer, or a buyer group."
    )


class PoliticalEventXL(_XLBase):
    """Excess of loss per country political event on political claims."""

    type: Literal["political_event_xl"]


class StopLoss(_TreatyBase):
    """Aggregate stop loss on the year's net loss, in amounts or as loss ratios on book premium."""

    type: Literal["stop_loss"]
    attachment: float | None = Field(None, ge=0, description="Attachment (reporting currency).")
    limit: float | None = Field(None, gt=0, description="Limit (reporting currency).")
    attachment_lr: float | None = Field(
        None, ge=0, description="Attachment as a loss ratio on book premium."
    )
    limit_lr: float | None = Field(None, gt=0, description="Limit as a loss ratio on book premium.")

    @_rule("attachment", "limit", "attachment_lr", "limit_lr")
    def _one_form(t: Any) -> None:
        amounts = t.attachment is not None or t.limit is not None
        ratios = t.attachment_lr is not None or t.limit_lr is not None
        if amounts == ratios:
            raise ValueError("give either attachment and limit, or attachment_lr and limit_lr")
        if amounts and (t.attachment is None or t.limit is None):
            raise ValueError("give both attachment and limit")
        if ratios and (t.attachment_lr is None or t.limit_lr is None):
            raise ValueError("give both attachment_lr and limit_lr")


Treaty = Annotated[
    QuotaShare | PerRiskXL | PoliticalEventXL | StopLoss, Field(discriminator="type")
]


AllocationDimension = Literal["buyer", "group", "policy", "exposure", "country", "region", "sector"]
Perspective = Literal["ground_up", "gross", "net"]


class AllocationConfig(_Strict):
    """Capital allocation: Euler contributions to TVaR and VaR by segment (allocation.parquet)."""

    perspective: list[Perspective] = Field(
        default_factory=lambda: ["gross"],
        min_length=1,
        description="Loss perspectives to allocate (a single name is accepted too).",
    )
    levels: list[float] = Field(
        default_factory=lambda: [99.5],
        min_length=1,
        description="Levels in percent (e.g. 99.5), each strictly between 50 and 100.",
    )
    dimensions: list[AllocationDimension] = Field(
        default_factory=lambda: [
            "buyer",
            "group",
            "policy",
            "exposure",
            "country",
            "region",
            "sector",
        ],
        min_length=1,
        description="Segment dimensions of allocation.parquet.",
    )
    store_depth: float = Field(
        3.0,
        ge=1,
        le=20,
        allow_inf_nan=False,
        description=(
            "The tail store also holds the years of TVaR at level 1 − store_depth × (1 − q): "
            "credit-limit decisions are exact on it for requests up to the gap between VaR_q and "
            "that level's VaR (docs/limits.md)."
        ),
    )

    @field_validator("perspective", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: list[float]) -> list[float]:
        for q in v:
            if not 50 < q < 100:
                raise ValueError(f"level {q:g} must lie strictly between 50 and 100 (percent)")
        return sorted(set(v))

    @field_validator("perspective", "dimensions")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))


class OutputsConfig(_Strict):
    """What a run writes besides the year loss table and the summary."""

    segments: list[Literal["country", "region", "sector", "policy"]] = Field(
        default_factory=lambda: ["country", "sector"],
        description="Dimensions of segments.parquet ([] for none).",
    )
    return_periods: list[float] = Field(
        default_factory=lambda: [2, 5, 10, 20, 50, 100, 200, 250, 500, 1000],
        min_length=1,
        description="Return periods (years) of ept.parquet.",
    )
    occurrence_threshold: float | None = Field(
        None,
        ge=0,
        description=(
            "Write occurrences.parquet with every buyer/country occurrence whose gross claim "
            "exceeds this."
        ),
    )
    report: bool = Field(True, description="Write report.html.")
    allocation: AllocationConfig | None = Field(
        None,
        description=(
            "Capital allocation and the tail store (allocation.parquet, tail/); omitted: none."
        ),
    )

    @field_validator("return_periods")
    @classmethod
    def _rp(cls, v: list[float]) -> list[float]:
        if any(not (rp > 1) for rp in v):
            raise ValueError("return periods must be > 1 year")
        return sorted(set(v))

    @field_validator("segments")
    @classmethod
    def _uniq(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))


class AnalyticConfig(_Strict):
    """CreditRisk+, the analytic loss distribution of `riskengine analytic` (docs/analytic.md)."""

    band: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description=(
            "Loss unit L (reporting currency): each buyer's exposure, Σ EAD × mean LGD over its "
            "exposures with commercial cover, is rounded to a whole number of units; omitted: "
            "the largest buyer's exposure / 1000."
        ),
    )
    pd_volatility: float = Field(
        0.5,
        ge=0,
        le=MAX_PD_VOLATILITY,
        allow_inf_nan=False,
        description=(
            "Standard deviation of each buyer's default rate as a multiple of its PD "
            f"(σ_i = pd_volatility × pd_i), 0 to {MAX_PD_VOLATILITY:g}; 0: independent defaults."
        ),
    )
    sector_by: Literal["none", "country", "region", "sector"] = Field(
        "none",
        description=(
            "What the systematic sectors (independent gamma factors) are: none (one sector for "
            "the whole book), the buyer's country, region or sector."
        ),
    )
    specific_share: float = Field(
        0.0,
        ge=0,
        lt=1,
        description=(
            "Share of each buyer's default rate that is specific (a Poisson sector without "
            "variance), 0 ≤ s < 1 (fraction)."
        ),
    )


#: Longest payment term (days) ``pricing.payment_term_days`` and ``pricing.term_bands`` take:
#: the book's ``exposures.payment_term_days`` range (``book.schema.MAX_TERM_DAYS``; the scenario
#: is a lower layer than the book, so tests/test_pricing.py keeps the two equal).
MAX_PAYMENT_TERM_DAYS = 720
#: Default payment-term bands of the rate card: upper bounds in days, the last open above.
DEFAULT_TERM_BANDS: tuple[int, ...] = (30, 60, 90, 120, 180)
#: Default Bühlmann k of the rate card (exposures): a cell of k exposures gets credibility ½.
DEFAULT_CREDIBILITY_K = 50.0


class PricingCapital(_Strict):
    """A policy's capital: its contribution to gross TVaR or VaR at a level, less its EL.

    Euler contributions (docs/pricing.md §2), so that the policies' capital adds up to the
    book's TVaR − EL (or VaR − EL).
    """

    measure: Literal["tvar", "var"] = Field(
        "tvar",
        description=(
            "tvar: contributions to TVaR (stable, what the policies' capital adds up to: TVaR − "
            "EL); var: contributions to VaR (a noisier kernel estimate, VaR − EL)."
        ),
    )
    level: float = Field(
        99.5,
        gt=50,
        lt=100,
        allow_inf_nan=False,
        description="Level in percent (99.5: Solvency II), strictly between 50 and 100.",
    )


class PricingConfig(_Strict):
    """Pricing of `riskengine price`: technical premiums, the rate card, its calibration.

    docs/pricing.md describes each step; every key has a default.
    """

    cost_of_capital: float = Field(
        0.10,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Required return on allocated capital (fraction per year; 0.10 = 10 %).",
    )
    expense_ratio: float = Field(
        0.20,
        ge=0,
        lt=1,
        allow_inf_nan=False,
        description="Expenses as a share of premium (fraction).",
    )
    commission: float = Field(
        0.05,
        ge=0,
        lt=1,
        allow_inf_nan=False,
        description=(
            "Brokers' commission as a share of premium (fraction); expense_ratio + commission "
            "stays below 1."
        ),
    )
    capital: PricingCapital = Field(
        default_factory=PricingCapital,
        description="Capital measure and level (gross perspective): {measure: tvar, level: 99.5}.",
    )
    payment_term_days: int = Field(
        60,
        ge=1,
        le=MAX_PAYMENT_TERM_DAYS,
        description=(
            "Payment term (days) of exposures without payment_term_days: a limit revolves once "
            "per term, so it carries limit × utilization × 365 / term of insured turnover a year."
        ),
    )
    term_bands: list[int] = Field(
        default_factory=lambda: list(DEFAULT_TERM_BANDS),
        min_length=1,
        description=(
            "Rate-card term bands: increasing upper bounds in days (1 to "
            f"{MAX_PAYMENT_TERM_DAYS}); a term falls in the first band it does not exceed, the "
            "last band is open above."
        ),
    )
    credibility_k: float = Field(
        DEFAULT_CREDIBILITY_K,
        gt=0,
        allow_inf_nan=False,
        description=(
            "Bühlmann k (exposures): a rate-card cell of n exposures keeps n / (n + k) of its own "
            "technical rate, the rest from the multiplicative model."
        ),
    )
    target_roc: float | None = Field(
        None,
        gt=-1,
        le=10,
        allow_inf_nan=False,
        description=(
            "Calibrate the card to this return on allocated capital (fraction per year, e.g. "
            "0.12); `riskengine price --target-roc` overrides. At most one target."
        ),
    )
    target_combined_ratio: float | None = Field(
        None,
        gt=0,
        le=10,
        allow_inf_nan=False,
        description=(
            "Calibrate the card to this combined ratio, commission included (fraction, above "
            "expense_ratio + commission, e.g. 0.85); `--target-combined-ratio` overrides."
        ),
    )

    @field_validator("term_bands")
    @classmethod
    def _bands(cls, v: list[int]) -> list[int]:
        for b in v:
            if not 1 <= b <= MAX_PAYMENT_TERM_DAYS:
                raise ValueError(f"term band {b} is not in 1..{MAX_PAYMENT_TERM_DAYS} days")
        if any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError(f"term bands must increase strictly, got {v}")
        return v

    @_rule("expense_ratio", "commission", at="commission")
    def _retained(p: Any) -> None:
        if not p.expense_ratio + p.commission < 1:
            raise ValueError(
                f"expense_ratio + commission = {p.expense_ratio + p.commission:g} must be below 1 "
                "(the share of premium left for losses and capital)"
            )

    @_rule("target_roc", "target_combined_ratio", at="target_combined_ratio")
    def _one_target(p: Any) -> None:
        if p.target_roc is not None and p.target_combined_ratio is not None:
            raise ValueError("give at most one target: target_roc or target_combined_ratio")

    @_rule("target_combined_ratio", "expense_ratio", "commission", at="target_combined_ratio")
    def _ratio_above_costs(p: Any) -> None:
        floor = p.expense_ratio + p.commission
        if p.target_combined_ratio is not None and not p.target_combined_ratio > floor:
            raise ValueError(
                f"a combined ratio of {p.target_combined_ratio:g} leaves nothing for losses: it "
                f"must exceed expense_ratio + commission = {floor:g}"
            )


class MonitoringConfig(_Strict):
    """Dynamic limit management: reviewing buyers during the year and cutting limits before they
    default (docs/model.md §10)."""

    enabled: bool = Field(False, description="Simulate reviews and limit cuts.")
    reviews_per_year: int = Field(
        12,
        ge=1,
        le=365,
        description="Reviews of every buyer per year, at t = k / reviews (monthly: 12).",
    )
    signal_noise: float = Field(
        0.5,
        ge=0,
        le=10,
        description=(
            "Standard deviation of the insurer's error on a buyer's latent credit quality at a "
            "review (latent units: the year's latent variable has variance 1)."
        ),
    )
    trigger_pd: float = Field(
        0.5,
        gt=0,
        lt=1,
        description=(
            "A review cuts the limit when the buyer's estimated PD for the rest of the year "
            "reaches this."
        ),
    )
    trigger_multiple: float = Field(
        20.0,
        ge=0,
        description=(
            "… or reaches this multiple of the buyer's PD (the higher of the two triggers applies)."
        ),
    )
    cut_to: float = Field(
        0.5, ge=0, lt=1, description="A cut reduces the limit to this share of it (0: cancelled)."
    )
    notice_days: float = Field(
        30,
        ge=0,
        le=365,
        description="Days from the review to the cut taking effect (notice to the insured).",
    )
    turnover_sample: int = Field(
        64,
        ge=0,
        le=100_000,
        description=(
            "Buyers sampled per year (in proportion to their turnover) to estimate the insured "
            "turnover lost to cuts on buyers that do not default."
        ),
    )


class LimitsConfig(_Strict):
    """Limits: credit-limit decisions and portfolio-wide limits (docs/limits.md)."""

    hurdle_raroc: float = Field(
        0.12,
        ge=0,
        allow_inf_nan=False,
        description=(
            "Least RAROC a credit-limit decision approves: (premium × (1 − expense − "
            "commission) − ΔEL) / Δcapital (fraction a year)."
        ),
    )
    max_group_capital_share: float | None = Field(
        None,
        gt=0,
        le=1,
        description=(
            "Largest share of the book's capital one buyer group may take in a credit-limit "
            "decision (fraction); omitted: no cap."
        ),
    )
    max_country_capital_share: float | None = Field(
        None,
        gt=0,
        le=1,
        description=(
            "Largest share of the book's capital one country may take in a credit-limit "
            "decision (fraction); omitted: no cap."
        ),
    )
    max_sector_capital_share: float | None = Field(
        None,
        gt=0,
        le=1,
        description=(
            "Largest share of the book's capital one sector may take in a credit-limit "
            "decision (fraction); omitted: no cap."
        ),
    )
    min_scale: float = Field(
        0.0,
        ge=0,
        le=MAX_LIMIT_SCALE,
        allow_inf_nan=False,
        description=(
            "Least scale of a segment's limits that portfolio-wide limits propose (a multiple "
            "of today's; 0: a segment may be closed)."
        ),
    )
    max_scale: float = Field(
        1.5,
        ge=0,
        le=MAX_LIMIT_SCALE,
        allow_inf_nan=False,
        description=(
            "Largest scale of a segment's limits that portfolio-wide limits propose (a multiple "
            "of today's; 1.5: up to 50 % more)."
        ),
    )
    level: float = Field(
        99.5,
        gt=50,
        lt=100,
        description="Level of the gross TVaR the risk appetite bounds (percent).",
    )

    @_rule("min_scale", "max_scale")
    def _ordered(c: Any) -> None:
        if c.min_scale > c.max_scale:
            raise ValueError(f"min_scale {c.min_scale:g} must not exceed max_scale {c.max_scale:g}")


class Scenario(_Strict):
    """A scenario file: its top-level keys."""

    name: str = Field("scenario", description="Scenario name, shown in outputs.")
    description: str = Field("", description="Free text.")
    reporting_currency: str = Field("EUR", description="ISO 4217 currency results are reported in.")
    book: str | None = Field(
        None, description="Book folder, relative to the scenario file; --book overrides."
    )
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    political: PoliticalConfig = Field(default_factory=PoliticalConfig)
    ratings: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_RATINGS),
        description="PD by rating, where a buyer has no pd.",
    )
    treaties: list[Treaty] = Field(
        default_factory=list, description="Reinsurance programme, applied in order."
    )
    outputs: OutputsConfig = Field(default_factory=OutputsConfig)
    analytic: AnalyticConfig = Field(default_factory=AnalyticConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    pricing: PricingConfig = Field(
        default_factory=PricingConfig,
        description="Pricing parameters of `riskengine price` (docs/pricing.md).",
    )
    stress: list[Stress] = Field(
        default_factory=list,
        description="Stress transforms applied, in order, to this run (docs/stress.md).",
    )
    _source: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str:
        """What messages call this scenario: its file when it was read from one."""
        return self._source or "scenario"

    def with_source(self, source: str) -> Scenario:
        """A copy that messages call ``source`` (e.g. the file it was read from)."""
        out = self.model_copy()
        out._source = source
        return out

    @field_validator("reporting_currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        if pycountry.currencies.get(alpha_3=v) is None:
            raise ValueError(f"{v!r} is not an ISO 4217 currency code")
        return v

    @field_validator("ratings")
    @classmethod
    def _ratings(cls, v: dict[str, float]) -> dict[str, float]:
        for k, p in v.items():
            if not 0 < p < 1:
                raise ValueError(f"rating {k!r}: PD {p:g} is not in (0, 1)")
        return v

    # the programme's rules read each treaty's name and type, also where a treaty has other
    # problems: `treaties` may then hold the input's mappings instead of treaties
    @_rule("treaties", at="treaties", raw=True)
    def _unique_names(s: Any) -> None:
        names = [n for n in map(_item_name, _items(s.treaties)) if n is not None]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate treaty names: {', '.join(dup)}")

    @_rule("treaties", at="treaties", raw=True)
    def _stop_loss_last(s: Any) -> None:
        treaties = _items(s.treaties)
        for i, t in enumerate(treaties):
            if _item_type(t) == "stop_loss" and i != len(treaties) - 1:
                name = _item_name(t)
                which = f"stop loss {name!r}" if name is not None else "a stop loss"
                raise ValueError(f"{which} must be the last treaty of the programme")

    # -- convenience -------------------------------------------------------------------------
    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON of the scenario (for run metadata)."""
        text = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def with_simulation(
        self,
        sims: int | None = None,
        seed: int | None = None,
        block_size: int | None = None,
        *,
        source: str = "simulation settings",
    ) -> Scenario:
        """A copy with simulation settings changed, validated like a scenario file's.

        Parameters
        ----------
        sims, seed, block_size : int, optional
            New values (``None``: keep the scenario's); each is checked against the rules of
            ``simulation`` (e.g. ``sims`` ≤ :data:`MAX_SIMS`).
        source : str
            What messages name as the origin of the values (e.g. ``"command line"``).

        Raises
        ------
        ScenarioError
            Naming each offending key (``simulation.sims``) and its bound.
        """
        changes = {"sims": sims, "seed": seed, "block_size": block_size}
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        try:
            sim = SimulationConfig.model_validate({**self.simulation.model_dump(), **changes})
        except ValidationError as err:
            raise ScenarioError(_problems(err, source, ("simulation",)), source) from None
        return self.model_copy(update={"simulation": sim})


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _item_name(t: Any) -> str | None:
    name = t.get("name") if isinstance(t, dict) else getattr(t, "name", None)
    return name if isinstance(name, str) else None


def _item_type(t: Any) -> str | None:
    kind = t.get("type") if isinstance(t, dict) else getattr(t, "type", None)
    return kind if isinstance(kind, str) else None


#: Treaty models by the value of their ``type`` key (pydantic puts it in error locations).
_TREATY_TYPES: dict[str, type[BaseModel]] = {
    get_args(m.model_fields["type"].annotation)[0]: m
    for m in (QuotaShare, PerRiskXL, PoliticalEventXL, StopLoss)
}


def _is_tag(part: Any) -> bool:
    """Whether a part of an error location names a union member rather than a key."""
    return isinstance(part, str) and (part in _TREATY_TYPES or part.startswith("function-"))


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through lists, unions, optionals)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model of the mapping at error location ``loc`` in a scenario, if one."""
    model: type[BaseModel] | None = Scenario
    for part in loc:
        if part in _TREATY_TYPES:
            model = _TREATY_TYPES[part]
        elif isinstance(part, int) or _is_tag(part):
            continue  # a list index, or a union member pydantic names
        elif model is None:
            return None
        else:
            keys = {f.alias or n: f for n, f in model.model_fields.items()}
            if part not in keys:
                return None
            found = _models_in(keys[part].annotation)
            model = found[0] if len(found) == 1 else None  # several: a tag follows
    return model


def _unknown_key(loc: tuple[Any, ...]) -> tuple[str, str]:
    """Rule and hint for the unknown key at ``loc``: the nearest valid key, else the list."""
    model = _model_at(loc[:-1])
    if model is None:
        return "unknown key (not allowed)", ""
    keys = [f.alias or n for n, f in model.model_fields.items()]
    by_lower = {k.lower(): k for k in keys}
    near = difflib.get_close_matches(str(loc[-1]).lower(), list(by_lower), n=1, cutoff=0.6)
    if near:
        return "unknown key", f"did you mean {by_lower[near[0]]!r}?"
    return "unknown key", f"valid keys: {', '.join(keys)}"


def _bounds_text(loc: tuple[Any, ...]) -> str:
    """The range the field at ``loc`` declares (``must be ≤ 100,000,000``), if bounded above."""
    model = _model_at(loc[:-1])
    fields = {f.alias or n: f for n, f in model.model_fields.items()} if model else {}
    field = fields.get(loc[-1]) if loc else None
    if field is None:
        return ""
    bounds = [
        f"{relation} {_number(getattr(m, key))}"
        for m in field.metadata
        for relation, key in _BOUNDS.values()
        if getattr(m, key, None) is not None
    ]
    bounded = any(getattr(m, key, None) is not None for m in field.metadata for key in ("lt", "le"))
    return f"must be {' and '.join(bounds)}" if bounded else ""


def _number(x: Any) -> str:
    """A value as messages show it: whole numbers with thousands separators, others as repr."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e16:
        x = int(x)
    return f"{x:,}" if isinstance(x, int) and not isinstance(x, bool) else repr(x)


#: pydantic's range errors, by error type: the relation and the context key of the bound.
_BOUNDS = {
    "greater_than": (">", "gt"),
    "greater_than_equal": ("≥", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("≤", "le"),
}
#: pydantic's error types meaning "not an integer".
_NOT_INTEGER = {"int_type", "int_parsing", "int_from_float", "int_parsing_size"}


def _problem(e: Any, file: str, prefix: tuple[Any, ...]) -> Problem:
    loc = prefix + tuple(e["loc"])
    path = ".".join(str(p) for p in loc if not _is_tag(p))
    kind, msg, hint = e["type"], e["msg"], ""
    if kind == "extra_forbidden":
        msg, hint = _unknown_key(loc)
    elif kind == "missing":
        msg = "required key is missing"
    elif kind in _BOUNDS:
        relation, key = _BOUNDS[kind]
        msg = f"must be {relation} {_number(e['ctx'][key])}"
    elif kind in _NOT_INTEGER:
        msg = "must be an integer"
        value = e.get("input")
        if isinstance(value, float) and value.is_integer():  # a whole number, too large
            msg = _bounds_text(loc) or "must be an integer below 2**63"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if (
        kind not in ("missing", "extra_forbidden")
        and "input" in e
        and not isinstance(e["input"], dict | list)
    ):
        msg += f" (got {_number(e['input'])})"
    return Problem(file, path or None, msg, label="key", hint=hint)


def _problems(err: ValidationError, file: str, prefix: tuple[Any, ...] = ()) -> list[Problem]:
    """One :class:`Problem` per error of ``err``; ``prefix`` locates the model validated."""
    return [_problem(e, file, prefix) for e in err.errors()]


def parse_scenario(data: dict[str, Any] | None, source: str = "scenario") -> Scenario:
    """Validate a scenario given as a mapping (e.g. parsed YAML).

    Raises
    ------
    ScenarioError
        Listing every problem with its key path.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(
            [Problem(source, None, "a scenario must be a mapping of keys to values")], source
        )
    try:
        return Scenario.model_validate(data).with_source(source)
    except ValidationError as err:
        raise ScenarioError(_problems(err, source), source) from None


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading numbers with an exponent and no dot (``1e5``) as floats.

    PyYAML follows YAML 1.1, whose floats need a dot and a signed exponent (``1.0e+5``), so
    ``1e5``, ``2.5e4`` and ``1.0e5`` would be strings; YAML 1.2, editors and JSON read them as
    numbers, and so does this loader. Integers may carry underscores (``100_000``) in both.
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def read_yaml(text: str) -> Any:
    """Parse YAML text as scenario files are read (``1e5`` is a number, see :class:`_Loader`).

    Raises
    ------
    yaml.YAMLError
        When ``text`` is not valid YAML.
    """
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: safe


def _read_yaml_file(path: Path) -> Any:
    """A YAML file's data (ScenarioError naming the file when it cannot be read or parsed)."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(name, None, "file not found")], name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(name, None, f"cannot read the file: {exc}")], name) from None
    try:
        return read_yaml(text)
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(name, None, f"not valid YAML: {exc}")], name) from None


def load_stresses(path: str | Path) -> list[Stress]:
    """Read a stress file (a mapping with a ``stress:`` list; docs/stress.md).

    Raises
    ------
    ScenarioError
        Listing every problem with its key path.
    """
    path = Path(path)
    data = _read_yaml_file(path)
    if not isinstance(data, dict):
        rule = "a stress file is a mapping with a `stress:` list"
        raise ScenarioError([Problem(str(path), None, rule)], str(path))
    try:
        return list(StressFile.model_validate(data).stress)
    except ValidationError as err:
        raise ScenarioError(_problems(err, str(path)), str(path)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a YAML scenario file.

    The returned scenario's ``book`` (when given) is resolved relative to the file's folder.

    Numbers may be written ``100000``, ``100_000``, ``1e5`` or ``1.0e5``; an integer key takes
    any of them whose value is a whole number.

    Raises
    ------
    ScenarioError
        When the file cannot be read, is not YAML, or breaks a rule.
    """
    path = Path(path)
    name = str(path)
    data = _read_yaml_file(path)
    scenario = parse_scenario(data, name)
    if scenario.book is not None and not Path(scenario.book).is_absolute():
        scenario = scenario.model_copy(
            update={"book": str((path.parent / scenario.book).resolve())}
        )
    return scenario


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of scenario files (for editors: YAML language servers read it)."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "riskengine scenario"
    return schema


# -- documentation rendered from the models (docs/scenario.md; a test keeps it in sync) ------------
_DOC_BEGIN = (
    "<!-- BEGIN scenario keys (generated by riskengine.scenario.models.scenario_markdown) -->"
)
_DOC_END = "<!-- END scenario keys -->"


def _type_text(annotation: Any) -> str:
    text = str(annotation).replace("typing.", "").replace("riskengine.scenario.models.", "")
    text = re.sub(r"<class '(\w+)'>", r"\1", text)
    text = re.sub(r"Annotated\[(.*), FieldInfo\(.*\)\]", r"\1", text)
    return text.replace("NoneType", "null").replace(" | ", " or ")


def _default_text(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, BaseModel):
        return "(see below)"
    return "`" + json.dumps(value, default=str) + "`"


def scenario_markdown() -> str:
    """Markdown tables of every scenario key (type, default, description), model by model."""
    sections: list[tuple[str, type[BaseModel]]] = [
        ("top level", Scenario),
        ("simulation", SimulationConfig),
        ("model", ModelConfig),
        ("model.factor_weights", FactorWeights),
        ("model.factor_correlation", FactorCorrelation),
        ("model.lgd", LGDConfig),
        ("political", PoliticalConfig),
        ("outputs", OutputsConfig),
        ("outputs.allocation", AllocationConfig),
        ("simulation.importance_sampling", ImportanceSampling),
        ("analytic", AnalyticConfig),
        ("monitoring", MonitoringConfig),
        ("limits", LimitsConfig),
        ("pricing", PricingConfig),
        ("pricing.capital", PricingCapital),
        ("stress[]", Stress),
        ("stress[].where", Where),
        ("treaties[] (quota_share)", QuotaShare),
        ("treaties[] (per_risk_xl)", PerRiskXL),
        ("treaties[] (political_event_xl)", PoliticalEventXL),
        ("treaties[] (stop_loss)", StopLoss),
        ("treaties[].scope", Scope),
    ]
    lines = [_DOC_BEGIN]
    for title, model in sections:
        lines += ["", f"### `{title}`", ""]
        if model.__doc__:
            lines += [model.__doc__.strip().splitlines()[0], ""]
        lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
        for name, f in model.model_fields.items():
            key = f.alias or name
            cells = [f"`{key}`", _type_text(f.annotation), _default_text(f), f.description or ""]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", _DOC_END]
    return "\n".join(lines)


def splice_scenario_markdown(doc: str) -> str:
    """``doc`` with the generated key tables replaced by the current rendering."""
    start, end = doc.index(_DOC_BEGIN), doc.index(_DOC_END) + len(_DOC_END)
    return doc[:start] + scenario_markdown() + doc[end:]
