"""Scenario files: pydantic models that refuse unknown keys and wrong values.

A scenario says how to simulate a book: the number of simulated years, the seed, the correlation
model, political risk, the rating table, the reinsurance programme and the outputs. Every key
has a documented default, so an empty file is a valid scenario.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import pycountry
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import Problem, ScenarioError

__all__ = [
    "Scenario",
    "SimulationConfig",
    "ModelConfig",
    "FactorWeights",
    "FactorCorrelation",
    "LGDConfig",
    "PoliticalConfig",
    "OutputsConfig",
    "Scope",
    "QuotaShare",
    "PerRiskXL",
    "PoliticalEventXL",
    "StopLoss",
    "Treaty",
    "load_scenario",
    "parse_scenario",
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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class SimulationConfig(_Strict):
    """How many years to simulate and how."""

    sims: int = Field(10_000, gt=0, le=100_000_000, description="Number of simulated policy years.")
    seed: int = Field(20261128, ge=0, lt=2**63, description="Seed of the counter-based generator.")
    block_size: int = Field(
        10_000,
        gt=0,
        le=10_000_000,
        description="Simulations per block (a unit of work and of checkpointing).",
    )


class FactorWeights(_Strict):
    """Weights of the structured factor model's systematic factors (omitted ones weigh 0; they sum to 1)."""

    global_: float = Field(
        0.0, ge=0, le=1, alias="global", description="Weight of the single global factor."
    )
    region: float = Field(0.0, ge=0, le=1, description="Weight of the buyer's region factor.")
    country: float = Field(0.0, ge=0, le=1, description="Weight of the buyer's country factor.")
    sector: float = Field(0.0, ge=0, le=1, description="Weight of the buyer's sector factor.")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _sum_to_one(self) -> FactorWeights:
        total = self.global_ + self.region + self.country + self.sector
        if not math.isclose(total, 1.0, rel_tol=0, abs_tol=1e-9):
            raise ValueError(f"factor weights must sum to 1 (they sum to {total:g})")
        return self


class FactorCorrelation(_Strict):
    """Correlation matrix of the explicit model's factors (used with a `factor_loadings` table)."""

    factors: list[str] = Field(..., min_length=1, description="Factor names, in matrix order.")
    matrix: list[list[float]] = Field(
        ..., description="Correlation matrix Σ_F (symmetric, positive definite, unit diagonal)."
    )

    @model_validator(mode="after")
    def _check(self) -> FactorCorrelation:
        import numpy as np

        n = len(self.factors)
        if len(set(self.factors)) != n:
            raise ValueError("factor names must be unique")
        m = np.asarray(self.matrix, dtype=float)
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
        return self


class LGDConfig(_Strict):
    """Beta loss given default where a buyer has none."""

    mean: float = Field(0.5, ge=0, le=1, description="Mean LGD (fraction of EAD).")
    sd: float = Field(0.25, ge=0, description="Standard deviation of LGD; 0 means deterministic.")

    @model_validator(mode="after")
    def _beta_exists(self) -> LGDConfig:
        if self.sd > 0 and not self.sd**2 < self.mean * (1 - self.mean):
            raise ValueError(
                f"a beta LGD needs sd² < mean·(1 − mean): sd {self.sd:g} is too large for mean {self.mean:g}"
            )
        return self


class ModelConfig(_Strict):
    """The commercial default model (DESIGN.md §3)."""

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
        description="Explicit model: correlation of the factors named in the book's factor_loadings table.",
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
    """Cedes a fixed share of every claim in scope."""

    type: Literal["quota_share"]
    share: float = Field(..., gt=0, le=1, description="Ceded share.")


