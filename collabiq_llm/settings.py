"""Settings: documented defaults (config/collabiq.toml) < user TOML < .env < env vars.

``COLLABIQ_HOME`` is the one folder for user config and state. API keys are read
from the environment (or a ``.env`` file) only when a provider needs them, kept
as ``SecretStr`` and registered for redaction.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from collabiq_llm.api_keys import clean_key
from collabiq_llm.errors import ConfigurationError
from collabiq_llm.paths import (  # noqa: F401  (re-exported)
    default_config_dir,
    default_home,
    dotenv_files,
    resolve_home,
    user_config_path,
)
from collabiq_llm.redact import register_secret
from collabiq_llm.routing import (  # noqa: F401  (re-exported)
    BUILTIN_ORDER,
    STRATEGIES,
    STRATEGY_ALIASES,
    normalise_strategy,
)

ProviderKind = Literal["gemini", "claude", "openai", "offline"]
StructuredOutput = Literal["json_schema", "json_object", "tool", "prompt"]


class ProviderConfig(BaseModel):
    """One provider entry of the config file."""

    name: str = ""
    kind: ProviderKind
    model: str
    api_key_env: list[str] = Field(default_factory=list)
    key_required: bool = True
    base_url: str | None = None
    api: Literal["responses", "chat"] = "responses"
    api_version: str | None = None
    timeout_s: float = Field(30.0, gt=0)
    # stream the answer: a hang is then told from a slow answer by the first event
    stream: bool = True
    # no first event within this many seconds = hung; None = from observed p95 ([failover])
    first_byte_timeout_s: float | None = Field(None, gt=0)
    # how structured output is requested from OpenAI-compatible endpoints (kind "openai")
    structured_output: StructuredOutput = "json_schema"
    max_output_tokens: int = Field(1024, gt=0)
    weight: float = Field(1.0, ge=0)
    enabled: bool = True
    budget_daily_usd: float | None = Field(None, ge=0)
    budget_monthly_usd: float | None = Field(None, ge=0)


class Price(BaseModel):
    """USD per 1 M tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


class BreakerSettings(BaseModel):
    failure_threshold: int = Field(5, ge=1)
    cooldown_s: float = Field(60.0, ge=0)
    auth_cooldown_s: float = Field(3600.0, ge=0)
    half_open_max_probes: int = Field(1, ge=1)
    success_threshold: int = Field(2, ge=1)
    probe_ttl_s: float = Field(60.0, gt=0)


class FailoverSettings(BaseModel):
    deadline_s: float = Field(60.0, gt=0)
    max_rounds: int = Field(2, ge=1)
    hedge: bool = True
    hedge_min_s: float = Field(0.5, ge=0)
    hedge_max_s: float = Field(0.0, ge=0)  # optional cap; 0 = none (follow the p95)
    hedge_default_s: float = Field(1.5, ge=0)  # hedge delay before any latency history
    first_byte_factor: float = Field(3.0, gt=0)  # hung = no first event by factor × p95
    first_byte_floor_s: float = Field(1.0, gt=0)
    first_byte_cap_s: float = Field(10.0, gt=0)
    first_byte_default_s: float = Field(1.5, gt=0)  # before any time-to-first-event history
    hedge_budget: float = Field(0.10, ge=0, le=1)
    hedge_burst: int = Field(10, ge=0)


class ConsensusSettings(BaseModel):
    similarity_threshold: float = Field(0.85, ge=0, le=1)
    abstain_threshold: float = Field(0.25, ge=0, le=1)
    min_agreement: int = Field(2, ge=1)
    lone_value: Literal["cap", "abstain"] = "cap"
    lone_cap: float = Field(0.5, ge=0, le=0.5)
    self_weight: float = Field(0.5, ge=0)
    coincidence: float = Field(0.2, gt=0, lt=1)
    learned_weights: bool = True
    reliability_window: int = Field(500, ge=10)
    reliability_prior: float = Field(0.8, gt=0.5, lt=1)
    reliability_confidence: float = Field(0.95, ge=0, lt=1)


class BestMatchSettings(BaseModel):
    window_s: float = Field(30.0, gt=0)


