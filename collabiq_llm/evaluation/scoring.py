"""Scoring extraction results against the labelled set: pure functions, no I/O but the
optional company-alias file.

Rules (also in data/eval/README.md):
- every field compares *normalised* values (NFKC, collapsed whitespace, case-folded,
  corporate affixes and personal titles stripped); null vs null is correct;
- names are correct on equal normalised forms, an alias of the same directory entry,
  or a typo-level difference (Jaro-Winkler >= 0.9 with a small edit distance). A name
  that merely *extends* the other (신세계 / 신세계인터내셔널, 본봄 / 본봄랩스) is a
  different entity, and so is any pair the alias table resolves to different entries;
- dates must be the same day;
- details are scored loosely: correct when the expected key phrase is contained in the
  prediction, or when the prediction covers >= 60 % of the key phrase's tokens
  (character-weighted). Plain token_set_ratio is not used: it gives 100 to a one-word
  generic answer ("미팅") whose tokens are a subset of the phrase.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rapidfuzz.distance import JaroWinkler, Levenshtein

from collabiq_llm.entities import CONFIDENCE_KEYS, FIELD_NAMES, ExtractedEntities
from collabiq_llm.evaluation.dataset import EvalExample, Expected
from collabiq_llm.normalise import basic, normalise_date, normalise_org_name, normalise_person

NAME_FIELDS = ("person_in_charge", "startup_name", "partner_org")
ORG_FIELDS = ("startup_name", "partner_org")
JW_THRESHOLD = 0.9
DETAILS_COVERAGE = 0.6
BANDS: tuple[tuple[float, float], ...] = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.0))

_NON_WORD = re.compile(r"[\W_]+")
_PAREN = re.compile(r"\s*[(\[（][^)\]）]*[)\]）]")
_PERSON_TAIL = re.compile(r"\s*[,|/·]\s.*$")


def _compact(text: str) -> str:
    return _NON_WORD.sub("", text)


def normalise_value(field: str, value: object) -> str | None:
    """The comparison form of one field value; None for null or blank."""
    if field not in FIELD_NAMES:
        raise KeyError(f"unknown field {field!r}")
    if value is None:
        return None
    if field == "date":
        return normalise_date(value)
    text = str(value)
    if field in ORG_FIELDS:
        out = normalise_org_name(text)
    elif field == "person_in_charge":
        # "김철수 (사업개발팀)", "Jane Doe, Head of BD" -> the name part only
        text = _PERSON_TAIL.sub("", _PAREN.sub("", text))
        out = normalise_person(text)
    else:
        out = basic(text)
    return out or None


class AliasTable:
    """Spellings of one company -> its canonical name, from a companies TOML file."""

    def __init__(self, entries: Mapping[str, Iterable[str]]) -> None:
        self._canon: dict[str, str] = {}
        for canonical, aliases in entries.items():
            for spelling in (canonical, *aliases):
                key = _compact(normalise_org_name(spelling))
                if key:
                    self._canon[key] = canonical

    @classmethod
    def from_toml(cls, path: str | Path) -> AliasTable:
        """Read ``[[startups]]`` / ``[[partners]]`` tables with ``name`` and ``aliases``."""
        with Path(path).open("rb") as fh:
            data = tomllib.load(fh)
        entries: dict[str, list[str]] = {}
        for section in ("startups", "partners"):
            for entry in data.get(section, []):
                entries[entry["name"]] = list(entry.get("aliases", []))
        return cls(entries)

    def canonical(self, name: str) -> str | None:
        """The directory entry a spelling belongs to (affixes, case and spaces ignored)."""
        return self._canon.get(_compact(normalise_org_name(name)))


def names_match(
    field: str, predicted: str, expected: str, aliases: AliasTable | None = None
) -> bool:
    """Equality of two *normalised* names under the rules in the module docstring."""
    p, e = _compact(predicted), _compact(expected)
    if not p or not e:
        return p == e
    if p == e:
        return True
    if field == "person_in_charge" and sorted(predicted.split()) == sorted(expected.split()):
        return True  # "Park Jisoo" / "Jisoo Park"
    if aliases is not None and field in ORG_FIELDS:
        cp, ce = aliases.canonical(predicted), aliases.canonical(expected)
        if cp is not None and ce is not None:
            return cp == ce
    short, long_ = sorted((p, e), key=len)
    if long_.startswith(short) or long_.endswith(short):
        return False  # an extension names a different entity (본봄 / 본봄랩스)
    if len(short) / len(long_) < 0.8:
        return False
    max_edits = 1 if len(long_) <= 6 else 2
    return JaroWinkler.similarity(p, e) >= JW_THRESHOLD and Levenshtein.distance(p, e) <= max_edits


def details_match(predicted: str, expected: str) -> bool:
    """Loose match of two *normalised* details strings (see module docstring)."""
    p, e = _compact(predicted), _compact(expected)
    if not e:
        return not p
    if not p:
        return False
    if e in p:
        return True
    tokens = [t for t in _NON_WORD.split(expected) if t]
    total = sum(len(t) for t in tokens)
    covered = sum(len(t) for t in tokens if t in p)
    return total > 0 and covered / total >= DETAILS_COVERAGE


def field_correct(
    field: str, predicted: object, expected: object, *, aliases: AliasTable | None = None
) -> bool:
    """Whether a predicted value counts as correct for one field."""
    p, e = normalise_value(field, predicted), normalise_value(field, expected)
    if p is None or e is None:
        return p is None and e is None
    if field == "date":
        return p == e
    if field == "details":
        return details_match(p, e)
    return names_match(field, p, e, aliases)


# ------------------------------------------------------------------ predictions
class Prediction(BaseModel):
    """What one strategy/provider produced for one email, in scoreable form."""

    values: dict[str, str | None]
    confidence: dict[str, float] = {}
    cost_usd: float | None = None
    latency_ms: float | None = None
    failed: bool = False
    error: str | None = None

    @classmethod
    def failure(
        cls,
        error: str = "failed",
        *,
        latency_ms: float | None = None,
        cost_usd: float | None = None,
    ) -> Prediction:
        return cls(values={}, failed=True, error=error, latency_ms=latency_ms, cost_usd=cost_usd)


def as_prediction(obj: object) -> Prediction:
    """Accept a Prediction, ExtractedEntities/ExtractionResult, an LLM-output dict or None."""
    if obj is None:
        return Prediction.failure()
    if isinstance(obj, Prediction):
        return obj
    if isinstance(obj, ExtractedEntities):
        values = {f: _as_str(getattr(obj, f)) for f in FIELD_NAMES}
        conf = {f: obj.field_confidence(f) for f in FIELD_NAMES}
        meta = getattr(obj, "meta", None)
        return Prediction(
            values=values,
            confidence=conf,
            cost_usd=getattr(meta, "cost_usd", None),
            latency_ms=getattr(meta, "latency_ms", None),
        )
    if isinstance(obj, Mapping):
        raw_conf: Mapping[str, Any] = obj.get("confidence") or {}
        conf = {
            f: float(raw_conf.get(f, raw_conf.get(CONFIDENCE_KEYS[f], 0.0)) or 0.0)
            for f in FIELD_NAMES
        }
        meta = obj.get("meta") or {}
        return Prediction(
            values={f: _as_str(obj.get(f)) for f in FIELD_NAMES},
            confidence=conf,
            cost_usd=obj.get("cost_usd", meta.get("cost_usd")),
            latency_ms=obj.get("latency_ms", meta.get("latency_ms")),
        )
    raise TypeError(f"cannot score a {type(obj).__name__}")


def _as_str(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


# ------------------------------------------------------------------ report
class FieldScore(BaseModel):
    field: str
    correct: int
    total: int
    accuracy: float
    coverage: float  # share of emails where a non-null value was predicted
    expected_non_null: float  # share of emails whose truth is non-null (coverage's ceiling)


class CalibrationBand(BaseModel):
    """Accuracy of non-null predicted values whose confidence falls in [lo, hi)."""

    lo: float
    hi: float
    count: int
    correct: int
    accuracy: float | None
    mean_confidence: float | None


class GroupScore(BaseModel):
    """Accuracy of one slice of the set (e.g. one language): per field and overall."""

    n_emails: int
    overall_accuracy: float
    per_field: dict[str, float]


class EvalReport(BaseModel):
    n_emails: int
    n_failed: int
    per_field: dict[str, FieldScore]
    overall_accuracy: float  # mean of the five field accuracies
    coverage: dict[str, float]
    calibration: list[CalibrationBand]
    expected_calibration_error: float | None
    cost_per_email_usd: float | None  # mean over emails whose cost is known
    total_cost_usd: float | None
    latency_ms_p50: float | None
    latency_ms_p95: float | None
    by_difficulty: dict[str, float]  # overall accuracy per difficulty
    by_tag: dict[str, float]  # overall accuracy per tag
    by_lang: dict[str, GroupScore] = {}  # per language (ko / en / mixed): per field and overall

    def accuracy(self, field: str) -> float:
        return self.per_field[field].accuracy


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def _band_index(conf: float) -> int:
    for i, (_, hi) in enumerate(BANDS):
        if conf < hi:
            return i
    return len(BANDS) - 1


def _order(pair: tuple[Any, Any]) -> tuple[EvalExample, Any]:
    first, second = pair
    if isinstance(first, EvalExample):
        return first, second
    if isinstance(second, EvalExample):
        return second, first
    raise TypeError("each pair must hold an EvalExample and its prediction")


def score_results(
    pairs: Iterable[tuple[Any, Any]], *, aliases: AliasTable | None = None
) -> EvalReport:
    """Score ``(example, prediction)`` pairs (either order); a failed email counts wrong
    on every field, so a strategy cannot gain accuracy by failing hard emails."""
    correct = dict.fromkeys(FIELD_NAMES, 0)
    non_null = dict.fromkeys(FIELD_NAMES, 0)
    truth_non_null = dict.fromkeys(FIELD_NAMES, 0)
    bands = [[0, 0, 0.0] for _ in BANDS]  # count, correct, confidence sum
    groups: dict[str, list[float]] = defaultdict(list)
    langs: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(("n", *FIELD_NAMES), 0))
    costs: list[float] = []
    latencies: list[float] = []
    n = failed = 0
    for pair in pairs:
        example, raw = _order(pair)
        pred = as_prediction(raw)
        n += 1
        failed += pred.failed
        if pred.cost_usd is not None:
            costs.append(pred.cost_usd)
        if pred.latency_ms is not None:
            latencies.append(pred.latency_ms)
        hits = 0
        lang = langs[example.lang]
        lang["n"] += 1
        for field in FIELD_NAMES:
            truth = example.expected.value(field)
            truth_non_null[field] += truth is not None
            if pred.failed:
                continue
            value = pred.values.get(field)
            ok = field_correct(field, value, truth, aliases=aliases)
            correct[field] += ok
            lang[field] += ok
            hits += ok
            if normalise_value(field, value) is not None:
                non_null[field] += 1
                conf = float(pred.confidence.get(field, 0.0))
                band = bands[_band_index(conf)]
                band[0] += 1
                band[1] += ok
                band[2] += conf
        share = hits / len(FIELD_NAMES)
        groups[f"difficulty:{example.difficulty}"].append(share)
        for tag in example.tags:
            groups[f"tag:{tag}"].append(share)
    if n == 0:
        raise ValueError("nothing to score")
    per_field = {
        f: FieldScore(
            field=f,
            correct=correct[f],
            total=n,
            accuracy=correct[f] / n,
            coverage=non_null[f] / n,
            expected_non_null=truth_non_null[f] / n,
        )
        for f in FIELD_NAMES
    }
    calibration = [
        CalibrationBand(
            lo=lo,
            hi=hi,
            count=int(b[0]),
            correct=int(b[1]),
            accuracy=b[1] / b[0] if b[0] else None,
            mean_confidence=b[2] / b[0] if b[0] else None,
        )
        for (lo, hi), b in zip(BANDS, bands, strict=True)
    ]
    scored = sum(b.count for b in calibration)
    ece = (
        (
            sum(
                b.count * abs((b.accuracy or 0.0) - (b.mean_confidence or 0.0)) for b in calibration
            )
            / scored
        )
        if scored
        else None
    )
    means = {k: sum(v) / len(v) for k, v in sorted(groups.items())}
    return EvalReport(
        n_emails=n,
        n_failed=failed,
        per_field=per_field,
        overall_accuracy=sum(s.accuracy for s in per_field.values()) / len(per_field),
        coverage={f: s.coverage for f, s in per_field.items()},
        calibration=calibration,
        expected_calibration_error=ece,
        cost_per_email_usd=sum(costs) / len(costs) if costs else None,
        total_cost_usd=sum(costs) if costs else None,
        latency_ms_p50=percentile(latencies, 50),
        latency_ms_p95=percentile(latencies, 95),
        by_difficulty={
            k[len("difficulty:") :]: v for k, v in means.items() if k.startswith("difficulty:")
        },
        by_tag={k[len("tag:") :]: v for k, v in means.items() if k.startswith("tag:")},
        by_lang={
            name: GroupScore(
                n_emails=c["n"],
                overall_accuracy=sum(c[f] for f in FIELD_NAMES) / (c["n"] * len(FIELD_NAMES)),
                per_field={f: c[f] / c["n"] for f in FIELD_NAMES},
            )
            for name, c in sorted(langs.items())
        },
    )


__all__ = [
    "AliasTable",
    "CalibrationBand",
    "EvalReport",
    "Expected",
    "FieldScore",
    "GroupScore",
    "Prediction",
    "as_prediction",
    "details_match",
    "field_correct",
    "names_match",
    "normalise_value",
    "percentile",
    "score_results",
]
