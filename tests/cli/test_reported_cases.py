"""Regression corpus: the cases issue 11 reported (1–4, 6 and 9 are in test_nothing_lost.py;
7–8 in tests/unit/test_dead_letters.py). Each names its case number."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from collabiq_llm.entities import ExtractionResult
from tests.cli.conftest import invoke, run_cli

EMAIL = "어제 본봄과 한빛유통 파일럿 킥오프 미팅을 했습니다. 내일 다시 만납니다. 담당자: 김민수"


@pytest.mark.parametrize("received", ["0001-01-01", "9999-12-31"])
def test_case_10_relative_dates_at_the_calendar_ends(received: str) -> None:
    res = invoke("llm", "extract", "-", "--received-at", received, input=EMAIL)
    assert res.exit_code == 0, res.stderr + res.stdout
    assert ExtractionResult.model_validate_json(res.stdout).meta.provider == "offline"


def test_case_10_date_header_in_year_9999() -> None:
    raw = f"From: a@example.com\nDate: Fri, 31 Dec 9999 23:59:59 -1200\nSubject: s\n\n{EMAIL}\n"
    res = invoke("llm", "extract", "-", input=raw)
    assert res.exit_code == 0, res.stderr + res.stdout


def test_case_11_more_than_200_header_lines() -> None:
    headers = "".join(f"Received: from relay{i}.example.com\n" for i in range(250))
    body = base64.b64encode(EMAIL.encode()).decode()
    raw = (
        "From: a@example.com\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        f"Content-Transfer-Encoding: base64\n{headers}\n{body}\n"
    )
    res = invoke("llm", "extract", "-", input=raw)
    assert res.exit_code == 0, res.stderr
    result = ExtractionResult.model_validate_json(res.stdout)
    assert result.startup_name == "본봄" and "Received" not in result.details


@pytest.mark.parametrize(
    ("setup", "env"),
    [
        ("config", {}),
        ("dotenv", {}),
        ("companies", {}),
        (None, {"COLLABIQ_PRIORITY": "claude"}),
        (None, {"COLLABIQ_PROVIDERS": "{bad"}),
        (None, {"OPENAI_API_KEY": "sk-abc\x01def"}),
    ],
)
def test_case_12_every_configuration_error_is_exit_4(
    setup: str | None, env: dict[str, str], isolated_home: Path, tmp_path: Path
) -> None:
    if setup == "config":
        (isolated_home / "config.toml").write_bytes(b'strategy = "\xff"\n')
    elif setup == "dotenv":
        (isolated_home / ".env").write_bytes(b"OPENAI_API_KEY=\xff\n")
    elif setup == "companies":
        bad = tmp_path / "companies.toml"
        bad.write_bytes(b'[startups]\n"\xff" = 1\n')
        (isolated_home / "config.toml").write_text(f'companies_file = "{bad}"\n', "utf-8")
    res = run_cli("llm", "extract", "-", input=EMAIL, env=env)
    assert (res.exit_code, res.stdout) == (4, ""), res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert "sk-abc" not in res.stderr


def test_case_12_a_corrupt_saved_strategy_is_ignored_and_repairable(isolated_home: Path) -> None:
    assert invoke("llm", "set-strategy", "consensus").exit_code == 0
    path = isolated_home / "llm_health" / "orchestration.json"
    doc = json.loads(path.read_text("utf-8"))
    path.write_text(json.dumps({**doc, "strategy": "majority"}), "utf-8")
    res = invoke("llm", "status", "--json")
    assert res.exit_code == 0 and res.json()["strategy"] == "failover"
    assert "ignoring the saved strategy 'majority'" in res.stderr
    assert invoke("llm", "set-strategy", "best-match").exit_code == 0
    res = invoke("llm", "status", "--json")
    assert res.json()["strategy"] == "best-match" and "ignoring" not in res.stderr


def test_case_13_a_url_password_never_appears() -> None:
    res = invoke("llm", "status", env={"COLLABIQ_STATE_URL": "redis://u:s3cret/PW@host:6379/0"})
    assert res.exit_code == 4
    assert "s3cret" not in res.stderr and "PW" not in res.stderr


def test_case_13_a_key_with_a_trailing_newline_is_stripped(monkeypatch) -> None:
    from collabiq_llm.settings import ProviderConfig, resolve_api_key

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-abcdef123456\r\n")
    key = resolve_api_key(ProviderConfig(kind="openai", model="m", api_key_env=["OPENAI_API_KEY"]))
    assert key is not None and key.get_secret_value() == "sk-test-abcdef123456"


def test_case_14_bom_eval_dir_and_relative_file_url(isolated_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"text": EMAIL}).encode() + b"\n")
    res = invoke("llm", "extract", "--jsonl", str(path))
    assert res.exit_code == 0 and len(res.json_lines()) == 1
    assert invoke("llm", "eval", str(tmp_path)).exit_code == 2
    res = invoke("llm", "status", "--json", env={"COLLABIQ_STATE_URL": "file://shared/state"})
    assert res.exit_code == 0
    assert Path(res.json()["state_dir"].replace("~", str(Path.home()))).is_absolute()


def test_case_14_a_misspelt_key_is_named(isolated_home: Path) -> None:
    (isolated_home / "config.toml").write_text("[breaker]\nfailure_treshold = 3\n", "utf-8")
    res = run_cli("llm", "status")
    assert res.exit_code == 0
    assert "'breaker.failure_treshold'" in res.stderr and "breaker.failure_threshold" in res.stderr


def test_case_2_a_deeply_nested_eml_among_files_stops_nothing(tmp_path: Path) -> None:
    msg = "Content-Type: text/plain\n\nhi"
    for d in range(1_500):
        msg = f"Content-Type: multipart/mixed; boundary=b{d}\n\n--b{d}\n{msg}\n--b{d}--\n"
    deep = tmp_path / "deep.eml"
    deep.write_text("From: a@example.com\nMIME-Version: 1.0\n" + msg, "utf-8")
    ok = tmp_path / "ok.txt"
    ok.write_text(EMAIL, "utf-8")
    res = run_cli("llm", "extract", str(ok), str(deep), str(ok))
    assert res.exit_code == 2 and "Traceback" not in res.stderr
    lines = res.json_lines()
    assert len(lines) == 3 and lines[1]["error_kind"] == "bad_input"
    assert "nested too deeply" in lines[1]["error"]
    assert lines[0]["startup_name"] == lines[2]["startup_name"] == "본봄"
