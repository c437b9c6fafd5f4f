"""Extraction, `llm test`, structured-output modes and the three strategies, per target."""

from __future__ import annotations

from collections import Counter
from typing import Any

from interop.cli import CliRun
from interop.context import (
    LOCAL,
    Ctx,
    Target,
    attempts_of,
    local_provider,
    product_supports,
    success_latency,
)
from interop.fixtures import fields_right, write_jsonl
from interop.report import Row

NO_LAST_RESORT = {"offline_last_resort": False}


def _batch(ctx: Ctx, home_slug: str, n: int) -> tuple[Any, Any]:
    emails = ctx.emails[:n]
    return emails, write_jsonl(ctx.run_dir / "inputs" / f"{home_slug}.jsonl", emails)


def _results(run: CliRun) -> list[dict[str, Any]]:
    return [r for r in run.json_lines() if "meta" in r]


def _errors(run: CliRun) -> list[str]:
    errs = [str(r.get("error")) for r in run.json_lines() if "error" in r]
    return errs or ([run.brief_error()] if run.returncode else [])


def _accuracy(results: list[dict[str, Any]], emails: list[Any]) -> str:
    by_id = {e.id: e for e in emails}
    right = sum(fields_right(r, by_id[r["email_id"]]) for r in results if r["email_id"] in by_id)
    return f"fields right {right}/{4 * len(results)}" if results else ""


def classify(errors: list[str]) -> tuple[str, str]:
    """(outcome, note) for failed calls: a model answer that breaks the schema is the
    server's / model's limit (the product rightly rejects it); anything else is a failure.
    """
    if errors and all("invalid_output" in e for e in errors):
        bounds = any("less than or equal" in e or "greater than or equal" in e for e in errors)
        note = (
            "model broke the schema: llama.cpp's JSON-schema grammar does not enforce "
            "`number` minimum/maximum, so confidences > 1 pass the server"
            if bounds
            else "model output is not a valid record"
        )
        return "server-limit", note
    return "fail", ""


def extract_row(ctx: Ctx, target: Target, api: str, n: int = 2, **extra: Any) -> Row:
    """`llm extract --jsonl` of n emails through the local endpoint only (no last resort)."""
    mode = extra.get("structured_output", "json_schema")
    case = f"extract {api}" + (f" structured_output={mode}" if "structured_output" in extra else "")
    slug = f"extract-{api}-{mode}-{target.label}".replace(" ", "").replace("→", "-")
    emails, batch = _batch(ctx, slug, n)
    home = ctx.home(
        slug,
        {LOCAL: local_provider(target, api, **extra)},
        [LOCAL],
        top=NO_LAST_RESORT,
        key=target.api_key,
    )
    run = home.run("llm", "extract", "--jsonl", str(batch), "--concurrency", "1")
    results = _results(run)
    ok = [r for r in results if r["meta"]["provider"] == LOCAL and not r["meta"]["degraded"]]
    detail = f"{len(ok)}/{n} valid records"
    if ok:
        detail += f"; {_accuracy(ok, emails)} (tiny model)"
    errs = _errors(run)
    outcome, note = ("pass", "") if len(ok) == n and run.returncode == 0 else classify(errs)
    if note:
        detail += f"; {note}"
    if errs:
        detail += f"; error: {errs[0][:200]}"
    return Row(
        server=target.label,
        case=case,
        outcome=outcome,
        latency_ms=success_latency(results),
        wall_s=run.seconds,
        detail=detail,
    )


def structured_mode_row(ctx: Ctx, target: Target, mode: str) -> Row:
    """`structured_output = mode` (issue 12): json_object / tool / prompt on Chat Completions."""
    if not product_supports("structured_output"):
        return Row(
            server=target.label,
            case=f"extract chat structured_output={mode}",
            outcome="fail",
            blame="product",
            detail="product has no `structured_output` provider setting yet (issue 12, i12a)",
        )
    return extract_row(ctx, target, "chat", n=2, structured_output=mode)


