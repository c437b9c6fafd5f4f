"""Hostile state files: status and extraction keep working, whatever the files hold."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from collabiq_llm.email.input import EmailInput
from collabiq_llm.orchestration.orchestrator import Orchestrator
from tests.property.strategies import json_value

FILES = ("health.json", "costs.json", "orchestration.json")

state_content = st.one_of(
    st.binary(max_size=60),
    json_value.map(lambda v: json.dumps(v).encode()),
    st.builds(
        lambda strategy, providers: json.dumps(
            {"schema": 1, "strategy": strategy, "providers": providers}
        ).encode(),
        st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["majority", "consensus"])),
        st.one_of(st.none(), st.lists(st.text(max_size=8), max_size=3), st.just(["offline"])),
    ),
    st.just(b'{"schema": 99}'),
    st.just(b'{"schema": 1, "providers": {"gemini": {"calls": -1, "breaker": "exploded"}}}'),
)


@settings(max_examples=25)
@given(contents=st.fixed_dictionaries({name: state_content for name in FILES}))
def test_status_and_extract_survive_any_state_file(
    contents: dict[str, bytes], isolated_home: Path
) -> None:
    folder = isolated_home / "llm_health"
    folder.mkdir(exist_ok=True)
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    orchestrator = Orchestrator()
    status = orchestrator.get_provider_status()
    assert status.strategy in ("failover", "consensus", "best-match")

    async def go():
        try:
            return await orchestrator.aextract(
                EmailInput("본봄 x 한빛유통 킥오프 미팅. 담당자: 김민수")
            )
        finally:
            await orchestrator.aclose()

    result = asyncio.run(go())
    assert result.meta.provider == "offline"
