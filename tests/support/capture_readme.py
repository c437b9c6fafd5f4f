"""Run the real commands and paste their output into README.md's example blocks.

    .venv/bin/python tests/support/capture_readme.py          # rewrite README.md
    .venv/bin/python tests/support/capture_readme.py --print  # show the blocks only

Every ``<!-- example:NAME -->`` … ``<!-- /example -->`` block of README.md is
replaced by the command line(s) and what the tool printed (stdout and stderr, as a
terminal shows them). Provider-backed examples run against the local emulators
(``tests.emulators``, started in this process) with realistic latency and token
counts, so ``status`` shows real calls, latency, tokens and cost; the answers come
from the offline extractor reading the email in the request, so they fit the
input. ``run`` and ``python-api`` use no key at all (the offline provider).

Output is made stable enough to commit: a temporary ``COLLABIQ_HOME`` is shown as
``~/.local/state/collabiq``, ``NO_COLOR=1``, ``COLUMNS=120``. Times ("3 s ago"),
latencies and timestamps are whatever the run produced.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from collabiq_llm.email.input import EmailInput  # noqa: E402
from collabiq_llm.providers.offline import extract_offline, load_directory_or_empty  # noqa: E402
from collabiq_llm.settings import default_config_dir  # noqa: E402
from tests.emulators import Behaviour, Emulator, RecordedRequest  # noqa: E402
from tests.emulators.fixtures import env_for  # noqa: E402

README = REPO / "README.md"
SHOWN_HOME = "~/.local/state/collabiq"
BLOCK = re.compile(r"(<!-- example:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /example -->)", re.S)
CUT = 150  # JSONL result lines are shown cut at this many characters

# name -> (flavour, mean latency in seconds, confidence bonus over the offline rules)
PROVIDERS: dict[str, tuple[str, float, float]] = {
    "gemini": ("gemini", 0.45, 0.06),
    "claude": ("anthropic", 0.75, 0.08),
    "openai": ("openai", 0.6, 0.05),
}

PYTHON_API = """\
import datetime as dt

from collabiq_llm import Orchestrator, extract

# one call: the configured providers (here no key is set, so the offline extractor)
result = extract("본봄 x 한빛유통: 오늘 PoC 킥오프 미팅을 진행했습니다. 담당자: 김민수 매니저")
print(result.startup_name, result.partner_org, result.person_in_charge)
print(result.meta.provider, result.meta.strategy, result.meta.degraded)

# an orchestrator: choose the strategy per call, anchor relative dates, read the status
orchestrator = Orchestrator()
text = open("data/samples/ko_pilot_kickoff.eml", encoding="utf-8").read()
result = orchestrator.extract(text, strategy="failover", received_at=dt.date(2025, 11, 2))
print(result.model_dump(mode="json", include={"startup_name", "partner_org", "date"}))
status = orchestrator.get_provider_status()
print(status.strategy, status.primary, status.totals.emails, status.providers["offline"].health)

# from async code (Jupyter, a web handler): await aextract(text), or call extract() as usual
import asyncio

from collabiq_llm import aextract


async def main():
    first = await aextract("오늘 본봄과 한빛유통이 PoC 계약을 체결했습니다. 담당자: 김민수")
    second = extract("오늘 본봄과 한빛유통이 PoC 계약을 체결했습니다.")  # on a worker thread
    print(first.startup_name, second.partner_org)


