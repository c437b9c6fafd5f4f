"""Consensus from the command line (issue 12): disagreement is flagged, offline can vote,
and ``status --detailed`` shows the learned provider reliability."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from collabiq_llm.entities import ExtractionResult
from collabiq_llm.settings import Settings
from collabiq_llm.state.api import AgreementRecord
from collabiq_llm.state.json_store import JsonStateStore
from tests.cli.conftest import SAMPLES, Providers, invoke
from tests.emulators import Behaviour


def answer(person: str, startup: str, partner: str, date: str, conf: float) -> dict:
    keys = ("person", "startup", "partner", "details", "date")
    return {
        "person_in_charge": person,
        "startup_name": startup,
        "partner_org": partner,
        "details": "d",
        "date": date,
        "confidence": dict.fromkeys(keys, conf),
    }


def test_providers_that_all_disagree_give_a_degraded_result_and_a_warning(
    providers: Providers,
) -> None:
    providers.gemini.set_default(Behaviour.ok(answer("Minsu", "Minsu", "Minsu", "2025-01-01", 1.0)))
    providers.claude.set_default(
        Behaviour.ok(answer("김철수", "본봄", "신세계인터내셔널", "2025-11-01", 0.7))
    )
    providers.openai.set_default(
        Behaviour.ok(answer("이영희", "한빛유통", "롯데", "2025-11-03", 0.8))
    )
    res = invoke("llm", "extract", "--strategy", "consensus", str(SAMPLES / "ko_pilot_kickoff.eml"))
    assert res.exit_code == 0, res.stderr
    result = ExtractionResult.model_validate_json(res.stdout)
    assert result.meta.degraded
    assert all(
        getattr(result, f) is None or result.field_confidence(f) <= 0.5
        for f in ("person_in_charge", "startup_name", "partner_org", "date")
    )
    assert "degraded result (3 providers answered but agreed on no field" in res.stderr


def test_set_strategy_consensus_keeps_offline_as_a_voter(providers: Providers) -> None:
    res = invoke("llm", "set-strategy", "consensus", "--providers", "claude,offline", "--json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["providers"] == ["claude", "offline"]
    extract = invoke("llm", "extract", str(SAMPLES / "ko_pilot_kickoff.eml"))
    assert extract.exit_code == 0, extract.stderr
    meta = ExtractionResult.model_validate_json(extract.stdout).meta
    assert [a.provider for a in meta.attempts] == ["claude", "offline"]
    assert meta.strategy == "consensus" and meta.providers_agreeing is not None


def test_status_detailed_shows_learned_reliability() -> None:
    empty = invoke("llm", "status", "--detailed")
    assert "no consensus history yet" in empty.stdout
    settings = Settings()
    store = JsonStateStore(settings.state_dir, settings.breaker)
    at = dt.datetime(2025, 11, 2, tzinfo=dt.UTC)
    for i in range(30):  # gemini and claude agree; openai only now and then
        labels = [0, 0, 0 if i % 3 == 0 else 1]
        store.record_agreement(
            AgreementRecord(
                at=at,
                providers=["gemini", "claude", "openai"],
                labels={f: labels for f in ("person_in_charge", "startup_name", "partner_org")},
            ),
            keep=500,
        )
    res = invoke("llm", "status", "--detailed")
    assert res.exit_code == 0, res.stderr
    assert "Provider reliability" in res.stdout and "30 consensus" in " ".join(res.stdout.split())
    rows = {
        line.split()[0]: line.split()[1:]
        for line in res.stdout.splitlines()
        if line.split()
        and line.split()[0] in ("gemini", "claude", "openai")
        and line.split()[-1] == "30"
    }
    assert set(rows) == {"gemini", "claude", "openai"}
    person = {p: int(cells[0].rstrip("%")) for p, cells in rows.items()}
    assert person["openai"] < person["gemini"] == person["claude"]
    assert Path(settings.state_dir / "reliability.json").is_file()
