"""Run a labelled set through the orchestrator, mode by mode, and score every mode.

Each mode gets its own ``Orchestrator`` with an **isolated** state store in a
temporary folder, so an evaluation can never open a production circuit, skew the
production latency window (hedge delays) or add to the production cost ledger.
Providers come from the normal settings (keys, base URLs, models), so the same
code evaluates real providers or the oracle emulators.

Modes of ``--compare``: every configured remote provider alone (strategy failover,
*no* offline last resort: a failure counts wrong on every field), consensus and
best-match over all of them (last resort as configured), and the offline extractor
alone as a baseline.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from collabiq_llm.companies import OwnOrg
from collabiq_llm.email.input import EmailInput
from collabiq_llm.errors import AllProvidersFailed, ConfigurationError, InputError
from collabiq_llm.evaluation.dataset import EvalExample
from collabiq_llm.evaluation.report import (
    EvalRun,
    ModeResult,
    best_single,
    learned_vs_fixed,
    relative_gains,
)
from collabiq_llm.evaluation.scoring import AliasTable, Prediction, as_prediction, score_results
from collabiq_llm.providers.base import LLMProvider
from collabiq_llm.settings import ProviderConfig, Settings

OFFLINE = "offline"
OFFLINE_DEFAULT = ProviderConfig(name=OFFLINE, kind="offline", model="offline-rules-1")


@dataclass(frozen=True)
class Mode:
    """What to run: a strategy over remote providers (none = the offline extractor alone)."""

    name: str
    strategy: str
    providers: tuple[str, ...]
    last_resort: bool
    label: str
    learned: bool = True  # consensus: learned reliability as vote weights (False: fixed)

    @property
    def offline_only(self) -> bool:
        return not self.providers


def single_mode(provider: str) -> Mode:
    return Mode(provider, "failover", (provider,), False, f"{provider} alone (no last resort)")


def offline_mode() -> Mode:
    return Mode(OFFLINE, OFFLINE, (), False, "offline extractor alone (baseline)")


def strategy_mode(strategy: str, providers: Sequence[str], *, last_resort: bool) -> Mode:
    who = ", ".join(providers) if providers else "offline"
    return Mode(strategy, strategy, tuple(providers), last_resort, f"{strategy} over {who}")


def fixed_weights(mode: Mode) -> Mode:
    """The same consensus with the configured weights only (nothing learned)."""
    return Mode(
        f"{mode.name}-fixed",
        mode.strategy,
        mode.providers,
        mode.last_resort,
        f"{mode.label} (fixed weights)",
        learned=False,
    )


def compare_modes(
    remote: Sequence[str], *, last_resort: bool = True, offline_voter: bool = False
) -> list[Mode]:
    """Each remote provider alone, consensus with learned and with fixed weights (also
    with the offline extractor as a voter, if asked), best-match, offline alone."""
    modes = [single_mode(p) for p in remote]
    if len(remote) >= 2:
        consensus = strategy_mode("consensus", remote, last_resort=last_resort)
        modes += [consensus, fixed_weights(consensus)]
        if offline_voter:
            voting = Mode(
                "consensus+offline",
                "consensus",
                (*remote, OFFLINE),
                last_resort,
                f"consensus over {', '.join(remote)} + offline (voter)",
            )
            modes += [voting, fixed_weights(voting)]
        modes.append(strategy_mode("best-match", remote, last_resort=last_resort))
    return [*modes, offline_mode()]


def dataset_companies(dataset: Path) -> Path | None:
    """The ``companies.toml`` next to a dataset file, if there is one."""
    candidate = dataset.with_name("companies.toml")
    return candidate if candidate.is_file() else None


def dataset_own_org(dataset: Path) -> OwnOrg | None:
    """The receiving organisation of a set: ``own_org.toml`` (``names``, ``domains``) next to
    it, or the ``[own_org]`` table of its ``companies.toml``; None when neither says."""
    import tomllib

    candidate = dataset.with_name("own_org.toml")
    if not candidate.is_file():
        return None
    try:
        with candidate.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read {candidate}: {exc}") from exc
    table = data.get("own_org", data)
    names, domains = table.get("names", []), table.get("domains", [])
    if not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in (names, domains)
    ):
        raise ConfigurationError(f"{candidate}: names and domains must be lists of strings")
    return OwnOrg(tuple(names), tuple(domains))


def email_for(example: EvalExample) -> EmailInput:
    """The ``EmailInput`` the CLI would build for this email (same parsing, same id)."""
    from collabiq_llm.email.parsing import parse_email

    return parse_email(example.text, received_at=example.received_at)


class EvalRunner:
    """Runs modes over a set of examples; ``run(modes)`` returns a scored ``EvalRun``.

    ``provider_configs`` / ``api_keys`` override the settings' providers (tests and
    benchmarks aim them at emulators); by default keys come from the environment.
    """

    def __init__(
        self,
        examples: Sequence[EvalExample],
        *,
        settings: Settings | None = None,
        companies_file: Path | None = None,
        concurrency: int = 8,
        dataset_name: str = "<dataset>",
        work_dir: Path | None = None,
        provider_configs: dict[str, ProviderConfig] | None = None,
        api_keys: dict[str, str] | None = None,
        own_org: OwnOrg | None = None,
    ) -> None:
        if not examples:
            raise InputError("no emails to evaluate")
        if concurrency < 1:
            raise InputError("concurrency must be at least 1")
        self.examples = list(examples)
        base = settings or Settings()
        if provider_configs:
            merged = {**base.providers}
            for name, cfg in provider_configs.items():
                merged[name] = cfg.model_copy(update={"name": name})
            base = base.model_copy(update={"providers": merged})
        self.companies_file = companies_file or base.companies_file
        self.settings = base.model_copy(update={"companies_file": self.companies_file})
        self.concurrency = concurrency
        self.dataset_name = dataset_name
        self.work_dir = work_dir
        self.api_keys = dict(api_keys or {})
        self.own_org = own_org
        # scored with the directory the extraction uses (the set's own, else the configured
        # one): a canonical name for a company the email spells another way is that company
        directory = self.settings.companies_path()
        self.aliases = AliasTable.from_toml(directory) if directory.is_file() else None
        self.on_mode_done: list[Callable[[ModeResult], None]] = []  # e.g. CLI progress lines

    # ---- providers -----------------------------------------------------
    def _company_context(self) -> str | None:
        try:
            from collabiq_llm.companies import load_directory

            return load_directory(self.settings.companies_path()).prompt_context()
        except (ImportError, OSError):
            return None

    def _remote(self, name: str, context: str | None) -> LLMProvider:
        from pydantic import SecretStr

        from collabiq_llm.providers.registry import build_provider, provider_class

        cfg = self.settings.provider(name)
        if cfg.kind == OFFLINE:
            raise ConfigurationError(f"{name!r} is the offline provider, not a remote one")
        if name in self.api_keys:
            key = SecretStr(self.api_keys[name])
            return provider_class(cfg.kind)(cfg, api_key=key, company_context=context)
        return build_provider(cfg, company_context=context)

    def _offline(self) -> LLMProvider:
        from collabiq_llm.providers.offline import OfflineProvider

        cfg = self.settings.providers.get(OFFLINE, OFFLINE_DEFAULT)
        # passed explicitly: built from its config alone it would read the *default*
        # companies file, not the evaluation set's directory
        own = self.own_org
        if own is None:
            own = OwnOrg(tuple(self.settings.own_org.names), tuple(self.settings.own_org.domains))
        return OfflineProvider(cfg, companies_path=self.settings.companies_path(), own_org=own)

    def _providers(self, mode: Mode) -> dict[str, LLMProvider]:
        context = self._company_context()
        providers = {
            name: self._offline() if name == OFFLINE else self._remote(name, context)
            for name in mode.providers
        }
        if mode.offline_only or mode.last_resort:
            providers[OFFLINE] = self._offline()
        for provider in providers.values():  # SDK import outside the measured latencies
            preload = getattr(provider, "preload_sdk", None)
            thread = preload() if preload is not None else None
            if thread is not None:
                thread.join()
        return providers

    # ---- one mode ------------------------------------------------------
    async def _run_mode(self, mode: Mode, folder: Path) -> ModeResult:
        from collabiq_llm.orchestration.orchestrator import Orchestrator
        from collabiq_llm.state import make_store

        settings = self.settings.model_copy(
            update={
                "strategy": "failover" if mode.offline_only else mode.strategy,
                "priority": list(mode.providers),
                "offline_last_resort": mode.last_resort,
                "consensus": self.settings.consensus.model_copy(
                    update={"learned_weights": mode.learned}
                ),
                "state_url": f"file://{folder}",
                "home": folder,
            }
        )
        orchestrator = Orchestrator(
            settings, store=make_store(settings), providers=self._providers(mode)
        )
        strategy = None if mode.offline_only else mode.strategy
        gate = asyncio.Semaphore(self.concurrency)
        answered: collections.Counter[str] = collections.Counter()
        failures: collections.Counter[str] = collections.Counter()
        flags = {"degraded": 0, "hedged": 0}

        async def one(example: EvalExample) -> Prediction:
            async with gate:
                started = time.perf_counter()
                try:
                    result = await orchestrator.aextract(email_for(example), strategy)
                except AllProvidersFailed as exc:
                    for err in exc.failures.values() or [None]:
                        failures[getattr(err, "kind", "unavailable")] += 1
                    return _failed(str(exc), started)
                except InputError as exc:
                    failures["bad_input"] += 1
                    return _failed(str(exc), started)
            meta = result.meta
            answered[meta.provider or "?"] += 1
            flags["degraded"] += bool(meta.degraded)
            flags["hedged"] += bool(meta.hedged)
            return as_prediction(result)

        started = time.perf_counter()
        try:
            predictions = await asyncio.gather(*(one(e) for e in self.examples))
        finally:
            await orchestrator.aclose()
        wall = time.perf_counter() - started
        # a failed email may still have been billed (invalid answers): the ledger knows
        ledger = await asyncio.to_thread(orchestrator.store.read_ledger)
        billed = {entry.email_id: entry.total_cost_usd for entry in ledger}
        for example, prediction in zip(self.examples, predictions, strict=True):
            if prediction.failed:
                prediction.cost_usd = billed.get(example.email_id, 0.0)
        report = score_results(zip(self.examples, predictions, strict=True), aliases=self.aliases)
        return ModeResult(
            mode=mode.name,
            label=mode.label,
            strategy=mode.strategy,
            providers=list(mode.providers) or [OFFLINE],
            last_resort=mode.last_resort,
            wall_s=round(wall, 3),
            emails_per_s=round(len(self.examples) / wall, 2) if wall > 0 else 0.0,
            answered_by=dict(answered),
            degraded=flags["degraded"],
            hedged=flags["hedged"],
            failures_by_kind=dict(failures),
            report=report,
        )

    # ---- a whole run ---------------------------------------------------
    async def arun(self, modes: Sequence[Mode], notes: Sequence[str] = ()) -> EvalRun:
        """Run the modes one after another (they must not compete for the providers)."""
        started_at = dt.datetime.now(dt.UTC)
        t0 = time.perf_counter()
        results: list[ModeResult] = []
        with tempfile.TemporaryDirectory(prefix="collabiq-eval-", dir=self.work_dir) as tmp:
            for i, mode in enumerate(modes):
                result = await self._run_mode(mode, Path(tmp) / f"{i}-{mode.name}")
                results.append(result)
                for callback in self.on_mode_done:
                    callback(result)
        base = best_single(results)
        return EvalRun(
            dataset=self.dataset_name,
            companies_file=str(self.companies_file) if self.companies_file else None,
            scored_with=str(self.settings.companies_path()) if self.aliases else None,
            n_emails=len(self.examples),
            concurrency=self.concurrency,
            started_at=started_at,
            wall_s=round(time.perf_counter() - t0, 3),
            modes=results,
            best_single=base.mode if base else None,
            relative_gain=relative_gains(results, base),
            learned_vs_fixed=learned_vs_fixed(results),
            notes=list(notes),
        )

    def run(self, modes: Sequence[Mode], notes: Sequence[str] = ()) -> EvalRun:
        """Synchronous ``arun``."""
        return asyncio.run(self.arun(modes, notes))


def _failed(error: str, started: float) -> Prediction:
    """A failed email; its cost is filled in from the mode's ledger afterwards."""
    latency = (time.perf_counter() - started) * 1000.0
    return Prediction.failure(error[:300], latency_ms=round(latency, 2), cost_usd=0.0)


__all__ = [
    "EvalRunner",
    "Mode",
    "compare_modes",
    "dataset_companies",
    "dataset_own_org",
    "email_for",
    "fixed_weights",
    "offline_mode",
    "single_mode",
    "strategy_mode",
]