asyncio.run(main())
"""


@dataclass
class Capture:
    """Runs commands in one COLLABIQ_HOME and renders them as console blocks."""

    home: Path
    env: dict[str, str]
    workdir: Path
    blocks: dict[str, list[str]] = field(default_factory=dict)

    def clean(self, text: str) -> str:
        """Temp paths out, trailing spaces off (Rich pads table rows)."""
        text = text.replace(str(self.home.resolve()), SHOWN_HOME).replace(
            str(self.home), SHOWN_HOME
        )
        text = text.replace(str(self.workdir) + os.sep, "").replace(str(REPO) + os.sep, "")
        text = re.sub(r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:PORT", text)
        return "\n".join(line.rstrip() for line in text.splitlines())

    def run(
        self,
        block: str,
        args: list[str],
        *,
        shown: str | None = None,
        stdin: Path | None = None,
        env: dict[str, str] | None = None,
        cwd: Path = REPO,
        show: Callable[[str], str] | None = None,
    ) -> int:
        """Run ``collabiq ARGS``; add ``$ shown`` and its output to ``block``."""
        proc = subprocess.run(
            [sys.executable, "-m", "collabiq_llm.cli.app", *args],
            stdin=stdin.open("rb") if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # interleaved, as a terminal shows them
            env={**self.env, **(env or {})},
            cwd=cwd,
            timeout=300,
            check=False,
        )
        output = self.clean(proc.stdout.decode("utf-8", "replace"))
        if show is not None:
            output = show(output)
        lines = [f"$ {shown or 'collabiq ' + ' '.join(args)}"]
        if output:
            lines.append(output)
        if proc.returncode:
            lines.append(f"[exit code {proc.returncode}]")
        self.blocks.setdefault(block, []).append("\n".join(lines))
        return proc.returncode

    def add(self, block: str, text: str) -> None:
        self.blocks.setdefault(block, []).append(text)


def _oracle(name: str, bonus: float) -> Callable[[RecordedRequest], Behaviour]:
    """Answer like an LLM would: the offline rules on the email in the prompt, more confident."""
    directory = load_directory_or_empty(default_config_dir() / "companies.toml")
    # the offline extractor loads its Korean analyser (Kiwi) on first use, which takes
    # seconds: do it now, or the first answer's first event arrives past the 1.5 s hang
    # deadline and the README would show healthy providers failing over
    extract_offline(EmailInput(text="본봄 김철수 대표님과 미팅", received_at=None), directory)
    mean = PROVIDERS[name][1]
    rng = random.Random(name)
    lock = threading.Lock()

    def answer(req: RecordedRequest) -> Behaviour:
        text = req.email_text() or ""
        entities = extract_offline(
            EmailInput(text=text, received_at=req.received_date()), directory
        )
        data = entities.model_dump(mode="json", exclude={"email_id", "extracted_at"})
        data["confidence"] = {
            key: round(min(0.98, value + bonus), 2) if value else 0.0
            for key, value in data["confidence"].items()
        }
        prompt = (req.system_prompt() or "") + (req.user_prompt() or "")
        with lock:
            latency = max(0.05, rng.gauss(mean, mean * 0.15))
        usage = (len(prompt) // 2, len(json.dumps(data, ensure_ascii=False)) // 2)
        return Behaviour.ok(data, latency_s=latency, usage=usage)

    return answer


@contextmanager
def emulators() -> Iterator[dict[str, Emulator]]:
    with ExitStack() as stack:
        emus = {
            name: stack.enter_context(
                Emulator(flavour, default=Behaviour.respond(_oracle(name, b)))
            )
            for name, (flavour, _latency, b) in PROVIDERS.items()
        }
        yield emus


def _base_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("COLLABIQ_")
        and not k.endswith(("_API_KEY", "_BASE_URL"))
        and k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "CLICOLOR_FORCE")
    }
    env.update(
        {
            "COLLABIQ_HOME": str(home),
            "NO_COLOR": "1",
            "COLUMNS": "120",
            "PYTHONPATH": str(REPO),
            "TERM": "dumb",
        }
    )
    return env


def _cut_lines(text: str) -> str:
    out = []
    for line in text.splitlines():
        out.append(line if len(line) <= CUT or not line.startswith("{") else line[:CUT] + " …")
    return "\n".join(out)


def capture_offline(root: Path) -> dict[str, list[str]]:
    """``run`` and ``python-api``: a fresh home, no key."""
    home = root / "offline-home"
    cap = Capture(home, _base_env(home), root)
    cap.run(
        "run",
        ["llm", "extract", "--pretty", "data/samples/ko_pilot_kickoff.eml"],
        shown=(
            "make run    # = collabiq llm extract --pretty data/samples/ko_pilot_kickoff.eml;"
            " no key set"
        ),
    )
    proc = subprocess.run(
        [sys.executable, "-c", PYTHON_API],
        capture_output=True,
        env={**cap.env, "COLLABIQ_HOME": str(root / "api-home")},
        cwd=REPO,
        timeout=120,
        check=True,
    )
    output = cap.clean(proc.stdout.decode("utf-8") + proc.stderr.decode("utf-8"))
    cap.add(
        "python-api", f"```python\n{PYTHON_API.rstrip()}\n```\n\nOutput:\n\n```text\n{output}\n```"
    )
    return cap.blocks


def capture_providers(root: Path) -> dict[str, list[str]]:
    """Everything that calls a provider: three emulators, one COLLABIQ_HOME."""
    home = root / "home"
    workdir = root / "work"
    workdir.mkdir()
    with emulators() as emus:
        env = _base_env(home)
        for emu in emus.values():
            env.update(env_for(emu))
        cap = Capture(home, env, workdir)

        cap.run(
            "extract-stdin",
            ["llm", "extract", "--pretty"],
            shown="cat data/samples/mixed_ko_en.txt | collabiq llm extract --pretty",
            stdin=REPO / "data" / "samples" / "mixed_ko_en.txt",
        )

        # a batch; Gemini has two bad moments, Claude answers for it
        rows = [
            {"email_id": "mail-001", "text": _sample("en_partnership.eml")},
            {"email_id": "mail-002", "text": _sample("forwarded_thread.eml")},
            {"email_id": "mail-003", "text": _sample("ko_reply_quoted.eml")},
            '{"email_id": "mail-004", "text": ',
            {"email_id": "mail-005", "text": _sample("html_only_base64.eml")},
            {
                "email_id": "mail-006",
                "text": "본봄 x 한빛유통: 어제 PoC 킥오프 미팅을 진행했습니다. 담당자: 김민수",
                "received_at": "2025-11-04",
            },
        ]
        (workdir / "emails.jsonl").write_text(
            "".join(
                (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                for r in rows
            ),
            encoding="utf-8",
        )
        emus["gemini"].enqueue(
            Behaviour.respond(_oracle("gemini", 0.06)),
            Behaviour.status(503, message="The model is overloaded. Please try again later."),
            Behaviour.respond(_oracle("gemini", 0.06)),
            Behaviour.status(429, retry_after=20, message="Resource has been exhausted."),
        )
        cap.run(
            "jsonl",
            [
                "llm",
                "extract",
                "--jsonl",
                "--concurrency",
                "8",
                "emails.jsonl",
                "--output",
                "results.jsonl",
            ],
            cwd=workdir,
        )
        results = cap.clean((workdir / "results.jsonl").read_text(encoding="utf-8"))
        cap.add(
            "jsonl",
            f"$ cat results.jsonl   # lines cut at {CUT} characters here\n{_cut_lines(results)}",
        )

        cap.run(
            "set-strategy",
            ["llm", "set-strategy", "consensus", "--providers", "claude,gemini,openai"],
        )
        # one consensus email while OpenAI rejects the key: it shows as misconfigured
        emus["openai"].enqueue(
            Behaviour.status(401, message="Incorrect API key provided: sk-proj-********wxyz.")
        )
        _silent(cap, ["llm", "extract", "data/samples/ko_pilot_kickoff.eml"])
        cap.run("set-strategy", ["llm", "set-strategy", "best_match"])
        cap.run("set-strategy", ["llm", "set-strategy", "majority"])
        cap.run(
            "set-strategy",
            ["llm", "set-strategy", "failover", "--providers", "gemini,claude,openai"],
        )

        cap.run("status", ["llm", "status"])
        cap.run("status", ["llm", "status", "--detailed"])
        cap.run("status-json", ["llm", "status", "--json"])

        cap.run("reset", ["llm", "reset", "openai"])
        cap.run("test", ["llm", "test"])
        cap.run("test", ["llm", "test", "claude", "--json"])

        # an outage of every provider, with the offline last resort switched off
        for emu in emus.values():
            emu.set_default(Behaviour.status(503))
        no_last_resort = {"COLLABIQ_OFFLINE_LAST_RESORT": "false"}
        cap.run(
            "dead-letters",
            ["llm", "extract", "data/samples/en_partnership.eml"],
            shown="COLLABIQ_OFFLINE_LAST_RESORT=false "
            "collabiq llm extract data/samples/en_partnership.eml",
            env=no_last_resort,
        )
        cap.run("dead-letters", ["llm", "dead-letters"])
        cap.run("dead-letters", ["llm", "dead-letters", "list", "--json"])
        letter_id = _first_letter(cap)
        cap.run("dead-letters", ["llm", "dead-letters", "show", letter_id])
        # still down, last resort on: the offline answer is degraded, so the letter stays
        cap.run("dead-letters", ["llm", "dead-letters", "replay", letter_id, "--json"])
        for name, emu in emus.items():
            emu.set_default(Behaviour.respond(_oracle(name, PROVIDERS[name][2])))
        cap.run(
            "dead-letters",
            ["llm", "dead-letters", "replay", "--output", "replayed.jsonl"],
            cwd=workdir,
        )
        cap.run("dead-letters", ["llm", "dead-letters"])
        for emu in emus.values():  # one more kept email, to show drop
            emu.set_default(Behaviour.status(503))
        _silent(cap, ["llm", "extract", "data/samples/forwarded_thread.eml"], env=no_last_resort)
        for name, emu in emus.items():
            emu.set_default(Behaviour.respond(_oracle(name, PROVIDERS[name][2])))
        cap.run("dead-letters", ["llm", "dead-letters", "drop", _first_letter(cap)])

        cap.run("costs", ["llm", "costs"])
        cap.run("costs", ["llm", "costs", "--by", "provider"])
        cap.run("costs", ["llm", "costs", "--by", "strategy", "--json"])
        cap.run("metrics", ["llm", "metrics"], show=_metrics_excerpt)
        return cap.blocks


def _first_letter(cap: Capture) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "collabiq_llm.cli.app", "llm", "dead-letters", "--json"],
        capture_output=True,
        env=cap.env,
        cwd=REPO,
        timeout=120,
        check=True,
    )
    return json.loads(proc.stdout)[0]["id"]


def _metrics_excerpt(text: str) -> str:
    """Gemini's lines of each family (the others look the same), cut after the buckets."""
    keep = []
    for line in text.splitlines():
        if line.startswith("#") or 'provider="' not in line or 'provider="gemini"' in line:
            keep.append(line)
    return "\n".join(keep) + "\n# … (the same for claude, openai and offline)"


