"""The labelled evaluation set is big enough, valid, varied and labelled consistently."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from collabiq_llm.evaluation.dataset import (
    DEFAULT_COMPANIES,
    DEFAULT_DATASET,
    DatasetError,
    EvalExample,
    load_dataset,
    parse_lines,
)
from collabiq_llm.evaluation.scoring import AliasTable

REQUIRED_TAGS = {
    "relative-date",
    "forwarded",
    "injection",
    "lookalike",
    "missing-person",
    "missing-partner",
    "missing-date",
    "quoted-reply",
    "affix",
}


@pytest.fixture(scope="module")
def examples() -> list[EvalExample]:
    return load_dataset(DEFAULT_DATASET)


def test_size_and_every_line_valid(examples: list[EvalExample]) -> None:
    lines = [ln for ln in DEFAULT_DATASET.read_text(encoding="utf-8").splitlines() if ln.strip()]
    assert len(examples) == len(lines) >= 120
    assert len({e.id for e in examples}) == len(examples)
    assert len({e.email_id for e in examples}) == len(examples), "two emails with the same text"


def test_language_mix(examples: list[EvalExample]) -> None:
    share = {k: v / len(examples) for k, v in Counter(e.lang for e in examples).items()}
    assert 0.4 <= share["ko"] <= 0.6
    assert 0.2 <= share["en"] <= 0.3
    assert 0.2 <= share["mixed"] <= 0.3


def test_required_tags_and_difficulties_present(examples: list[EvalExample]) -> None:
    tags = Counter(t for e in examples for t in e.tags)
    missing = REQUIRED_TAGS - set(tags)
    assert not missing
    assert all(tags[t] >= 3 for t in REQUIRED_TAGS), tags
    assert {e.difficulty for e in examples} == {"easy", "medium", "hard"}


def test_expected_dates_are_iso_strings_in_the_file() -> None:
    for line in DEFAULT_DATASET.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        for value in (row["received_at"], row["expected"]["date"]):
            if value is not None:
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), value
                dt.date.fromisoformat(value)


def test_relative_dates_mostly_differ_from_the_received_date(examples: list[EvalExample]) -> None:
    rel = [e for e in examples if "relative-date" in e.tags and e.expected.date is not None]
    assert len(rel) >= 30
    differing = sum(e.expected.date != e.received_at for e in rel)
    assert differing / len(rel) >= 0.9
    # and they stay near the email (a label off by months would be a generator bug)
    assert all(abs((e.expected.date - e.received_at).days) <= 21 for e in rel)


def test_labels_are_grounded_in_the_text(examples: list[EvalExample]) -> None:
    for e in examples:
        assert e.expected.details in e.text, e.id
        for value in (e.expected.person_in_charge, e.expected.startup_name, e.expected.partner_org):
            assert value is None or value in e.text, (e.id, value)
        assert len(e.text) <= 10_000
        assert e.text.count("\n") >= 4, f"{e.id}: an email has header lines and a body"


def test_missing_field_tags_match_nulls(examples: list[EvalExample]) -> None:
    for e in examples:
        assert ("missing-person" in e.tags) == (e.expected.person_in_charge is None), e.id
        assert ("missing-partner" in e.tags) == (e.expected.partner_org is None), e.id
        assert ("missing-date" in e.tags) == (e.expected.date is None), e.id


def test_injection_truth_is_the_real_collaboration(examples: list[EvalExample]) -> None:
    injected = [e for e in examples if "injection" in e.tags]
    assert len(injected) >= 6
    bait = {
        "ACME Corp",
        "Evil Inc",
        "홍길동",
        "테스트",
        "OpenAI",
        "Administrator",
        "Kim Admin",
        "해커스",
        "관리자",
        "NextBridge",
        "넥스트브릿지벤처스",
    }
    for e in injected:
        assert re.search(r"(?i)ignore|무시|disregard|override|폐기", e.text), e.id
        values = {e.expected.person_in_charge, e.expected.startup_name, e.expected.partner_org}
        assert not values & bait, e.id
        assert e.expected.date is not None and e.expected.date.year == 2025


def test_lookalike_pairs_are_distinct_entities_in_the_set(examples: list[EvalExample]) -> None:
    startups = {e.expected.startup_name for e in examples}
    partners = {e.expected.partner_org for e in examples}
    assert {"본봄", "본봄랩스"} <= startups or {"다온", "다온바이오"} <= startups
    assert any(
        {a, b} <= partners
        for a, b in [
            ("중앙푸드", "중앙푸드서비스"),
            ("누리에너지", "누리에너지솔루션"),
            ("한결유통", "한결유통인터내셔널"),
        ]
    )
    assert sum("lookalike-in-text" in e.tags for e in examples) >= 3


def test_companies_file_covers_every_expected_company(examples: list[EvalExample]) -> None:
    table = AliasTable.from_toml(DEFAULT_COMPANIES)
    for e in examples:
        for value in (e.expected.startup_name, e.expected.partner_org):
            if value is not None:
                assert table.canonical(value) is not None, (e.id, value)
    assert table.canonical("Bonbom") == "본봄"
    assert table.canonical("Bonbom Labs") == "본봄랩스"


def test_companies_file_loads_with_the_product_directory() -> None:
    companies = pytest.importorskip("collabiq_llm.companies")
    directory = companies.load_directory(DEFAULT_COMPANIES)
    assert len(directory) >= 40


# ------------------------------------------------------------------ loader errors
GOOD = {
    "id": "x-1",
    "lang": "ko",
    "received_at": "2025-11-02",
    "text": "어제 미팅",
    "tags": [],
    "difficulty": "easy",
    "expected": {
        "person_in_charge": None,
        "startup_name": "본봄",
        "partner_org": None,
        "details": "미팅",
        "date": "2025-11-01",
    },
}


def _line(**changes: object) -> str:
    row = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if key.startswith("expected_"):
            row["expected"][key.removeprefix("expected_")] = value
        else:
            row[key] = value
    return json.dumps(row, ensure_ascii=False)


def test_parse_lines_accepts_good_lines_and_blank_lines() -> None:
    rows = parse_lines([_line(), "", _line(id="x-2")])
    assert [r.id for r in rows] == ["x-1", "x-2"]
    assert rows[0].expected.value("date") == "2025-11-01"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (_line(lang="fr"), "lang"),
        (_line(expected_date="2025/11/01"), "expected.date"),
        (_line(expected_details=""), "expected.details"),
        (_line(difficulty="trivial"), "difficulty"),
        (_line(extra_key=1), "extra_key"),
    ],
)
def test_bad_lines_name_the_line_and_problem(line: str, message: str) -> None:
    with pytest.raises(DatasetError) as info:
        parse_lines([_line(id="ok-1"), line], "set.jsonl")
    assert "set.jsonl:2" in str(info.value)
    assert message in str(info.value)


def test_duplicate_ids_and_missing_or_empty_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="duplicate id"):
        parse_lines([_line(), _line()])
    with pytest.raises(DatasetError, match="not found"):
        load_dataset(tmp_path / "nope.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="no examples"):
        load_dataset(empty)
