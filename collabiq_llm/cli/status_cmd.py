"""``collabiq llm status``: one table, one row per provider; ``--json`` for machines."""

from __future__ import annotations

import datetime as dt
import json
import sys

from collabiq_llm.cli.output import ExitCode, compact_table, print_json, stdout_console

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
    if row.health == "open" and row.next_try_at is not None:
        label += f" (retry {relative(row.next_try_at, now)})"
    elif getattr(row, "not_before", None) is not None:  # a retry-after still running
        label += f" (rate-limited, retry {relative(row.not_before, now)})"
    return label


def _error_cell(name: str, text: str | None, *, one_line: bool):
    """The last error on one line (cut with an ellipsis) or folded over several."""
    from rich.text import Text

    flat = " ".join((text or "").split()).removeprefix(f"{name}: ")  # the row names it
    return Text(flat, no_wrap=True, overflow="ellipsis") if one_line else Text(flat)


OWN_FAULT_KINDS = ("bad_request",)  # not held against the provider


def _success(row) -> str:
    """'67% (2/3)': the rate and the calls it is computed over (our own bad requests and
    cancelled hedge losers are calls, but not judged, as in the success rate)."""
    if row.success_rate is None:
        return "-"
    judged = row.calls - sum(row.failures_by_kind.get(k, 0) for k in OWN_FAULT_KINDS)
    judged -= getattr(row, "cancelled", 0)  # lost races are calls, not judged
    return f"{row.success_rate:.0%} ({row.successes}/{judged})"


def run_status(*, detailed: bool, as_json: bool) -> int:
    """Print the status report (a table, or the stable JSON object with ``--json``).

    Reads settings and state only: no orchestration, provider or SDK code is imported
    (rich only for the table), so cron health checks start fast.
    """
    from collabiq_llm.settings import Settings
    from collabiq_llm.state import make_store
    from collabiq_llm.status import build_status, checked_orchestration, ignored_warning

    settings = Settings()
    store = make_store(settings)
    saved, bad = checked_orchestration(settings, store.get_orchestration())
    if bad:
        sys.stderr.write(ignored_warning(bad))
    report = build_status(settings, store, saved)
    if as_json:
        print_json(json.loads(report.model_dump_json()))
        return int(ExitCode.OK)
    from rich.markup import escape

    now = report.generated_at
    primary = report.primary
    table = compact_table("LLM providers")
    for col in ("provider", "health", "success", "avg", "p95", "calls", "last ok", "last fail"):
        table.add_column(col, no_wrap=True)
    table.add_column("last error", overflow="fold", min_width=12)
    for name, row in report.providers.items():
        rate = _success(row)
        style = _HEALTH_STYLE.get(row.health, "")
        table.add_row(
            escape(name) + (" *" if name == primary else ""),
            f"[{style}]{escape(health_label(row, now))}[/]" if style else health_label(row, now),
            rate,
            _ms(row.avg_latency_ms),
            _ms(row.p95_latency_ms),
            str(row.calls),
            relative(row.last_success, now),
            relative(row.last_failure, now),
            _error_cell(name, row.last_error, one_line=not detailed),
        )
    console = stdout_console()
    console.print(table)

    def say(line: str) -> None:  # plain lines are not hard-wrapped: the terminal wraps them
        console.print(line, soft_wrap=True)

    for name, row in report.providers.items():
        if row.health in ("open", "half_open", "misconfigured") and row.breaker_reason:
            hint = (
                f"; after fixing it: collabiq llm reset {name}"
                if row.health == "misconfigured"
                else ""
            )
            say(f"{escape(name)}: {escape(row.breaker_reason)}{escape(hint)}")
        if getattr(row, "not_before", None) is not None:
            until = f"{row.not_before:%Y-%m-%d %H:%M:%S} UTC"
            say(f"{escape(name)}: asked for quiet (retry-after) until {until}; not called before")
    if detailed:
        usage = compact_table("Usage and cost")
        for col in ("provider", "model", "tokens in", "tokens out", "cost", "cost/email"):
            justify = "left" if col in ("provider", "model") else "right"
            usage.add_column(col, no_wrap=True, justify=justify)  # type: ignore[arg-type]
        for name, row in report.providers.items():
            usage.add_row(
                escape(name),
                escape(row.model),
                f"{row.input_tokens:,}",
                f"{row.output_tokens:,}",
                _usd(row.cost_usd),
                _usd(row.cost_per_email_usd) if row.emails else "-",
            )
        console.print()
        console.print(usage)
        order = " -> ".join(f"{p} (primary)" if p == primary else p for p in report.priority)
        t = report.totals
        say(f"strategy:   {report.strategy}")
        say(f"priority:   {escape(order) or '(none)'}")
        say(
            f"emails:     {t.emails}    total cost: {_usd(t.cost_usd)}"
            + (
                f" + unknown ({t.unpriced_emails} emails with no price)"
                if t.unpriced_emails
                else ""
            )
            + f"    cost/email: {_usd(t.cost_per_email_usd) if t.emails else '-'}"
        )
        for name, cost in t.by_strategy.items():
            say(
                f"  {name + ':':<12}{cost.emails} emails, {_usd(cost.cost_usd)}, "
                f"{_usd(cost.cost_per_email_usd)}/email"
            )
        thresholds = ", ".join(f"{k}={v:g}" for k, v in report.thresholds.items())
        say(f"thresholds: {thresholds}")
        say(f"state:      {report.backend} at {escape(report.state_dir)}")
        from collabiq_llm.cli.reliability_view import print_reliability

        print_reliability(console, settings, store)
    else:
        say(f"strategy: {report.strategy}    primary: {primary}    (* = primary)")
    if report.pending_events or detailed:
        say(
            f"pending:    {report.pending_events} state event(s) recorded but not yet in the "
            "shared state (spooled; applied by the next collabiq process)"
        )
    return int(ExitCode.OK)
