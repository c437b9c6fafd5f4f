"""A noisy oracle: what a simulated LLM answers for a labelled email.

Benchmarks of failover / consensus / best-match must not depend on paid API calls,
so local wire-protocol emulators answer with ``simulate_answer``: the ground truth,
corrupted at a per-field error rate with *plausible* wrong values (a colleague named in
the mail, a look-alike company, the email's own date instead of the event date, a
null), with confidences that are informative but overlap, and with occasional invalid
output and timeouts. On emails tagged ``hard`` part of every provider's error draw is
shared (seeded by the email id), so some mistakes are common to all providers — the
case a majority vote cannot fix. Everything is deterministic for
``(example.id, profile.name, seed)``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from collabiq_llm.entities import CONFIDENCE_KEYS, FIELD_NAMES, normalise_email_text
from collabiq_llm.evaluation.dataset import EvalExample
from collabiq_llm.evaluation.scoring import field_correct

DEFAULT_PROFILES_DIR = Path(__file__).resolve().parents[2] / "bench" / "profiles"
DEFAULT_MODES: dict[str, dict[str, float]] = {
    "person_in_charge": {"distractor": 0.7, "null": 0.3},
    "startup_name": {"lookalike": 0.4, "distractor": 0.35, "null": 0.25},
    "partner_org": {"lookalike": 0.45, "distractor": 0.35, "null": 0.2},
    "details": {"distractor": 0.45, "generic": 0.45, "null": 0.1},
    "date": {"off_by_one": 0.35, "email_date": 0.35, "distractor": 0.15, "null": 0.15},
}
_GENERIC_DETAILS = {
    "ko": ("협업 관련 논의", "미팅", "업무 협의"),
    "en": ("collaboration discussion", "meeting", "partnership update"),
}
_INVALID_OUTPUTS = (
    "I'm sorry, but I can't help with extracting information from this email.",
    '{"person_in_charge": "',
    '```json\n{"startup_name": null,,}\n```',
    "Here is the summary of the email: a meeting was held.",
)


class NoiseProfile(BaseModel):
    """How one simulated provider errs; loaded from ``bench/profiles/<name>.toml``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    error_rate: dict[str, float]  # per field, on a medium email
    difficulty_multiplier: dict[str, float] = Field(
        default_factory=lambda: {"easy": 0.6, "medium": 0.95, "hard": 1.3}
    )
    error_modes: dict[str, dict[str, float]] = Field(default_factory=dict)
    hard_correlation: float = Field(0.5, ge=0.0, le=1.0)
    confidence_correct: tuple[float, float] = (8.0, 2.0)  # Beta(a, b)
    confidence_wrong: tuple[float, float] = (3.0, 3.0)
    surface_variation: float = Field(0.3, ge=0.0, le=1.0)
    invalid_rate: float = Field(0.015, ge=0.0, le=1.0)
    timeout_rate: float = Field(0.01, ge=0.0, le=1.0)
    latency_ms_median: float = Field(1000.0, gt=0)
    latency_sigma: float = Field(0.35, ge=0)

    @field_validator("error_rate")
    @classmethod
    def _all_fields(cls, value: dict[str, float]) -> dict[str, float]:
        missing = set(FIELD_NAMES) - set(value)
        extra = set(value) - set(FIELD_NAMES)
        if missing or extra:
            raise ValueError(
                f"error_rate needs exactly {FIELD_NAMES}; missing {sorted(missing)}, "
                f"unknown {sorted(extra)}"
            )
        if any(not 0.0 <= r <= 1.0 for r in value.values()):
            raise ValueError("error rates must be within 0..1")
        return value

    @classmethod
    def from_toml(cls, path: str | Path) -> NoiseProfile:
        with Path(path).open("rb") as fh:
            data = tomllib.load(fh)
        data.setdefault("name", Path(path).stem)
        return cls.model_validate(data)

    def effective_error_rate(self, field: str, difficulty: str) -> float:
        """The chance this provider gets ``field`` wrong on an email of that difficulty."""
        return min(0.95, self.error_rate[field] * self.difficulty_multiplier.get(difficulty, 1.0))

    def expected_error_rate(self, field: str, examples: Sequence[EvalExample]) -> float:
        """Mean error rate over a set of examples (what a benchmark should measure)."""
        return sum(self.effective_error_rate(field, e.difficulty) for e in examples) / len(examples)

    def modes(self, field: str) -> dict[str, float]:
        return self.error_modes.get(field) or DEFAULT_MODES[field]


