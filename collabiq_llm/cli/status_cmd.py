"""``collabiq llm status``: one table, one row per provider; ``--json`` for machines."""

from __future__ import annotations

import datetime as dt
import json

from collabiq_llm.cli.output import ExitCode, print_json, stdout_console

_HEALTH_STYLE = {
    "healthy": "green",
    "unhealthy": "yellow",
    "open": "red",
    "half_open": "yellow",
    "misconfigured": "red",
    "not_configured": "dim",
    "untested": "dim",
}


def relative(when: dt.datetime | None, now: dt.datetime) -> str:
    """'3 min ago' / 'in 42 s' / '-'."""
    if when is None:
        return "-"
    seconds = (now - when).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 90:
        text = f"{seconds:.0f} s"
    elif seconds < 5400:
        text = f"{seconds / 60:.0f} min"
    elif seconds < 172800:
        text = f"{seconds / 3600:.0f} h"
    else:
        text = f"{seconds / 86400:.0f} d"
    return f"in {text}" if future else f"{text} ago"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"


def health_label(row, now: dt.datetime) -> str:
    label = row.health.replace("_", "-")
    if row.health in ("open", "misconfigured") and row.next_try_at is not None:
        label += f" (retry {relative(row.next_try_at, now)})"
    return label


def run_status(*, detailed: bool, as_json: bool) -> int:
    from rich.table import Table

    from collabiq_llm.orchestration.orchestrator import Orchestrator

    report = Orchestrator().get_provider_status()
    if as_json:
        print_json(json.loads(report.model_dump_json()))
        return int(ExitCode.OK)
    now = report.generated_at
    table = Table(title="LLM providers", title_justify="left")
    columns = [
        "provider",
        "health",
        "success",
        "avg",
        "p95",
        "calls",
        "last success",
        "last failure",
        "last error",
    ]
    if detailed:
        columns[6:6] = ["tokens in/out", "cost", "cost/email"]
    for col in columns:
        table.add_column(col, overflow="fold")
    primary = report.primary
    for name, row in report.providers.items():
        rate = (
            "-"
            if row.success_rate is None
            else (f"{row.success_rate:.0%} ({row.successes}/{row.calls})")
        )
        cells = [
            name + (" *" if name == primary else ""),
            f"[{_HEALTH_STYLE.get(row.health, '')}]{health_label(row, now)}[/]",
            rate,
            _ms(row.avg_latency_ms),
            _ms(row.p95_latency_ms),
            str(row.calls),
            relative(row.last_success, now),
            relative(row.last_failure, now),
            (row.breaker_reason or row.last_error or "")[:80],
        ]
        if detailed:
            per_email = (
                None
                if row.cost_usd is None or not report.totals.emails
                else row.cost_usd / report.totals.emails
            )
            cells[6:6] = [
                f"{row.input_tokens:,}/{row.output_tokens:,}",
                _usd(row.cost_usd),
                _usd(per_email),
            ]
        table.add_row(*cells)
    console = stdout_console()
    console.print(table)
    if detailed:
        order = " -> ".join(f"{p} (primary)" if p == primary else p for p in report.priority)
        t = report.totals
        console.print(f"strategy: {report.strategy}    priority: {order or '(none)'}")
        console.print(
            f"emails: {t.emails}    total cost: {_usd(t.cost_usd)}    "
            f"cost/email: {_usd(t.cost_per_email_usd) if t.emails else '-'}"
        )
        thresholds = ", ".join(f"{k}={v:g}" for k, v in report.thresholds.items())
        console.print(f"thresholds: {thresholds}")
        console.print(f"state: {report.backend} at {report.state_dir}")
    else:
        console.print(f"strategy: {report.strategy}    primary: {primary}    (* = primary)")
    return int(ExitCode.OK)
