"""Suite-wide fixtures: no test touches real state, real keys or the internet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.emulators.fixtures"]

KEY_VARS = (
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "ANTHROPIC_BASE_URL",
    "OPENAI_BASE_URL",
    "GOOGLE_GEMINI_BASE_URL",
    "COLLABIQ_CONFIG",
    "COLLABIQ_STATE_URL",
    "COLLABIQ_STRATEGY",
)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point COLLABIQ_HOME at a temp dir and drop every provider key / base URL."""
    home = tmp_path / "collabiq-home"
    home.mkdir()
    monkeypatch.setenv("COLLABIQ_HOME", str(home))
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # keep a developer's ./.env out of the tests
    yield home
