"""Scoring rules: normalisation, names, look-alikes, dates, nulls, loose details, the report."""

from __future__ import annotations

import datetime as dt

import pytest

from collabiq_llm.entities import ConfidenceScores, ExtractedEntities
from collabiq_llm.evaluation.dataset import DEFAULT_COMPANIES, EvalExample
from collabiq_llm.evaluation.scoring import (
    AliasTable,
    Prediction,
    as_prediction,
    field_correct,
    normalise_value,
    percentile,
    score_results,
)


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("startup_name", "(주)본봄", "본봄"),
        ("startup_name", "주식회사 본봄", "본봄"),
        ("startup_name", "㈜ 본봄", "본봄"),
        ("startup_name", "본봄(주)", "본봄"),
        ("partner_org", "Helios Motors Co., Ltd.", "helios motors"),
        ("partner_org", "Aster Logistics, Inc.", "aster logistics"),
        ("partner_org", "ACME Corp.", "acme"),
        ("partner_org", "Kestrel Partners LLC", "kestrel partners"),
        ("partner_org", "  ＡＳＴＥＲ   Logistics ", "aster logistics"),  # NFKC + spaces
        ("person_in_charge", "김철수 매니저님", "김철수"),
        ("person_in_charge", "김철수님", "김철수"),
        ("person_in_charge", "김철수 대표", "김철수"),
        ("person_in_charge", "김철수 팀장", "김철수"),
        ("person_in_charge", "Mr. John Park", "john park"),
        ("person_in_charge", "Ms. Emily Carter", "emily carter"),
        ("person_in_charge", "Emily Carter, Head of Partnerships", "emily carter"),
        ("person_in_charge", "김철수 (사업개발팀)", "김철수"),
        ("details", "  Pilot   Kickoff\nMeeting ", "pilot kickoff meeting"),
        ("date", "2025-11-01", "2025-11-01"),
        ("date", dt.date(2025, 11, 1), "2025-11-01"),
        ("date", "2025-11-01T09:00:00Z", "2025-11-01"),
        ("date", "not a date", None),
        ("startup_name", None, None),
        ("startup_name", "   ", None),
    ],
)
def test_normalise_value(field: str, raw: object, expected: str | None) -> None:
    assert normalise_value(field, raw) == expected


def test_normalise_value_rejects_unknown_fields() -> None:
    with pytest.raises(KeyError):
        normalise_value("email", "x")


@pytest.mark.parametrize(
    ("field", "predicted", "expected"),
    [
        ("startup_name", "(주)본봄", "본봄"),
        ("startup_name", "본봄 ", "주식회사 본봄"),
        ("partner_org", "신세계인터네셔널", "신세계인터내셔널"),  # one-syllable typo
        ("partner_org", "Hangyeol Retail International Co., Ltd.", "Hangyeol Retail International"),
        ("partner_org", "AsterLogistics", "Aster Logistics"),
        ("person_in_charge", "김철수 매니저님", "김철수"),
        ("person_in_charge", "Park John", "John Park"),
        ("person_in_charge", "Jon Park", "John Park"),
        ("date", "2025-11-01", dt.date(2025, 11, 1)),
        ("person_in_charge", None, None),
        ("partner_org", "", None),
        ("date", None, None),
    ],
)
def test_equivalent_values_are_correct(field: str, predicted: object, expected: object) -> None:
    assert field_correct(field, predicted, expected)


@pytest.mark.parametrize(
    ("field", "predicted", "expected"),
    [
        ("partner_org", "신세계", "신세계인터내셔널"),
        ("partner_org", "신세계인터내셔널", "신세계"),
        ("startup_name", "본봄랩스", "본봄"),
        ("startup_name", "본봄", "본봄랩스"),
        ("startup_name", "다온", "다온바이오"),
        ("partner_org", "Nuri Energy", "Nuri Energy Solutions"),
        ("partner_org", "한빛캐피탈", "한빛은행"),
        ("partner_org", "Hanbit Card", "Hanbit Bank"),
        ("partner_org", "중앙푸드", "중앙푸드서비스"),
        ("person_in_charge", "김민서", "김민수"),
        ("person_in_charge", "박지훈", "김철수"),
        ("date", "2025-11-02", "2025-11-01"),
        ("date", "2025-11-01", None),
        ("date", None, "2025-11-01"),
        ("startup_name", None, "본봄"),
        ("person_in_charge", "김철수", None),
    ],
)
def test_different_values_are_wrong(field: str, predicted: object, expected: object) -> None:
    assert not field_correct(field, predicted, expected)


def test_alias_table_accepts_other_spellings_and_separates_lookalikes() -> None:
    table = AliasTable.from_toml(DEFAULT_COMPANIES)
    assert not field_correct("startup_name", "Bonbom", "본봄")
    assert field_correct("startup_name", "Bonbom", "본봄", aliases=table)
    assert field_correct("startup_name", "Bonbom Inc.", "(주)본봄", aliases=table)
    assert not field_correct("startup_name", "Bonbom Labs", "본봄", aliases=table)
    assert not field_correct("partner_org", "Jungang Food", "중앙푸드서비스", aliases=table)
    custom = AliasTable({"신세계인터내셔널": ["SI", "Shinsegae International"], "신세계": []})
    assert field_correct(
        "partner_org", "Shinsegae International", "신세계인터내셔널", aliases=custom
    )
    assert not field_correct("partner_org", "신세계", "Shinsegae International", aliases=custom)


