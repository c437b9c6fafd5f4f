"""The result of an evaluation run (a pydantic model for ``--json``) and its side-by-side table."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from collabiq_llm.entities import FIELD_NAMES
from collabiq_llm.evaluation.scoring import EvalReport

FIELD_LABELS: dict[str, str] = {
    "person_in_charge": "person",
    "startup_name": "startup",
    "partner_org": "partner",
    "details": "details",
    "date": "date",
}


class ModeResult(BaseModel):
    """One mode of a run: a strategy over some providers, scored on the whole set."""

    mode: str  # "gemini", "claude", "openai", "consensus", "best-match", "offline", ...
    label: str
    strategy: str  # the strategy the orchestrator ran ("offline" for the offline baseline)
    providers: list[str]
    last_resort: bool
    wall_s: float
    emails_per_s: float
    answered_by: dict[str, int] = Field(default_factory=dict)  # provider that gave the result
    degraded: int = 0  # offline last resort, or consensus with a single answer
    hedged: int = 0
    failures_by_kind: dict[str, int] = Field(default_factory=dict)
    report: EvalReport


class EvalRun(BaseModel):
    """Everything ``collabiq llm eval`` measured, mode by mode."""

    dataset: str
    companies_file: str | None  # the set's own directory (None: the configured one)
    scored_with: str | None = None  # the directory whose aliases the scoring used
    n_emails: int
    concurrency: int
    started_at: dt.datetime
    wall_s: float
    modes: list[ModeResult]
    best_single: str | None = None  # the best remote provider alone (compare runs)
    relative_gain: dict[str, float] = Field(default_factory=dict)  # mode -> vs best_single
    # consensus mode -> its accuracy with learned weights minus with fixed weights
    learned_vs_fixed: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    def mode(self, name: str) -> ModeResult:
        for result in self.modes:
            if result.mode == name:
                return result
        raise KeyError(name)


def best_single(modes: list[ModeResult]) -> ModeResult | None:
    """The remote provider alone with the highest overall accuracy (first on ties)."""
    singles = [m for m in modes if m.strategy == "failover" and len(m.providers) == 1]
    singles = [m for m in singles if not m.last_resort]
    return max(singles, key=lambda m: m.report.overall_accuracy, default=None)


def relative_gains(modes: list[ModeResult], base: ModeResult | None) -> dict[str, float]:
    """(accuracy − best single) / best single, for every mode that is not a single provider."""
    if base is None or base.report.overall_accuracy <= 0:
        return {}
    ref = base.report.overall_accuracy
    return {
        m.mode: round((m.report.overall_accuracy - ref) / ref, 4)
        for m in modes
        if m is not base and m.strategy in ("consensus", "best-match")
    }


def learned_vs_fixed(modes: list[ModeResult]) -> dict[str, float]:
    """For each consensus run with a ``<mode>-fixed`` twin: learned minus fixed accuracy."""
    by_name = {m.mode: m for m in modes}
    return {
        m.mode: round(
            m.report.overall_accuracy - by_name[f"{m.mode}-fixed"].report.overall_accuracy, 4
        )
        for m in modes
        if f"{m.mode}-fixed" in by_name
    }


# ---------------------------------------------------------------------- rendering
def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def _usd(value: float | None) -> str:
    if value is None:
        return "unknown"
    return "$0" if value == 0 else f"${value:.5f}"


def _lang_cell(report: EvalReport, lang: str) -> str:
    group = report.by_lang.get(lang)
    if group is None:
        return "-"
    fields = " / ".join(f"{group.per_field[f] * 100:.0f}" for f in FIELD_NAMES)
    return f"{_pct(group.overall_accuracy)} · {fields}"


def _rows(modes: list[ModeResult]) -> list[tuple[str, list[str]]]:
    rows: list[tuple[str, list[str]]] = []

    def add(name: str, cells: list[str]) -> None:
        rows.append((name, cells))

    reports = [m.report for m in modes]
    add("strategy", [m.strategy for m in modes])
    add("failed emails", [f"{r.n_failed} / {r.n_emails}" for r in reports])
    add("**overall accuracy**", [f"**{_pct(r.overall_accuracy)}**" for r in reports])
    for field in FIELD_NAMES:
        truth = reports[0].per_field[field].expected_non_null * 100 if reports else 0.0
        add(
            f"{FIELD_LABELS[field]}: accuracy (coverage; truth {truth:.0f} %)",
            [
                f"{_pct(r.per_field[field].accuracy)} ({r.per_field[field].coverage * 100:.0f} %)"
                for r in reports
            ],
        )
    langs = sorted({lang for r in reports for lang in r.by_lang})
    for lang in langs:
        n = max((r.by_lang[lang].n_emails for r in reports if lang in r.by_lang), default=0)
        add(
            f"{lang} (n={n}): overall · " + " / ".join(FIELD_LABELS[f] for f in FIELD_NAMES),
            [_lang_cell(r, lang) for r in reports],
        )
    n_bands = len(reports[0].calibration) if reports else 0
    for i in range(n_bands):
        band = reports[0].calibration[i]
        add(
            f"calibration: conf {band.lo:.1f}–{band.hi:.1f} (n)",
            [f"{_pct(r.calibration[i].accuracy)} ({r.calibration[i].count})" for r in reports],
        )
    add(
        "calibration error (ECE)",
        [
            "-" if r.expected_calibration_error is None else f"{r.expected_calibration_error:.3f}"
            for r in reports
        ],
    )
    add("cost per email", [_usd(r.cost_per_email_usd) for r in reports])
    add("latency p50", [_ms(r.latency_ms_p50) for r in reports])
    add("latency p95", [_ms(r.latency_ms_p95) for r in reports])
    add("degraded / hedged", [f"{m.degraded} / {m.hedged}" for m in modes])
    add("wall time", [f"{m.wall_s:.1f} s" for m in modes])
    return rows


def render_table(run: EvalRun) -> str:
    """A Markdown table: one column per mode, one row per figure (also fine in a terminal)."""
    header = ["figure", *(m.mode for m in run.modes)]
    lines = [
        "| " + " | ".join(header) + " |",
        "|---" + "|---:" * len(run.modes) + "|",
    ]
    for name, cells in _rows(run.modes):
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return "\n".join(lines)


def render_summary(run: EvalRun) -> list[str]:
    """One line per relative gain, plus the run's notes."""
    out = [
        f"{run.n_emails} emails from {run.dataset}, {run.concurrency} in flight, {run.wall_s:.1f} s"
    ]
    if run.best_single and run.relative_gain:
        base = run.mode(run.best_single).report.overall_accuracy
        for mode, gain in run.relative_gain.items():
            acc = run.mode(mode).report.overall_accuracy
            out.append(
                f"{mode} vs best single provider ({run.best_single}): {gain * 100:+.1f} % "
                f"relative overall accuracy ({_pct(base)} → {_pct(acc)})"
            )
    for mode, delta in run.learned_vs_fixed.items():
        learned = run.mode(mode).report.overall_accuracy
        fixed = run.mode(f"{mode}-fixed").report.overall_accuracy
        verdict = "beat" if delta > 0 else "tie with" if delta == 0 else "lose to"
        out.append(
            f"{mode}: learned weights {verdict} fixed weights: {_pct(learned)} vs "
            f"{_pct(fixed)} ({delta * 100:+.1f} points)"
        )
    out += [f"note: {note}" for note in run.notes]
    return out


def render_text(run: EvalRun) -> str:
    """Table, then the summary lines: what ``collabiq llm eval`` prints."""
    return render_table(run) + "\n\n" + "\n".join(render_summary(run)) + "\n"


__all__ = [
    "EvalRun",
    "ModeResult",
    "best_single",
    "learned_vs_fixed",
    "relative_gains",
    "render_summary",
    "render_table",
    "render_text",
]