class OwnOrgSettings(BaseModel):
    """The user's own organisation: never a startup or partner (see companies.OwnOrg)."""

    names: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)


class CostSettings(BaseModel):
    ledger_max_bytes: int = Field(5_000_000, ge=10_000)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"cannot read config file {path}: not UTF-8 (byte 0x{exc.object[exc.start]:02x} "
            f"at offset {exc.start})"
        ) from None
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigurationError(f"cannot read config file {path}: {exc}") from exc


def config_files() -> list[Path]:
    """The TOML files settings are read from, lowest precedence first."""
    user_path = user_config_path()
    if os.environ.get("COLLABIQ_CONFIG") and not user_path.exists():
        raise ConfigurationError(f"COLLABIQ_CONFIG points at a missing file: {user_path}")
    return [default_config_dir() / "collabiq.toml", user_path]


def _known_keys(model: type[BaseModel]) -> dict[str, type[BaseModel] | None]:
    """Field name -> nested settings model (None for a plain value)."""
    nested = {
        "breaker": BreakerSettings,
        "failover": FailoverSettings,
        "consensus": ConsensusSettings,
        "best_match": BestMatchSettings,
        "cost": CostSettings,
    }
    return {name: nested.get(name) if model is Settings else None for name in model.model_fields}


def unknown_keys(config: dict[str, Any]) -> list[tuple[str, str | None]]:
    """Settings in a config file that nothing reads (``failure_treshold``), with the
    closest real name: a misspelt key would otherwise be ignored without a word."""
    import difflib

    found: list[tuple[str, str | None]] = []

    def check(table: dict[str, Any], model: type[BaseModel], prefix: str) -> None:
        known = _known_keys(model)
        for key, value in table.items():
            if key in known:
                sub = known[key]
                if sub is not None and isinstance(value, dict):
                    check(value, sub, f"{prefix}{key}.")
                continue
            close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
            found.append((prefix + key, prefix + close[0] if close else None))

    check(config, Settings, "")
    for name, entry in (config.get("providers") or {}).items():
        if isinstance(entry, dict):
            check(entry, ProviderConfig, f"providers.{name}.")
    return found


_WARNED: set[tuple[str, str]] = set()


def has_unknown_keys() -> bool:
    """Whether the user's config file holds a setting nothing reads (warned on every run)."""
    return bool(unknown_keys(_read_toml(user_config_path())))


def warn_unknown_keys(config: dict[str, Any], where: str) -> None:
    import sys

    for key, guess in unknown_keys(config):
        if (where, key) in _WARNED:
            continue  # Settings is built more than once per process: say it once
        _WARNED.add((where, key))
        hint = f"; did you mean {guess!r}?" if guess else ""
        sys.stderr.write(f"collabiq: warning: {where}: unknown setting {key!r} is ignored{hint}\n")


def _toml_source(settings_cls: type[BaseSettings]) -> PydanticBaseSettingsSource:
    """pydantic-settings' own TOML source over both files, deep-merged (a user file that
    sets one breaker value keeps the other defaults). Each file is checked first, so a
    broken one (bad TOML, not UTF-8, unreadable) is one clear line and exit code 4, and
    a misspelt key in the user's file is warned about by name."""
    files = config_files()
    for path in files[:-1]:
        _read_toml(path)
    warn_unknown_keys(_read_toml(files[-1]), str(files[-1]))
    return TomlConfigSettingsSource(settings_cls, toml_file=files, deep_merge=True)


