"""The offline extractor on companies no directory knows: structure first, directory second.

Every email here is hand-written for one failure class of issue 14 (a directory name
inside a longer word, the user's own organisation, header roles, salutations, legal
forms, institutions, sign-offs, relative and deadline dates); none comes from the
evaluation sets or their generator.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabiq_llm.companies import Company, CompanyDirectory, OwnOrg, load_directory
from collabiq_llm.email.parsing import parse_email
from collabiq_llm.entities import ExtractedEntities
from collabiq_llm.providers.offline import extract_offline

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_directory(ROOT / "config" / "companies.toml")
OWN = OwnOrg(("솔바람벤처스", "Solbaram Ventures"), ("solbaram.example",))
THURSDAY = dt.date(2026, 4, 9)


def _extract(
    text: str,
    directory: CompanyDirectory = SHIPPED,
    own: OwnOrg = OWN,
    received_at: dt.date | None = THURSDAY,
) -> ExtractedEntities:
    return extract_offline(parse_email(text, received_at=received_at), directory, own)


def _orgs(e: ExtractedEntities) -> tuple[str | None, str | None]:
    return e.startup_name, e.partner_org


# ---- a directory entry never matches inside a longer word --------------------------
_PARTICLES = [
    "",
    "과",
    "와",
    "의",
    "은",
    "는",
    "이",
    "가",
    "을",
    "를",
    "측과",
    "팀",
    "에서",
    "께서",
]
_KO_NAMES = [c.name for c in SHIPPED.companies if "가" <= c.name[-1] <= "힣"]


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(_KO_NAMES),
    tail=st.sampled_from(["벤처스", "랩스", "코리아", "바이오", "파트너스", "인베스트", "솔루션"]),
    lead=st.sampled_from(["", "밤", "새", "뉴"]),
)
def test_directory_name_never_matches_inside_a_longer_word(name: str, tail: str, lead: str) -> None:
    text = f"오늘 {lead}{name}{tail}와 미팅을 했습니다."
    assert all(m.canonical != name for m in SHIPPED.find_in_text(text))
    match = SHIPPED.match(f"{lead}{name}{tail}")
    assert match is None or match.canonical != name


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(_KO_NAMES), particle=st.sampled_from(_PARTICLES))
def test_directory_name_with_a_particle_still_matches(name: str, particle: str) -> None:
    found = SHIPPED.find_in_text(f"어제 {name}{particle} 파일럿 미팅을 진행했습니다.")
    assert [m.canonical for m in found] == [name]


def test_english_directory_name_is_not_the_first_word_of_a_longer_name() -> None:
    found = SHIPPED.find_in_text("Bonbom Labs met us; the BONBOM Team met GreenWave yesterday.")
    assert [(m.canonical, m.surface) for m in found] == [
        ("본봄", "BONBOM"),
        ("그린웨이브", "GreenWave"),
    ]


def test_fuzzy_match_never_takes_a_name_inside_another() -> None:
    directory = CompanyDirectory([Company("하늘모빌리티", "startup")])
    assert directory.find_in_text("밤하늘모빌리티와 실증을 시작합니다") == []
    assert directory.match("밤하늘모빌리티") is None
    assert directory.match("하늘모빌리티") is not None


# ---- the user's own organisation ----------------------------------------------------
_OWN_PLACES = [
    "Subject: [솔바람벤처스 x 틈새공방] 협업 미팅\n\n"
    "틈새공방과 솔바람벤처스의 협업 미팅을 진행했습니다.",
    "Subject: 미팅 결과\n\n솔바람벤처스와 틈새공방이 어제 파일럿 킥오프를 했습니다.\n\n"
    "김하늘 드림\n솔바람벤처스 | 심사역",
    "From: 김하늘 <ha@solbaram.example>\nTo: 박도윤 <doyun@teumsae.example>\nSubject: 안내\n\n"
    "틈새공방 대표님, 솔바람벤처스 김하늘입니다. 내일 미팅 부탁드립니다.",
    "Subject: update\n\nSolbaram Ventures signed a pilot agreement with Lumafold Retail yesterday.",
    "Subject: 파트너 안내\n\n협업기관: 솔바람벤처스\n스타트업: 틈새공방\n어제 미팅을 진행했습니다.",
]


@settings(max_examples=40, deadline=None)
@given(template=st.sampled_from(_OWN_PLACES), suffix=st.sampled_from(["", " 투자팀", "(주)"]))
def test_own_org_is_never_startup_or_partner(template: str, suffix: str) -> None:
    text = template.replace("솔바람벤처스", "솔바람벤처스" + suffix)
    e = _extract(text)
    for value in _orgs(e):
        assert value is None or not OWN.is_own(value), value


def test_own_org_in_a_companies_file_counts_too(tmp_path: Path) -> None:
    path = tmp_path / "companies.toml"
    path.write_text(
        '[own_org]\nnames = ["솔바람벤처스"]\ndomains = ["solbaram.example"]\n\n'
        '[[startups]]\nname = "솔바람"\n',
        encoding="utf-8",
    )
    directory = load_directory(path)
    e = _extract(
        "Subject: 안내\n\n솔바람벤처스와 한결은행이 어제 MOU를 체결했습니다.", directory, OwnOrg()
    )
    assert "솔바람벤처스" not in _orgs(e) and "솔바람" not in _orgs(e)
    assert e.partner_org == "한결은행"


def test_own_staff_are_person_candidates_after_everyone_else() -> None:
    only_staff = (
        "From: 김하늘 <ha@solbaram.example>\nTo: 박도윤 <doyun@teumsae.example>\n"
        "Subject: 미팅\n\n내일 틈새공방과 한결은행 미팅이 있습니다.\n\n김하늘 드림"
    )
    assert _extract(only_staff).person_in_charge == "김하늘"
    with_contact = only_staff.replace("있습니다.", "있습니다. 담당자: 최서연 매니저")
    assert _extract(with_contact).person_in_charge == "최서연"


# ---- structure: headers, salutations, signatures, legal forms, institutions ----------
@pytest.mark.parametrize(
    ("text", "startup", "partner"),
    [
        (  # the accelerator writes: the addressee's company is the startup
            "From: 김하늘 <ha@solbaram.example>\nTo: 박도윤 <doyun@teumsae.example>\n"
            "Subject: 한결은행 미팅 안내\n\n틈새공방 대표님, 안녕하세요.\n"
            "다음 주 월요일 한결은행과 PoC 킥오프 미팅이 잡혔습니다.",
            "틈새공방",
            "한결은행",
        ),
        (  # a partner writes about a startup the subject names
            "From: 이서준 <seojun@hangyeolbank.example>\nTo: 김하늘 <ha@solbaram.example>\n"
            "Subject: [한결은행] 틈새공방 PoC 착수 회의 안내\n\n"
            "한결은행 디지털혁신부 이서준입니다. 틈새공방 PoC 착수 회의를 진행하고자 합니다.",
            "틈새공방",
            "한결은행",
        ),
        (  # legal forms: ㈜X, X(주), 주식회사 X
            "Subject: 계약 보고\n\n"
            "청람전력기술(주)과 주식회사 틈새공방의 실증 계약을 체결했습니다.",
            "틈새공방",
            "청람전력기술",
        ),
        (  # institution words and 산학협력단
            "Subject: 기술이전\n\n"
            "㈜틈새공방은 서라벌대학교 산학협력단과 기술이전 계약을 체결했습니다.",
            "틈새공방",
            "서라벌대학교 산학협력단",
        ),
        (  # "[A x B]" subject with names no directory knows
            "Subject: [틈새공방 x 한들리테일] 팝업스토어 공동 운영\n\n다음 달 팝업스토어를 엽니다.",
            "틈새공방",
            "한들리테일",
        ),
        (  # English "signed ... with X" and the sender's domain spells the startup
            "From: Noah Kang <noah@lumafold.example>\nTo: Ha Kim <ha@solbaram.example>\n"
            "Subject: pilot signed\n\nLumafold signed a pilot agreement with Harborline "
            "Insurance yesterday.\n\nBest, Noah Kang",
            "Lumafold",
            "Harborline Insurance",
        ),
        (  # a partner with an institution word signs with the startup: roles follow the words
            "Subject: signed\n\nKestrel Retail signed the robot pilot agreement with Fennel "
            "Robotics Co., Ltd. on June 1.",
            "Fennel Robotics",
            "Kestrel Retail",
        ),
        (  # "partnership with X" from the startup's own signature block
            "Subject: news\n\nWe are starting a partnership with Tidewater Development Agency "
            "next month.\n\nGrace Lim\nQuillmint | CEO",
            "Quillmint",
            "Tidewater Development Agency",
        ),
    ],
)
def test_structure_names_companies_no_directory_knows(
    text: str, startup: str, partner: str
) -> None:
    assert _orgs(_extract(text)) == (startup, partner)


@pytest.mark.parametrize(
    ("text", "person"),
    [
        ("Subject: 일정\n\n어제 한결은행과 미팅했습니다.\n\n고은채 드림", "고은채"),
        (
            "Subject: pilot\n\nThe pilot with Harborline Insurance went well.\n\nBest, Noah Kang",
            "Noah Kang",
        ),
        (
            "Subject: recap\n\nThe route trial with Northpine Logistics went well.\n\n— Grace",
            "Grace",
        ),
    ],
)
def test_sign_offs_name_the_person(text: str, person: str) -> None:
    assert _extract(text).person_in_charge == person


def test_program_name_is_never_a_person() -> None:
    text = (
        "Subject: Open Innovation Program\n\nThe Open Innovation Program kicked off with "
        "Harborline Insurance yesterday. Thanks, Open Innovation Program"
    )
    assert _extract(text).person_in_charge != "Open Innovation Program"


def test_ordinary_words_are_not_company_names() -> None:
    e = _extract(
        "Subject: [회의록] 일정 변경\n\n일정 변경 건으로 연락드립니다. 다음 주에 뵙겠습니다."
    )
    assert _orgs(e) == (None, None)


# ---- dates -------------------------------------------------------------------------
def test_next_week_monday_is_the_following_monday() -> None:
    e = _extract("Subject: 킥오프\n\n한결은행과 다음 주 월요일에 킥오프 미팅을 진행합니다.")
    assert e.date == dt.date(2026, 4, 13)


def test_event_date_beats_a_deadline() -> None:
    e = _extract(
        "Subject: 팝업스토어 공동 운영\n\n자료는 4월 24일까지 보내주세요. "
        "팝업스토어 공동 운영은 5월 2일에 시작합니다."
    )
    assert e.date == dt.date(2026, 5, 2)


def test_a_declined_slot_loses_to_the_new_one() -> None:
    e = _extract(
        "Subject: RE: 현장 점검 일정\n\n목요일은 어렵게 되었습니다. 금요일(4/10) 오후 3시로 "
        "변경 가능할까요? 현장 점검은 그대로 진행합니다."
    )
    assert e.date == dt.date(2026, 4, 10)


# ---- the Korean analyser loads lazily ------------------------------------------------
def test_korean_analyser_is_not_loaded_at_cli_start_up() -> None:
    script = (
        "import sys\nimport collabiq_llm.cli.app, collabiq_llm.providers.offline\n"
        "print('kiwipiepy' in sys.modules)\n"
        "from collabiq_llm.offline.lexicon import is_common_word\n"
        "print(is_common_word('회의록'), 'kiwipiepy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True", "True"]


# ---- correspondents: display names, mailboxes, domains ---------------------------------
def test_a_company_display_name_on_a_mailbox_is_the_addressee_company() -> None:
    text = (
        "From: Oliver Brandt <oliver@corvane-motors.example>\n"
        "To: Saltmarsh Analytics <team@saltmarsh-analytics.example>\n"
        "Subject: pitch session\n\nDear Saltmarsh Analytics team,\n\n"
        "Corvane Motors invites you to the pitch session on March 26."
    )
    assert _orgs(_extract(text)) == ("Saltmarsh Analytics", "Corvane Motors")


def test_a_domain_spells_a_korean_name_in_romanisation() -> None:
    text = (
        "From: Sophie Laurent <sophie@maisonverdure.example>\n"
        "To: 노하늘 <haneul@hobakssi-lab.example>\nSubject: listing meeting\n\n"
        "노하늘 대표님, bonjour! Maison Verdure would like to hold the listing meeting "
        "with 호박씨랩 on June 3.\n\nSophie Laurent\nCategory Buyer, Maison Verdure"
    )
    e = _extract(text)
    assert _orgs(e) == ("호박씨랩", "Maison Verdure")
    assert e.person_in_charge == "Sophie Laurent"  # the writer, named nowhere else


def test_a_postponed_event_has_no_date() -> None:
    e = _extract(
        "Subject: 시연회 연기 안내\n\n10월 22일(목)로 잡혀 있던 푸른들농협 방제 드론 시연회가 "
        "기상 악화 예보로 연기되었습니다. 새 일정은 추후 안내드리겠습니다."
    )
    assert e.date is None and e.partner_org == "푸른들농협"


_PIECES = st.sampled_from(
    [
        "솔바람벤처스",
        "틈새공방",
        "㈜",
        "(주)",
        " x ",
        " × ",
        "[",
        "]",
        "대표님",
        "팀",
        "드림",
        "은행",
        "대학교 산학협력단",
        "Inc.",
        " Agency",
        " signed ",
        " with ",
        "Best, ",
        "— ",
        "다음 주 월요일",
        "까지",
        "11/3",
        "\n",
        ", ",
        ". ",
        "Kang",
        "Noah",
        "@",
        "님",
        "과 ",
    ]
)


@settings(max_examples=40, deadline=None)
@given(
    body=st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=40).map("".join),
    sender=st.sampled_from(["", "김하늘 <ha@solbaram.example>", "x <y@teumsae.example>"]),
)
def test_any_text_extracts_without_error_and_never_returns_own_org(body: str, sender: str) -> None:
    from collabiq_llm.email.input import EmailInput

    email = EmailInput("Subject: 안내\n\n" + (body or "."), THURSDAY, sender=sender)
    e = extract_offline(email, SHIPPED, OWN)
    for value in _orgs(e):
        assert value is None or not OWN.is_own(value), value