@pytest.mark.parametrize(
    ("predicted", "expected", "ok"),
    [
        ("신세계인터내셔널과 본봄 파일럿 킥오프 미팅 진행", "파일럿 킥오프 미팅", True),
        ("파일럿 킥오프 미팅을 진행함", "파일럿 킥오프 미팅", True),
        ("파일럿 킥오프 회의", "파일럿 킥오프 미팅", True),
        ("Pilot kickoff meeting with Aster", "pilot kickoff meeting", True),
        ("MOU signing ceremony", "MOU signing", True),
        ("미팅", "파일럿 킥오프 미팅", False),  # generic: token_set_ratio would say 100
        ("PoC", "기술 검증(PoC) 착수 회의", False),
        ("보도자료 문안 검토", "업무협약(MOU) 체결", False),
        ("", "파일럿 킥오프 미팅", False),
        (None, "파일럿 킥오프 미팅", False),
    ],
)
def test_details_are_scored_loosely_but_not_blindly(
    predicted: str | None, expected: str, ok: bool
) -> None:
    assert field_correct("details", predicted, expected) is ok


def test_percentile_interpolates() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(list(map(float, range(1, 101))), 95) == pytest.approx(95.05)


# ------------------------------------------------------------------ the report
def _example(
    ident: str,
    *,
    person: str | None = "김철수",
    date: str | None = "2025-11-01",
    tags: tuple[str, ...] = (),
    difficulty: str = "easy",
) -> EvalExample:
    return EvalExample.model_validate(
        {
            "id": ident,
            "lang": "ko",
            "received_at": "2025-11-02",
            "text": f"email {ident}",
            "tags": list(tags),
            "difficulty": difficulty,
            "expected": {
                "person_in_charge": person,
                "startup_name": "본봄",
                "partner_org": "신세계인터내셔널",
                "details": "파일럿 킥오프 미팅",
                "date": date,
            },
        }
    )


def _answer(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "person_in_charge": "김철수",
        "startup_name": "(주)본봄",
        "partner_org": "신세계인터내셔널",
        "details": "파일럿 킥오프 미팅 진행",
        "date": "2025-11-01",
        "confidence": {
            "person": 0.95,
            "startup": 0.95,
            "partner": 0.8,
            "details": 0.6,
            "date": 0.3,
        },
        "cost_usd": 0.002,
        "latency_ms": 100.0,
    }
    base.update(overrides)
    return base


def test_score_results_report() -> None:
    pairs = [
        (_example("a", tags=("relative-date",)), _answer()),  # all right
        (
            _example("b", difficulty="hard"),
            _answer(partner_org="신세계", date="2025-11-02", latency_ms=300.0),
        ),  # 2 wrong
        (
            _example("c", person=None, date=None, difficulty="hard"),
            _answer(person_in_charge=None, date=None, cost_usd=0.004, latency_ms=200.0),
        ),
        (_example("d"), None),  # failed: every field wrong
    ]
    report = score_results(pairs)
    assert report.n_emails == 4 and report.n_failed == 1
    assert report.accuracy("person_in_charge") == 0.75
    assert report.accuracy("partner_org") == 0.5
    assert report.accuracy("date") == 0.5
    assert report.accuracy("details") == 0.75
    assert report.overall_accuracy == pytest.approx((0.75 + 0.75 + 0.5 + 0.75 + 0.5) / 5)
    assert report.coverage["person_in_charge"] == 0.5
    assert report.per_field["date"].expected_non_null == 0.75
    bands = {(b.lo, b.hi): b for b in report.calibration}
    assert bands[(0.9, 1.0)].count == 5 and bands[(0.9, 1.0)].accuracy == 1.0
    assert bands[(0.7, 0.9)].count == 3 and bands[(0.7, 0.9)].correct == 2
    assert bands[(0.5, 0.7)].count == 3 and bands[(0.5, 0.7)].accuracy == 1.0
    assert bands[(0.0, 0.5)].count == 2 and bands[(0.0, 0.5)].correct == 1
    assert sum(b.count for b in report.calibration) == 13
    assert report.cost_per_email_usd == pytest.approx((0.002 + 0.002 + 0.004) / 3)
    assert report.total_cost_usd == pytest.approx(0.008)
    assert report.latency_ms_p50 == 200.0
    assert report.latency_ms_p95 == pytest.approx(290.0)
    assert report.by_difficulty["hard"] == pytest.approx((3 / 5 + 1.0) / 2)
    assert report.by_tag["relative-date"] == 1.0
    assert report.expected_calibration_error is not None


def test_score_results_accepts_entities_either_order_and_needs_pairs() -> None:
    entities = ExtractedEntities(
        person_in_charge="김철수 매니저",
        startup_name="본봄",
        partner_org="신세계인터내셔널",
        details="파일럿 킥오프 미팅",
        date=dt.date(2025, 11, 1),
        email_id="em_1",
        confidence=ConfidenceScores(person=0.9, startup=0.9, partner=0.9, details=0.9, date=0.9),
    )
    example = _example("a")
    assert score_results([(entities, example)]).overall_accuracy == 1.0
    assert score_results([(example, entities)]).overall_accuracy == 1.0
    assert as_prediction(entities).confidence["partner_org"] == 0.9
    assert as_prediction(Prediction.failure("timeout")).failed
    with pytest.raises(ValueError):
        score_results([])
    with pytest.raises(TypeError):
        score_results([("not", "examples")])
