"""``make interop``: the product against independent servers, not only our own emulators.

llama.cpp's ``llama-server`` (built from the source in the ``llama-cpp-python`` sdist)
runs a real small GGUF model from a PyPI package; the LiteLLM proxy sits in front of
it. The CLI (``collabiq llm extract`` / ``llm test``), the three strategies and fault
cases are run through both, each with its own ``COLLABIQ_HOME``; the results table goes
to ``interop/results.md`` + ``results.json`` and the README's "Interoperability" section.

Not part of ``make test`` or CI: it needs a compiler, ~150 MB of downloads and minutes.
"""
