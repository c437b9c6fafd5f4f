"""Issue 12: a 429 with ``retry-after: 120`` on the primary holds for the next cron run.

Each ``collabiq`` below is a fresh interpreter (as cron starts it); the only thing
shared is the state folder. No timing is asserted: what matters is which emulator
was called and what ``status`` reports.
"""

from __future__ import annotations

import datetime as dt

from tests.cli.conftest import Providers, run_cli
from tests.emulators import Behaviour

EMAIL = "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다. 담당자: 김철수"


def test_next_run_skips_a_provider_that_asked_for_quiet_and_status_says_until_when(
    providers: Providers,
) -> None:
    providers.gemini.set_default(Behaviour.status(429, retry_after=120))
    before = dt.datetime.now(dt.UTC)

    first = run_cli("llm", "extract", "-", input=EMAIL, env=providers.env)
    assert first.exit_code == 0, first.stderr
    assert first.json()["meta"]["provider"] == "claude"
    assert providers.gemini.request_count == 1

    second = run_cli("llm", "extract", "-", input=EMAIL, env=providers.env)
    assert second.exit_code == 0, second.stderr
    assert providers.gemini.request_count == 1  # the new process did not call it
    skipped = second.json()["meta"]["attempts"][0]
    assert (skipped["provider"], skipped["outcome"]) == ("gemini", "skipped")
    assert "rate-limited" in skipped["error"]

    status = run_cli("llm", "status", "--json", env=providers.env)
    gem = status.json()["providers"]["gemini"]
    until = dt.datetime.fromisoformat(gem["not_before"])
    assert before + dt.timedelta(seconds=119) <= until <= before + dt.timedelta(seconds=180)
    assert gem["breaker"] == "closed"  # one 429 opens nothing; the wait is separate

    table = run_cli("llm", "status", env={**providers.env, "COLUMNS": "200"})
    assert table.exit_code == 0
    assert "rate-limited" in table.stdout
    assert f"{until:%H:%M:%S} UTC" in table.stdout  # the date only when not today
