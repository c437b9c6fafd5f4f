"""The evaluation runner over the oracle emulators: modes, report shape, isolation of state,
failures scored as wrong, concurrency, and the oracle's invalid/timeout answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from collabiq_llm.entities import FIELD_NAMES
from collabiq_llm.evaluation.dataset import DEFAULT_COMPANIES, EvalExample, load_dataset
from collabiq_llm.evaluation.oracle import NoiseProfile, load_profiles
from collabiq_llm.evaluation.report import EvalRun, render_text
from collabiq_llm.evaluation.runner import (
    EvalRunner,
    compare_modes,
    dataset_companies,
    offline_mode,
    single_mode,
    strategy_mode,
)
from tests.emulators import Behaviour, Emulator
from tests.emulators.fixtures import provider_config_for
from tests.emulators.oracle_mode import OracleFleet, PromptIndex

N = 12
SCALE = 0.002  # simulated latencies ~2-3 ms


@pytest.fixture(scope="module")
def examples() -> list[EvalExample]:
    return load_dataset()[:N]


@pytest.fixture(scope="module")
def fleet(examples: list[EvalExample]) -> Iterator[OracleFleet]:
    with OracleFleet(examples, latency_scale=SCALE, timeout_s=0.5) as running:
        yield running


def _runner(examples: list[EvalExample], fleet: OracleFleet, **kw: object) -> EvalRunner:
    return EvalRunner(
        examples,
        companies_file=DEFAULT_COMPANIES,
        provider_configs=fleet.provider_configs(),
        api_keys=fleet.api_keys(),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def compare_run(examples: list[EvalExample], fleet: OracleFleet) -> EvalRun:
    runner = _runner(examples, fleet, concurrency=6)
    return runner.run(compare_modes(["gemini", "claude", "openai"]))


def test_compare_modes_lists_each_provider_then_strategies_then_offline() -> None:
    names = [m.name for m in compare_modes(["gemini", "claude", "openai"])]
    assert names == [
        "gemini",
        "claude",
        "openai",
        "consensus",
        "consensus-fixed",
        "best-match",
        "offline",
    ]
    voting = compare_modes(["gemini", "claude"], offline_voter=True)
    assert [m.name for m in voting][2:6] == [
        "consensus",
        "consensus-fixed",
        "consensus+offline",
        "consensus+offline-fixed",
    ]
    assert voting[4].providers == ("gemini", "claude", "offline")
    assert [m.learned for m in voting[2:6]] == [True, False, True, False]
    singles = compare_modes(["gemini", "claude"])[:2]
    assert all(m.strategy == "failover" and not m.last_resort for m in singles)
    assert [m.name for m in compare_modes(["claude"])] == ["claude", "offline"]
    assert [m.name for m in compare_modes([])] == ["offline"]
    assert offline_mode().offline_only
    assert strategy_mode("consensus", ["a", "b"], last_resort=True).providers == ("a", "b")
    assert single_mode("x").providers == ("x",)


def test_dataset_companies_is_found_next_to_the_dataset(tmp_path: Path) -> None:
    assert dataset_companies(DEFAULT_COMPANIES.with_name("emails.jsonl")) == DEFAULT_COMPANIES
    assert dataset_companies(tmp_path / "emails.jsonl") is None


def test_compare_run_reports_every_mode_side_by_side(compare_run: EvalRun) -> None:
    assert [m.mode for m in compare_run.modes] == [
        "gemini",
        "claude",
        "openai",
        "consensus",
        "consensus-fixed",
        "best-match",
        "offline",
    ]
    delta = compare_run.learned_vs_fixed["consensus"]
    learned = compare_run.mode("consensus").report.overall_accuracy
    fixed = compare_run.mode("consensus-fixed").report.overall_accuracy
    assert delta == pytest.approx(learned - fixed, abs=1e-4)
    assert compare_run.n_emails == N
    assert compare_run.companies_file == str(DEFAULT_COMPANIES)
    for mode in compare_run.modes:
        report = mode.report
        assert report.n_emails == N
        assert set(report.per_field) == set(FIELD_NAMES)
        assert 0.0 <= report.overall_accuracy <= 1.0
        assert report.latency_ms_p50 is not None and report.latency_ms_p95 is not None
        assert len(report.calibration) == 4
        assert sum(mode.answered_by.values()) + report.n_failed == N
    remote = [m for m in compare_run.modes if m.mode != "offline"]
    assert all((m.report.cost_per_email_usd or 0) > 0 for m in remote)
    assert compare_run.mode("offline").report.cost_per_email_usd == 0
    consensus = compare_run.mode("consensus").report.cost_per_email_usd or 0
    assert consensus > compare_run.mode("gemini").report.cost_per_email_usd  # three calls
    assert compare_run.best_single in ("gemini", "claude", "openai")
    assert set(compare_run.relative_gain) == {"consensus", "consensus-fixed", "best-match"}
    assert EvalRun.model_validate_json(compare_run.model_dump_json()) == compare_run


def test_text_rendering_has_a_column_per_mode_and_the_gain_lines(compare_run: EvalRun) -> None:
    text = render_text(compare_run)
    header = text.splitlines()[0]
    for name in ("gemini", "claude", "openai", "consensus", "best-match", "offline"):
        assert f"| {name} " in header
    for row in ("overall accuracy", "coverage", "calibration", "cost per email", "latency p95"):
        assert row in text
    assert "consensus vs best single provider" in text


def test_oracle_recognises_every_email_the_product_sends(
    compare_run: EvalRun, fleet: OracleFleet
) -> None:
    counts = fleet.answer_counts()
    assert all(c.get("unknown", 0) == 0 for c in counts.values()), counts
    assert all(c.get("ok", 0) >= N for c in counts.values()), counts


def test_prompt_index_finds_cleaned_and_raw_text(examples: list[EvalExample]) -> None:
    from collabiq_llm.evaluation.runner import email_for

    index = PromptIndex(examples)
    for example in examples:
        assert index.find(email_for(example).text) is example
        assert index.find(example.text) is example
    assert index.find("nothing like any email") is None
    assert index.find(None) is None


def test_evaluation_never_writes_production_state(
    examples: list[EvalExample], fleet: OracleFleet, isolated_home: Path, tmp_path: Path
) -> None:
    work = tmp_path / "eval-work"
    work.mkdir()
    mode = strategy_mode("failover", ["gemini", "claude"], last_resort=True)
    run = _runner(examples[:3], fleet, work_dir=work).run([mode])
    assert run.modes[0].report.n_emails == 3
    production = isolated_home / "llm_health"
    assert not production.exists() or not any(production.iterdir())
    assert list(work.iterdir()) == []  # the throw-away state folder is gone


def test_a_failing_provider_alone_is_wrong_on_every_field(examples: list[EvalExample]) -> None:
    # 2 emails x 2 rounds stay under the breaker's 5 failures: an open circuit met between
    # rounds makes failover spin until its deadline (see the report on failover.py)
    with Emulator("anthropic", default=Behaviour.status(503)) as emu:
        runner = EvalRunner(
            examples[:2],
            concurrency=1,
            companies_file=DEFAULT_COMPANIES,
            provider_configs={"claude": provider_config_for(emu, "claude", timeout_s=1.0)},
            api_keys={"claude": emu.api_key},
        )
        result = runner.run([single_mode("claude")]).modes[0]
    assert result.report.n_failed == 2
    assert result.report.overall_accuracy == 0.0
    assert all(s.coverage == 0.0 for s in result.report.per_field.values())
    assert result.answered_by == {}  # no offline last resort in a single-provider mode
    assert result.failures_by_kind == {"server": 2}


def test_emails_run_concurrently(examples: list[EvalExample]) -> None:
    # every request is held until all eight arrived: one after another they never would,
    # the barrier breaks and the emulator answers 500 (a failed email)
    barrier = threading.Barrier(8, timeout=10)

    def held(_req: object) -> Behaviour:
        barrier.wait()
        return Behaviour.ok()

    with Emulator("openai", default=Behaviour.respond(held)) as emu:
        runner = EvalRunner(
            examples[:8],
            companies_file=DEFAULT_COMPANIES,
            concurrency=8,
            provider_configs={"openai": provider_config_for(emu, "openai")},
            api_keys={"openai": emu.api_key},
        )
        run = runner.run([single_mode("openai")])
    assert run.modes[0].report.n_failed == 0 and emu.request_count == 8


def _profile(name: str, **changes: float) -> NoiseProfile:
    return load_profiles()[name].model_copy(update=changes)


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"invalid_rate": 1.0, "timeout_rate": 0.0}, "invalid_output"),
        ({"timeout_rate": 1.0}, "timeout"),
    ],
)
def test_oracle_invalid_and_timeout_answers_fail_the_call(
    examples: list[EvalExample], changes: dict[str, float], kind: str
) -> None:
    profiles = {"claude": _profile("claude", **changes)}
    with OracleFleet(
        examples[:2], profiles=profiles, kinds=("claude",), latency_scale=SCALE, timeout_s=0.3
    ) as one:
        runner = _runner(examples[:2], one)
        result = runner.run([single_mode("claude")]).modes[0]
        counts = one.answer_counts()["claude"]
    assert result.report.n_failed == 2
    assert set(result.failures_by_kind) == {kind}
    if kind == "invalid_output":  # billed but unusable: its cost comes from the ledger
        assert (result.report.cost_per_email_usd or 0) > 0
    assert counts.get("invalid" if kind == "invalid_output" else "timeout", 0) >= 2


def test_fleet_env_points_the_shipped_config_at_the_emulators(fleet: OracleFleet) -> None:
    env = fleet.env()
    assert env["ANTHROPIC_BASE_URL"] == fleet.emulators["claude"].base_url
    assert env["OPENAI_BASE_URL"] == fleet.emulators["openai"].base_url
    assert env["GEMINI_API_KEY"] == fleet.emulators["gemini"].api_key
    assert env["COLLABIQ_PROVIDERS__CLAUDE__TIMEOUT_S"] == "0.5"
    clean = fleet.subprocess_env({"GOOGLE_API_KEY": "real", "PATH": "/bin"})
    assert "GOOGLE_API_KEY" not in clean and clean["PATH"] == "/bin"


def test_dataset_own_org_is_read_next_to_the_dataset(tmp_path: Path) -> None:
    from collabiq_llm.errors import ConfigurationError
    from collabiq_llm.evaluation.runner import dataset_own_org

    dataset = tmp_path / "emails.jsonl"
    assert dataset_own_org(dataset) is None
    (tmp_path / "own_org.toml").write_text('names = ["가나벤처스"]\ndomains = ["gana.example"]\n')
    own = dataset_own_org(dataset)
    assert (
        own is not None and own.is_own("가나벤처스 투자팀") and own.owns_address("a@gana.example")
    )
    (tmp_path / "own_org.toml").write_text("names = 3\n")
    with pytest.raises(ConfigurationError):
        dataset_own_org(dataset)
