"""``python -m interop``: build/install the tools, start the servers, run every case.

    python -m interop [--only TEXT] [--model smollm2-135m] [--no-readme]

Exit 0 when no row failed; 1 otherwise (the table says which and why).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import ExitStack

from interop import cases_basic as basic
from interop import cases_faults as faults
from interop.context import LOCAL, Ctx, Target, local_provider
from interop.fixtures import examples, oracle, start_emulator
from interop.paths import LITELLM_VERSION, README, RESULTS_JSON, RESULTS_MD, RUN_DIR
from interop.report import Row, load_rows, new_report, table_md, update_readme, write_results
from interop.servers import GATEWAY_KEY, MODEL_ALIAS, Upstream, litellm_proxy, llama_server
from interop.tools import MODELS_AVAILABLE, ensure_litellm, ensure_llama_server, ensure_model
from tests.emulators import Behaviour

Case = Callable[[], Row]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m interop", description=__doc__)
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    parser.add_argument("--model", default="smollm2-135m", choices=sorted(MODELS_AVAILABLE))
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite README.md")
    return parser.parse_args(argv)


def _version(argv: list[str]) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    text = (proc.stdout + proc.stderr).strip().splitlines()
    return next((ln.strip() for ln in text if "version" in ln.lower()), text[-1] if text else "?")


def _run(name: str, case: Case, only: str, rows: list[Row]) -> None:
    if only and only.lower() not in name.lower():
        return
    print(f"… {name}", file=sys.stderr, flush=True)
    try:
        row = case()
    except Exception as exc:  # a harness error is a row, not a crash of the whole run
        server, _, title = name.partition(": ")
        row = Row(
            server=server, case=title, outcome="fail", blame="harness", detail=repr(exc)[:300]
        )
    rows.append(row)
    print(f"  {row.outcome}: {row.detail}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    server_bin = ensure_llama_server()
    model = ensure_model(args.model)
    ensure_litellm()
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    RUN_DIR.mkdir(parents=True)
    emails = examples()
    rows: list[Row] = []
    with ExitStack() as stack:
        gemini = start_emulator("gemini", oracle(emails))
        claude = start_emulator("anthropic", oracle(emails))
        emu429 = start_emulator("openai", oracle(emails))
        emuhang = start_emulator("openai", Behaviour.hang(max_s=60))
        for emu in (gemini, claude, emu429, emuhang):
            stack.callback(emu.stop)
        main_llama = stack.enter_context(llama_server(model, RUN_DIR, "llama-server"))
        victim = stack.enter_context(llama_server(model, RUN_DIR, "llama-server-victim"))
        upstreams = {
            MODEL_ALIAS: Upstream(main_llama.url + "/v1", "sk-none", MODEL_ALIAS),
            "smollm2-victim": Upstream(victim.url + "/v1", "sk-none", MODEL_ALIAS),
            "emu-429": Upstream(emu429.base_url, emu429.api_key, "gpt-5-mini"),
            "emu-hang": Upstream(emuhang.base_url, emuhang.api_key, "gpt-5-mini"),
        }
        gateway = stack.enter_context(litellm_proxy(upstreams, RUN_DIR))
        ctx = Ctx(run_dir=RUN_DIR, emails=emails, gemini=gemini, claude=claude)
        direct = Target("llama-server", main_llama.url + "/v1", MODEL_ALIAS)
        via = Target("LiteLLM → llama-server", gateway.url + "/v1", MODEL_ALIAS, GATEWAY_KEY)
        victims = {
            direct.label: Target(direct.label, victim.url + "/v1", MODEL_ALIAS),
            via.label: Target(via.label, gateway.url + "/v1", "smollm2-victim", GATEWAY_KEY),
        }
        for t in (direct, victims[direct.label]):  # prompt prefix into llama-server's cache
            print(f"… warm-up {t.base_url}", file=sys.stderr, flush=True)
            ctx.home("warm-up", {LOCAL: local_provider(t)}, [LOCAL]).run("llm", "test", LOCAL)
        for t in (direct, via):
            cases: list[tuple[str, Case]] = [
                ("extract chat", lambda t=t: basic.extract_row(ctx, t, "chat")),
                ("extract responses", lambda t=t: basic.extract_row(ctx, t, "responses")),
                *[
                    (f"structured {m}", lambda t=t, m=m: basic.structured_mode_row(ctx, t, m))
                    for m in ("json_object", "tool", "prompt")
                ],
                ("llm test chat", lambda t=t: basic.llm_test_row(ctx, t, "chat")),
                ("llm test responses", lambda t=t: basic.llm_test_row(ctx, t, "responses")),
                ("failover", lambda t=t: basic.failover_row(ctx, t)),
                ("consensus", lambda t=t: basic.consensus_row(ctx, t)),
                ("consensus offline", lambda t=t: basic.consensus_offline_row(ctx, t)),
                ("best-match", lambda t=t: basic.best_match_row(ctx, t)),
                ("slow primary", lambda t=t: faults.slow_row(ctx, t)),
                ("killed", lambda t=t: faults.killed_row(ctx, victims[t.label], victim)),
            ]
            for name, case in cases:
                if name == "killed" and victim.proc is not None and victim.proc.poll() is not None:
                    victim.start()  # the previous target's crash case killed it
                _run(f"{t.label}: {name}", case, args.only, rows)
        emu_direct = Target(
            "OpenAI emulator (direct)", emu429.base_url, "gpt-5-mini", emu429.api_key
        )
        emu_via = Target("LiteLLM → OpenAI emulator", gateway.url + "/v1", "emu-429", GATEWAY_KEY)
        for t in (emu_direct, emu_via):
            _run(
                f"{t.label}: retry-after",
                lambda t=t: faults.retry_after_row(ctx, t, emu429),
                args.only,
                rows,
            )
        hang_direct = Target(
            "OpenAI emulator (direct)", emuhang.base_url, "gpt-5-mini", emuhang.api_key
        )
        hang_via = Target("LiteLLM → OpenAI emulator", gateway.url + "/v1", "emu-hang", GATEWAY_KEY)
        for t in (hang_direct, hang_via):
            _run(f"{t.label}: hung", lambda t=t: faults.hung_row(ctx, t, emuhang), args.only, rows)
        versions = {
            "llama-server": _version([str(server_bin), "--version"]),
            "model": args.model,
            "litellm": LITELLM_VERSION,
        }
    if args.only and RESULTS_JSON.exists():  # a partial run replaces its rows, keeps the rest
        fresh = {(r.server, r.case): r for r in rows}
        old = load_rows(RESULTS_JSON)
        merged = [fresh.pop((r.server, r.case), r) for r in old]
        rows = merged + list(fresh.values())
    report = new_report(rows, versions)
    write_results(report, RESULTS_MD, RESULTS_JSON)
    if not args.no_readme:
        update_readme(README, report)
    print(table_md(rows))
    print(f"\nwritten: {RESULTS_MD}, {RESULTS_JSON}", file=sys.stderr)
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
