"""The offline extractor on the failure classes data/eval/dev2 was written around.

One test per class: English and Korean contact cues, first names signed alone, foreign
legal forms, display names that carry a person, roles from who writes to whom, startup
phrases, forwarded messages with their own date, corrections and earlier-contact dates,
and details sentences that open with a thank-you. Every email here is written for the
test (none is copied from an evaluation set), with companies no directory knows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from collabiq_llm.companies import CompanyDirectory, OwnOrg, load_directory
from collabiq_llm.email.parsing import parse_email
from collabiq_llm.entities import ExtractedEntities
from collabiq_llm.offline.rules import full_name, looks_like_person, name_in
from collabiq_llm.providers.offline import extract_offline

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_directory(ROOT / "config" / "companies.toml")
OWN = OwnOrg(("물레방아파트너스", "Waterwheel Partners"), ("waterwheel.example",))
TUESDAY = dt.date(2026, 5, 12)


def _extract(
    text: str, received_at: dt.date = TUESDAY, directory: CompanyDirectory = SHIPPED
) -> ExtractedEntities:
    return extract_offline(parse_email(text, received_at=received_at), directory, OWN)


# ---- person names ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("Sanne de Vries", "Sanne de Vries"),  # a lower-case particle inside the name
        ("Chloé Marchand - Head of Sustainability", "Chloé Marchand"),  # diacritics
        ("Emily Tran입니다", "Emily Tran"),  # Hangul right after the name
        ("Neha Rao가 현장 지원합니다", "Neha Rao"),
        ("Conan O'Brien, VP", "Conan O'Brien"),
    ],
)
def test_latin_names_with_particles_diacritics_and_hangul_after(value: str, name: str) -> None:
    assert name_in(value) == name
    assert looks_like_person(name)


def test_a_first_name_signed_alone_is_completed_from_the_from_line() -> None:
    assert full_name("Lena", "Best,\nLena", ("Lena Vogt",)) == "Lena Vogt"
    assert full_name("Lena", "Best,\nLena\n\nLena Vogt\nHead of Ops", ()) == "Lena Vogt"
    assert full_name("Lena", "Best,\nLena", ("Lenard Fox",)) == "Lena"
    assert full_name("김하율", "김하율 드림", ("김하율 대표",)) == "김하율"


def test_first_name_sign_off_gives_the_full_name() -> None:
    e = _extract(
        "From: Marit Holm <marit.holm@fjordline-ag.example>\n"
        "To: Ken Ito <ken@quillstone.example>\n"
        "Subject: Pilot\n\n"
        "Ken,\n\nwe started the ferry ticketing pilot with Quillstone on Monday.\n\n"
        "Best,\nMarit\n"
    )
    assert e.person_in_charge == "Marit Holm"


@pytest.mark.parametrize(
    ("line", "person"),
    [
        ("청솔전자 측 담당: 우다은 책임 (daeun@example.com)", "우다은"),
        ("유통사 담당: 변하리 MD", "변하리"),
        ("실무 contact: 차누리 (PM)", "차누리"),
        ("Owner on our side: Priya Menon (priya@example.com)", "Priya Menon"),
        ("Contact is Owen Marsh (owen@example.com).", "Owen Marsh"),
        ("Their ops director, Mei Lin Goh, will be your contact.", "Mei Lin Goh"),
        ("은행 쪽 contact point는 피승현 차장님입니다.", "피승현"),
        ("담당자로 Ravi Shah가 현장 지원합니다.", "Ravi Shah"),
        ("상대측은 Dana Cole 상무님이 리드하십니다.", "Dana Cole"),
        ("On their side it will be led by 나예린 이사.", "나예린"),
    ],
)
def test_contact_cues_beat_the_sign_off(line: str, person: str) -> None:
    e = _extract(
        "From: 오다빈 <dabin@ondal-lab.example>\nTo: 문세아 <sea@waterwheel.example>\n"
        "Subject: 파일럿 일정\n\n"
        f"온달랩 오다빈입니다. 다음 주 화요일 파일럿 킥오프 미팅을 진행합니다.\n{line}\n\n"
        "오다빈 드림\n"
    )
    assert e.person_in_charge == person


def test_the_writer_who_stays_the_contact_beats_a_partner_contact() -> None:
    e = _extract(
        "Subject: NDA\n\n온달랩 오다빈입니다. 어제 Brightline과 NDA 체결했습니다.\n"
        "Brightline 쪽 담당은 Kevin Hale인데, 계속 제가 창구 역할 하겠습니다.\n\n오다빈 드림\n"
    )
    assert e.person_in_charge == "오다빈"


def test_own_staff_first_name_never_the_contact() -> None:
    e = _extract(
        "From: Ryan Seo <ryan.seo@waterwheel.example>\nTo: Ana Diaz <ana@quarrylane.example>\n"
        "Subject: Intro\n\nHi Ana,\n\nI spoke with Birchfield Foods about a pilot with "
        "Quarrylane. Their innovation lead, Tom Price (copied), would like a scoping call "
        "next Tuesday.\n\nCheers,\nRyan\n"
    )
    assert e.person_in_charge == "Tom Price"
    assert e.startup_name == "Quarrylane"


# ---- organisations -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("partner_text", "partner"),
    [
        ("Kestrel Werke AG", "Kestrel Werke"),
        ("Nordvik Terminals A/S", "Nordvik Terminals"),
        ("Kallang Shipping Pte. Ltd.", "Kallang Shipping"),
        ("Ferrovia S.p.A.", "Ferrovia"),
        ("Zeeland Ports N.V.", "Zeeland Ports"),
        ("Mizuho Denki K.K.", "Mizuho Denki"),
        ("Sisu Grid Oy", "Sisu Grid"),
        ("Atlântida Embalagens S.A.", "Atlântida Embalagens"),
    ],
)
def test_a_foreign_legal_form_marks_the_partner(partner_text: str, partner: str) -> None:
    e = _extract(
        "From: Ines Ko <ines@lumenreef.example>\nTo: 문세아 <sea@waterwheel.example>\n"
        "Subject: update\n\n"
        f"Quick update: we signed the pilot agreement with {partner_text} yesterday.\n\n"
        "Best,\nInes Ko\nCEO, Lumenreef\n"
    )
    assert (e.startup_name, e.partner_org) == ("Lumenreef", partner)


def test_a_legal_form_partner_that_writes_to_the_startup() -> None:
    e = _extract(
        "From: Lena Brandt <lena@kranwerk.example>\nTo: Mateo Cruz <mateo@tinderbox.example>\n"
        "Subject: Signed\n\nHi Mateo,\n\nKranwerk AG signed the maintenance pilot agreement "
        "with Tinderbox yesterday.\n\nBest,\nLena\n\nLena Brandt\nHead of Operations, Kranwerk AG\n"
    )
    assert (e.startup_name, e.partner_org) == ("Tinderbox", "Kranwerk")
    assert e.person_in_charge == "Lena Brandt"


def test_a_display_name_that_carries_a_person_gives_the_company() -> None:
    e = _extract(
        "보낸사람: 문세아 <sea@waterwheel.example>\n"
        '받는사람: "㈜달무리소프트 한겨레" <gyeore@dalmuri.example>\n'
        "제목: 한빛유통 미팅 안내\n\n"
        "한겨레 대표님, 한빛유통과의 입점 미팅이 5월 20일로 잡혔습니다.\n"
    )
    assert (e.startup_name, e.partner_org) == ("달무리소프트", "한빛유통")


def test_a_company_reporting_to_us_is_the_startup_even_when_the_subject_names_another() -> None:
    e = _extract(
        "보낸사람: 보리밭랩 여하진 <hajin@boribat.example>\n"
        "받는사람: 문세아 <sea@waterwheel.example>\n"
        "제목: 도담베이커리 납품 테스트 결과\n\n"
        "매니저님, 보리밭랩 여하진입니다.\n"
        "오늘 도담베이커리 본점에서 납품 테스트를 진행했습니다.\n\n"
        "여하진 드림\n"
    )
    assert (e.startup_name, e.partner_org) == ("보리밭랩", "도담베이커리")


def test_in_a_korean_mail_a_latin_only_company_leans_partner() -> None:
    e = _extract(
        "From: 엄다온 <daon@kkachi-edu.example>\nTo: Clara West <clara@oakfield.example>\n"
        "Subject: RE: Oakfield Learning x 까치에듀\n\n"
        "Clara, 10월 29일(목) kickoff 진행하겠습니다.\n\n"
        "엄다온 | 사업개발 | 까치에듀\n"
    )
    assert (e.startup_name, e.partner_org) == ("까치에듀", "Oakfield Learning")


def test_a_mail_domain_that_is_a_directory_spelling_names_that_company() -> None:
    e = _extract(
        "보낸사람: 석하늘 <haneul@petology.example>\n받는사람: 봉지오 <jio@hanseong-ins.example>\n"
        "제목: RE: 일정\n\n과장님, 말씀하신 대로 5월 19일로 옮겨 진행하겠습니다.\n\n석하늘 드림\n"
    )
    assert e.startup_name == "펫올로지"


def test_the_writers_domain_names_the_startup_as_a_last_resort() -> None:
    e = _extract(
        "From: Hyun Cho <hyun@pebblemoon.example>\nTo: 문세아 <sea@waterwheel.example>\n"
        "Subject: update\n\n"
        "지난주 목요일 Tidewell Insurance 본사에서 pilot 계약 signing을 했어요.\n"
    )
    assert (e.startup_name, e.partner_org) == ("Pebblemoon", "Tidewell Insurance")


@pytest.mark.parametrize(
    "text",
    [
        "Seoul, May 12, 2026 - Corkleaf, a Seoul-based materials startup, today announced a "
        "strategic partnership with Atlântida Embalagens S.A. to develop packaging.",
        "[보도자료] 헬스케어 스타트업 숨빛랩, 가온대학교병원과 임상 협력 MOU 체결\n\n"
        "숨빛랩(대표 원서아)은 5월 11일 가온대학교병원과 업무협약을 체결했다.",
    ],
)
def test_a_press_release_names_its_startup(text: str) -> None:
    e = _extract(text)
    assert e.startup_name in ("Corkleaf", "숨빛랩")
    assert e.partner_org in ("Atlântida Embalagens", "가온대학교병원")


def test_subject_pair_parts_are_names_even_when_they_are_dictionary_words() -> None:
    e = _extract(
        "From: Jiwoo Han <jiwoo@orosi.example>\nTo: 문세아 <sea@waterwheel.example>\n"
        "Subject: [오롯이 x 한울은행] PoC 킥오프\n\n"
        "한울은행과의 PoC 킥오프가 5월 20일로 확정됐습니다.\n"
    )
    assert (e.startup_name, e.partner_org) == ("오롯이", "한울은행")


def test_generic_words_are_not_the_partner() -> None:
    e = _extract(
        "제목: 고객사 PoC\n\n㈜씨앗랩 기하윤입니다. NDA 때문에 고객사명은 공유가 어렵습니다.\n"
        "국내 대형 유통사와의 수요예측 PoC 중간 보고회를 5월 20일(수)에 진행합니다.\n\n"
        "기하윤 드림\n"
    )
    assert e.partner_org is None


# ---- dates and details -------------------------------------------------------------------
def test_a_forwarded_messages_relative_date_uses_its_own_date() -> None:
    email = parse_email(
        "보낸사람: 문세아 <sea@waterwheel.example>\n받는사람: 팀 <team@waterwheel.example>\n"
        "제목: FW: 착수 회의\n\n참고 부탁드립니다.\n\n---------- Forwarded message ---------\n"
        "보낸사람: 탁세온 <seon@hanbit.ac.example>\n날짜: 2026년 3월 6일 (금) 오후 4:20\n"
        "제목: 착수 회의 안내\n받는사람: 소금별바이오 <contact@sogeumbyeol.example>\n\n"
        "한빛대학교 산학협력단 탁세온입니다.\n"
        "공동연구 착수 회의를 다음 주 목요일 오전 10시에 진행합니다.\n",
        received_at=dt.date(2026, 3, 9),
    )
    assert email.quoted_date == dt.date(2026, 3, 6)
    assert email.quoted_sender.startswith("탁세온")
    e = extract_offline(email, SHIPPED, OWN)
    assert e.date == dt.date(2026, 3, 12)  # the Thursday after the inner mail, not after 3/9
    assert e.person_in_charge == "탁세온"


def test_a_date_the_correction_calls_wrong_loses() -> None:
    e = _extract(
        "제목: [정정] 실증 일정\n\n앞서 보내드린 메일에 실증 개시일을 5월 23일로 잘못 적었습니다.\n"
        "캠퍼스 셔틀 실증 개시일은 5월 27일(수)입니다.\n"
    )
    assert e.date == dt.date(2026, 5, 27)


def test_a_date_that_only_dates_an_earlier_call_loses() -> None:
    e = _extract(
        "Subject: workshop\n\nFollowing our call on May 8, we confirm the berth planning "
        "workshop with Harbourline Ltd on Tuesday 9 June in Vlissingen.\n"
    )
    assert e.date == dt.date(2026, 6, 9)


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ("Sam,\n\nthanks again for yesterday's data-sharing workshop in Lyon.\n\nChloé",
         "data-sharing workshop"),
        ("Hey team - update: Brightmoor Retail signed a letter of intent for the rollout.",
         "letter of intent"),
        ("Dear team,\n\nWe are pleased to inform you that you have been selected for the "
         "Nordlys Open Innovation Program 2027.", "Open Innovation Program"),
    ],
)  # fmt: skip
def test_a_sentence_opening_with_thanks_or_hey_can_be_the_details(body: str, details: str) -> None:
    e = _extract("Subject: note\n\n" + body)
    assert details in e.details


def test_a_person_label_line_is_not_the_details() -> None:
    e = _extract(
        "제목: 펫보험 청구 자동화 PoC 킥오프\n\n과장님, 일정 변경 확인했습니다.\n"
        "PoC 실무 담당자는 저희 데이터팀 남유진 님입니다.\n\n석하늘 드림\n"
    )
    assert "담당자" not in e.details


def test_an_ampersand_firm_is_one_company_not_a_pair() -> None:
    e = _extract(
        "From: Dev Rao <dev@inkpath.example>\nTo: 문세아 <sea@waterwheel.example>\n"
        "Subject: Barrow & Wren partnership\n\nYesterday we signed a distribution partnership "
        "with Barrow & Wren PLC for the UK market.\n\nDev Rao | CEO | Inkpath\n"
    )
    assert (e.startup_name, e.partner_org) == ("Inkpath", "Barrow & Wren")


def test_a_domain_spelt_korean_name_keeps_its_latin_tail() -> None:
    e = _extract(
        "From: 마하진 <hajin@byeolbit.example>\nTo: Ethan Cole <ethan@maplewood.example>\n"
        "Subject: RE: pilot\n\nEthan님, 내일 오전 10시에 Maplewood Insurance 측과의 "
        "pilot 착수 회의 진행하겠습니다.\n\n마하진 드림\n별빛AI 사업개발팀\n"
    )
    assert (e.startup_name, e.partner_org) == ("별빛AI", "Maplewood Insurance")
