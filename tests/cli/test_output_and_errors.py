"""Exit codes, one-line errors (tracebacks only with --debug, never locals), no ANSI off a
terminal or with NO_COLOR, and API keys never printed or stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from collabiq_llm.cli.app import app
from tests.cli.conftest import (
    ANSI,
    SAMPLES,
    Providers,
    cli_command,
    invoke,
    run_cli,
    run_on_terminal,
)
from tests.emulators import Behaviour, RecordedRequest

EMAIL = "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다. 담당자: 김철수 매니저"


# ---- exit codes ------------------------------------------------------------------------------


def test_exit_0_ok_subprocess() -> None:
    res = run_cli("llm", "extract", str(SAMPLES / "ko_pilot_kickoff.eml"))
    assert res.exit_code == 0 and res.stderr == ""


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["llm", "extract", "--bogus"], None, "No such option: --bogus"),
        (["llm", "extract", "missing.eml"], None, "error: file not found: missing.eml"),
        (["llm", "extract"], "   \n", "error: email text is only whitespace"),
        (["llm", "extract", "-"], "x" * 10_001, "error:"),
        (["llm", "extract", "-s", "vote"], EMAIL, "choose one of: failover, consensus, best-match"),
        (["llm", "set-strategy", "vote"], None, "choose one of: failover, consensus, best-match"),
        (["llm", "status", "--detailed", "--jsonn"], None, "No such option"),
    ],
)
def test_exit_2_usage_and_bad_input(args: list[str], stdin: str | None, message: str) -> None:
    res = invoke(*args, input=stdin)
    assert res.exit_code == 2, res.stderr
    assert message in res.stderr
    assert res.stdout == ""
    assert "Traceback" not in res.stderr


def test_exit_2_bad_input_subprocess() -> None:
    res = run_cli("llm", "extract", "-", input="\n\n")
    assert (res.exit_code, res.stdout) == (2, "")
    assert res.stderr == "error: email text is only whitespace\n"


def test_exit_3_dead_lettered_subprocess(providers: Providers) -> None:
    for emu in providers.by_name().values():
        emu.set_default(Behaviour.status(500))
    env = {"COLLABIQ_OFFLINE_LAST_RESORT": "false", "COLLABIQ_PRIORITY": '["openai"]'}
    res = run_cli("llm", "extract", "-", input=EMAIL, env=env)
    assert res.exit_code == 3
    assert '"dead_letter": true' in res.stdout
    assert "kept in" in res.stderr and "Traceback" not in res.stderr


def test_exit_4_provider_named_in_config_has_no_key(isolated_home: Path) -> None:
    (isolated_home / "config.toml").write_text('priority = ["claude", "gemini"]\n', "utf-8")
    res = run_cli("llm", "extract", "-", input=EMAIL)
    assert (res.exit_code, res.stdout) == (4, "")
    assert res.stderr == "error: provider 'claude' is not configured: set ANTHROPIC_API_KEY\n"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("strategy = [not toml", "cannot read config file"),
        (None, "COLLABIQ_CONFIG points at a missing file"),
    ],
)
def test_exit_4_unreadable_config(
    config: str | None, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "custom.toml"
    if config is not None:
        path.write_text(config, "utf-8")
    monkeypatch.setenv("COLLABIQ_CONFIG", str(path))
    res = invoke("llm", "status")
    assert res.exit_code == 4
    assert message in res.stderr and "Traceback" not in res.stderr


def _explode(**_: object) -> int:
    secret_local = "LOCAL-VALUE-THAT-MUST-NOT-SHOW"
    raise RuntimeError(f"disk on fire ({len(secret_local)})")


def test_exit_1_internal_error_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("collabiq_llm.cli.status_cmd.run_status", _explode)
    res = invoke("llm", "status")
    assert res.exit_code == 1
    assert res.stderr == (
        "error: internal error (RuntimeError): disk on fire (30) (run with --debug for details)\n"
    )


def test_debug_shows_traceback_without_locals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("collabiq_llm.cli.status_cmd.run_status", _explode)
    res = invoke("--debug", "llm", "status")
    assert res.exit_code == 1
    assert res.stderr.startswith("Traceback (most recent call last):")
    assert "in _explode" in res.stderr and "RuntimeError: disk on fire" in res.stderr
    assert "LOCAL-VALUE-THAT-MUST-NOT-SHOW" not in res.stderr  # the source line has no value
    assert "secret_local =" in res.stderr or "raise RuntimeError" in res.stderr
    assert res.stderr.rstrip().endswith("error: internal error (RuntimeError): disk on fire (30)")


def test_debug_on_user_error_subprocess() -> None:
    res = run_cli("--debug", "llm", "extract", "nope.eml")
    assert res.exit_code == 2
    assert "Traceback" in res.stderr and "InputError: file not found: nope.eml" in res.stderr
    assert res.stderr.rstrip().endswith("error: file not found: nope.eml")
    plain = run_cli("llm", "extract", "nope.eml")
    assert plain.stderr == "error: file not found: nope.eml\n"


def test_typer_runner_help_lists_commands_and_exit_codes() -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["llm", "--help"])
    assert res.exit_code == 0
    for command in ("extract", "status", "test", "set-strategy", "reset", "dead-letters"):
        assert command in res.stdout
    assert "Exit codes: 0 ok; 1 internal error; 2 usage or bad input" in " ".join(
        res.stdout.split()
    )
    assert runner.invoke(app, ["llm", "dead-letters", "--help"]).exit_code == 0


# ---- no ANSI off a terminal; NO_COLOR on one -------------------------------------------------


def test_no_ansi_when_output_is_not_a_terminal(providers: Providers, tmp_path: Path) -> None:
    providers.openai.set_default(Behaviour.status(401))
    commands: list[tuple[list[str], str | None]] = [
        (["llm", "extract", "-"], EMAIL),
        (["llm", "status"], None),
        (["llm", "status", "--detailed"], None),
        (["llm", "test", "--all"], None),
        (["llm", "set-strategy", "consensus"], None),
        (["llm", "reset", "openai"], None),
        (["llm", "dead-letters"], None),
        (["llm", "extract", "nope.eml"], None),
    ]
    for args, stdin in commands:
        res = invoke(*args, input=stdin)
        assert not ANSI.search(res.stdout + res.stderr), args
    res = run_cli("llm", "status", "--detailed")
    assert res.exit_code == 0 and "LLM providers" in res.stdout
    assert not ANSI.search(res.stdout + res.stderr)


def _on_terminal(*args: str, env: dict[str, str]) -> str:
    """Run collabiq with stdout on a pseudo-terminal; what it drew there."""
    proc, seen = run_on_terminal(
        [*cli_command(), *args],
        {"TERM": "xterm-256color", "COLUMNS": "120", **env},
        stdout=True,
        stderr=False,
    )
    assert proc.returncode == 0, proc.stderr
    return seen.decode("utf-8", "replace")


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    assert invoke("llm", "extract", "-", input=EMAIL).exit_code == 0
    coloured = _on_terminal("llm", "status", env={})
    assert ANSI.search(coloured) and "healthy" in coloured
    plain = _on_terminal("llm", "status", env={"NO_COLOR": "1"})
    assert "healthy" in plain and "LLM providers" in plain
    assert not ANSI.search(plain)  # not even bold


# ---- API keys never appear -------------------------------------------------------------------

SECRET = "collabiq-test-key-6f1d2c3b4a5e"  # no well-known key shape: only registration hides it


def test_api_key_never_in_output_state_or_dead_letters(
    providers: Providers, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    """A wrong key (the emulators' real 401/400), and a provider that echoes the key back."""
    monkeypatch.setenv("COLLABIQ_OFFLINE_LAST_RESORT", "false")
    monkeypatch.setenv("GEMINI_API_KEY", SECRET)  # gemini and claude reject it
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    providers.openai.api_key = SECRET  # openai accepts it, then echoes it in a 401

    def echo_key(req: RecordedRequest) -> Behaviour:
        given = (req.header("authorization") or "").removeprefix("Bearer ")
        return Behaviour.status(401, message=f"key {given} was revoked")

    providers.openai.set_default(Behaviour.respond(echo_key))
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    outputs = [
        invoke("--debug", "llm", "extract", "-", input=EMAIL),
        invoke("--debug", "llm", "extract", "-", "--strategy", "consensus", input=EMAIL + "!"),
        invoke("llm", "test", "--all", "--json"),
        invoke("llm", "test", "--all"),
        invoke("llm", "status", "--json"),
        invoke("llm", "status", "--detailed"),
        invoke("llm", "dead-letters", "list", "--json"),
        invoke("llm", "dead-letters"),
        invoke("--debug", "llm", "dead-letters", "replay"),
    ]
    assert outputs[0].exit_code == 3
    assert providers.openai.request_count >= 1  # the echoing provider was really called
    text = "".join(res.stdout + res.stderr for res in outputs)
    assert "key [REDACTED] was revoked" in text  # the echo happened, and was masked
    assert SECRET not in text
    stored = [p for p in isolated_home.rglob("*") if p.is_file()]
    assert any(p.parent.name == "dead_letters" for p in stored)
    for path in stored:
        assert SECRET not in path.read_text("utf-8", errors="replace"), path
