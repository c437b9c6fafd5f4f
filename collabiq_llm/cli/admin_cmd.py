"""``llm test``, ``set-strategy``, ``reset`` and ``dead-letters``: thin wrappers over the core."""

from __future__ import annotations

import json
import sys

from collabiq_llm.cli.output import (
    ExitCode,
    compact_table,
    err_console_print,
    print_json,
    stdout_console,
)
from collabiq_llm.errors import ConfigurationError, InputError


def _orchestrator():
    from collabiq_llm.orchestration.orchestrator import Orchestrator

    return Orchestrator()


def run_test(
    names: list[str], *, all_providers: bool, as_json: bool, timeout_s: float | None = None
) -> int:
    """Exit 0 all passed; 3 a call failed; 4 only configuration problems, or no remote
    provider configured at all (then only the offline extractor was tested)."""
    from collabiq_llm.cli.progress import CheckProgress
    from collabiq_llm.provider_check import check_providers

    orch = _orchestrator()
    unknown = [n for n in names if n not in orch.settings.providers]
    if unknown:
        raise InputError(
            f"unknown provider(s): {', '.join(unknown)}; choose from: "
            f"{', '.join(orch.settings.providers)}"
        )
    if all_providers:
        names = list(orch.settings.providers)
    offline_only = False
    if not all_providers and not names:
        names = orch.provider_order()
        if not names:
            err_console_print(
                "error: no remote provider is configured (set GEMINI_API_KEY, ANTHROPIC_API_KEY "
                "or OPENAI_API_KEY); tested the offline extractor only"
            )
            names, offline_only = ["offline"], True
    # per-provider progress on a terminal; transient, so gone before the table is printed
    bar = CheckProgress(names) if sys.stderr.isatty() else None
    try:
        results = check_providers(
            orch,
            names,
            timeout_s=timeout_s,
            on_done=(lambda r: bar.done(r.provider, r.ok)) if bar else None,
        )
    finally:
        if bar:
            bar.stop()
    if as_json:
        print_json(
            {
                "ok": all(r.ok for r in results),
                "results": [json.loads(r.model_dump_json()) for r in results],
            }
        )
    else:
        from rich.markup import escape

        table = compact_table("Provider check")
        for col in ("provider", "result", "model", "latency", "tokens in/out"):
            table.add_column(col, no_wrap=True)
        table.add_column("detail", overflow="fold", min_width=12)
        for r in results:
            table.add_row(
                escape(r.provider),
                "[green]PASS[/]" if r.ok else "[red]FAIL[/]",
                escape(r.model or "-"),
                f"{r.latency_ms:.0f} ms" if r.latency_ms is not None else "-",
                f"{r.input_tokens}/{r.output_tokens}",
                escape(r.error or ""),
            )
        stdout_console().print(table)
    if offline_only:
        return int(ExitCode.CONFIG)
    return int(_test_exit_code(results))


def _test_exit_code(results) -> ExitCode:
    """0 all passed; 3 a call failed; 4 only configuration problems (e.g. no key)."""
    failed = [r for r in results if not r.ok]
    if not failed:
        return ExitCode.OK
    if all(r.error_kind in ("not_configured", "config") for r in failed):
        return ExitCode.CONFIG
    return ExitCode.NOT_EXTRACTED


def run_set_strategy(name: str, providers: str | None, *, as_json: bool) -> int:
    from collabiq_llm.settings import normalise_strategy

    orch = _orchestrator()
    try:
        normalise_strategy(name)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    order = None if providers is None else [p.strip() for p in providers.split(",") if p.strip()]
    if order is not None and not order:
        raise InputError("--providers needs at least one provider name, e.g. claude,gemini")
    if order is not None and len(set(order)) != len(order):
        dupes = sorted({p for p in order if order.count(p) > 1})
        raise InputError(f"--providers names {', '.join(dupes)} more than once")
    if order is not None:
        unknown = [p for p in order if p not in orch.settings.providers]
        if unknown or not order:
            raise InputError(
                f"unknown provider(s): {', '.join(unknown) or '(empty list)'}; choose from: "
                f"{', '.join(orch.settings.providers)}"
            )
    before_strategy = orch.active_strategy()
    before_order = orch.provider_order()
    try:
        saved = orch.set_strategy(name, order)
    except ConfigurationError as exc:
        raise InputError(str(exc)) from None
    after_order = orch.provider_order()
    _warn_unconfigured(orch, order)
    if as_json:
        print_json(
            {
                "strategy": saved.strategy,
                "providers": after_order,
                "previous": {"strategy": before_strategy, "providers": before_order},
            }
        )
    else:
        change = "unchanged" if before_strategy == saved.strategy else f"was {before_strategy}"
        print(f"strategy: {saved.strategy} ({change})")
        if before_order != after_order:
            print(f"providers: {' -> '.join(after_order)} (was {' -> '.join(before_order)})")
        else:
            print(f"providers: {' -> '.join(after_order) or '(offline only)'}")
    return int(ExitCode.OK)


def _warn_unconfigured(orch, order: list[str] | None) -> None:
    """A provider put in the order without its key would fail every extract (exit 4)."""
    from collabiq_llm.settings import provider_is_configured

    for name in order or []:
        cfg = orch.settings.providers[name]
        if cfg.kind != "offline" and not provider_is_configured(cfg):
            keys = " or ".join(cfg.api_key_env) or "a key"
            err_console_print(f"warning: {name} is not configured: set {keys}")


def run_reset(provider: str | None, *, all_providers: bool) -> int:
    orch = _orchestrator()
    if all_providers and provider:
        raise InputError("name a PROVIDER or pass --all, not both")
    if all_providers:
        names = list(orch.settings.providers)
    elif provider:
        if provider not in orch.settings.providers:
            raise InputError(
                f"unknown provider {provider!r}; choose from: {', '.join(orch.settings.providers)}"
            )
        names = [provider]
    else:
        raise InputError("name a PROVIDER or pass --all")
    for name in names:
        orch.store.reset(name)
        print(f"{name}: circuit closed, consecutive failures cleared (history kept)")
    return int(ExitCode.OK)
