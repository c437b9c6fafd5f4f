"""``status --detailed``: the learned provider reliability consensus votes with.

Its own section (and module) so the status table can change without touching it.
Reads the agreement history from the state store and runs the same pure estimator
consensus uses, so what is shown is what the next consensus email will weigh by.
"""

from __future__ import annotations

from typing import Any

from collabiq_llm.reliability import RELIABILITY_FIELDS
from collabiq_llm.settings import Settings
from collabiq_llm.state.api import StateStore

LABELS = {"person_in_charge": "person", "startup_name": "startup", "partner_org": "partner"}


def reliability_rows(settings: Settings, store: StateStore) -> tuple[int, list[list[str]]]:
    """(emails in the window, one row per provider: name, accuracy per field, evidence)."""
    from collabiq_llm.errors import StateError
    from collabiq_llm.reliability import reliability_from_records

    try:
        records = store.read_agreements()
    except StateError:  # status still shows the rest; the prior is what consensus would use
        records = []
    rel = reliability_from_records(records, settings.consensus)
    rows = []
    for provider in sorted(rel.accuracy):
        evidence = max(rel.evidence.get(provider, {}).values(), default=0)
        cells = [f"{rel.of(provider, f):.0%}" for f in RELIABILITY_FIELDS]
        rows.append([provider, *cells, str(evidence)])
    return rel.observations, rows


def print_reliability(console: Any, settings: Settings, store: StateStore) -> None:
    """A small table, or one line when there is no consensus history yet."""
    from rich.markup import escape

    from collabiq_llm.cli.output import compact_table

    cfg = settings.consensus
    emails, rows = reliability_rows(settings, store)
    use = "used as vote weights" if cfg.learned_weights else "off: consensus.learned_weights"
    console.print()
    if not rows:
        console.print(
            "provider reliability: no consensus history yet (every provider weighs the same)",
            soft_wrap=True,
        )
        return
    table = compact_table("Provider reliability (estimated accuracy)")
    for col in ("provider", *(LABELS.get(f, f) for f in RELIABILITY_FIELDS), "evidence"):
        table.add_column(col, no_wrap=True, justify="left" if col == "provider" else "right")
    for provider, *cells in rows:
        table.add_row(escape(provider), *cells)
    console.print(table)
    console.print(
        f"learned from agreement on the last {emails} consensus emails; {use}", soft_wrap=True
    )
