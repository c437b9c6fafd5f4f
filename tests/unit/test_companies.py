"""The company directory: loading, normalisation, fuzzy matching, finding names in text."""

from __future__ import annotations

from pathlib import Path

import pytest

from collabiq_llm.companies import (
    Company,
    CompanyDirectory,
    load_directory,
    normalise_org_name,
    org_key,
)
from collabiq_llm.errors import ConfigurationError
from collabiq_llm.settings import Settings

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "companies.toml"


@pytest.fixture(scope="module")
def directory() -> CompanyDirectory:
    return load_directory(SHIPPED)


def test_shipped_file_is_the_default_and_well_formed(directory: CompanyDirectory) -> None:
    assert Settings().companies_path().resolve() == SHIPPED
    kinds = [c.kind for c in directory.companies]
    assert kinds.count("startup") >= 20 and kinds.count("partner") >= 20


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(주)테이블매니저", "테이블매니저"),
        ("㈜테이블매니저", "테이블매니저"),
        ("주식회사 테이블 매니저", "테이블매니저"),
        ("TableManager Co., Ltd.", "tablemanager"),
        ("Acme Inc.", "acme"),
        ("ＢＯＮＢＯＭ  Corp.", "bonbom"),
        ("Blue Ocean Foods LLC", "blue ocean foods"),
    ],
)
def test_normalise_org_name(raw: str, expected: str) -> None:
    assert normalise_org_name(raw) == expected


def test_org_key_ignores_spacing_and_punctuation() -> None:
    assert org_key("Table-Manager") == org_key("table manager") == "tablemanager"


@pytest.mark.parametrize(
    ("fragment", "canonical", "kind", "min_score"),
    [
        ("본봄", "본봄", "startup", 1.0),
        ("BONBOM", "본봄", "startup", 1.0),
        ("본봄컴퍼니", "본봄", "startup", 1.0),
        ("(주)테이블매니저", "테이블매니저", "startup", 1.0),
        ("Table Manager Inc.", "테이블매니저", "startup", 1.0),
        ("테이블매니져", "테이블매니저", "startup", 0.8),  # one letter off
        ("신세계인터내셔날", "신세계인터내셔널", "partner", 0.8),
        ("Shinsegae International", "신세계인터내셔널", "partner", 1.0),
        ("FMF", "미래모빌리티재단", "partner", 1.0),
        ("한빛유통과", "한빛유통", "partner", 0.9),  # particle stripped
        ("신세계인터내셔널 패션부문", "신세계인터내셔널", "partner", 0.8),
    ],
)
def test_match(
    directory: CompanyDirectory, fragment: str, canonical: str, kind: str, min_score: float
) -> None:
    match = directory.match(fragment)
    assert match is not None
    name, found_kind, score = match  # unpacks as a tuple
    assert (name, found_kind) == (canonical, kind)
    assert min_score <= score <= 1.0


@pytest.mark.parametrize("fragment", ["봄봄", "한빛", "Unknown Corp", "", "   ", "신세계"])
def test_no_match(directory: CompanyDirectory, fragment: str) -> None:
    assert directory.match(fragment) is None


def test_find_in_text_positions_and_overlaps(directory: CompanyDirectory) -> None:
    text = (
        "어제 신세계인터내셔널과 본봄 파일럿. Table-Manager and 테이블매니져측, "
        "Shinsegae  International."
    )
    found = directory.find_in_text(text)
    assert [(m.canonical, m.kind) for m in found] == [
        ("신세계인터내셔널", "partner"),
        ("본봄", "startup"),
        ("테이블매니저", "startup"),
        ("테이블매니저", "startup"),
        ("신세계인터내셔널", "partner"),
    ]
    for m in found:
        assert text[m.start : m.end] == m.surface
    assert found[3].surface == "테이블매니져" and found[3].score < 1.0


def test_short_alias_only_as_upper_case_word(directory: CompanyDirectory) -> None:
    assert directory.find_in_text("this is basic stuff; Fmf 방문") == []
    assert [m.canonical for m in directory.find_in_text("FMF 측과 미팅")] == ["미래모빌리티재단"]


def test_hangul_name_inside_a_longer_word_is_not_found(directory: CompanyDirectory) -> None:
    assert directory.find_in_text("대한빛유통센터") == []


def test_prompt_context(directory: CompanyDirectory) -> None:
    context = directory.prompt_context()
    startups, partners = context.split("\n")
    assert startups.startswith("Startups: 본봄 (aka 본봄컴퍼니, BONBOM")
    assert partners.startswith("Partners: 신세계인터내셔널 (aka Shinsegae International")
    assert "; 테이블매니저 (aka TableManager" in startups


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_directory(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[startups]]\nname = \n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="cannot read company directory"):
        load_directory(bad)
    nameless = tmp_path / "nameless.toml"
    nameless.write_text('[[partners]]\naliases = ["x"]\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="partners entry 1 needs a non-empty name"):
        load_directory(nameless)


def test_duplicate_alias_is_a_config_error() -> None:
    with pytest.raises(ConfigurationError, match="listed for both"):
        CompanyDirectory(
            [Company("본봄", "startup", ("Bonbom",)), Company("봄봄", "partner", ("BONBOM",))]
        )


def test_reload_after_edit(tmp_path: Path) -> None:
    path = tmp_path / "companies.toml"
    path.write_text('[[startups]]\nname = "가나다"\n', encoding="utf-8")
    assert load_directory(path).match("가나다") is not None
    path.write_text('[[partners]]\nname = "라마바"\naliases = ["Ramaba"]\n', encoding="utf-8")
    import os

    os.utime(path, ns=(1, 1))  # a different mtime, whatever the clock resolution
    reloaded = load_directory(path)
    assert reloaded.match("가나다") is None
    assert reloaded.match("ramaba") == ("라마바", "partner", 1.0)
