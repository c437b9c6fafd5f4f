#!/usr/bin/env bash
# Build llama.cpp's llama-server from the source vendored in the llama-cpp-python sdist (PyPI).
# Why the sdist: PyPI is the only source registry reachable here, and it ships llama.cpp whole.
# Cached: does nothing when .tools/llama/bin/llama-server already runs.
set -euo pipefail
TOOLS=${TOOLS:-.tools}
VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-2}
OUT="$TOOLS/llama/bin/llama-server"

if [ -x "$OUT" ] && "$OUT" --version >/dev/null 2>&1; then
  echo "llama-server cached: $OUT"
  exit 0
fi
mkdir -p "$TOOLS/src" "$TOOLS/llama/bin"
SDIST="$TOOLS/src/llama_cpp_python-$VERSION.tar.gz"
if [ ! -f "$SDIST" ]; then
  "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
    "llama-cpp-python==$VERSION" -d "$TOOLS/src"
fi
SRC="$TOOLS/src/llama_cpp_python-$VERSION/vendor/llama.cpp"
if [ ! -f "$SRC/CMakeLists.txt" ]; then
  tar xzf "$SDIST" -C "$TOOLS/src" "llama_cpp_python-$VERSION/vendor/llama.cpp"
fi
BUILD="$TOOLS/src/llama-build"
# GGML_NATIVE=OFF: this CPU advertises AMX but faults on it, so -march=native builds crash.
# nice: the machine is shared; the build takes a while at -j2.
cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_BUILD_SERVER=ON -DBUILD_SHARED_LIBS=OFF
nice -n 10 cmake --build "$BUILD" --target llama-server -j "$JOBS"
cp "$BUILD/bin/llama-server" "$OUT"
"$OUT" --version
