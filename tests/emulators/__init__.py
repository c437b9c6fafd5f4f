"""Local emulators of the Anthropic, OpenAI and Gemini HTTP APIs, with fault injection.

They let every test (and the benchmarks) drive the real SDKs over real HTTP on
127.0.0.1 without internet. See ``tests/emulators/README.md``.
"""

from tests.emulators.behaviour import (
    DEFAULT_EXTRACTION,
    SCHEMA_VIOLATION,
    Behaviour,
    RecordedRequest,
)
from tests.emulators.flavours import FLAVOURS
from tests.emulators.server import Emulator

__all__ = [
    "DEFAULT_EXTRACTION",
    "FLAVOURS",
    "SCHEMA_VIOLATION",
    "Behaviour",
    "Emulator",
    "RecordedRequest",
]
