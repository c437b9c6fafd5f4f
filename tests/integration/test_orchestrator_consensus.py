"""Consensus through the real SDKs over HTTP: three emulated providers that disagree.

Gemini, Claude and OpenAI answer with scripted records (spelling variants, a
conflicting value), time out, or send invalid output; the merged record is
checked field by field (values, supporters, confidence), together with what each
call recorded in the state store. The calls must run in parallel: each emulator
holds its request until all three arrived (a barrier; sequential calls would break
it), so no stopwatch is needed. Clients are warmed up first (one direct call on the
same loop, not recorded).
The company directory of the shipped config (``config/companies.toml``) is in
effect, as in production: aliases of one company count as one value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from collabiq_llm.entities import ExtractionResult
from collabiq_llm.orchestration.consensus import learned_reliability
from collabiq_llm.orchestration.orchestrator import Orchestrator
from collabiq_llm.providers.offline import OfflineProvider
from collabiq_llm.settings import Settings
from tests.emulators import Behaviour, Emulator
from tests.integration.conftest import (
    MODEL_FOR_KIND,
    SAMPLE_EMAIL,
    all_at_once,
    expected_cost,
    orchestrator_for,
    remote,
    run_in_loop,
    timed,
    warm_up,
)

KINDS = ("gemini", "claude", "openai")  # priority order
SHORT_TIMEOUT_S = 0.6  # the timing-out provider's own timeout (consensus waits for it)


def record(
    person: str | None,
    startup: str | None,
    partner: str | None,
    date: str | None,
    details: str,
    conf: float,
    confs: dict[str, float] | None = None,
) -> dict[str, Any]:
    """A model output in the shared schema; every confidence ``conf`` unless in ``confs``."""
    keys = ("person", "startup", "partner", "details", "date")
    return {
        "person_in_charge": person,
        "startup_name": startup,
        "partner_org": partner,
        "details": details,
        "date": date,
        "confidence": {k: conf for k in keys} | (confs or {}),
    }


def _consensus(
    trio: dict[str, Emulator],
    behaviours: dict[str, Behaviour],
    consensus: dict[str, Any] | None = None,
    **timeouts: float,
) -> tuple[Orchestrator, ExtractionResult, float]:
    """Warm up, script each emulator, then run one consensus ``aextract``."""
    providers = [remote(trio[k], timeout_s=timeouts.get(k)) for k in KINDS]
    orch = orchestrator_for(*providers, strategy="consensus", consensus=consensus or {})

    async def body() -> tuple[ExtractionResult, float]:
        await warm_up(*providers)
        gated = all_at_once(behaviours)
        for kind in KINDS:
            trio[kind].reset()
            trio[kind].set_default(gated[kind])
        return await timed(orch.aextract(SAMPLE_EMAIL))

    result, elapsed = run_in_loop(orch, body)
    assert [trio[k].request_count for k in KINDS] == [1, 1, 1]  # one call each, no retries
    return orch, result, elapsed


def test_three_disagreeing_answers_merge_field_by_field_in_parallel(
    trio: dict[str, Emulator],
) -> None:
    """Spelling variants group, the conflicting person/date lose 2:1, details follow the votes."""
    behaviours = {
        "gemini": Behaviour.ok(
            record("김철수", "본봄", "신세계인터내셔널", "2025-11-01", "킥오프 미팅", 0.9),
            latency_s=0.2,
        ),
        "claude": Behaviour.ok(
            record(
                "김철수 매니저님",  # title: same person
                "BONBOM",  # directory alias of 본봄
                "Shinsegae International",  # directory alias of 신세계인터내셔널
                "2025-11-01",
                "신세계인터내셔널과 본봄 파일럿 킥오프, 11월 1주 PoC 시작",
                0.9,
                {"details": 0.95},
            ),
            latency_s=0.3,
        ),
        "openai": Behaviour.ok(
            record(
                "박지민",  # conflicting value
                "본봄컴퍼니",  # generic suffix / alias
                "(주)신세계인터내셔날",  # misspelt: fuzzy directory match
                "2025-11-03",  # conflicting value
                "PoC 일정 논의",
                0.8,
            ),
            latency_s=0.4,
        ),
    }
    orch, result, elapsed = _consensus(trio, behaviours)

    assert elapsed >= 0.4  # waited for the slowest; in parallel (the barrier held)
    assert result.person_in_charge == "김철수"
    assert result.startup_name == "본봄"
    assert result.partner_org == "신세계인터내셔널"
    assert result.date == dt.date(2025, 11, 1)
    # gemini and claude each back 4 fields; claude's details are more confident
    assert result.details == "신세계인터내셔널과 본봄 파일럿 킥오프, 11월 1주 PoC 시작"
    meta = result.meta
    assert meta.strategy == "consensus" and meta.provider == "claude"
    assert not (meta.degraded or meta.fallback_used or meta.hedged)
    assert meta.providers_agreeing == {
        "person_in_charge": ["gemini", "claude"],
        "startup_name": ["gemini", "claude", "openai"],
        "partner_org": ["gemini", "claude", "openai"],
        "date": ["gemini", "claude"],
        "details": ["claude"],
    }
    conf = result.confidence
    # agreement first: 3 of 3 > 2 of 3 (against one dissenter) > a lone value's cap
    assert 0.5 < conf.person < conf.startup <= 1.0
    assert conf.partner == conf.startup
    assert conf.details == pytest.approx(0.95)  # claude backs every voted field

    costs = {k: expected_cost(MODEL_FOR_KIND[k]) for k in KINDS}
    assert {a.provider: a.outcome for a in meta.attempts} == dict.fromkeys(KINDS, "success")
    assert {a.provider: a.cost_usd for a in meta.attempts} == pytest.approx(costs)
    assert (meta.input_tokens, meta.output_tokens) == (360, 120)
    assert meta.cost_usd == pytest.approx(sum(costs.values()))
    snap = orch.store.snapshot()
    for kind in KINDS:
        p = snap.providers[kind]
        assert (p.calls, p.successes, p.failures, p.input_tokens, p.output_tokens) == (
            1,
            1,
            0,
            120,
            40,
        )
        assert p.cost_usd == pytest.approx(costs[kind])
    assert snap.cost_by_strategy["consensus"].emails == 1
    assert snap.total_cost_usd == pytest.approx(sum(costs.values()))


def test_timed_out_provider_is_left_out_and_conflict_goes_to_support(
    trio: dict[str, Emulator],
) -> None:
    """OpenAI never answers (its timeout: 0.6 s): gemini and claude merge."""
    behaviours = {
        "gemini": Behaviour.ok(
            record("김철수", "본봄", "신세계인터내셔널", "2025-11-01", "킥오프", 0.9),
            latency_s=0.2,
        ),
        "claude": Behaviour.ok(
            record(
                "김철수", "본봄", "한빛유통", "2025-11-01", "킥오프 미팅", 0.7, {"person": 0.95}
            ),
            latency_s=0.3,
        ),
        "openai": Behaviour.hang(max_s=10),
    }
    orch, result, elapsed = _consensus(trio, behaviours, openai=SHORT_TIMEOUT_S)

    assert elapsed >= SHORT_TIMEOUT_S  # waited for the timeout, then merged without it
    assert result.partner_org == "신세계인터내셔널"  # self-confidence 0.9 breaks the 1:1 tie
    assert result.person_in_charge == "김철수" and result.startup_name == "본봄"
    assert result.confidence.partner == 0.5  # one provider's word against another's: capped
    meta = result.meta
    assert meta.providers_agreeing is not None
    assert meta.providers_agreeing["partner_org"] == ["gemini"]
    assert meta.providers_agreeing["person_in_charge"] == ["gemini", "claude"]
    assert not meta.degraded  # two answers merged
    attempts = {a.provider: (a.outcome, a.error_kind) for a in meta.attempts}
    assert attempts == {
        "gemini": ("success", None),
        "claude": ("success", None),
        "openai": ("error", "timeout"),
    }
    timeout_attempt = next(a for a in meta.attempts if a.provider == "openai")
    assert timeout_attempt.latency_ms is not None
    assert timeout_attempt.latency_ms >= SHORT_TIMEOUT_S * 1000
    assert (timeout_attempt.input_tokens, timeout_attempt.cost_usd) == (0, 0.0)
    snap = orch.store.snapshot().providers
    assert snap["openai"].failures_by_kind == {"timeout": 1}
    assert snap["openai"].cost_usd == 0.0
    assert snap["gemini"].successes == snap["claude"].successes == 1


def test_invalid_output_is_left_out_and_variants_merge(trio: dict[str, Emulator]) -> None:
    """Gemini's output breaks the schema: claude and openai's spelling variants merge."""
    behaviours = {
        "gemini": Behaviour.schema_violation(),
        "claude": Behaviour.ok(
            record("Kim Chul-soo", "본봄", "신세계인터내셔널", "2025-11-01", "킥오프", 0.9),
            latency_s=0.1,
        ),
        "openai": Behaviour.ok(
            record(
                "Kim Chulsoo", "(주)본봄", "신세계 인터내셔널", None, "미팅", 0.8, {"date": 0.0}
            ),
            latency_s=0.1,
        ),
    }
    orch, result, _ = _consensus(trio, behaviours)

    # Jaro-Winkler groups "kim chul-soo" / "kim chulsoo"; the more confident spelling wins
    assert result.person_in_charge == "Kim Chul-soo"
    assert result.startup_name == "본봄" and result.partner_org == "신세계인터내셔널"
    assert result.date == dt.date(2025, 11, 1)  # the only date given
    meta = result.meta
    assert meta.providers_agreeing is not None
    assert meta.providers_agreeing["person_in_charge"] == ["claude", "openai"]
    assert meta.providers_agreeing["date"] == ["claude"]
    assert meta.provider == "claude" and not meta.degraded
    attempts = {a.provider: (a.outcome, a.error_kind) for a in meta.attempts}
    assert attempts["gemini"] == ("error", "invalid_output")
    snap = orch.store.snapshot().providers
    assert snap["gemini"].failures_by_kind == {"invalid_output": 1}


def test_one_answer_left_is_returned_as_is_marked_degraded(trio: dict[str, Emulator]) -> None:
    """One timeout and one invalid output: the single answer is the result, degraded."""
    behaviours = {
        "gemini": Behaviour.hang(max_s=10),
        "claude": Behaviour.malformed_json("output"),
        "openai": Behaviour.ok(
            record("김철수", "본봄", "신세계인터내셔널", "2025-11-01", "킥오프", 0.9),
            latency_s=0.1,
        ),
    }
    orch, result, elapsed = _consensus(trio, behaviours, gemini=SHORT_TIMEOUT_S)

    assert elapsed >= SHORT_TIMEOUT_S  # the hung call ended by its own timeout
    meta = result.meta
    assert meta.provider == "openai" and meta.degraded and meta.fallback_used
    assert result.person_in_charge == "김철수"
    assert result.confidence.person == pytest.approx(0.9)  # not merged: as answered
    attempts = {a.provider: (a.outcome, a.error_kind) for a in meta.attempts}
    assert attempts == {
        "gemini": ("error", "timeout"),
        "claude": ("error", "invalid_output"),
        "openai": ("success", None),
    }
    # the malformed answer was still billed (a 200 with usage): its cost counts too
    billed = expected_cost(MODEL_FOR_KIND["openai"]) + expected_cost(MODEL_FOR_KIND["claude"])
    assert meta.cost_usd == pytest.approx(billed)
    claude_attempt = next(a for a in meta.attempts if a.provider == "claude")
    assert claude_attempt.input_tokens > 0 and claude_attempt.cost_usd == pytest.approx(
        expected_cost(MODEL_FOR_KIND["claude"])
    )
    (entry,) = orch.store.read_ledger()
    assert entry.strategy == "consensus" and entry.ok
    assert entry.total_cost_usd == pytest.approx(billed)


# ------------------------------------------- knowing when it does not know (issue 12)
ALL_DIFFERENT = {
    "gemini": record("Minsu", "Minsu", "Minsu", "2025-01-01", "junk", 1.0),
    "claude": record("김철수", "본봄", "신세계인터내셔널", "2025-11-01", "킥오프", 0.7),
    "openai": record("이영희", "한빛유통", "롯데", "2025-11-03", "미팅", 0.8),
}


@pytest.mark.parametrize("lone_value", ["cap", "abstain"])
def test_three_providers_that_all_disagree_give_a_degraded_low_confidence_result(
    trio: dict[str, Emulator], lone_value: str
) -> None:
    """The "Minsu" case: a confident junk answer must not win unflagged."""
    behaviours = {k: Behaviour.ok(v, latency_s=0.05) for k, v in ALL_DIFFERENT.items()}
    orch, result, _ = _consensus(trio, behaviours, consensus={"lone_value": lone_value})

    meta = result.meta
    assert meta.strategy == "consensus" and meta.degraded
    assert {a.provider: a.outcome for a in meta.attempts} == dict.fromkeys(KINDS, "success")
    for field in ("person_in_charge", "startup_name", "partner_org", "date"):
        value = getattr(result, field)
        assert value is None or result.field_confidence(field) <= 0.5, field
        if lone_value == "abstain":
            assert value is None and result.field_confidence(field) == 0.0
        assert meta.providers_agreeing is not None
        assert len(meta.providers_agreeing[field]) <= 1  # supporters, per field, in meta
    assert result.confidence.details <= 0.5
    # the disagreement itself is stored: it is what provider reliability is learned from
    (stored,) = orch.store.read_agreements()
    assert stored.providers == list(KINDS)
    assert all(len(set(labels)) == 3 for labels in stored.labels.values())


def test_offline_listed_as_a_voter_votes_with_low_weight(trio: dict[str, Emulator]) -> None:
    """``set-strategy consensus --providers gemini,claude,offline`` keeps offline as a voter:
    here it sides with claude against gemini, so claude's values win with two supporters."""
    providers = [remote(trio[k]) for k in ("gemini", "claude")]
    settings = Settings()
    offline = OfflineProvider(
        settings.provider("offline"), companies_path=settings.companies_path()
    )
    orch = orchestrator_for(*providers, offline, strategy="consensus")
    orch.set_strategy("consensus", ["gemini", "claude", "offline"])
    assert orch.provider_order() == ["gemini", "claude", "offline"]
    assert orch.provider_order("failover") == ["gemini", "claude"]  # last resort there

    async def body() -> ExtractionResult:
        await warm_up(*providers)
        trio["gemini"].set_default(
            Behaviour.ok(record("박지민", "한빛유통", "롯데", "2025-11-03", "미팅", 0.9))
        )
        trio["claude"].set_default(
            Behaviour.ok(record("김철수", "본봄", "신세계인터내셔널", "2025-11-01", "킥오프", 0.6))
        )
        return await orch.aextract(SAMPLE_EMAIL)

    result = run_in_loop(orch, body)
    meta = result.meta
    assert [a.provider for a in meta.attempts] == ["gemini", "claude", "offline"]  # once each
    assert (result.person_in_charge, result.startup_name) == ("김철수", "본봄")
    assert result.date == dt.date(2025, 11, 1)
    assert meta.providers_agreeing is not None
    assert meta.providers_agreeing["startup_name"] == ["claude", "offline"]
    assert not meta.degraded