def capture_operator(root: Path) -> dict[str, list[str]]:
    """A spent budget, the health check, the money and the configuration."""
    home = root / "ops-home"
    workdir = root / "ops-work"
    workdir.mkdir()
    with emulators() as emus:
        env = _base_env(home)
        for emu in emus.values():
            env.update(env_for(emu))
        env["COLLABIQ_PROVIDERS__GEMINI__BUDGET_DAILY_USD"] = "0.001"
        cap = Capture(home, env, workdir)
        cap.run("check", ["llm", "status", "--check"])
        for sample in ("ko_pilot_kickoff.eml", "en_partnership.eml"):
            _silent(cap, ["llm", "extract", f"data/samples/{sample}"])
        _silent(cap, ["llm", "test", "openai"])
        cap.run(
            "check",
            ["llm", "status"],
            shown="collabiq llm status    # with budget_daily_usd = 0.001 for gemini",
        )
        cap.run("check", ["llm", "status", "--check"])
        cap.run("check", ["llm", "status", "--detailed"], show=_money_only)
        _silent(cap, ["llm", "set-strategy", "failover", "--providers", "gemini"])
        cap.run(
            "check",
            ["llm", "extract", "data/samples/ko_reply_quoted.eml"],
            shown="collabiq llm extract data/samples/ko_reply_quoted.eml > /dev/null"
            "    # only gemini in the order",
            show=lambda text: "\n".join(x for x in text.splitlines() if not x.startswith("{")),
        )
        cap.run("manners", ["--version"])
        cap.run("manners", ["llm", "costs", "-h"])
        cap.run(
            "config",
            ["config", "show"],
            env={"COLLABIQ_FAILOVER__HEDGE": "false"},
            shown="COLLABIQ_FAILOVER__HEDGE=false collabiq config show",
            show=_config_excerpt,
        )
        cap.run("config", ["config", "path"])
        cap.run("config", ["config", "path", "--all"])
        return cap.blocks