class Settings(BaseSettings):
    """Everything configurable. Build with ``Settings()``; it reads files and env."""

    model_config = SettingsConfigDict(
        env_prefix="COLLABIQ_",
        env_nested_delimiter="__",
        env_file=".env",  # both files, in fact: see dotenv_files()
        extra="ignore",
    )

    def __init__(self, **values: Any) -> None:
        """Build from files and env; a bad value is a ``ConfigurationError`` (exit code 4)."""
        values.setdefault("_env_file", dotenv_files())
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigurationError(describe_invalid_settings(exc)) from None
        except SettingsError as exc:  # e.g. COLLABIQ_PRIORITY=claude (not a JSON list)
            raise ConfigurationError(
                f"invalid setting: {exc}; list and table values in COLLABIQ_* variables are "
                'JSON, e.g. COLLABIQ_PRIORITY=\'["claude", "gemini"]\''
            ) from None
        except UnicodeDecodeError as exc:  # a .env file that is not UTF-8
            raise ConfigurationError(f"cannot read .env: not UTF-8 ({exc.reason})") from None

    home: Path = Field(default_factory=resolve_home)
    state_url: str | None = None
    strategy: str = "failover"
    priority: list[str] = Field(default_factory=list)
    offline_last_resort: bool = True
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    failover: FailoverSettings = Field(default_factory=FailoverSettings)
    consensus: ConsensusSettings = Field(default_factory=ConsensusSettings)
    best_match: BestMatchSettings = Field(default_factory=BestMatchSettings)
    cost: CostSettings = Field(default_factory=CostSettings)
    prices: dict[str, Price] = Field(default_factory=dict)
    companies_file: Path | None = None
    own_org: OwnOrgSettings = Field(default_factory=OwnOrgSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, _toml_source(settings_cls))

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, value: str) -> str:
        return normalise_strategy(value)

    @field_validator("companies_file")
    @classmethod
    def _companies_readable(cls, value: Path | None) -> Path | None:
        """A companies file that exists must be UTF-8 TOML: found now (exit 4), not per email."""
        if value is not None and value.is_file():
            try:
                tomllib.loads(value.read_bytes().decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise ValueError(f"{value} is not UTF-8 (byte at offset {exc.start})") from None
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"{value} is not valid TOML ({exc})") from None
        return value

    @field_validator("providers")
    @classmethod
    def _names(cls, value: dict[str, ProviderConfig]) -> dict[str, ProviderConfig]:
        for name, cfg in value.items():
            cfg.name = name
        return value

    @property
    def state_dir(self) -> Path:
        """Where the JSON state files live (the plan's ``llm_health`` folder)."""
        return self.home / "llm_health"

    def companies_path(self) -> Path:
        return self.companies_file or default_config_dir() / "companies.toml"

    def provider(self, name: str) -> ProviderConfig:
        try:
            return self.providers[name]
        except KeyError:
            raise ConfigurationError(
                f"unknown provider {name!r}; configured: {', '.join(self.providers)}"
            ) from None


def describe_invalid_settings(exc: ValidationError) -> str:
    """One line naming each bad setting, e.g. "invalid setting breaker.cooldown_s: ..."."""
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "settings"
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    more = f" (and {exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
    return (
        "invalid setting "
        + "; ".join(parts)
        + more
        + f" (check {user_config_path()} and COLLABIQ_* environment variables)"
    )


def _dotenv_values() -> dict[str, str | None]:
    from dotenv import dotenv_values  # pydantic-settings depends on python-dotenv

    values: dict[str, str | None] = {}
    for path in dotenv_files():
        if path.is_file():
            try:
                values.update(dotenv_values(path))
            except UnicodeDecodeError as exc:
                raise ConfigurationError(f"cannot read {path}: not UTF-8 ({exc.reason})") from None
    return values


def resolve_api_key(cfg: ProviderConfig) -> SecretStr | None:
    """The key for a provider: first env var in ``api_key_env`` that is set, then ``.env``."""
    dotenv: dict[str, str | None] | None = None
    for env_name in cfg.api_key_env:
        value = os.environ.get(env_name)
        if not value:
            if dotenv is None:
                dotenv = _dotenv_values()
            value = dotenv.get(env_name) or None
        if value:
            register_secret(value)  # the raw form too: it may already be in an error
            value = clean_key(value, env_name)
            register_secret(value)
            if value:
                return SecretStr(value)
    return None


def provider_is_configured(cfg: ProviderConfig) -> bool:
    """A provider can run if it is enabled and has a key (or needs none)."""
    if not cfg.enabled:
        return False
    if cfg.kind == "offline" or not cfg.key_required:
        return True
    return resolve_api_key(cfg) is not None
