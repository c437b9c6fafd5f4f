"""The results table: rows -> results.json, results.md and the README section."""

from __future__ import annotations

import datetime as dt
import json
import platform
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

Outcome = Literal["pass", "fail", "server-limit", "skip"]
Blame = Literal["", "product", "server", "harness"]

README_START = "<!-- interop:start -->"
README_END = "<!-- interop:end -->"
OUTCOME_MARK = {"pass": "✅ pass", "fail": "❌ fail", "server-limit": "➖ server", "skip": "⏭ skip"}


class Row(BaseModel):
    """One case through one server."""

    server: str
    case: str
    outcome: Outcome
    latency_ms: float | None = None  # typical per-call latency the product recorded
    wall_s: float | None = None  # the whole CLI run, start-up included
    detail: str = ""
    blame: Blame = ""


class Report(BaseModel):
    generated_at: str
    machine: str
    versions: dict[str, str]
    rows: list[Row]

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.outcome == "fail"]


def new_report(rows: Sequence[Row], versions: dict[str, str]) -> Report:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    machine = f"{platform.machine()}, {platform.system()} {platform.release()}"
    return Report(
        generated_at=now.isoformat().replace("+00:00", "Z"),
        machine=machine,
        versions=versions,
        rows=list(rows),
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def table_md(rows: Iterable[Row]) -> str:
    lines = [
        "| server | case | result | latency/call | run | detail |",
        "|---|---|---|---:|---:|---|",
    ]
    for r in rows:
        blame = f" **[{r.blame}]**" if r.outcome == "fail" and r.blame else ""
        lines.append(
            f"| {_cell(r.server)} | {_cell(r.case)} | {OUTCOME_MARK[r.outcome]}{blame} "
            f"| {_num(r.latency_ms, '.0f')} ms | {_num(r.wall_s, '.1f')} s | {_cell(r.detail)} |"
        )
    return "\n".join(lines)


def summary_line(report: Report) -> str:
    counts = {k: sum(1 for r in report.rows if r.outcome == k) for k in OUTCOME_MARK}
    return ", ".join(f"{n} {k}" for k, n in counts.items() if n)


def section_md(report: Report) -> str:
    """The README section body (between the markers)."""
    versions = ", ".join(f"{k} {v}" for k, v in report.versions.items())
    return "\n".join(
        [
            f"Last run: **{report.generated_at[:10]}** ({report.generated_at}, {report.machine}; "
            f"{versions}). Result: {summary_line(report)}.",
            "",
            table_md(report.rows),
        ]
    )


def write_results(report: Report, md_path: Path, json_path: Path) -> None:
    json_path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    md = "# Interoperability results (`make interop`)\n\n" + section_md(report) + "\n"
    md_path.write_text(md, encoding="utf-8")


def update_readme(readme: Path, report: Report) -> bool:
    """Replace the text between the interop markers; False when the markers are missing."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    body = README_START + "\n" + section_md(report) + "\n" + README_END
    readme.write_text(text[:start] + body + text[end + len(README_END) :], encoding="utf-8")
    return True


def load_rows(json_path: Path) -> list[Row]:
    return Report.model_validate(json.loads(json_path.read_text(encoding="utf-8"))).rows
