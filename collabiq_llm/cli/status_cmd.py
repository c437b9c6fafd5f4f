"""``collabiq llm status``: one table, one row per provider; ``--json`` for machines."""

from __future__ import annotations

import datetime as dt
import json

from collabiq_llm.cli.output import ExitCode, compact_table, print_json, stdout_console

_HEALTH_STYLE = {
    "healthy": "green",
    "degraded": "yellow",
    "open": "red",
    "half_open": "yellow",
    "rate_limited": "yellow",
    "over_budget": "red",
    "misconfigured": "red",
    "not_configured": "dim",
    "untested": "dim",
}
QUIET_STATES = ("healthy", "untested", "not_configured")  # nothing to act on


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
    from collabiq_llm.state.costs import money

    return money(value)


def health_label(row, now: dt.datetime) -> str:
    """'open (retry at 14:05:09 UTC)', 'over-budget (until 00:00 UTC)', 'healthy'."""
    from collabiq_llm.health_view import HealthView, label, until_text

    view = HealthView(state=row.health, until=row.health_until, reason=row.health_reason)
    return label(view, until_text(row.health_until, now))


def attention_lines(report) -> list[str]:
    """One line per provider that needs an operator, naming why and until when."""
    lines = []
    now = report.generated_at
    for name, row in report.providers.items():
        if row.health in QUIET_STATES:
            continue
        line = f"{name}: {health_label(row, now)}"
        if row.health_reason:
            line += f": {row.health_reason}"
        if row.health == "misconfigured" and row.configured:
            line += f"; after fixing it: collabiq llm reset {name}"
        lines.append(line)
    return lines


def check_failures(report) -> list[str]:
    """``status --check``: every configured provider that cannot take calls now."""
    now = report.generated_at
    return [
        f"{name}: {health_label(row, now)}"
        + (f": {row.health_reason}" if row.health_reason else "")
        for name, row in report.providers.items()
        if row.health != "not_configured" and not row.can_take_calls
    ]


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


def run_status(*, detailed: bool, as_json: bool, check: bool = False) -> int:
    """Print the status report (a table, or the stable JSON object with ``--json``).

    ``check``: exit 3 when a configured provider cannot take calls (each named on stderr);
    the table is then left out (the JSON object is still printed with ``--json``).

    Reads settings and state only: no orchestration, provider or SDK code is imported
    (rich only for the table), so cron health checks start fast.
    """
    from collabiq_llm.status import current_status

    settings, store, report = current_status()
    if as_json:
        print_json(json.loads(report.model_dump_json()))
    if check:
        return check_report(report)
    if as_json:
        return int(ExitCode.OK)
    from rich.markup import escape

    primary = report.primary
    console = stdout_console()
    console.print(_provider_table(report, width=console.width, detailed=detailed))

    def say(line: str) -> None:  # plain lines are not hard-wrapped: the terminal wraps them
        console.print(line, soft_wrap=True)

    for line in attention_lines(report):
        say(escape(line))
    if detailed:
        _print_money(console, report)
        usage = compact_table("Usage and tokens")
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
            f"emails:     {t.emails}    cost of emails: {_usd(t.cost_usd)}"
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


def check_report(report) -> int:
    """``--check``: each provider that cannot take calls on stderr; exit 3 if any."""
    from collabiq_llm.cli.output import err_console_print

    failing = check_failures(report)
    for line in failing:
        err_console_print(f"check failed: {line}")
    if failing:
        return int(ExitCode.NOT_EXTRACTED)
    ready = [n for n, r in report.providers.items() if r.health != "not_configured"]
    err_console_print(f"check passed: {', '.join(ready)} can take calls")
    return int(ExitCode.OK)


def _provider_table(report, *, width: int, detailed: bool):
    """Provider, health (with its until-time) and last error always; the rest as room allows."""
    from rich.markup import escape

    from collabiq_llm.cli.tables import Column, fitted_table

    now = report.generated_at
    rows = report.providers
    provider = Column("provider", [escape(n) + (" *" if n == report.primary else "") for n in rows])
    health = Column("health")
    for row in rows.values():
        style = _HEALTH_STYLE.get(row.health, "")
        text = escape(health_label(row, now))
        health.cells.append(f"[{style}]{text}[/]" if style else text)
    columns = [
        provider,
        health,
        Column("success", [_success(r) for r in rows.values()], rank=1),
        Column("avg", [_ms(r.avg_latency_ms) for r in rows.values()], rank=6, justify="right"),
        Column("p95", [_ms(r.p95_latency_ms) for r in rows.values()], rank=3, justify="right"),
        Column("calls", [str(r.calls) for r in rows.values()], rank=2, justify="right"),
        Column("last ok", [relative(r.last_success, now) for r in rows.values()], rank=5),
        Column("last fail", [relative(r.last_failure, now) for r in rows.values()], rank=4),
        Column(
            "last error",
            [_error_cell(n, r.last_error, one_line=not detailed) for n, r in rows.items()],
            flexible=True,
            min_width=20,
        ),
    ]
    return fitted_table("LLM providers", columns, width, fold=detailed)


def _print_money(console, report) -> None:
    """Today / this month / lifetime per provider and in total, with budgets; reconciled:
    the provider rows add up to the total, and the total splits into emails + other calls."""
    from rich.markup import escape

    from collabiq_llm.cli.tables import Column, fitted_table

    rows = report.providers
    t = report.totals

    def budget(r) -> str:
        parts = []
        if r.budget_daily_usd is not None:
            parts.append(f"{_usd(r.budget_daily_usd)}/day")
        if r.budget_monthly_usd is not None:
            parts.append(f"{_usd(r.budget_monthly_usd)}/month")
        return ", ".join(parts) or "-"

    names = [*rows, "total"]
    columns = [
        Column("provider", [escape(n) for n in names]),
        Column(
            "today",
            [_usd(r.spent_today_usd) for r in rows.values()] + [_usd(t.today_usd)],
            justify="right",
        ),
        Column(
            "this month",
            [_usd(r.spent_month_usd) for r in rows.values()] + [_usd(t.month_usd)],
            justify="right",
        ),
        Column(
            "lifetime",
            [_usd(r.cost_usd) for r in rows.values()] + [_usd(t.lifetime_usd)],
            justify="right",
        ),
        Column("budget", [budget(r) for r in rows.values()] + [""], rank=1),
        Column(
            "left",
            [
                _usd(r.budget_remaining_usd) if r.budget_remaining_usd is not None else "-"
                for r in rows.values()
            ]
            + [""],
            rank=2,
            justify="right",
        ),
    ]
    console.print()
    console.print(fitted_table("Money (UTC days and months)", columns, console.width))
    console.print(
        f"lifetime {_usd(t.lifetime_usd)} = emails {_usd(t.cost_usd)} "
        f"+ outside emails (llm test, unbilled calls) {_usd(t.outside_emails_usd)}",
        soft_wrap=True,
    )
