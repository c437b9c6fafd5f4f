"""No SDK loads at start-up; each provider loads only its own SDK, on first use.

Checked in a fresh interpreter, since this test process has imported everything.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulators import Emulator
from tests.emulators.fixtures import DEFAULT_MODELS

ROOT = Path(__file__).resolve().parents[2]
SDKS = ("anthropic", "openai", "google.genai")

SCRIPT = r"""
import asyncio, importlib, json, sys
SDKS = ("anthropic", "openai", "google.genai")
loaded = lambda: [m for m in SDKS if m in sys.modules]
kind, module_name, cls_name, base_url, key, model = sys.argv[1:7]
import collabiq_llm
import collabiq_llm.cli
for optional in ("collabiq_llm.cli.app", "collabiq_llm.cli.llm"):
    try:
        importlib.import_module(optional)
    except ModuleNotFoundError as exc:
        if exc.name != optional:
            raise
at_startup = loaded()
module = importlib.import_module(module_name)
from pydantic import SecretStr
from collabiq_llm.email.input import EmailInput
from collabiq_llm.settings import ProviderConfig
cfg = ProviderConfig(name=kind, kind=kind, model=model, base_url=base_url, timeout_s=5)
provider = getattr(module, cls_name)(cfg, api_key=SecretStr(key))
after_import = loaded()
async def main():
    try:
        return await provider.aextract(EmailInput("어제 본봄 미팅. 담당자: 김철수"))
    finally:
        await provider.aclose()
result = asyncio.run(main())
print(json.dumps({"startup": at_startup, "import": after_import, "call": loaded(),
                  "model": result.model}))
"""

CASES = [
    ("claude", "collabiq_llm.providers.claude", "ClaudeProvider", "anthropic", "anthropic"),
    ("openai", "collabiq_llm.providers.openai", "OpenAIProvider", "openai", "openai"),
    ("gemini", "collabiq_llm.providers.gemini", "GeminiProvider", "gemini", "google.genai"),
]


@pytest.mark.parametrize(
    ("kind", "module", "cls", "flavour", "sdk"), CASES, ids=[c[0] for c in CASES]
)
def test_sdk_is_imported_only_on_first_call(
    kind: str, module: str, cls: str, flavour: str, sdk: str
) -> None:
    with Emulator(flavour) as emu:
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
        env["PYTHONPATH"] = str(ROOT)
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                SCRIPT,
                kind,
                module,
                cls,
                emu.base_url,
                emu.api_key,
                DEFAULT_MODELS[kind],
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["startup"] == [], f"SDK imported at start-up: {seen['startup']}"
    assert seen["import"] == [], f"SDK imported with the provider module: {seen['import']}"
    assert seen["call"] == [sdk], f"first call loaded {seen['call']}, expected only {sdk}"


def test_no_module_level_sdk_imports_in_the_package() -> None:
    pattern = re.compile(
        r"^(import (anthropic|openai)|from (anthropic|openai)( |\.)|from google import genai"
        r"|from google\.genai|import google\.genai)",
        re.MULTILINE,
    )
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "collabiq_llm").rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
