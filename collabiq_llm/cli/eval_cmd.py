"""``collabiq llm eval``: accuracy, coverage, calibration, cost and latency on a labelled set.

Runs against whatever providers are configured (real keys, or the oracle emulators
of ``tests/emulators/oracle_mode.py`` for a simulation). State goes to a throw-away
folder: evaluating never touches production breakers, health or the cost ledger.
"""

from __future__ import annotations

import json
from pathlib import Path

from collabiq_llm.cli.output import ExitCode, err_console_print, print_json
from collabiq_llm.errors import InputError


def _remote_and_strategy(strategy: str | None) -> tuple[list[str], str, bool, bool]:
    """Configured remote providers (production order), the strategy to run, last resort,
    and whether the offline extractor is listed as a consensus voter."""
    from collabiq_llm.orchestration.orchestrator import OFFLINE, Orchestrator

    orchestrator = Orchestrator()  # reads production settings/state; writes nothing
    try:
        name = orchestrator.active_strategy(strategy)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    order = orchestrator.provider_order(name)
    return (
        [n for n in order if n != OFFLINE],
        name,
        orchestrator.settings.offline_last_resort,
        OFFLINE in order,
    )


def default_datasets() -> list[Path]:
    """The templated set, and the independently written one when it is there."""
    from collabiq_llm.evaluation.dataset import DEFAULT_DATASET

    independent = DEFAULT_DATASET.parent / "independent" / "emails.jsonl"
    return [DEFAULT_DATASET, *([independent] if independent.is_file() else [])]


def run_eval(
    datasets: Path | list[Path] | None,
    *,
    strategy: str | None,
    compare: bool,
    limit: int | None,
    concurrency: int,
    as_json: bool,
) -> int:
    """Evaluate one strategy (default: the active one) or, with ``compare``, every mode, on
    each set separately (a set's own ``companies.toml`` / ``own_org.toml`` are used)."""
    from collabiq_llm.evaluation.dataset import DatasetError, load_dataset
    from collabiq_llm.evaluation.report import render_text
    from collabiq_llm.evaluation.runner import (
        EvalRunner,
        compare_modes,
        dataset_companies,
        dataset_own_org,
        fixed_weights,
        offline_mode,
        strategy_mode,
    )

    if strategy and compare:
        raise InputError("--strategy and --compare are mutually exclusive")
    if limit is not None and limit < 1:
        raise InputError("--limit must be at least 1")
    paths = [datasets] if isinstance(datasets, Path) else (datasets or default_datasets())
    loaded = []
    for dataset in paths:
        try:
            examples = load_dataset(dataset)
        except DatasetError as exc:
            raise InputError(str(exc)) from None
        loaded.append((dataset, examples[:limit] if limit else examples))
    remote, strategy_name, last_resort, offline_voter = _remote_and_strategy(strategy)
    runs = []
    for dataset, examples in loaded:
        notes: list[str] = []
        if not remote:
            notes.append(
                "no remote provider configured (no API key): only the offline extractor ran"
            )
        if compare:
            modes = compare_modes(remote, last_resort=last_resort, offline_voter=offline_voter)
        elif remote:
            voters = [*remote, "offline"] if offline_voter else remote
            modes = [strategy_mode(strategy_name, voters, last_resort=last_resort)]
            if strategy_name == "consensus" and len(remote) >= 2:
                modes.append(fixed_weights(modes[0]))  # report whether learning helps
        else:
            modes = [offline_mode()]
        companies = dataset_companies(dataset)
        if companies is None:
            notes.append(
                f"no companies.toml next to {dataset}: extracted and scored with the "
                "configured company directory (its aliases count as the same company)"
            )
        runner = EvalRunner(
            examples,
            companies_file=companies,
            concurrency=concurrency,
            dataset_name=str(dataset),
            own_org=dataset_own_org(dataset),
        )
        runner.on_mode_done.append(
            lambda m, name=dataset.parent.name: err_console_print(
                f"{name}/{m.mode}: {m.report.n_emails} emails in {m.wall_s:.1f} s, "
                f"overall accuracy {m.report.overall_accuracy * 100:.1f} %"
            )
        )
        runs.append(runner.run(modes, notes))
    if as_json:  # one set: the run itself (as before); several: {"runs": [...]}
        payloads = [json.loads(run.model_dump_json()) for run in runs]
        print_json(payloads[0] if len(payloads) == 1 else {"runs": payloads})
    else:
        import sys

        for i, run in enumerate(runs):
            if len(runs) > 1:
                sys.stdout.write(("\n" if i else "") + f"## {run.dataset}\n\n")
            sys.stdout.write(render_text(run))
        sys.stdout.flush()
    return int(ExitCode.OK)
