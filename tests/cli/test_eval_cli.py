"""``collabiq llm eval`` end to end against the oracle emulators (a simulation), plus its
input errors and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from collabiq_llm.cli.eval_cmd import run_eval
from collabiq_llm.errors import InputError
from collabiq_llm.evaluation.dataset import DEFAULT_DATASET, load_dataset
from tests.emulators.oracle_mode import OracleFleet

CLI = [sys.executable, "-m", "collabiq_llm.cli.app"]
MODES = ["gemini", "claude", "openai", "consensus", "consensus-fixed", "best-match", "offline"]


@pytest.fixture(scope="module")
def fleet() -> Iterator[OracleFleet]:
    with OracleFleet(load_dataset()[:8], latency_scale=0.002, timeout_s=0.5) as running:
        yield running


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "llm", "eval", *args],
        capture_output=True,
        text=True,
        env=env if env is not None else dict(os.environ),
        timeout=50,
    )


def test_compare_json_has_every_mode(fleet: OracleFleet) -> None:
    proc = _cli(
        str(DEFAULT_DATASET), "--compare", "--json", "--limit", "6", env=fleet.subprocess_env()
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [m["mode"] for m in data["modes"]] == MODES
    assert data["n_emails"] == 6
    assert data["companies_file"].endswith("companies.toml")
    for mode in data["modes"]:
        report = mode["report"]
        assert report["n_emails"] == 6
        assert {"per_field", "coverage", "calibration", "latency_ms_p95"} <= set(report)
        assert report["cost_per_email_usd"] is not None
    assert data["best_single"] in MODES[:3]
    assert set(data["relative_gain"]) == {"consensus", "consensus-fixed", "best-match"}
    assert set(data["learned_vs_fixed"]) == {"consensus"}
    for mode in MODES:
        assert f"{mode}: 6 emails" in proc.stderr  # one progress line per mode


def test_default_is_the_active_strategy_and_text_is_a_table(fleet: OracleFleet) -> None:
    env = {**fleet.subprocess_env(), "COLLABIQ_STRATEGY": "best-match"}
    proc = _cli(str(DEFAULT_DATASET), "--limit", "3", env=env)
    assert proc.returncode == 0, proc.stderr
    header = proc.stdout.splitlines()[0]
    assert header == "| figure | best-match |"
    assert "**overall accuracy**" in proc.stdout
    assert "3 emails from" in proc.stdout


def test_strategy_option_runs_that_strategy_in_process(
    fleet: OracleFleet, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in fleet.env().items():
        monkeypatch.setenv(name, value)
    code = run_eval(
        DEFAULT_DATASET, strategy="consensus", compare=False, limit=2, concurrency=2, as_json=True
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert [m["mode"] for m in data["modes"]] == ["consensus", "consensus-fixed"]
    assert data["modes"][0]["providers"] == ["gemini", "claude", "openai"]
    assert set(data["learned_vs_fixed"]) == {"consensus"}


def test_without_keys_only_the_offline_extractor_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code = run_eval(
        DEFAULT_DATASET, strategy=None, compare=True, limit=2, concurrency=2, as_json=True
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert [m["mode"] for m in data["modes"]] == ["offline"]
    assert any("no remote provider" in note for note in data["notes"])


def test_dataset_without_companies_file_scores_with_the_configured_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An outsider's set has no companies.toml: the canonical name the extractor gives a
    company of the configured directory must count as that company, however the label
    spells it (an alias), and a name outside the directory must still count as wrong."""
    from collabiq_llm.settings import default_config_dir

    line = json.loads(DEFAULT_DATASET.read_text("utf-8").splitlines()[0])
    text = "Subject: pilot\n\nWe start the pilot with 본봄 on 2025-11-03. Contact: Jane Kim"
    rows = [
        {
            **line,
            "id": "alias",
            "text": text,
            "tags": [],
            "distractors": {},
            "expected": {**line["expected"], "startup_name": "Bonbom"},
        },
        {
            **line,
            "id": "other",
            "text": text,
            "tags": [],
            "distractors": {},
            "expected": {**line["expected"], "startup_name": "Bonbom Labs"},
        },
    ]
    small = tmp_path / "set.jsonl"
    small.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    assert (
        run_eval(small, strategy=None, compare=False, limit=None, concurrency=1, as_json=True) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["companies_file"] is None and data["n_emails"] == 2
    assert data["scored_with"] == str(default_config_dir() / "companies.toml")
    assert any("configured company directory" in note for note in data["notes"])
    startup = data["modes"][0]["report"]["per_field"]["startup_name"]
    assert startup["correct"] == 1, startup  # "본봄" = "Bonbom"; never = "Bonbom Labs"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strategy": "consensus", "compare": True}, "mutually exclusive"),
        ({"strategy": "fastest"}, "unknown strategy"),
    ],
)
def test_bad_options_are_input_errors(kwargs: dict[str, object], message: str) -> None:
    args = {"strategy": None, "compare": False, "limit": 1, "concurrency": 1, "as_json": False}
    with pytest.raises(InputError, match=message):
        run_eval(DEFAULT_DATASET, **{**args, **kwargs})  # type: ignore[arg-type]


def test_bad_datasets_are_input_errors_naming_the_line(tmp_path: Path) -> None:
    args = {"strategy": None, "compare": False, "limit": None, "concurrency": 1, "as_json": False}
    with pytest.raises(InputError, match="not found"):
        run_eval(tmp_path / "missing.jsonl", **args)  # type: ignore[arg-type]
    broken = tmp_path / "broken.jsonl"
    first = DEFAULT_DATASET.read_text("utf-8").splitlines()[0]
    broken.write_text(first + "\n{not json\n")
    with pytest.raises(InputError, match=r"broken\.jsonl:2"):
        run_eval(broken, **args)  # type: ignore[arg-type]


def test_exit_code_2_for_usage_and_dataset_errors(tmp_path: Path) -> None:
    both = _cli(str(DEFAULT_DATASET), "--compare", "--strategy", "consensus")
    assert both.returncode == 2
    assert "mutually exclusive" in both.stderr
    missing = _cli(str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2
    assert "dataset not found" in missing.stderr


def test_several_sets_are_reported_separately_with_their_own_org(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two sets: one run each (per field and per language); a set's own_org.toml is used."""
    lines = DEFAULT_DATASET.read_text("utf-8").splitlines()
    first, second = tmp_path / "a" / "emails.jsonl", tmp_path / "b" / "emails.jsonl"
    for path, chunk in ((first, lines[:2]), (second, lines[40:43])):
        path.parent.mkdir()
        path.write_text("\n".join(chunk) + "\n", encoding="utf-8")
    (second.parent / "own_org.toml").write_text(
        'names = ["넥스트브릿지벤처스"]\ndomains = ["nextbridge.example"]\n', encoding="utf-8"
    )
    args = {"strategy": None, "compare": False, "limit": None, "concurrency": 1}
    assert run_eval([first, second], **args, as_json=True) == 0  # type: ignore[arg-type]
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["dataset"] for r in runs] == [str(first), str(second)]
    assert [r["n_emails"] for r in runs] == [2, 3]
    for run in runs:
        by_lang = run["modes"][0]["report"]["by_lang"]
        assert sum(g["n_emails"] for g in by_lang.values()) == run["n_emails"]
        assert all(
            set(g["per_field"])
            == {"person_in_charge", "startup_name", "partner_org", "details", "date"}
            for g in by_lang.values()
        )
    assert run_eval([first, second], **args, as_json=False) == 0  # type: ignore[arg-type]
    text = capsys.readouterr().out
    assert f"## {first}" in text and f"## {second}" in text and "overall ·" in text