def load_profiles(directory: str | Path = DEFAULT_PROFILES_DIR) -> dict[str, NoiseProfile]:
    """Every ``*.toml`` profile in a folder, by name."""
    profiles = [NoiseProfile.from_toml(p) for p in sorted(Path(directory).glob("*.toml"))]
    return {p.name: p for p in profiles}


class SimulatedAnswer(BaseModel):
    """``kind`` ok (with ``extraction``: the LLM-output JSON), invalid or timeout."""

    kind: Literal["ok", "invalid", "timeout"]
    extraction: dict[str, Any] | None = None
    raw_text: str | None = None  # for "invalid": the malformed text the model returned
    latency_ms: float = 0.0
    wrong_fields: list[str] = Field(default_factory=list)  # diagnostics, never sent on the wire


def _rng(*parts: object) -> random.Random:
    """A generator seeded from the parts (stable across processes, unlike ``hash``)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _wrong_candidates(example: EvalExample, field: str, mode: str) -> list[str | None]:
    """Plausible wrong values for one field in one error mode (may be empty)."""
    truth = example.expected.value(field)
    pool = list(example.distractors.get(field, []))
    if mode == "null":
        return [None] if truth is not None else []
    if mode == "distractor":
        return list(pool)
    if mode == "lookalike" and truth:
        head = re.sub(r"\W", "", truth.casefold())[:2]
        return [v for v in pool if re.sub(r"\W", "", v.casefold())[:2] == head]
    if mode == "off_by_one" and truth:
        day = dt.date.fromisoformat(truth)
        return [(day + dt.timedelta(days=d)).isoformat() for d in (1, -1)]
    if mode == "email_date":
        return [example.received_at.isoformat()]
    if mode == "generic":
        return list(_GENERIC_DETAILS["en" if example.lang == "en" else "ko"])
    return []


def _pick_wrong(
    example: EvalExample, field: str, modes: dict[str, float], rng: random.Random
) -> str | None:
    """A value that the scorer really counts as wrong, preferring the drawn mode."""
    truth = example.expected.value(field)
    order = list(modes)
    weights = [max(modes[m], 0.0) for m in order]
    first = rng.choices(order, weights=weights)[0] if sum(weights) > 0 else order[0]
    ranked = [first] + [m for m in sorted(order, key=lambda m: -modes[m]) if m != first]
    fallback_modes = ["distractor", "generic", "email_date", "null"]
    for mode in ranked + [m for m in fallback_modes if m not in ranked]:
        cands = [
            v for v in _wrong_candidates(example, field, mode) if not field_correct(field, v, truth)
        ]
        if field == "details":
            cands = [v if v is not None else "" for v in cands]
        if cands:
            return rng.choice(cands)
    return None if truth is not None else "unknown"


def _surface(example: EvalExample, field: str, value: str, rng: random.Random) -> str:
    """An equivalent spelling a real model might use (affix, title, longer details)."""
    if field in ("startup_name", "partner_org"):
        hangul = bool(re.search(r"[가-힣]", value))
        form = (
            rng.choice(["(주){}", "주식회사 {}", "{}(주)"])
            if hangul
            else rng.choice(["{} Inc.", "{} Co., Ltd."])
        )
        return form.format(value)
    if field == "person_in_charge":
        hangul = bool(re.search(r"[가-힣]", value))
        return value + rng.choice([" 매니저", "님", " 팀장"]) if hangul else value
    if field == "details":
        partner = example.expected.partner_org
        if partner:
            return f"{partner} {value}" if example.lang != "en" else f"{value} with {partner}"
    return value


def _beta(rng: random.Random, ab: tuple[float, float]) -> float:
    return round(min(1.0, max(0.0, rng.betavariate(*ab))), 2)


def simulate_answer(example: EvalExample, profile: NoiseProfile, *, seed: int) -> SimulatedAnswer:
    """What ``profile`` answers for ``example`` in benchmark run ``seed`` (deterministic)."""
    rng = _rng("oracle", example.id, profile.name, seed)
    latency = round(profile.latency_ms_median * rng.lognormvariate(0.0, profile.latency_sigma), 1)
    outcome = rng.random()
    if outcome < profile.timeout_rate:
        return SimulatedAnswer(kind="timeout", latency_ms=latency)
    if outcome < profile.timeout_rate + profile.invalid_rate:
        return SimulatedAnswer(
            kind="invalid", raw_text=rng.choice(_INVALID_OUTPUTS), latency_ms=latency
        )
    hard = example.difficulty == "hard"
    extraction: dict[str, Any] = {}
    confidence: dict[str, float] = {}
    wrong: list[str] = []
    for field in FIELD_NAMES:
        frng = _rng("field", example.id, profile.name, seed, field)
        shared = _rng("shared", example.id, seed, field)
        use_shared = hard and frng.random() < profile.hard_correlation
        draw = shared.random() if use_shared else frng.random()
        truth = example.expected.value(field)
        if draw < profile.effective_error_rate(field, example.difficulty):
            # a shared draw also shares the mistake itself (same modes for everyone)
            value = _pick_wrong(
                example,
                field,
                DEFAULT_MODES[field] if use_shared else profile.modes(field),
                shared if use_shared else frng,
            )
            if field_correct(field, value, truth):  # nothing wrong was available
                value = truth
            else:
                wrong.append(field)
        else:
            value = truth
            if value is not None and frng.random() < profile.surface_variation:
                varied = _surface(example, field, value, frng)
                value = varied if field_correct(field, varied, truth) else value
        ok = field not in wrong
        conf = _beta(frng, profile.confidence_correct if ok else profile.confidence_wrong)
        if field == "details":
            value = value or ""
        extraction[field] = value
        confidence[CONFIDENCE_KEYS[field]] = conf if value not in (None, "") else 0.0
    extraction["confidence"] = confidence
    return SimulatedAnswer(kind="ok", extraction=extraction, latency_ms=latency, wrong_fields=wrong)


# ------------------------------------------------------------------ which email is this?
_JSON_WS_ESCAPE = re.compile(r"\\[nrt]")
_JSON_CHAR_ESCAPE = re.compile(r'\\(["\\/])')
_WS = re.compile(r"\s+")


def _squash(text: str) -> str:
    """Text without whitespace or JSON escapes, for prompts that re-encoded the email."""
    text = _JSON_CHAR_ESCAPE.sub(r"\1", _JSON_WS_ESCAPE.sub(" ", text))
    return _WS.sub("", normalise_email_text(text))


class ExampleIndex:
    """Finds the labelled email inside a prompt; build once, query per request."""

    def __init__(self, examples: Iterable[EvalExample]) -> None:
        self.examples = list(examples)
        self._by_norm = {normalise_email_text(e.text): e for e in self.examples}
        self._longest_first = sorted(self._by_norm.items(), key=lambda kv: -len(kv[0]))
        self._squashed = sorted(
            ((_squash(e.text), e) for e in self.examples), key=lambda pair: -len(pair[0])
        )

    def find(self, text: str) -> EvalExample | None:
        """The example whose email text is the prompt or is contained in it (longest wins)."""
        norm = normalise_email_text(text)
        exact = self._by_norm.get(norm)
        if exact is not None:
            return exact
        for candidate, example in self._longest_first:
            if candidate in norm:
                return example
        squashed = _squash(text)
        return next((e for s, e in self._squashed if s and s in squashed), None)


def find_example_for_text(text: str, examples: Iterable[EvalExample]) -> EvalExample | None:
    """Which labelled email a prompt carries (None if none). For many calls use ExampleIndex."""
    return ExampleIndex(examples).find(text)


__all__ = [
    "DEFAULT_PROFILES_DIR",
    "ExampleIndex",
    "NoiseProfile",
    "SimulatedAnswer",
    "find_example_for_text",
    "load_profiles",
    "simulate_answer",
]
