"""The fictional directory of the evaluation set: companies, people, collaboration phrases.

Every company, person, phone number and address here is invented; domains use the
reserved ``.example`` TLD and phones the unassigned ``010-0000-xxxx`` range.
"""
# ruff: noqa: E501  (directory tables: wide Hangul lines read better unbroken)

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Org:
    """A fictional company or institution; ``twin`` names a look-alike, different entity."""

    key: str
    ko: str
    en: str
    kind: str  # "startup" | "partner"
    sector_ko: str
    sector_en: str
    affix_ko: str = "(주)"
    affix_en: str = "Inc."
    domain: str = ""
    twin: str | None = None

    def name(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en

    def legal(self, lang: str, r: random.Random) -> str:
        """The name with a legal-form affix, written the ways real mail writes it."""
        if lang == "ko":
            if not self.affix_ko:
                return self.ko
            return r.choice([f"(주){self.ko}", f"주식회사 {self.ko}", f"{self.ko}(주)", f"㈜{self.ko}"])
        if not self.affix_en:
            return self.en
        return f"{self.en} {self.affix_en}"


def _s(key: str, ko: str, en: str, sko: str, sen: str, twin: str | None = None) -> Org:
    return Org(key, ko, en, "startup", sko, sen, domain=f"{key}.example", twin=twin)


def _p(key: str, ko: str, en: str, sko: str, sen: str, affix_ko: str = "(주)",
       affix_en: str = "Co., Ltd.", twin: str | None = None) -> Org:
    return Org(key, ko, en, "partner", sko, sen, affix_ko, affix_en, f"{key}.example", twin)


STARTUPS: dict[str, Org] = {o.key: o for o in [
    _s("bonbom", "본봄", "Bonbom", "패션 리커머스 플랫폼", "fashion re-commerce platform", "bonbomlabs"),
    _s("bonbomlabs", "본봄랩스", "Bonbom Labs", "비전 AI 솔루션", "vision AI", "bonbom"),
    _s("daon", "다온", "Daon", "반려동물 헬스케어 앱", "pet-health app", "daonbio"),
    _s("daonbio", "다온바이오", "Daon Bio", "마이크로바이옴 신약", "microbiome therapeutics", "daon"),
    _s("liftup", "리프트업", "LiftUp", "물류 로보틱스", "warehouse robotics"),
    _s("moapick", "모아픽", "Moapick", "리테일 데이터 분석", "retail analytics"),
    _s("haneul", "하늘정원", "Haneul Garden", "수직농장 스마트팜", "vertical farming"),
    _s("nuvio", "뉴비오", "Nuvio", "디지털 헬스케어", "digital health"),
    _s("florin", "플로린", "Florin", "B2B 결제 핀테크", "B2B payments"),
    _s("codeberry", "코드베리", "Codeberry", "개발자 협업 도구", "developer tooling"),
    _s("greenloop", "그린루프", "GreenLoop", "자원순환 플랫폼", "packaging reuse"),
    _s("tessellate", "테셀레이트", "Tessellate AI", "산업용 비전 검사", "visual inspection AI"),
    _s("soylab", "소이랩", "Soylab", "식물성 대체단백", "plant-based protein"),
    _s("wavefin", "웨이브핀", "Wavefin", "해양 데이터 플랫폼", "ocean data platform"),
    _s("datasoop", "데이터숲", "DataSoop", "데이터 라벨링", "data labelling"),
    _s("medistep", "메디스텝", "Medistep", "재활 웨어러블", "rehab wearables"),
    _s("orbit", "오르빗로보틱스", "Orbit Robotics", "서빙 로봇", "service robots"),
    _s("kidson", "키즈온", "KidsOn", "에듀테크", "edtech"),
    _s("luminut", "루미넛", "Luminut", "스마트 조명 IoT", "smart-lighting IoT"),
    _s("cookchill", "쿡앤칠", "Cook&Chill", "콜드체인 밀키트", "cold-chain meal kits"),
]}

PARTNERS: dict[str, Org] = {o.key: o for o in [
    _p("hangyeol", "한결유통", "Hangyeol Retail", "유통", "retail", twin="hangyeolintl"),
    _p("hangyeolintl", "한결유통인터내셔널", "Hangyeol Retail International", "해외소싱",
       "global sourcing", twin="hangyeol"),
    _p("nuri", "누리에너지", "Nuri Energy", "에너지", "energy", twin="nurisol"),
    _p("nurisol", "누리에너지솔루션", "Nuri Energy Solutions", "에너지 IT", "energy IT", twin="nuri"),
    _p("hanbitbank", "한빛은행", "Hanbit Bank", "은행", "banking", affix_ko="", affix_en="",
       twin="hanbitcap"),
    _p("hanbitcap", "한빛캐피탈", "Hanbit Capital", "여신금융", "consumer finance",
       twin="hanbitbank"),
    _p("jungang", "중앙푸드", "Jungang Food", "식품", "food", twin="jungangsvc"),
    _p("jungangsvc", "중앙푸드서비스", "Jungang Food Service", "단체급식", "contract catering",
       twin="jungang"),
    _p("daeyang", "대양물산", "Daeyang Trading", "종합상사", "trading"),
    _p("serim", "세림제약", "Serim Pharmaceutical", "제약", "pharma"),
    _p("miraero", "미래로통신", "Miraero Telecom", "통신", "telecom"),
    _p("cheongwoon", "청운건설", "Cheongwoon E&C", "건설", "construction"),
    _p("gicenter", "경기혁신센터", "Gyeonggi Innovation Center", "창업지원기관",
       "startup support agency", affix_ko="", affix_en=""),
    _p("haeoreum", "해오름화장품", "Haeoreum Cosmetics", "화장품", "cosmetics"),
    _p("narae", "나래식품", "Narae Foods", "식품", "food"),
    _p("seoun", "서운대학교병원", "Seoun University Hospital", "병원", "hospital",
       affix_ko="", affix_en=""),
    _p("aster", "Aster Logistics", "Aster Logistics", "글로벌 물류", "logistics",
       affix_ko="", affix_en="Inc."),
    _p("helios", "헬리오스모터스", "Helios Motors", "모빌리티", "mobility"),
    _p("kestrel", "Kestrel Partners", "Kestrel Partners", "CVC", "corporate venture capital",
       affix_ko="", affix_en="LLC"),
    _p("yotta", "Yotta Cloud", "Yotta Cloud", "클라우드", "cloud", affix_ko="", affix_en="Ltd."),
    _p("bluefin", "블루핀손해보험", "Bluefin Insurance", "보험", "insurance"),
    _p("donghae", "동해항공", "Donghae Air", "항공", "airline"),
    _p("smartfarm", "한국스마트팜협회", "Korea Smart Farm Association", "협회", "association",
       affix_ko="", affix_en=""),
]}

ORGS: dict[str, Org] = {**STARTUPS, **PARTNERS}
VC = Org("nextbridge", "넥스트브릿지벤처스", "NextBridge Ventures", "vc", "VC", "VC",
         domain="nextbridge.example")


@dataclass(frozen=True)
class Person:
    """A fictional person; ``ko`` is None for people who only have a Latin name."""

    ko: str | None
    en: str

    def name(self, lang: str) -> str:
        return self.ko if (lang == "ko" and self.ko) else self.en

    @property
    def local(self) -> str:
        parts = self.en.lower().replace("-", "").split()
        return f"{parts[0]}.{parts[-1]}" if len(parts) > 1 else parts[0]


_KO_PEOPLE = """김철수 Cheolsu Kim|이서연 Seoyeon Lee|박지훈 Jihoon Park|최유나 Yuna Choi|정민호 Minho Jeong
강하은 Haeun Kang|윤태희 Taehee Yoon|장도현 Dohyun Jang|임수빈 Subin Lim|한지민 Jimin Han
오준영 Junyoung Oh|서예린 Yerin Seo|신동욱 Dongwook Shin|권나래 Narae Kwon|황보경 Bokyung Hwang
송지아 Jia Song|안재원 Jaewon Ahn|조은비 Eunbi Cho|유건우 Geonwoo Yoo|배서진 Seojin Bae
홍석진 Seokjin Hong|전소희 Sohee Jeon|고다인 Dain Ko|문채원 Chaewon Moon|양승호 Seungho Yang
구민재 Minjae Koo|노유진 Yujin Noh|하성민 Seongmin Ha|백지수 Jisu Baek|김민수 Minsu Kim
김민서 Minseo Kim|이도윤 Doyoon Lee|차윤서 Yunseo Cha|남현우 Hyunwoo Nam|우정아 Jeonga Woo
석지호 Jiho Seok|표하람 Haram Pyo|진세영 Seyoung Jin|탁민아 Mina Tak|변우진 Woojin Byun"""
KO_PEOPLE = [Person(*x.split(" ", 1)) for line in _KO_PEOPLE.splitlines() for x in line.split("|")]
EN_PEOPLE = [Person(None, n) for n in (
    "Emily Carter", "Daniel Brooks", "Priya Nair", "Lucas Meyer", "Marco Rossi", "Olivia Chen",
    "Ethan Walker", "Sofia Alvarez", "Noah Fischer", "Chloe Martin", "Samuel Okafor",
    "Aisha Rahman", "Tom Eriksen", "Laura Bianchi", "Kenji Tanaka", "Rachel Goldberg")]
VC_STAFF = [Person("오세린", "Serin Oh"), Person("한도윤", "Doyun Han"),
            Person("문지호", "Jiho Moon"), Person("배수아", "Sua Bae")]
VC_TITLE_KO = {"오세린": "심사역", "한도윤": "팀장", "문지호": "매니저", "배수아": "책임"}

TITLES_KO = {"startup": ["대표", "이사", "CTO", "COO", "매니저", "팀장", "프로", "사업개발 리드"],
             "partner": ["매니저", "팀장", "책임", "과장", "차장", "부장", "선임", "본부장", "파트장",
                         "프로", "수석"]}
TITLES_EN = {"startup": ["CEO", "Co-founder & CEO", "COO", "CTO", "Head of Business Development",
                         "Partnerships Lead", "Product Manager"],
             "partner": ["Head of Partnerships", "Business Development Manager", "Partnership Lead",
                         "Director, Open Innovation", "Procurement Manager", "VP of Strategy",
                         "Program Manager", "Senior Manager, Strategy"]}
TEAMS_KO = ["사업개발팀", "전략기획팀", "오픈이노베이션팀", "구매팀", "신사업팀", "마케팅팀",
            "디지털혁신팀", "R&D센터", "제휴팀"]


# key: (Korean, English, mixed Korean/English) -- the phrase the email uses verbatim
COLLAB: dict[str, tuple[str, str, str]] = {
    "kickoff": ("파일럿 킥오프 미팅", "pilot kickoff meeting", "pilot kick-off 미팅"),
    "poc_review": ("PoC 결과 공유 미팅", "PoC review meeting", "PoC result review 미팅"),
    "mou": ("업무협약(MOU) 체결", "MOU signing", "MOU 체결"),
    "invest": ("투자 미팅", "investment meeting", "투자 meeting"),
    "comarketing": ("공동 마케팅 캠페인 기획 회의", "co-marketing campaign planning session",
                    "co-marketing 캠페인 기획 회의"),
    "supply": ("납품 계약 체결", "supply agreement signing", "납품 계약(supply agreement) 체결"),
    "demoday": ("데모데이 발표", "demo day pitch", "Demo Day 피칭"),
    "api": ("API 연동 기술 미팅", "API integration workshop", "API integration 미팅"),
    "testbed": ("매장 테스트베드 운영 협의", "in-store pilot planning call", "in-store pilot 협의"),
    "rnd": ("공동 연구개발 협약 체결", "joint R&D agreement signing", "joint R&D 협약 체결"),
    "diligence": ("현장 실사", "on-site due diligence visit", "on-site 실사"),
    "prototype": ("시제품 납품", "prototype delivery", "prototype 납품"),
    "popup": ("팝업스토어 공동 운영 회의", "pop-up store co-hosting meeting",
              "pop-up store 공동 운영 회의"),
    "fieldtrial": ("실증 사업 착수 회의", "field trial kickoff", "실증(field trial) 착수 회의"),
    "procurement": ("구매팀 미팅", "procurement meeting", "procurement 미팅"),
    "sample": ("샘플 테스트 결과 리뷰", "sample test results review", "sample test 결과 리뷰"),
    "data": ("데이터 공유 협약 체결", "data-sharing agreement signing", "data-sharing 협약 체결"),
    "beta": ("베타 서비스 공동 론칭", "joint beta launch", "beta 서비스 공동 launch"),
    "si": ("전략적 투자(SI) 논의 미팅", "strategic investment discussion", "SI 투자 논의 미팅"),
    "openinno": ("오픈이노베이션 협약식", "open innovation agreement ceremony",
                 "open innovation 협약식"),
    "pocstart": ("기술 검증(PoC) 착수 회의", "PoC kickoff", "PoC kick-off 회의"),
    "pricing": ("공급 단가 협상 미팅", "pricing negotiation meeting", "단가 negotiation 미팅"),
    "webinar": ("공동 웨비나", "joint webinar", "joint webinar"),
    "reseller": ("리셀러 파트너십 계약 체결", "reseller partnership agreement signing",
                 "reseller 파트너십 계약 체결"),
}
MEETINGS = ["kickoff", "poc_review", "comarketing", "api", "testbed", "fieldtrial",
            "procurement", "sample", "pocstart", "pricing", "si", "popup"]
SIGNINGS = ["mou", "supply", "rnd", "data", "openinno", "reseller"]
SIDE_TOPICS_KO = ["다음 분기 예산 편성", "보도자료 문안 검토", "NDA 날인본 회수", "채용 공고 게시",
                  "세금계산서 발행", "사무실 이전", "연말 네트워킹 행사 참석"]
SIDE_TOPICS_EN = ["the Q1 budget review", "press release wording", "the countersigned NDA",
                  "our hiring plan", "invoice paperwork", "the year-end networking event"]
