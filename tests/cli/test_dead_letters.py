"""``dead-letters list / show / replay [ID…] / drop``: nothing lost, nothing faked."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from rich.console import Console

from collabiq_llm.cli.dead_letters_cmd import letters_table
from collabiq_llm.dead_letters import DeadLetter, DeadLetterBox
from collabiq_llm.entities import ExtractionResult
from tests.cli.conftest import Providers, invoke
from tests.emulators import Behaviour

EMAIL = "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다. 담당자: 김철수 매니저"
LONG_ERROR = "server (HTTP 503): upstream connect error or disconnect/reset before headers " * 3


def _box(home: Path) -> DeadLetterBox:
    return DeadLetterBox(home / "dead_letters")


def _letter(email_id: str = "em_0123456789abcdef0123", **kw) -> DeadLetter:
    data = {
        "email_id": email_id,
        "text": EMAIL,
        "received_at": dt.date(2025, 11, 4),
        "strategy": "consensus",
        "errors": {"gemini": f"gemini: {LONG_ERROR}", "claude": "claude: timeout after 30 s"},
        "source": "line 1234",
        "failed_at": dt.datetime(2026, 11, 30, 3, 4, 5, tzinfo=dt.UTC),
    }
    return DeadLetter(**{**data, **kw})


def render(table, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, highlight=False)
    console.print(table)
    return console.file.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", [80, 200])
def test_list_table_keeps_full_ids_and_the_errors_column(isolated_home: Path, width: int) -> None:
    box = _box(isolated_home)
    box.put(_letter())
    box.put(_letter("em_fedcba9876543210fedc"))
    pairs = box.entries()
    text = render(letters_table(pairs, width), width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), text
    header = lines[1]
    assert "errors" in header and "failed at" in header
    for letter_id, _ in pairs:
        assert letter_id in text  # never cut: it is what show / replay / drop take
    assert "gemini: server (HTTP" in text
    if width == 80:
        assert "source" not in header  # secondary columns go first
        assert "…" in text  # the error is what gets cut
    else:
        assert {"tries", "source", "strategy"} <= set(header.split())
        assert "line 1234" in text


def test_show_json_and_drop_by_id_prefix_and_email_id(isolated_home: Path) -> None:
    box = _box(isolated_home)
    box.put(_letter())
    box.put(_letter("em_other"))
    (first_id, _), (second_id, _) = box.entries()

    shown = invoke("llm", "dead-letters", "show", first_id)
    assert shown.exit_code == 0, shown.stderr
    assert EMAIL in shown.stdout and "timeout after 30 s" in shown.stdout
    as_json = invoke("llm", "dead-letters", "show", "em_other", "--json").json()
    assert as_json["id"] == second_id and as_json["text"] == EMAIL

    missing = invoke("llm", "dead-letters", "drop", first_id, "nope")
    assert missing.exit_code == 2 and "no dead letter 'nope'" in missing.stderr
    assert len(box.entries()) == 2  # nothing deleted when one id is wrong

    dropped = invoke("llm", "dead-letters", "drop", first_id[:12], "--json")
    assert dropped.exit_code == 0, dropped.stderr
    assert dropped.json() == {"dropped": [first_id]}
    assert [i for i, _ in box.entries()] == [second_id]
    assert invoke("llm", "dead-letters", "show", first_id).exit_code == 2


def test_ambiguous_prefix_is_a_usage_error(isolated_home: Path) -> None:
    box = _box(isolated_home)
    box.put(_letter("em_same_a"))
    box.put(_letter("em_same_b"))
    res = invoke("llm", "dead-letters", "show", "em_same")
    assert res.exit_code == 2 and "matches 2 dead letters" in res.stderr


def test_replay_with_providers_still_down_keeps_the_letter(
    providers: Providers, isolated_home: Path, tmp_path: Path
) -> None:
    """The offline last resort answers, but that is not the real extraction: letter kept."""
    box = _box(isolated_home)
    box.put(_letter(strategy="failover"))
    (letter_id, _) = box.entries()[0]
    for emu in providers.by_name().values():
        emu.set_default(Behaviour.status(503))

    res = invoke("llm", "dead-letters", "replay", "--json")
    assert res.exit_code == 3, res.stderr
    report = res.json()
    assert report["replayed"] == [] and report["results"] == []
    (kept,) = report["kept"]
    assert kept["id"] == letter_id and "degraded" in kept["reason"]
    assert "offline" not in [r["id"] for r in report["replayed"]]
    (_, again) = box.entries()[0]
    assert again.attempts == 2  # the failed replay is counted
    assert again.errors["gemini"].startswith("server: ")  # why, per provider

    # the operator accepts the offline answer explicitly
    out = tmp_path / "replayed.jsonl"
    res = invoke("llm", "dead-letters", "replay", letter_id, "--accept-degraded", "-o", str(out))
    assert res.exit_code == 0, res.stderr
    (line,) = out.read_text("utf-8").splitlines()
    result = ExtractionResult.model_validate_json(line)
    assert result.meta.provider == "offline" and result.meta.degraded
    assert box.entries() == []


def test_replay_uses_the_current_strategy_not_the_stored_one(
    providers: Providers, isolated_home: Path
) -> None:
    box = _box(isolated_home)
    box.put(_letter(strategy="consensus"))
    box.put(_letter("em_untouched"))
    (letter_id, _), (other_id, _) = box.entries()
    res = invoke("llm", "dead-letters", "replay", letter_id, "--json")
    assert res.exit_code == 0, res.stderr
    report = res.json()
    assert report["strategy"] == "failover"  # the configured one, as the README says
    assert [r["id"] for r in report["replayed"]] == [letter_id]
    (result,) = report["results"]
    assert result["meta"]["strategy"] == "failover" and not result["meta"]["degraded"]
    assert [i for i, _ in box.entries()] == [other_id]  # only the named letter replayed

    res = invoke("llm", "dead-letters", "replay", other_id, "--strategy", "best-match", "--json")
    assert res.exit_code == 0, res.stderr
    assert res.json()["results"][0]["meta"]["strategy"] == "best-match"
