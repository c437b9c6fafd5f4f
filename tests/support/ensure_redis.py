"""Make sure a ``redis-server`` binary exists for the fleet-mode (Redis backend) tests.

Run by ``make test`` before pytest. Why a separate step: the Redis tests need a
real server (fakeredis cannot prove cross-process atomicity), and installing a
Debian package is not something a test should do.

* ``redis-server`` on PATH (or in /usr/sbin, /usr/bin): nothing to do.
* missing and running as root with apt-get: ``apt-get update -qq`` and
  ``apt-get install -y -qq redis-server`` (CI is root and apt works, so the Redis
  tests run there). The Debian package starts a system service on port 6379;
  the tests never use it: they start their own server on a free loopback port.
* otherwise: print why and exit 0, so the Redis tests skip with a reason instead
  of failing ``make test``.

Always exits 0: a missing Redis must never break the JSON-backend tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

EXTRA_DIRS = ("/usr/sbin", "/usr/bin", "/usr/local/bin")


def find_redis_server() -> str | None:
    """Path of redis-server, also looking where Debian installs it if PATH lacks it."""
    found = shutil.which("redis-server")
    if found:
        return found
    for folder in EXTRA_DIRS:
        candidate = os.path.join(folder, "redis-server")
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _say(message: str) -> None:
    sys.stderr.write(f"ensure_redis: {message}\n")
    sys.stderr.flush()


def _install() -> bool:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server"],
    ):
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            _say(f"{' '.join(cmd)} failed: {exc}")
            return False
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            _say(f"{' '.join(cmd)} exited {proc.returncode}: {' | '.join(tail)}")
            return False
    return True


def main() -> int:
    found = find_redis_server()
    if found:
        _say(f"redis-server found at {found}")
        return 0
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("apt-get") is None:
        _say(
            "redis-server is not installed and cannot be installed here (needs root and "
            "apt-get); the Redis backend tests will be skipped. Install it with: "
            "sudo apt-get install redis-server"
        )
        return 0
    _say("redis-server not found; installing Debian's redis-server package ...")
    if _install() and find_redis_server():
        _say(f"installed redis-server at {find_redis_server()}")
    else:
        _say("could not install redis-server; the Redis backend tests will be skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
