"""dates.py: absolute forms, relative words against the email's own date, and ranking."""

from __future__ import annotations

import datetime as dt

import pytest

from collabiq_llm.email.dates import find_dates, find_event_date, parse_date_value

SUNDAY = dt.date(2025, 11, 2)
WEDNESDAY = dt.date(2025, 11, 12)


def _values(text: str, reference: dt.date | None = SUNDAY) -> list[str]:
    return [d.value.isoformat() for d in find_dates(text, reference)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-11-01", "2025-11-01"),
        ("2025.11.01.", "2025-11-01"),
        ("2025. 11. 1.", "2025-11-01"),
        ("2025/11/1", "2025-11-01"),
        ("2025년 11월 1일", "2025-11-01"),
        ("25년 11월 1일", "2025-11-01"),
        ("11월 1일(토)", "2025-11-01"),
        ("11/1", "2025-11-01"),
        ("11/01/2025", "2025-11-01"),
        ("13/11/2025", "2025-11-13"),  # first number > 12: day/month/year
        ("November 1, 2025", "2025-11-01"),
        ("Nov 1st", "2025-11-01"),
        ("Nov. 1st", "2025-11-01"),
        ("1 Nov 2025", "2025-11-01"),
        ("the 1st of November", "2025-11-01"),
        ("Sat, 1 Nov 2025 10:00:00 +0900", "2025-11-01"),
    ],
)
def test_absolute_forms(text: str, expected: str) -> None:
    assert _values(text) == [expected]


def test_absolute_found_without_reference_only_when_year_known() -> None:
    assert _values("2025-11-01", None) == ["2025-11-01"]
    assert _values("11월 1일", None) == []
    assert _values("2025년 행사, 11월 3일 미팅", None) == ["2025-11-03"]


def test_year_inferred_towards_the_reference() -> None:
    assert _values("12월 30일 미팅", dt.date(2026, 1, 2)) == ["2025-12-30"]
    assert _values("1월 5일 킥오프", dt.date(2025, 12, 20)) == ["2026-01-05"]
    assert _values("9월 5일", dt.date(2025, 11, 2)) == ["2025-09-05"]
    assert _values("3월 5일", dt.date(2025, 11, 2)) == ["2026-03-05"]  # > six months back


@pytest.mark.parametrize(
    "text",
    ["24/7 support", "version 1.2.3", "50/50 split", "010-1234-5678", "that may be it",
     "지난 주말", "그제야 알았다", "1/2/3"],
)  # fmt: skip
def test_not_dates(text: str) -> None:
    assert _values(text) == []


@pytest.mark.parametrize(
    ("text", "expected", "precision"),
    [
        ("오늘", "2025-11-02", "day"),
        ("금일", "2025-11-02", "day"),
        ("어제", "2025-11-01", "day"),
        ("그제", "2025-10-31", "day"),
        ("그저께", "2025-10-31", "day"),
        ("내일", "2025-11-03", "day"),
        ("모레", "2025-11-04", "day"),
        ("내일 모레", "2025-11-04", "day"),
        ("3일 전", "2025-10-30", "day"),
        ("2일 후", "2025-11-04", "day"),
        ("today", "2025-11-02", "day"),
        ("yesterday", "2025-11-01", "day"),
        ("the day before yesterday", "2025-10-31", "day"),
        ("tomorrow", "2025-11-03", "day"),
        ("2 days ago", "2025-10-31", "day"),
        # weeks resolve to the Monday of that ISO week
        ("지난주", "2025-10-20", "week"),
        ("지난 주에", "2025-10-20", "week"),
        ("다음주", "2025-11-03", "week"),
        ("이번 주", "2025-10-27", "week"),
        ("last week", "2025-10-20", "week"),
        ("next week", "2025-11-03", "week"),
        # weekdays
        ("지난주 금요일", "2025-10-24", "weekday"),
        ("다음주 화요일", "2025-11-04", "weekday"),
        ("차주 수요일", "2025-11-05", "weekday"),
        ("이번 주 금요일", "2025-10-31", "weekday"),
        ("지난 금요일", "2025-10-31", "weekday"),
        ("오는 금요일", "2025-11-07", "weekday"),
        ("last Friday", "2025-10-31", "weekday"),
        ("next Monday", "2025-11-03", "weekday"),
        ("this Friday", "2025-11-07", "weekday"),
        ("Tuesday of last week", "2025-10-21", "weekday"),
    ],
)
def test_relative_words(text: str, expected: str, precision: str) -> None:
    [mention] = find_dates(text, SUNDAY)
    assert (mention.value.isoformat(), mention.method, mention.precision) == (
        expected,
        "relative",
        precision,
    )


def test_bare_weekday_follows_the_tense() -> None:
    assert _values("금요일에 미팅했습니다.", WEDNESDAY) == ["2025-11-07"]
    assert _values("금요일에 미팅 예정입니다.", WEDNESDAY) == ["2025-11-14"]
    assert _values("We met on Monday.", WEDNESDAY) == ["2025-11-10"]
    assert _values("We will meet on Monday.", WEDNESDAY) == ["2025-11-17"]


def test_relative_words_need_a_reference() -> None:
    assert find_dates("어제 미팅했습니다", None) == []
    assert find_event_date("yesterday we met", None) is None


def test_label_beats_everything() -> None:
    text = "어제 킥오프 미팅을 진행했습니다.\n\n■ 미팅 일시: 11월 18일(화) 14:00\n"
    best = find_event_date(text, WEDNESDAY)
    assert best is not None and (best.value, best.method) == (dt.date(2025, 11, 18), "label")


def test_rfc822_date_line_is_not_an_event_label() -> None:
    [mention] = find_dates("Date: Sun, 02 Nov 2025 15:00:00 +0900", SUNDAY)
    assert mention.method == "absolute"


def test_the_spec_example_prefers_what_happened() -> None:
    text = (
        "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다. "
        "11월 1주에 PoC 시작 예정이며… 담당자: 김철수"
    )
    best = find_event_date(text, SUNDAY)
    assert best is not None and best.value == dt.date(2025, 11, 1)
    # even with an explicit future date in the next sentence, the reported event wins
    text2 = "어제 본봄 킥오프 미팅을 진행했습니다. 11월 10일에 PoC를 시작할 예정입니다."
    assert find_event_date(text2, SUNDAY).value == dt.date(2025, 11, 1)  # type: ignore[union-attr]


def test_absolute_near_collaboration_words_beats_relative_elsewhere() -> None:
    text = "오늘 자료 보내드립니다. 한빛유통과의 계약은 2025년 11월 20일에 체결되었습니다."
    assert find_event_date(text, SUNDAY).value == dt.date(2025, 11, 20)  # type: ignore[union-attr]


def test_parse_date_value() -> None:
    assert parse_date_value("Sun, 02 Nov 2025 00:30:00 +0900") == dt.date(2025, 11, 2)
    assert parse_date_value("Wed, Nov 5, 2025 at 6:12 PM") == dt.date(2025, 11, 5)
    assert parse_date_value("2025년 11월 5일 (수) 오후 6:12") == dt.date(2025, 11, 5)
    assert parse_date_value("2025-11-05 (수) 18:12:00") == dt.date(2025, 11, 5)
    assert parse_date_value("soon") is None
    assert parse_date_value("") is None