def _money_only(text: str) -> str:
    lines = text.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("Money"))
    end = next(i for i, x in enumerate(lines) if x.startswith("lifetime "))
    return "\n".join(["…", *lines[start : end + 1], "…"])


def _config_excerpt(text: str) -> str:
    skip = ("prices.", "providers.claude.", "providers.openai.", "providers.offline.")
    lines = [x for x in text.splitlines() if not x.startswith(skip)]
    return "\n".join(lines) + "\n(prices.* and the other providers' lines left out here)"


def _sample(name: str) -> str:
    """A sample email's text as a JSONL ``text`` would carry it (its body, as parsed)."""
    from collabiq_llm.email.parsing import parse_email

    return parse_email((REPO / "data" / "samples" / name).read_bytes()).text


def _silent(cap: Capture, args: list[str], env: dict[str, str] | None = None) -> None:
    """A step the README does not show (it only shapes the state shown next)."""
    subprocess.run(
        [sys.executable, "-m", "collabiq_llm.cli.app", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**cap.env, **(env or {})},
        cwd=REPO,
        timeout=300,
        check=False,
    )


def render(blocks: dict[str, list[str]]) -> dict[str, str]:
    """NAME -> the markdown that goes between the markers."""
    out = {}
    for name, parts in blocks.items():
        if name == "python-api":
            out[name] = "\n".join(parts) + "\n"
        else:
            out[name] = "```console\n" + "\n\n".join(parts) + "\n```\n"
    return out


def rewrite(readme: str, rendered: dict[str, str]) -> str:
    """README text with each known block replaced; unknown or missing names are errors."""
    found = {m.group("name") for m in BLOCK.finditer(readme)}
    missing = sorted(set(rendered) - found)
    if missing:
        raise SystemExit(f"README.md has no block for: {', '.join(missing)}")
    uncaptured = sorted(found - set(rendered))
    if uncaptured:
        raise SystemExit(f"nothing captured for README block(s): {', '.join(uncaptured)}")
    return BLOCK.sub(lambda m: m.group(1) + rendered[m.group("name")] + m.group(4), readme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the blocks, leave README.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="collabiq-readme-") as tmp:
        root = Path(tmp)
        blocks = capture_offline(root)
        blocks.update(capture_providers(root))
        blocks.update(capture_operator(root))
    rendered = render(blocks)
    if args.print:
        for name, text in rendered.items():
            print(f"<!-- example:{name} -->\n{text}<!-- /example -->\n")
        return 0
    README.write_text(rewrite(README.read_text(encoding="utf-8"), rendered), encoding="utf-8")
    print(f"README.md: {len(rendered)} example blocks captured", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
