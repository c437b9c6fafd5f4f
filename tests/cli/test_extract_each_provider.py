"""End to end: `collabiq llm extract` through each provider alone, key and base URL from env."""

from __future__ import annotations

import pytest

from collabiq_llm.entities import ExtractionResult
from tests.cli.conftest import run_cli
from tests.emulators import Emulator
from tests.emulators.fixtures import env_for

EMAIL = (
    "Date: Sun, 02 Nov 2025 10:00:00 +0900\nSubject: 본봄 x 신세계인터내셔널\n\n"
    "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다. 담당자: 김철수\n"
)


@pytest.mark.parametrize(
    ("flavour", "provider"), [("gemini", "gemini"), ("anthropic", "claude"), ("openai", "openai")]
)
def test_extract_through_one_provider(flavour: str, provider: str) -> None:
    with Emulator(flavour) as emu:
        res = run_cli("llm", "extract", "-", input=EMAIL, env=env_for(emu))
        assert res.exit_code == 0, res.stderr
        result = ExtractionResult.model_validate_json(res.stdout)
        assert result.meta.provider == provider and not result.meta.degraded
        assert [a.provider for a in result.meta.attempts] == [provider]
        assert result.meta.input_tokens > 0 and result.meta.cost_usd and result.meta.cost_usd > 0
        assert emu.request_count == 1
        assert emu.api_key not in res.stdout + res.stderr
