"""Where the harness keeps its tools, models and results (all under the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
LLAMA_SERVER = TOOLS / "llama" / "bin" / "llama-server"
MODELS = TOOLS / "models"
LITELLM_VENV = TOOLS / "litellm-venv"
LITELLM_BIN = LITELLM_VENV / "bin" / "litellm"
UV = TOOLS / "bin" / "uv"
RUN_DIR = TOOLS / "interop-run"  # logs, per-case homes, generated configs (wiped each run)
COLLABIQ = ROOT / ".venv" / "bin" / "collabiq"
RESULTS_MD = Path(__file__).resolve().parent / "results.md"
RESULTS_JSON = Path(__file__).resolve().parent / "results.json"
README = ROOT / "README.md"
EVAL_SET = ROOT / "data" / "eval" / "emails.jsonl"

LITELLM_VERSION = os.environ.get("INTEROP_LITELLM_VERSION", "1.106.12")
"""Newest ``litellm[proxy]`` whose extras resolve on PyPI here (1.108+ pin unpublished
``litellm-proxy-extras`` builds)."""
