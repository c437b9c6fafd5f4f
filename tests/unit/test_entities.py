"""The data model's rules: confidences, nulls, details, dates, UTC, stable email ids."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from pydantic import ValidationError

from collabiq_llm.entities import ConfidenceScores, ExtractedEntities, make_email_id

FULL = {"person": 0.9, "startup": 0.8, "partner": 0.7, "details": 0.6, "date": 0.5}


def build(**fields: object) -> ExtractedEntities:
    data: dict[str, object] = {
        "person_in_charge": "김철수",
        "startup_name": "본봄",
        "partner_org": "신세계인터내셔널",
        "details": "파일럿 킥오프 미팅",
        "date": "2025-11-01",
        "confidence": dict(FULL),
        "email_id": "em_1",
    }
    data.update(fields)
    return ExtractedEntities.model_validate(data)


def test_valid_record_keeps_values_and_parses_iso_date() -> None:
    e = build()
    assert e.date == dt.date(2025, 11, 1)
    assert e.confidence.person == 0.9
    assert e.extracted_at.tzinfo is not None and e.extracted_at.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("field", "key"),
    [
        ("person_in_charge", "person"),
        ("startup_name", "startup"),
        ("partner_org", "partner"),
        ("date", "date"),
    ],
)
def test_null_field_has_zero_confidence(field: str, key: str) -> None:
    e = build(**{field: None})
    assert getattr(e, field) is None
    assert getattr(e.confidence, key) == 0.0
    assert e.confidence.details == 0.6  # other fields untouched


def test_blank_and_placeholder_strings_are_null() -> None:
    e = build(person_in_charge="  ", startup_name="null", partner_org="N/A")
    assert (e.person_in_charge, e.startup_name, e.partner_org) == (None, None, None)
    assert (e.confidence.person, e.confidence.startup, e.confidence.partner) == (0, 0, 0)


@pytest.mark.parametrize("value", [-0.01, 1.01, 2])
def test_confidence_out_of_range_is_rejected(value: float) -> None:
    with pytest.raises(ValidationError):
        ConfidenceScores(person=value)


def test_details_is_required_but_may_be_empty_with_zero_confidence() -> None:
    with pytest.raises(ValidationError):
        ExtractedEntities.model_validate({"email_id": "x"})
    e = build(details=None)
    assert e.details == "" and e.confidence.details == 0.0


def test_bad_date_and_naive_timestamp_are_rejected() -> None:
    with pytest.raises(ValidationError):
        build(date="next tuesday")
    with pytest.raises(ValidationError):
        build(extracted_at=dt.datetime(2025, 11, 1, 12, 0))


def test_timestamps_are_converted_to_utc() -> None:
    kst = dt.timezone(dt.timedelta(hours=9))
    e = build(extracted_at=dt.datetime(2025, 11, 2, 9, 0, tzinfo=kst))
    assert e.extracted_at == dt.datetime(2025, 11, 2, 0, 0, tzinfo=dt.UTC)
    assert e.model_dump(mode="json")["extracted_at"].startswith("2025-11-02T00:00:00")


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        build(salary="1M")


def test_overall_confidence_is_the_mean_of_five() -> None:
    assert ConfidenceScores(**FULL).overall() == pytest.approx(0.7)


def test_email_id_ignores_whitespace_and_newline_style() -> None:
    a = make_email_id("어제 본봄과\r\n미팅   했습니다.")
    assert a == make_email_id("어제 본봄과\n미팅 했습니다.  ")
    assert a != make_email_id("어제 본봄과 미팅 했습니다!")
    assert a.startswith("em_") and len(a) == 23


def test_email_id_is_the_same_in_another_process() -> None:
    """Python's hash() is salted per process; the id must not be."""
    text = "Subject: 본봄 x 한빛유통\n\n내일 PoC 킥오프. 담당자: 김민수"
    code = (
        "import sys; from collabiq_llm.entities import make_email_id; "
        "print(make_email_id(sys.argv[1]))"
    )
    ids = {
        subprocess.run(
            [sys.executable, "-c", code, text],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        ).stdout.strip()
        for seed in ("1", "2", "random")
    }
    assert ids == {make_email_id(text)}