def llm_test_row(ctx: Ctx, target: Target, api: str = "chat") -> Row:
    home = ctx.home(
        f"llmtest-{api}", {LOCAL: local_provider(target, api)}, [LOCAL], key=target.api_key
    )
    run = home.run("llm", "test", LOCAL, "--json")
    try:
        data = run.json()
        res = data["results"][0]
    except (ValueError, KeyError, IndexError):
        data, res = {}, {}
    latency = res.get("latency_ms")
    error = str(res.get("error") or run.brief_error())
    passed = run.returncode == 0 and bool(data.get("ok"))
    kind = f"invalid_output: {error}" if "schema" in error or "not valid JSON" in error else error
    outcome, note = ("pass", "") if passed else classify([kind])
    detail = f"exit {run.returncode}; " + ("PASS" if passed else f"{note}; {error}"[:300])
    return Row(
        server=target.label,
        case=f"llm test ({api})",
        outcome=outcome,
        latency_ms=latency,
        wall_s=run.seconds,
        detail=detail,
    )


def _winners(results: list[dict[str, Any]]) -> str:
    counts = Counter(r["meta"]["provider"] for r in results)
    return ", ".join(f"{p} {n}" for p, n in counts.most_common())


MODEL_FAULTS = {"invalid_output"}
"""Local failures that are the tiny model's, not an interop problem (the product rightly
rejects an invalid record and moves on)."""


def _local_calls(results: list[dict[str, Any]]) -> tuple[int, set[str], str]:
    """(successful local calls, error kinds of the other local calls, first local error)."""
    atts = [a for r in results for a in attempts_of(r, LOCAL)]
    kinds = {
        str(a.get("error_kind") or a.get("outcome")) for a in atts if a["outcome"] != "success"
    }
    first = next((str(a.get("error")) for a in atts if a.get("error")), "")
    return sum(1 for a in atts if a["outcome"] == "success"), kinds, first


def _local_note(ok: int, n: int, kinds: set[str], first: str) -> str:
    if ok == n:
        return f"local valid {n}/{n}"
    note = f"local valid {ok}/{n}, failed: {', '.join(sorted(kinds))}"
    return note + (f" ({first[:140]})" if first else "")


def failover_row(ctx: Ctx, target: Target, n: int = 2) -> Row:
    """Failover local -> emulated gemini with hedging off: the local answer is used when valid.

    Pass: every email answered; the local endpoint failed only where its model's answer
    was invalid (any other local error would be an interop problem that failover hides).
    """
    slug = "failover-nohedge"
    _, batch = _batch(ctx, slug, n)
    providers = {LOCAL: local_provider(target), **ctx.peers()}
    home = ctx.home(
        slug,
        providers,
        [LOCAL, "gemini"],
        env={"COLLABIQ_FAILOVER__HEDGE": "false"},
        key=target.api_key,
    )
    run = home.run("llm", "extract", "--jsonl", str(batch), "--concurrency", "1")
    results = _results(run)
    ok, kinds, first = _local_calls(results)
    answered = len(results) == n and all(not r["meta"]["degraded"] for r in results)
    good = answered and run.returncode == 0 and kinds <= MODEL_FAULTS
    return Row(
        server=target.label,
        case="failover local→gemini-emu (hedge off)",
        outcome="pass" if good else "fail",
        latency_ms=success_latency(results),
        wall_s=run.seconds,
        detail=f"answered by: {_winners(results)}; {_local_note(ok, n, kinds, first)}",
    )


