"""Consensus merge on tricky Korean/English cases (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from collabiq_llm.entities import ConfidenceScores, ExtractedEntities
from collabiq_llm.orchestration.merge import (
    MergeSettings,
    Vote,
    comparison_key,
    merge_field,
    merge_votes,
    same_value,
)

S = MergeSettings()


def ent(person=None, startup=None, partner=None, details="d", date=None, conf=0.8, **confs):
    c = {k: conf for k in ("person", "startup", "partner", "details", "date")} | confs
    return ExtractedEntities(
        person_in_charge=person,
        startup_name=startup,
        partner_org=partner,
        details=details,
        date=date,
        confidence=ConfidenceScores(**c),
        email_id="em_test",
    )


def votes(*entities, weights=None):
    weights = weights or [1.0] * len(entities)
    names = ["gemini", "claude", "openai", "extra"]
    return [Vote(names[i], e, weights[i], i) for i, e in enumerate(entities)]


def key(field, v):
    return comparison_key(field, v, None)


def test_company_affixes_normalise_to_same_key() -> None:
    assert key("startup_name", "(주)테이블매니저") == key("startup_name", "테이블매니저")
    assert key("startup_name", "주식회사 본봄") == key("startup_name", "본봄")
    assert key("partner_org", "Acme Co., Ltd.") == key("partner_org", "ACME")


def test_bonbom_and_bonbom_company_merge() -> None:
    assert same_value(key("startup_name", "본봄"), key("startup_name", "본봄컴퍼니"), 0.85)
    d = merge_field("startup_name", votes(ent(startup="본봄"), ent(startup="본봄컴퍼니")), S)
    assert d.value == "본봄"  # tie on support -> priority order picks gemini's spelling
    assert d.supporters == ["gemini", "claude"]


def test_shinsegae_and_shinsegae_international_do_not_merge() -> None:
    a, b = key("partner_org", "신세계"), key("partner_org", "신세계인터내셔널")
    assert not same_value(a, b, 0.85)
    d = merge_field(
        "partner_org",
        votes(
            ent(partner="신세계"), ent(partner="신세계인터내셔널"), ent(partner="신세계인터내셔널")
        ),
        S,
    )
    assert d.value == "신세계인터내셔널"
    assert d.dissenters == ["gemini"]


def test_hangul_and_latin_spelling_merge_only_through_directory() -> None:
    v = votes(ent(startup="(주)테이블매니저", conf=0.7), ent(startup="TableManager", conf=0.9))
    without = merge_field("startup_name", v, S)
    assert without.value == "TableManager" and without.dissenters == ["gemini"]
    directory = {"테이블매니저": "테이블매니저", "tablemanager": "테이블매니저"}

    def canonical(text: str) -> str | None:
        return directory.get(key("startup_name", text))

    with_dir = merge_field("startup_name", v, S, canonical)
    assert with_dir.supporters == ["gemini", "claude"]
    assert with_dir.confidence > 0.9  # agreement raises confidence


def test_dates_compare_as_dates() -> None:
    d = merge_field(
        "date",
        votes(ent(date="2025-11-01"), ent(date=dt.date(2025, 11, 1)), ent(date="2025-11-02")),
        S,
    )
    assert d.value == dt.date(2025, 11, 1)
    assert d.supporters == ["gemini", "claude"]


def test_abstain_when_every_candidate_is_weak() -> None:
    d = merge_field(
        "person_in_charge", votes(ent(person="김철수", conf=0.2), ent(person="이영희", conf=0.1)), S
    )
    assert d.value is None and d.confidence == 0.0


def test_weighted_vote_beats_single_confident_outlier() -> None:
    d = merge_field(
        "person_in_charge",
        votes(
            ent(person="박지민", conf=0.95),
            ent(person="김철수", conf=0.6),
            ent(person="김철수 매니저", conf=0.6),
        ),
        S,
    )
    assert d.value in ("김철수", "김철수 매니저")
    assert d.supporters == ["claude", "openai"]


def test_tie_goes_to_more_providers_then_priority() -> None:
    # equal support 0.8 vs 0.4+0.4: more providers wins
    d = merge_field(
        "startup_name",
        votes(
            ent(startup="A사", conf=0.8), ent(startup="B랩", conf=0.4), ent(startup="B랩", conf=0.4)
        ),
        S,
    )
    assert d.value == "B랩"
    # equal support, equal count: priority order
    d2 = merge_field("startup_name", votes(ent(startup="A사"), ent(startup="B랩")), S)
    assert d2.value == "A사"


def test_grouping_is_order_independent() -> None:
    values = ["Shinsegae International", "Shinsegae Internatonal", "Shinsegae Intl", "Lotte"]
    results = set()
    for perm in itertools.permutations(values):
        ents = [ent(partner=p) for p in perm]
        v = [Vote(f"p{i}", e, 1.0, 0) for i, e in enumerate(ents)]
        d = merge_field("partner_org", v, S)
        results.add((key("partner_org", str(d.value)) if d.value else None, round(d.confidence, 6)))
    assert len(results) == 1


def test_merged_confidence_comes_from_winning_group_and_rises_with_agreement() -> None:
    alone = merge_field("startup_name", votes(ent(startup="본봄", conf=0.7)), S)
    two = merge_field(
        "startup_name", votes(ent(startup="본봄", conf=0.7), ent(startup="본봄", conf=0.7)), S
    )
    contested = merge_field(
        "startup_name", votes(ent(startup="본봄", conf=0.7), ent(startup="한빛유통", conf=0.6)), S
    )
    assert alone.confidence == pytest.approx(0.7)
    assert two.confidence > alone.confidence
    assert contested.value == "본봄" and contested.confidence < alone.confidence


def test_nulls_are_not_votes_but_all_null_is_null() -> None:
    d = merge_field("person_in_charge", votes(ent(), ent(person="김철수"), ent()), S)
    assert d.value == "김철수"
    assert merge_field("person_in_charge", votes(ent(), ent()), S).value is None


def test_merge_votes_details_from_provider_winning_most_fields() -> None:
    out = merge_votes(
        votes(
            ent("김철수", "본봄", "신세계인터내셔널", details="gemini text", date="2025-11-01"),
            ent("김철수", "본봄", "신세계", details="claude text", date="2025-11-01"),
            ent("이영희", "본봄", "신세계인터내셔널", details="openai text", date="2025-11-02"),
        ),
        S,
        email_id="em_x",
    )
    e = out.entities
    assert (e.person_in_charge, e.startup_name, e.partner_org, e.date) == (
        "김철수",
        "본봄",
        "신세계인터내셔널",
        dt.date(2025, 11, 1),
    )
    assert out.details_from == "gemini" and e.details == "gemini text"
    assert e.email_id == "em_x"
    assert 0.0 <= e.confidence.person <= 1.0