class _XLBase(_TreatyBase):
    retention: float = Field(..., ge=0, description="Occurrence retention (reporting currency).")
    limit: float = Field(..., gt=0, description="Occurrence limit (reporting currency).")
    reinstatements: int | None = Field(
        None,
        ge=0,
        description="Number of reinstatements; null/omitted: unlimited. A year cedes ≤ limit·(1 + reinstatements).",
    )
    reinstatement_rate: float = Field(
        0.0,
        ge=0,
        description="A reinstatement's premium as a share of `premium`, pro rata to the limit used.",
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
    """Aggregate stop loss on the year's net loss, in amounts or as loss ratios on the book's premium."""

    type: Literal["stop_loss"]
    attachment: float | None = Field(None, ge=0, description="Attachment (reporting currency).")
    limit: float | None = Field(None, gt=0, description="Limit (reporting currency).")
    attachment_lr: float | None = Field(
        None, ge=0, description="Attachment as a loss ratio on book premium."
    )
    limit_lr: float | None = Field(None, gt=0, description="Limit as a loss ratio on book premium.")

    @model_validator(mode="after")
    def _one_form(self) -> StopLoss:
        amounts = self.attachment is not None or self.limit is not None
        ratios = self.attachment_lr is not None or self.limit_lr is not None
        if amounts == ratios:
            raise ValueError("give either attachment and limit, or attachment_lr and limit_lr")
        if amounts and (self.attachment is None or self.limit is None):
            raise ValueError("give both attachment and limit")
        if ratios and (self.attachment_lr is None or self.limit_lr is None):
            raise ValueError("give both attachment_lr and limit_lr")
        return self


Treaty = Annotated[
    QuotaShare | PerRiskXL | PoliticalEventXL | StopLoss, Field(discriminator="type")
]


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
        description="Write occurrences.parquet with every buyer/country occurrence whose gross claim exceeds this.",
    )
    report: bool = Field(True, description="Write report.html.")

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


class Scenario(_Strict):
    """A scenario file (DESIGN.md "Scenario file")."""

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

    @field_validator("treaties")
    @classmethod
    def _programme(cls, treaties: list) -> list:
        names = [t.name for t in treaties]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate treaty names: {', '.join(dup)}")
        for i, t in enumerate(treaties):
            if t.type == "stop_loss" and i != len(treaties) - 1:
                raise ValueError(f"stop loss {t.name!r} must be the last treaty of the programme")
        return treaties

    # -- convenience -------------------------------------------------------------------------
    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON of the scenario (for run metadata)."""
        text = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def with_simulation(self, **changes: Any) -> Scenario:
        """A copy with simulation settings changed (``None`` values are ignored)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        sim = self.simulation.model_copy(update=changes)
        sim = SimulationConfig.model_validate(sim.model_dump())
        return self.model_copy(update={"simulation": sim})


def _problems(err: ValidationError, file: str) -> list[Problem]:
    out = []
    for e in err.errors():
        path = ".".join(str(p) for p in e["loc"] if not (isinstance(p, str) and p in _UNION_TAGS))
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (not allowed)"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if (
            e["type"] not in ("missing", "extra_forbidden")
            and "input" in e
            and not isinstance(e["input"], dict | list)
        ):
            msg += f" (got {e['input']!r})"
        out.append(Problem(file, path or None, msg, label="key"))
    return out


_UNION_TAGS = {
    "quota_share",
    "per_risk_xl",
    "political_event_xl",
    "stop_loss",
    "function-after[_one_form(), StopLoss]",
}


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
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_problems(err, source), source) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a YAML scenario file.

    The returned scenario's ``book`` (when given) is resolved relative to the file's folder.

    Raises
    ------
    ScenarioError
        When the file cannot be read, is not YAML, or breaks a rule.
    """
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(name, None, "file not found")], name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(name, None, f"cannot read the file: {exc}")], name) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(name, None, f"not valid YAML: {exc}")], name) from None
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
            lines.append(
                f"| `{key}` | {_type_text(f.annotation)} | {_default_text(f)} | {f.description or ''} |"
            )
    lines += ["", _DOC_END]
    return "\n".join(lines)


def splice_scenario_markdown(doc: str) -> str:
    """``doc`` with the generated key tables replaced by the current rendering."""
    start, end = doc.index(_DOC_BEGIN), doc.index(_DOC_END) + len(_DOC_END)
    return doc[:start] + scenario_markdown() + doc[end:]
