"""The Python API from async code: ``extract()`` in a running loop, ``aextract("text")``."""

from __future__ import annotations

import asyncio

import pytest

import collabiq_llm
from collabiq_llm import Orchestrator
from collabiq_llm.errors import InputError
from tests.cli.conftest import Providers

EMAIL = "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다. 담당자: 김철수 매니저"


def test_extract_inside_a_running_event_loop_offline() -> None:
    async def notebook_cell():
        return collabiq_llm.extract(EMAIL)  # as in Jupyter: a loop is already running

    result = asyncio.run(notebook_cell())
    assert result.startup_name == "본봄" and result.meta.provider == "offline"


def test_extract_inside_a_running_loop_with_real_sdks(providers: Providers) -> None:
    async def handler():
        return Orchestrator().extract(EMAIL, "failover")

    result = asyncio.run(handler())
    assert result.meta.provider == "gemini" and providers.gemini.request_count == 1


def test_aextract_accepts_text(providers: Providers) -> None:
    async def main():
        orchestrator = Orchestrator()
        try:
            return await orchestrator.aextract(EMAIL)
        finally:
            await orchestrator.aclose()

    result = asyncio.run(main())
    assert result.meta.provider == "gemini" and result.startup_name == "본봄"
    again = asyncio.run(collabiq_llm.aextract(EMAIL))
    assert again.email_id == result.email_id  # same text, same id


@pytest.mark.parametrize("bad", ["", "   \n", 42, None])
def test_aextract_validates_before_any_provider_is_called(providers: Providers, bad) -> None:
    async def main():
        orchestrator = Orchestrator()
        try:
            return await orchestrator.aextract(bad)
        finally:
            await orchestrator.aclose()

    with pytest.raises(InputError):
        asyncio.run(main())
    assert all(emu.request_count == 0 for emu in providers.by_name().values())  # nothing billed
