"""Where settings and state are read from: plain paths from the environment.

No pydantic here, so the fast status path (:mod:`collabiq_llm.status_fast`) finds
the same files the settings read; :mod:`collabiq_llm.settings` re-exports these.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_config_dir() -> Path:
    """Where the shipped defaults live: inside the wheel, or ``config/`` in a checkout."""
    packaged = Path(__file__).parent / "_config"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "config"


def default_home() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "collabiq"


def resolve_home() -> Path:
    raw = os.environ.get("COLLABIQ_HOME")
    return Path(raw).expanduser() if raw else default_home()


def user_config_path() -> Path:
    raw = os.environ.get("COLLABIQ_CONFIG")
    return Path(raw).expanduser() if raw else resolve_home() / "config.toml"


def dotenv_files() -> tuple[Path, Path]:
    """``.env`` files, lowest precedence first: ``$COLLABIQ_HOME/.env``, then ``./.env``.
    Both settings (``COLLABIQ_*``) and API keys are read from both, the same way."""
    return (resolve_home() / ".env", Path(".env"))
