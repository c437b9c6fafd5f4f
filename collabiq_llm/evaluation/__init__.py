"""Evaluation: the labelled email set, scoring rules, and the noisy oracle that lets the
strategies be benchmarked offline (see data/eval/README.md)."""

from collabiq_llm.evaluation.dataset import (
    DEFAULT_COMPANIES,
    DEFAULT_DATASET,
    DatasetError,
    EvalExample,
    Expected,
    load_dataset,
)
from collabiq_llm.evaluation.oracle import (
    ExampleIndex,
    NoiseProfile,
    SimulatedAnswer,
    find_example_for_text,
    load_profiles,
    simulate_answer,
)
from collabiq_llm.evaluation.scoring import (
    AliasTable,
    CalibrationBand,
    EvalReport,
    FieldScore,
    Prediction,
    field_correct,
    normalise_value,
    score_results,
)

__all__ = [
    "DEFAULT_COMPANIES",
    "DEFAULT_DATASET",
    "AliasTable",
    "CalibrationBand",
    "DatasetError",
    "EvalExample",
    "EvalReport",
    "ExampleIndex",
    "Expected",
    "FieldScore",
    "NoiseProfile",
    "Prediction",
    "SimulatedAnswer",
    "field_correct",
    "find_example_for_text",
    "load_dataset",
    "load_profiles",
    "normalise_value",
    "score_results",
    "simulate_answer",
]