def consensus_row(ctx: Ctx, target: Target, n: int = 2) -> Row:
    """Consensus local + two truthful emulators.

    Pass: every email merged with all four checked fields right (the two agreeing
    providers outvote the tiny model), and the local endpoint either voted or failed
    only on its model's invalid answers.
    """
    slug = "consensus-3"
    emails, batch = _batch(ctx, slug, n)
    providers = {LOCAL: local_provider(target), **ctx.peers()}
    home = ctx.home(
        slug, providers, [LOCAL, "gemini", "claude"], strategy="consensus", key=target.api_key
    )
    run = home.run("llm", "extract", "--jsonl", str(batch), "--concurrency", "1")
    results = _results(run)
    ok, kinds, first = _local_calls(results)
    acc = _accuracy(results, emails)
    flags = Counter(str(r["meta"].get("degraded")) for r in results)
    all_right = acc == f"fields right {4 * n}/{4 * n}"
    good = run.returncode == 0 and len(results) == n and all_right and kinds <= MODEL_FAULTS
    return Row(
        server=target.label,
        case="consensus local+gemini-emu+claude-emu",
        outcome="pass" if good else "fail",
        blame="" if good or not kinds <= MODEL_FAULTS else "product",
        latency_ms=success_latency(results),
        wall_s=run.seconds,
        detail=f"{len(results)}/{n} merged; {acc}; degraded {dict(flags)}; "
        + _local_note(ok, n, kinds, first),
    )


def consensus_offline_row(ctx: Ctx, target: Target) -> Row:
    """`--providers local,offline`: the offline extractor must vote (issue 12 item 5)."""
    slug = "consensus-offline"
    _, batch = _batch(ctx, slug, 1)
    home = ctx.home(
        slug,
        {LOCAL: local_provider(target)},
        [LOCAL, "offline"],
        strategy="consensus",
        key=target.api_key,
    )
    run = home.run("llm", "extract", "--jsonl", str(batch))
    results = _results(run)
    voters = sorted({a["provider"] for r in results for a in r["meta"]["attempts"]})
    local_ok, kinds, _ = _local_calls(results)
    # offline must vote, not stand in as the last resort; `degraded` alone is fine here:
    # two voters that disagree (a tiny model against the rules) rightly mark the result
    last_resort = any(r["meta"].get("fallback_used") for r in results)
    degraded = sum(bool(r["meta"]["degraded"]) for r in results)
    ok = run.returncode == 0 and len(results) == 1 and "offline" in voters and not last_resort
    # offline answering only as the last resort after an invalid local answer proves nothing
    inconclusive = not ok and local_ok == 0 and kinds <= MODEL_FAULTS
    return Row(
        server=target.label,
        case="consensus local+offline",
        outcome="pass" if ok else ("server-limit" if inconclusive else "fail"),
        blame="" if ok or inconclusive else "product",
        latency_ms=success_latency(results),
        wall_s=run.seconds,
        detail=f"voters: {', '.join(voters) or '-'}; degraded {degraded}/{len(results)}"
        + ("" if ok else f"; last resort {last_resort}, local valid {local_ok}/1")
        + ("; inconclusive: the local model's answer was invalid" if inconclusive else "")
        + (f"; {run.brief_error()[:160]}" if run.returncode else ""),
    )


def best_match_row(ctx: Ctx, target: Target, n: int = 2) -> Row:
    """Best-match local + truthful gemini emulator (window raised for the slow local model)."""
    slug = "best-match"
    _, batch = _batch(ctx, slug, n)
    providers = {LOCAL: local_provider(target), **ctx.peers()}
    home = ctx.home(slug, providers, [LOCAL, "gemini"], strategy="best-match", key=target.api_key)
    run = home.run("llm", "extract", "--jsonl", str(batch), "--concurrency", "1")
    results = _results(run)
    ok, kinds, first = _local_calls(results)
    good = run.returncode == 0 and len(results) == n and kinds <= MODEL_FAULTS
    return Row(
        server=target.label,
        case="best-match local+gemini-emu",
        outcome="pass" if good else "fail",
        latency_ms=success_latency(results),
        wall_s=run.seconds,
        detail=f"winner: {_winners(results)}; {_local_note(ok, n, kinds, first)}",
    )
