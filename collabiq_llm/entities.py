"""The structured record an email becomes, and the metadata that travels with it.

These models cross every boundary (provider output, CLI JSON, the Python API), so
their validation rules live here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from collabiq_llm.clock import utc_now

FIELD_NAMES: tuple[str, ...] = (
    "person_in_charge",
    "startup_name",
    "partner_org",
    "details",
    "date",
)
# entity field -> its key in ConfidenceScores
CONFIDENCE_KEYS: dict[str, str] = {
    "person_in_charge": "person",
    "startup_name": "startup",
    "partner_org": "partner",
    "details": "details",
    "date": "date",
}

_WS = re.compile(r"\s+")


def normalise_email_text(text: str) -> str:
    """NFC, unified newlines and collapsed whitespace: the form ``email_id`` hashes."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return _WS.sub(" ", text).strip()


def make_email_id(text: str) -> str:
    """Stable id of an email: the same text gives the same id in every process."""
    digest = hashlib.sha256(normalise_email_text(text).encode("utf-8")).hexdigest()
    return f"em_{digest[:20]}"


class ConfidenceScores(BaseModel):
    """Per-field confidence, each 0.0–1.0."""

    model_config = ConfigDict(extra="forbid")

    person: float = Field(0.0, ge=0.0, le=1.0)
    startup: float = Field(0.0, ge=0.0, le=1.0)
    partner: float = Field(0.0, ge=0.0, le=1.0)
    details: float = Field(0.0, ge=0.0, le=1.0)
    date: float = Field(0.0, ge=0.0, le=1.0)

    def overall(self) -> float:
        """Mean of the five field confidences (what best-match ranks on)."""
        return (self.person + self.startup + self.partner + self.details + self.date) / 5.0


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if not value or value.lower() in {"null", "none", "n/a", "unknown"}:
            return None
    return value


class ExtractedEntities(BaseModel):
    """One email as a structured record.

    Invariants: a null field has confidence 0.0; ``details`` is always a string
    (empty only when nothing could be said, then with confidence 0.0);
    ``extracted_at`` is timezone-aware UTC.
    """

    model_config = ConfigDict(extra="forbid")

    person_in_charge: str | None = None
    startup_name: str | None = None
    partner_org: str | None = None
    details: str
    date: dt.date | None = None
    confidence: ConfidenceScores = Field(default_factory=ConfidenceScores)
    email_id: str
    extracted_at: dt.datetime = Field(default_factory=utc_now)

    @field_validator("person_in_charge", "startup_name", "partner_org", mode="before")
    @classmethod
    def _strip_names(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("details", mode="before")
    @classmethod
    def _details_text(cls, value: Any) -> Any:
        return "" if value is None else (value.strip() if isinstance(value, str) else value)

    @field_validator("date", mode="before")
    @classmethod
    def _date_iso(cls, value: Any) -> Any:
        value = _blank_to_none(value)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            return dt.date.fromisoformat(value[:10])
        return value

    @field_validator("extracted_at")
    @classmethod
    def _aware_utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("extracted_at must be timezone-aware")
        return value.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _null_means_zero_confidence(self) -> ExtractedEntities:
        for field, key in CONFIDENCE_KEYS.items():
            value = getattr(self, field)
            if value is None or value == "":
                setattr(self.confidence, key, 0.0)
        return self

    def field_value(self, field: str) -> str | dt.date | None:
        return getattr(self, field)

    def field_confidence(self, field: str) -> float:
        return float(getattr(self.confidence, CONFIDENCE_KEYS[field]))


class Attempt(BaseModel):
    """One provider call made for an email, successful or not."""

    provider: str
    model: str | None = None
    outcome: Literal["success", "error", "skipped", "cancelled", "late"]
    error_kind: str | None = None
    error: str | None = None
    latency_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0
    hedge: bool = False


class ResultMeta(BaseModel):
    """How a result was obtained: strategy, winning provider, every attempt, totals."""

    strategy: str
    provider: str | None = None
    model: str | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0
    latency_ms: float = 0.0
    degraded: bool = False
    fallback_used: bool = False
    hedged: bool = False
    providers_agreeing: dict[str, list[str]] | None = None


class ExtractionResult(ExtractedEntities):
    """The entities plus ``meta``: what ``collabiq llm extract`` prints per email."""

    meta: ResultMeta

    def entities(self) -> ExtractedEntities:
        return ExtractedEntities.model_validate(self.model_dump(exclude={"meta"}))
