"""Make the emulator fixtures available to the emulators' own tests."""

from tests.emulators.fixtures import (  # noqa: F401
    anthropic_emulator,
    emulator_factory,
    gemini_emulator,
    openai_emulator,
)