def test_learned_reliability_comes_from_the_stored_agreement_history(
    trio: dict[str, Emulator],
) -> None:
    """gemini and claude agree on every email, openai never does: after a few emails the
    estimate ranks openai lowest on every field, from agreement alone (no labels)."""
    providers = [remote(trio[k]) for k in KINDS]
    orch = orchestrator_for(*providers, strategy="consensus")
    good = record("김철수", "본봄", "신세계인터내셔널", "2025-11-01", "킥오프", 0.8)
    odd = [
        record(f"사람{i}", f"회사{i}", f"파트너{i}", f"2025-0{i + 1}-15", "?", 0.8)
        for i in range(8)
    ]

    async def body() -> None:
        await warm_up(*providers)
        trio["gemini"].set_default(Behaviour.ok(good))
        trio["claude"].set_default(Behaviour.ok(good))
        for answer in odd:
            trio["openai"].set_default(Behaviour.ok(answer))
            result = await orch.aextract(SAMPLE_EMAIL)
            assert result.person_in_charge == "김철수" and not result.meta.degraded

    run_in_loop(orch, body)
    assert len(orch.store.read_agreements()) == len(odd)
    learned = learned_reliability(orch.store, orch.settings.consensus)
    for field in ("person_in_charge", "startup_name", "partner_org", "date"):
        assert learned.of("openai", field) < learned.of("gemini", field), field
        assert learned.of("gemini", field) == pytest.approx(learned.of("claude", field))
        assert learned.evidence["openai"][field] == len(odd)
