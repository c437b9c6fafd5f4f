"""``collabiq config show``: every effective setting and the layer it came from.

Layers, highest precedence first (as in the README): ``set-strategy`` (state) >
``COLLABIQ_*`` environment variables > ``.env`` files (``./.env`` over
``$COLLABIQ_HOME/.env``) > your config file > the shipped defaults. API keys are
not settings: they are listed apart, by the variable and file that supplies them,
and never shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

PREFIX = "COLLABIQ_"


class SettingLine(BaseModel):
    key: str  # dotted: breaker.cooldown_s
    value: Any
    # "set-strategy (state)", "env COLLABIQ_X", ".env (cwd)", ".env (home)", "config file",
    # "default" (the shipped config/collabiq.toml) or "built-in" (the code's own default)
    source: str


class KeyLine(BaseModel):
    provider: str
    variables: list[str]
    source: str | None  # "env GEMINI_API_KEY", ".env (home) GEMINI_API_KEY", None: unset
    value: str | None  # masked


class ConfigView(BaseModel):
    config_files: list[str]
    dotenv_files: list[str]
    home: str
    settings: list[SettingLine]
    keys: list[KeyLine]


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"breaker": {"cooldown_s": 60}} -> {"breaker.cooldown_s": 60}; lists are values (pure)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def env_key(name: str) -> str | None:
    """COLLABIQ_BREAKER__COOLDOWN_S -> breaker.cooldown_s (None for COLLABIQ_CONFIG etc.)."""
    if not name.upper().startswith(PREFIX):
        return None
    rest = name[len(PREFIX) :].lower()
    if rest in ("config",):
        return None
    return rest.replace("__", ".")


def source_of(key: str, layers: list[tuple[str, set[str]]]) -> str:
    """The first (highest) layer that sets ``key`` or one of its parents (pure)."""
    parts = key.split(".")
    candidates = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    for name, keys in layers:
        if candidates & keys or any(k.startswith(key + ".") for k in keys):
            return name
    return "built-in"


def mask(value: str) -> str:
    """Never the key itself: only that one is set, and how long it is."""
    return f"set ({len(value)} characters)"


def build_config_view(settings, store=None) -> ConfigView:
    from dotenv import dotenv_values

    from collabiq_llm.settings import _read_toml, config_files, dotenv_files
    from collabiq_llm.state import redact_url

    files = config_files()
    defaults_path, user_path = files[0], files[-1]
    layers: list[tuple[str, set[str]]] = []
    if store is not None:
        orch = store.get_orchestration()
        persisted = set()
        if orch.strategy:
            persisted.add("strategy")
        if orch.providers:
            persisted.add("priority")
        layers.append(("set-strategy (state)", persisted))
    environ = {k: v for k, v in os.environ.items() if k.upper().startswith(PREFIX)}
    layers.append(("env", {k for k in map(env_key, environ) if k}))
    dotenv: dict[str, dict[str, str | None]] = {}
    home_env, cwd_env = dotenv_files()
    for path, name in ((cwd_env, ".env (cwd)"), (home_env, ".env (home)")):  # ./.env wins
        if path.is_file():
            dotenv[name] = dotenv_values(path)
            layers.append((name, {k for k in map(env_key, dotenv[name]) if k}))
    layers.append(("config file", set(flatten(_read_toml(user_path)))))
    layers.append(("default", set(flatten(_read_toml(defaults_path)))))

    effective = flatten(settings.model_dump(mode="json"))
    if store is not None:
        orch = store.get_orchestration()
        if orch.strategy:
            effective["strategy"] = orch.strategy
        if orch.providers:
            effective["priority"] = orch.providers
    if effective.get("state_url"):
        effective["state_url"] = redact_url(effective["state_url"])
    lines = []
    for key in sorted(effective, key=_order):
        source = source_of(key, layers)
        if source == "env":
            var = next(
                (v for v in environ if (env_key(v) or "") in _parents(key)),
                PREFIX + key.upper().replace(".", "__"),
            )
            source = f"env {var}"
        lines.append(SettingLine(key=key, value=effective[key], source=source))
    return ConfigView(
        config_files=[str(p) for p in files],
        dotenv_files=[str(p) for p in dotenv_files()],
        home=str(settings.home),
        settings=lines,
        keys=_keys(settings, dotenv),
    )


def _parents(key: str) -> set[str]:
    parts = key.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def _order(key: str) -> tuple[int, str]:
    top = ("home", "state_url", "strategy", "priority", "offline_last_resort")
    head = key.split(".")[0]
    return (top.index(head) if head in top else len(top), key)


def _keys(settings, dotenv: Mapping[str, Mapping[str, str | None]]) -> list[KeyLine]:
    """Which variable gives each provider its key, from where (the value is never shown)."""
    out = []
    for name, cfg in settings.providers.items():
        if not cfg.api_key_env:
            continue
        source = value = None
        for var in cfg.api_key_env:
            if os.environ.get(var):
                source, value = f"env {var}", os.environ[var]
                break
            found = next(((p, vals[var]) for p, vals in dotenv.items() if vals.get(var)), None)
            if found:
                source, value = f"{found[0]} {var}", found[1]
                break
        out.append(
            KeyLine(
                provider=name,
                variables=list(cfg.api_key_env),
                source=source,
                value=mask(value) if value else None,
            )
        )
    return out


def config_paths(settings) -> dict[str, str]:
    """Where everything lives (``collabiq config path``)."""
    from collabiq_llm.settings import config_files, dotenv_files

    files = config_files()
    return {
        "home": str(settings.home),
        "config": str(files[-1]),
        "defaults": str(files[0]),
        "dotenv_home": str(dotenv_files()[0]),
        "dotenv_cwd": str(Path(dotenv_files()[1]).resolve()),
        "state": str(settings.state_dir),
        "dead_letters": str(settings.home / "dead_letters"),
    }
