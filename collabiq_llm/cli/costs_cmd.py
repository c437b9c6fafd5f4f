"""``collabiq llm costs``: what the emails cost, read from the per-email ledger."""

from __future__ import annotations

import datetime as dt

from collabiq_llm.cli.output import ExitCode, print_json, stdout_console
from collabiq_llm.errors import InputError


def parse_since(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"--since {value!r} is not a date (YYYY-MM-DD)") from None


def run_costs(*, by: str, since: str | None, as_json: bool) -> int:
    from collabiq_llm.state.costs import LEDGER_GROUPINGS, money, summarise_ledger
    from collabiq_llm.status import current_status

    if by not in LEDGER_GROUPINGS:
        raise InputError(f"--by {by!r}: choose one of: {', '.join(LEDGER_GROUPINGS)}")
    start = parse_since(since)
    _, store, status = current_status()
    entries = store.read_ledger()
    rows, total = summarise_ledger(entries, by, start)
    report = status.totals
    first = entries[0].at if entries else None
    outside = report.outside_emails_usd
    if as_json:
        print_json(
            {
                "by": by,
                "since": start.isoformat() if start else None,
                "ledger_starts": first.isoformat() if first else None,
                "rows": [r.model_dump() for r in rows],
                "total": total.model_dump(exclude={"key"}),
                "lifetime": {
                    "all_calls_usd": report.lifetime_usd,
                    "emails_usd": report.cost_usd,
                    "outside_emails_usd": outside,
                },
            }
        )
        return int(ExitCode.OK)
    from rich.markup import escape

    from collabiq_llm.cli.tables import Column, fitted_table

    console = stdout_console()
    if not rows:
        console.print("no emails in the ledger" + (f" since {start}" if start else ""))
    else:
        keys = [*(r.key for r in rows), "total"]
        allrows = [*rows, total]
        columns = [
            Column(by, [escape(k) for k in keys]),
            Column("emails", [str(r.emails) for r in allrows], justify="right"),
            Column("calls", [str(r.calls) for r in allrows], rank=2, justify="right"),
            Column("tokens in", [f"{r.input_tokens:,}" for r in allrows], rank=3, justify="right"),
            Column(
                "tokens out", [f"{r.output_tokens:,}" for r in allrows], rank=4, justify="right"
            ),
            Column(
                "cost",
                [money(r.cost_usd) + (" + unknown" if r.unpriced else "") for r in allrows],
                justify="right",
            ),
            Column(
                "cost/email",
                [money(r.cost_usd / r.emails) if r.emails else "-" for r in allrows],
                rank=1,
                justify="right",
            ),
        ]
        title = f"Cost of emails by {by}" + (f" since {start}" if start else "")
        console.print(fitted_table(title, columns, console.width))
    if first is not None:
        console.print(f"ledger starts {first:%Y-%m-%d %H:%M} UTC", soft_wrap=True)
    console.print(
        f"lifetime, all calls: {money(report.lifetime_usd)} = emails {money(report.cost_usd)}"
        f" + outside emails (llm test, unbilled calls) {money(outside)}",
        soft_wrap=True,
    )
    return int(ExitCode.OK)
