"""Run one emulator standalone (benchmarks, subprocess tests, manual poking).

    python -m tests.emulators --flavour openai --port 0 --latency-ms 100

The first stdout line is the base URL to give the SDK, the second the API key
it expects; then it serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from tests.emulators.behaviour import Behaviour
from tests.emulators.flavours import FLAVOURS
from tests.emulators.server import Emulator


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.emulators", description=__doc__)
    parser.add_argument("--flavour", choices=FLAVOURS, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    parser.add_argument("--api-key", default=None, help="key to accept (default: built-in)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before each answer")
    parser.add_argument(
        "--status", type=int, default=None, help="answer every request with this error status"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    latency = args.latency_ms / 1000.0
    default = (
        Behaviour.status(args.status, latency_s=latency)
        if args.status
        else Behaviour.ok(latency_s=latency)
    )
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    with Emulator(
        args.flavour, api_key=args.api_key, host=args.host, port=args.port, default=default
    ) as emu:
        print(emu.base_url, flush=True)
        print(emu.api_key, flush=True)
        done.wait()
        print(f"served {emu.request_count} requests", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
