"""The independent servers: llama.cpp's llama-server and the LiteLLM proxy in front."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from interop.paths import LITELLM_BIN, LLAMA_SERVER
from interop.procs import Server, free_port

MODEL_ALIAS = "smollm2"  # the name clients send; llama-server serves whatever it loaded
GATEWAY_KEY = "sk-interop-" + secrets.token_hex(16)
"""LiteLLM refuses to start without a master key; a fresh one per run, loopback only."""


def llama_server(model: Path, run_dir: Path, name: str = "llama-server") -> Server:
    """One llama-server on a free port: 2 slots (consensus / hedges send 2 at once).

    ``-t 1``: the machine has 2 cores shared by several engineers; with 2 threads the
    generation rate fell 5× (1.9 vs 10 tokens/s, measured under load 18): threads spin
    at every barrier while the other core is taken.
    """
    port = free_port()
    argv = [str(LLAMA_SERVER), "-m", str(model), "--host", "127.0.0.1", "--port", str(port)]
    argv += ["-c", "8192", "-np", "2", "-t", "1", "--alias", MODEL_ALIAS, "--jinja"]
    return Server(name=name, argv=argv, port=port, log=run_dir / f"{name}.log")


@dataclass(frozen=True)
class Upstream:
    """One OpenAI-compatible server LiteLLM routes a public model name to."""

    base_url: str  # ending in /v1
    api_key: str
    model: str


def litellm_config(models: dict[str, Upstream]) -> dict[str, object]:
    """LiteLLM proxy config: public model name -> the upstream that serves it.

    ``num_retries: 0`` so a 429 / outage reaches the client as the upstream sent it
    (the product's orchestrator owns retries); no database.
    """
    model_list = [
        {
            "model_name": public,
            "litellm_params": {
                "model": f"openai/{up.model}",
                "api_base": up.base_url,
                "api_key": up.api_key,
                "num_retries": 0,
            },
        }
        for public, up in models.items()
    ]
    return {
        "model_list": model_list,
        "litellm_settings": {"num_retries": 0, "request_timeout": 300, "drop_params": True},
        "router_settings": {"num_retries": 0, "allowed_fails": 1000, "cooldown_time": 0},
    }


def litellm_proxy(models: dict[str, Upstream], run_dir: Path) -> Server:
    """The LiteLLM proxy with the offline cost map (it would fetch prices otherwise)."""
    port = free_port()
    config = run_dir / "litellm.json"  # YAML is a superset of JSON
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps(litellm_config(models), indent=2), encoding="utf-8")
    argv = [str(LITELLM_BIN), "--config", str(config), "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--num_workers", "1"]
    env = {
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_MASTER_KEY": GATEWAY_KEY,
        "LITELLM_TELEMETRY": "False",
        "DISABLE_SCHEMA_UPDATE": "True",
        "LITELLM_LOG": "ERROR",
    }
    return Server(
        name="litellm",
        argv=argv,
        port=port,
        log=run_dir / "litellm.log",
        health_path="/health/liveliness",
        env=env,
    )
