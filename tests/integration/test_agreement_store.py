"""Both state backends keep the consensus agreement history the same way (issue 12).

A rolling window (newest ``keep``), oldest first, shared by every process; a corrupt
JSON file is moved aside like every state file; no values, only agreement patterns.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabiq_llm.settings import BreakerSettings
from collabiq_llm.state.api import AgreementRecord
from collabiq_llm.state.json_store import JsonStateStore
from tests.integration.test_store_contract import (  # noqa: F401  (fixtures)
    Make,
    clock,
    make,
    redis_server,
)

T0 = dt.datetime(2025, 11, 2, 9, 0, tzinfo=dt.UTC)


def rec(i: int, providers: tuple[str, ...] = ("gemini", "claude", "openai")) -> AgreementRecord:
    return AgreementRecord(
        at=T0 + dt.timedelta(minutes=i),
        providers=list(providers),
        labels={"person_in_charge": [0, 0, i % 3], "date": [0, 1, 2]},
    )


def test_window_keeps_the_newest_records_oldest_first(make: Make) -> None:  # noqa: F811
    store = make()
    assert store.read_agreements() == []
    for i in range(7):
        store.record_agreement(rec(i), keep=5)
    got = store.read_agreements()
    assert [r.at for r in got] == [rec(i).at for i in range(2, 7)]
    assert got[-1] == rec(6)
    other = make()  # another process sees the same history
    assert other.read_agreements() == got


def test_corrupt_reliability_file_is_moved_aside(tmp_path: Path) -> None:
    folder = tmp_path / "llm_health"
    store = JsonStateStore(folder, BreakerSettings())
    store.record_agreement(rec(0), keep=10)
    (folder / "reliability.json").write_text("{not json", encoding="utf-8")
    assert store.read_agreements() == []
    assert list(folder.glob("reliability.json.corrupt-*"))
    store.record_agreement(rec(1), keep=10)
    assert store.read_agreements() == [rec(1)]


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(
    st.lists(st.integers(0, 50), min_size=1, max_size=30),
    st.integers(1, 10),
)
def test_json_window_never_exceeds_keep(tmp_path_factory, minutes: list[int], keep: int) -> None:
    store = JsonStateStore(tmp_path_factory.mktemp("rel"), BreakerSettings())
    for m in minutes:
        store.record_agreement(rec(m), keep=keep)
    got = store.read_agreements()
    assert len(got) == min(keep, len(minutes))
    assert [r.at for r in got] == [rec(m).at for m in minutes[-keep:]]


@pytest.mark.parametrize("keep", [1, 3])
def test_keep_applies_on_every_backend(make: Make, keep: int) -> None:  # noqa: F811
    store = make()
    for i in range(4):
        store.record_agreement(rec(i), keep=keep)
    assert len(store.read_agreements()) == keep
