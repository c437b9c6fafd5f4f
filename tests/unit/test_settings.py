"""Settings resolution: env beats the user's config file beats the shipped defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from collabiq_llm.errors import ConfigurationError
from collabiq_llm.redact import redact
from collabiq_llm.settings import (
    Settings,
    default_config_dir,
    normalise_strategy,
    provider_is_configured,
    resolve_api_key,
)


def write_user_config(home: Path, text: str) -> None:
    (home / "config.toml").write_text(text, encoding="utf-8")


def test_shipped_defaults(isolated_home: Path) -> None:
    s = Settings()
    assert s.home == isolated_home and s.state_dir == isolated_home / "llm_health"
    assert s.strategy == "failover" and s.offline_last_resort
    assert list(s.providers) == ["gemini", "claude", "openai", "offline"]
    assert s.breaker.failure_threshold == 5 and s.breaker.cooldown_s == 60
    assert s.consensus.similarity_threshold == 0.85 and s.consensus.abstain_threshold == 0.25
    assert s.prices["claude-sonnet-4-5"].input == 3.0
    assert s.prices["claude-sonnet-4-5"].output == 15.0
    assert s.providers["claude"].name == "claude"


def test_shipped_file_matches_model_defaults() -> None:
    """config/collabiq.toml documents every default: it must agree with the code's."""
    import tomllib

    shipped = tomllib.loads((default_config_dir() / "collabiq.toml").read_text("utf-8"))
    s = Settings()
    for section in ("breaker", "failover", "consensus", "best_match", "cost"):
        model_defaults = type(getattr(s, section))().model_dump()
        assert shipped[section] == model_defaults, section


def test_file_beats_defaults_and_env_beats_file(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_user_config(
        isolated_home,
        'strategy = "consensus"\n[breaker]\nfailure_threshold = 3\n'
        '[providers.claude]\nmodel = "claude-haiku-4-5"\n',
    )
    s = Settings()
    assert s.strategy == "consensus"
    assert s.breaker.failure_threshold == 3
    assert s.breaker.cooldown_s == 60  # untouched keys keep the default (deep merge)
    assert s.providers["claude"].model == "claude-haiku-4-5"
    assert s.providers["claude"].api_key_env == ["ANTHROPIC_API_KEY"]
    monkeypatch.setenv("COLLABIQ_STRATEGY", "best_match")
    monkeypatch.setenv("COLLABIQ_BREAKER__FAILURE_THRESHOLD", "7")
    s = Settings()
    assert s.strategy == "best-match" and s.breaker.failure_threshold == 7


def test_collabiq_config_env_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "team.toml"
    path.write_text("offline_last_resort = false\n", encoding="utf-8")
    monkeypatch.setenv("COLLABIQ_CONFIG", str(path))
    assert Settings().offline_last_resort is False
    monkeypatch.setenv("COLLABIQ_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigurationError, match="missing file"):
        Settings()


def test_broken_config_file_is_a_configuration_error(isolated_home: Path) -> None:
    write_user_config(isolated_home, "strategy = [unclosed\n")
    with pytest.raises(ConfigurationError, match="cannot read config file"):
        Settings()


def test_strategy_names_and_aliases() -> None:
    assert normalise_strategy("best_match") == "best-match"
    assert normalise_strategy(" Consensus ") == "consensus"
    with pytest.raises(ValueError, match="failover, consensus, best-match"):
        normalise_strategy("random")


def test_keys_from_env_then_dotenv_and_are_redacted(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = Settings()
    claude = s.providers["claude"]
    assert resolve_api_key(claude) is None and not provider_is_configured(claude)
    (tmp_path / ".env").write_text("ANTHROPIC_API_KEY=sk-ant-from-dotenv-0123456789\n")
    key = resolve_api_key(claude)
    assert key is not None and key.get_secret_value() == "sk-ant-from-dotenv-0123456789"
    assert "sk-ant" not in repr(key) and "sk-ant" not in str(key)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "plain-env-secret-value")
    key = resolve_api_key(claude)
    assert key is not None and key.get_secret_value() == "plain-env-secret-value"
    assert redact("failed with plain-env-secret-value") == "failed with [REDACTED]"


def test_google_api_key_wins_over_gemini_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-key-aaaa")
    monkeypatch.setenv("GOOGLE_API_KEY", "google-key-bbbb")
    key = resolve_api_key(Settings().providers["gemini"])
    assert key is not None and key.get_secret_value() == "google-key-bbbb"


def test_offline_and_keyless_endpoints_need_no_key(isolated_home: Path) -> None:
    write_user_config(
        isolated_home,
        '[providers.local]\nkind = "openai"\napi = "chat"\nmodel = "llama3"\n'
        'base_url = "http://127.0.0.1:11434/v1"\nkey_required = false\n',
    )
    s = Settings()
    assert provider_is_configured(s.providers["offline"])
    assert provider_is_configured(s.providers["local"])
    assert s.providers["local"].name == "local"


def test_invalid_values_are_one_line_configuration_errors(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_user_config(isolated_home, 'strategy = "bogus"\n')
    with pytest.raises(ConfigurationError) as info:
        Settings()
    message = str(info.value)
    assert "\n" not in message
    assert "strategy: unknown strategy 'bogus'" in message and "config.toml" in message
    write_user_config(isolated_home, "")
    monkeypatch.setenv("COLLABIQ_BREAKER__COOLDOWN_S", "-5")
    with pytest.raises(ConfigurationError, match=r"breaker\.cooldown_s"):
        Settings()
