"""``llm test``, ``set-strategy``, ``reset`` and ``dead-letters``: thin wrappers over the core."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from collabiq_llm.cli.output import (
    ExitCode,
    compact_table,
    err_console_print,
    print_json,
    stdout_console,
)
from collabiq_llm.errors import AllProvidersFailed, ConfigurationError, InputError


def _orchestrator():
    from collabiq_llm.orchestration.orchestrator import Orchestrator

    return Orchestrator()


def run_test(names: list[str], *, all_providers: bool, as_json: bool) -> int:
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
    elif not names:
        names = orch.provider_order()
        if not names:
            err_console_print(
                "note: no remote provider is configured (set GEMINI_API_KEY, ANTHROPIC_API_KEY "
                "or OPENAI_API_KEY); testing the offline extractor only"
            )
            names = ["offline"]
    results = check_providers(orch, names)
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


def run_dead_letters_list(*, as_json: bool) -> int:
    from collabiq_llm.dead_letters import DeadLetterBox
    from collabiq_llm.settings import resolve_home

    letters, unreadable = DeadLetterBox(resolve_home() / "dead_letters").scan()
    _report_unreadable(unreadable)
    if as_json:
        print_json(
            [
                json.loads(x.model_dump_json(exclude={"text"})) | {"chars": len(x.text)}
                for x in letters
            ]
        )
        return int(ExitCode.OK)
    if not letters:
        print("no dead letters")
        return int(ExitCode.OK)
    from rich.markup import escape

    table = compact_table(f"{len(letters)} dead letter(s)")
    for col in ("email_id", "failed at (UTC)", "tries", "source"):
        table.add_column(col, no_wrap=True)
    table.add_column("errors", overflow="fold", min_width=12)
    for x in letters:
        table.add_row(
            escape(x.email_id),
            x.failed_at.strftime("%Y-%m-%d %H:%M:%S"),
            str(x.attempts),
            escape(x.source or "-"),
            escape("; ".join(v for v in x.errors.values())[:300]),
        )
    stdout_console().print(table)
    return int(ExitCode.OK)


def _report_unreadable(unreadable) -> None:
    """A letter file that cannot be read still holds an email: never skip it silently."""
    for bad in unreadable:
        err_console_print(
            f"warning: {bad.path}: {bad.reason}; left in place (fix or remove it by hand)"
        )


def run_dead_letters_replay(*, strategy: str | None, output: Path | None) -> int:
    import asyncio

    from collabiq_llm.dead_letters import DeadLetterBox
    from collabiq_llm.email.input import EmailInput
    from collabiq_llm.entities import utc_now
    from collabiq_llm.settings import normalise_strategy

    if strategy is not None:
        try:
            strategy = normalise_strategy(strategy)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    orch = _orchestrator()
    box = DeadLetterBox(orch.settings.home / "dead_letters")
    letters, unreadable = box.scan()
    _report_unreadable(unreadable)
    try:
        out = sys.stdout if output is None else output.open("a", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from None
    failed = 0
    elsewhere = 0

    async def _replay() -> None:
        nonlocal failed, elsewhere
        try:
            for listed in letters:
                with box.claim(listed) as letter:  # a concurrent replay never takes it too
                    if letter is None:
                        elsewhere += 1
                        continue
                    email = EmailInput(
                        text=letter.text, received_at=letter.received_at, email_id=letter.email_id
                    )
                    try:
                        result = await orch.aextract(email, strategy or letter.strategy)
                    except AllProvidersFailed as exc:
                        failed += 1
                        box.put(
                            letter.model_copy(
                                update={
                                    "errors": {k: str(v) for k, v in exc.failures.items()},
                                    "failed_at": utc_now(),
                                }
                            )
                        )
                        err_console_print(f"still failing: {letter.email_id}: {exc}")
                        continue
                    out.write(result.model_dump_json() + "\n")
                    out.flush()
                    box.remove(letter)  # only after the result was written
        finally:
            await orch.aclose()

    try:
        asyncio.run(_replay())
    finally:
        if out is not sys.stdout:
            out.close()
    done = len(letters) - failed - elsewhere
    taken = f"; {elsewhere} taken by another replay" if elsewhere else ""
    broken = f"; {len(unreadable)} unreadable" if unreadable else ""
    err_console_print(f"replayed {done} of {len(letters)}; {failed} still kept{taken}{broken}")
    return int(ExitCode.NOT_EXTRACTED) if failed or unreadable else int(ExitCode.OK)
