"""The offline provider on varied emails: Korean, English, mixed, with and without anchors."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from collabiq_llm.email.input import EmailInput
from collabiq_llm.email.parsing import parse_email
from collabiq_llm.entities import ExtractedEntities
from collabiq_llm.providers.base import LLMProvider, ProviderResult
from collabiq_llm.providers.offline import OfflineProvider
from collabiq_llm.settings import ProviderConfig

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
SUNDAY = dt.date(2025, 11, 2)
WEDNESDAY = dt.date(2025, 11, 12)
CONFIG = ProviderConfig(name="offline", kind="offline", model="offline-rules-1")


@pytest.fixture(scope="module")
def provider() -> OfflineProvider:
    return OfflineProvider(CONFIG)


def _run(provider: OfflineProvider, email: EmailInput) -> ProviderResult:
    return asyncio.run(provider.aextract(email))


def _extract(
    provider: OfflineProvider, text: str | bytes, received_at: dt.date | None = None
) -> ExtractedEntities:
    return _run(provider, parse_email(text, received_at=received_at)).entities


def _fields(e: ExtractedEntities) -> tuple[str | None, str | None, str | None, str | None]:
    return (
        e.person_in_charge,
        e.startup_name,
        e.partner_org,
        e.date.isoformat() if e.date else None,
    )


def test_spec_example(provider: OfflineProvider) -> None:
    text = (
        "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다. "
        "11월 1주에 PoC 시작 예정이며… 담당자: 김철수"
    )
    e = _extract(provider, text, SUNDAY)
    assert _fields(e) == ("김철수", "본봄", "신세계인터내셔널", "2025-11-01")
    assert e.details.startswith("어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다.")
    assert "담당자" not in e.details
    c = e.confidence
    assert (c.person, c.startup, c.partner) == (0.9, 0.8, 0.8)
    assert 0.5 <= c.date <= 0.8 and 0.5 <= c.details <= 0.8


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("ko_pilot_kickoff.eml", ("김철수", "본봄", "신세계인터내셔널", "2025-11-01")),
        ("en_partnership.eml", ("Jane Doe", "그린웨이브", "한빛유통", "2025-11-10")),
        ("mixed_ko_en.txt", ("이영희", "테이블매니저", "한울은행", "2025-11-10")),
        ("html_only_base64.eml", ("최민준", "하늘모빌리티", "미래모빌리티재단", "2025-10-28")),
        ("forwarded_thread.eml", ("정다은", "코드브릭", "대한물산", "2025-11-05")),
        ("ko_reply_quoted.eml", ("한서윤", "메디픽셀", "푸른제약", "2025-11-14")),
    ],
)
def test_sample_files(
    provider: OfflineProvider, sample: str, expected: tuple[str, str, str, str]
) -> None:
    assert _fields(_extract(provider, (SAMPLES / sample).read_bytes())) == expected


def test_missing_person_is_null_with_zero_confidence(provider: OfflineProvider) -> None:
    e = _extract(provider, "어제 테이블매니저와 한빛유통 입점 미팅을 진행했습니다.", WEDNESDAY)
    assert _fields(e) == (None, "테이블매니저", "한빛유통", "2025-11-11")
    assert e.confidence.person == 0.0


def test_company_with_title_is_not_a_person(provider: OfflineProvider) -> None:
    e = _extract(provider, "본봄 대표님과 한빛유통 MD가 입점 미팅을 했습니다.", WEDNESDAY)
    assert e.person_in_charge is None
    assert (e.startup_name, e.partner_org) == ("본봄", "한빛유통")


def test_relative_date_without_anchor_is_null(provider: OfflineProvider) -> None:
    e = _extract(provider, "어제 본봄과 한빛유통 파일럿 미팅을 진행했습니다. 담당: 김철수")
    assert _fields(e) == ("김철수", "본봄", "한빛유통", None)
    assert e.confidence.date == 0.0


def test_no_date_at_all(provider: OfflineProvider) -> None:
    e = _extract(provider, "Bonbom and Hanbit Retail are discussing a pilot.", WEDNESDAY)
    assert _fields(e) == (None, "본봄", "한빛유통", None)
    assert e.confidence.date == 0.0


def test_unknown_companies_with_corporate_prefix(provider: OfflineProvider) -> None:
    text = (
        "(주)오름테크와 한국전력공사의 에너지 데이터 실증 사업 킥오프가 2025.11.20에 예정되어 "
        "있습니다. 문의: 박서준 팀장 (010-1234-5678)"
    )
    e = _extract(provider, text, WEDNESDAY)
    assert _fields(e) == ("박서준", "오름테크", "한국전력공사", "2025-11-20")
    assert e.confidence.startup < 0.8 and e.confidence.partner < 0.8  # pattern, not directory


def test_unknown_english_companies(provider: OfflineProvider) -> None:
    text = (
        "Hi all,\n\nAcme Robotics signed a pilot agreement with Blue Ocean Foods yesterday. "
        "The pilot covers two warehouses.\n\nBest regards,\nSarah Kim\nAcme Robotics"
    )
    e = _extract(provider, text, WEDNESDAY)
    assert _fields(e) == ("Sarah Kim", "Acme Robotics", "Blue Ocean Foods", "2025-11-11")
    assert e.details.startswith("Acme Robotics signed a pilot agreement with Blue Ocean Foods")


def test_korean_topic_marks_the_startup(provider: OfflineProvider) -> None:
    text = (
        "가나다랩스는 라마바은행과 함께 지난주 목요일 공동 PoC 킥오프 미팅을 가졌습니다.\n\n"
        "감사합니다.\n가나다랩스 홍길동 드림"
    )
    e = _extract(provider, text, WEDNESDAY)
    assert _fields(e) == ("홍길동", "가나다랩스", "라마바은행", "2025-11-06")


def test_explicit_labels(provider: OfflineProvider) -> None:
    text = (
        "스타트업명: 미지의랩\n협업기관: (재)알수없는재단\n협업내용: 공동 연구 MOU 체결\n"
        "일시: 2025-12-01\n담당자: 최지우 매니저"
    )
    e = _extract(provider, text, WEDNESDAY)
    assert _fields(e) == ("최지우", "미지의랩", "알수없는재단", "2025-12-01")
    c = e.confidence
    assert (c.person, c.startup, c.partner, c.date) == (0.9, 0.9, 0.9, 0.85)


def test_mixed_language_subject_pair(provider: OfflineProvider) -> None:
    text = (
        "Subject: 스파크랩 x 대성그룹 미팅\n\n금일 오후 대성그룹 혁신팀과 미팅을 진행했습니다. "
        "담당: 이준호 매니저"
    )
    e = _extract(provider, text, WEDNESDAY)
    assert _fields(e) == ("이준호", "스파크랩", "대성그룹", "2025-11-12")


def test_label_date_in_meeting_notice(provider: OfflineProvider) -> None:
    text = (
        "김민수님께,\n\n다음 주 미팅 관련하여 안내드립니다.\n\n■ 일시: 11월 18일(화) 14:00\n"
        "■ 장소: 한빛유통 본사 3층\n■ 안건: 모아핀 결제 서비스 입점 협의\n\n--\n모아핀 사업팀\n"
        "정하늘 매니저"
    )
    e = _extract(provider, text, WEDNESDAY)
    assert _fields(e) == ("정하늘", "모아핀", "한빛유통", "2025-11-18")
    assert e.confidence.date == 0.85


def test_date_header_line_in_text_anchors_relative_words(provider: OfflineProvider) -> None:
    email = EmailInput(
        text="Date: Sun, 02 Nov 2025 15:00:00 +0900\n\nYesterday GreenWave met Halla Foods for "
        "a pilot kickoff."
    )
    e = _run(provider, email).entities
    assert _fields(e) == (None, "그린웨이브", "한라식품", "2025-11-01")


def test_nothing_to_find_gives_nulls_and_low_confidence(provider: OfflineProvider) -> None:
    e = _extract(provider, "Hi,\nno update from our side. Will circle back.", WEDNESDAY)
    assert _fields(e)[:3] == (None, None, None)
    c = e.confidence
    assert (c.person, c.startup, c.partner) == (0.0, 0.0, 0.0)
    assert c.details <= 0.3 and c.overall() < 0.2


def test_result_metadata_and_determinism(provider: OfflineProvider) -> None:
    email = parse_email((SAMPLES / "ko_pilot_kickoff.eml").read_bytes())
    first, second = _run(provider, email), _run(provider, email)
    assert (first.provider, first.model) == ("offline", "offline-rules-1")
    assert (first.input_tokens, first.output_tokens) == (0, 0)
    assert first.latency_ms >= 0
    assert first.entities.email_id == email.email_id
    strip = {"extracted_at"}
    assert first.entities.model_dump(exclude=strip) == second.entities.model_dump(exclude=strip)
    conf = first.entities.confidence
    assert max(conf.person, conf.startup, conf.partner, conf.details, conf.date) <= 0.9


def test_sync_twin_and_contract(provider: OfflineProvider) -> None:
    assert isinstance(provider, LLMProvider)
    entities = provider.extract_entities("어제 본봄과 한빛유통 미팅을 진행했습니다. 담당자: 김철수")
    assert (entities.person_in_charge, entities.startup_name, entities.partner_org) == (
        "김철수",
        "본봄",
        "한빛유통",
    )


def test_missing_directory_still_uses_patterns(tmp_path: Path) -> None:
    bare = OfflineProvider(CONFIG, companies_path=tmp_path / "none.toml")
    e = _extract(bare, "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다.", SUNDAY)
    assert (e.startup_name, e.partner_org, e.date) == (
        "본봄",
        "신세계인터내셔널",
        dt.date(2025, 11, 1),
    )
    assert e.confidence.startup < 0.5  # a word-order guess without the directory


def test_custom_directory(tmp_path: Path) -> None:
    path = tmp_path / "companies.toml"
    path.write_text(
        '[[startups]]\nname = "가나다"\naliases = ["Ganada"]\n\n'
        '[[partners]]\nname = "라마바홀딩스"\naliases = ["Ramaba"]\n',
        encoding="utf-8",
    )
    custom = OfflineProvider(CONFIG, companies_path=path)
    e = _extract(custom, "Ramaba and Ganada kicked off the pilot today.", WEDNESDAY)
    assert _fields(e) == (None, "가나다", "라마바홀딩스", "2025-11-12")
