"""What counts as an organisation's name in running text, and how a raw match is cleaned.

The vocabulary the org finder uses: name shapes (Korean, English), partner-like words,
stop words, labels and sentence patterns, and the resolver that turns a raw match into a
candidate (directory spelling when known; rejected when it is a person, a team, the
user's own organisation, a programme or an ordinary dictionary word).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from collabiq_llm.companies import KO_PARTICLES, CompanyDirectory, OwnOrg
from collabiq_llm.email.dates import COLLAB_WORDS
from collabiq_llm.offline import cues
from collabiq_llm.offline.lexicon import is_common_word, is_verb_form
from collabiq_llm.offline.rules import KO_TITLES, LATIN, LATIN_UPPER, is_korean_name, words

Shape = Literal["pair-startup-first", "pair-partner-first", "with", "counterpart"]

_COLLAB = "(?i:" + COLLAB_WORDS.pattern + ")"
_KO_AFFIX = r"\((?:주|재|사|유)\)|㈜|주식회사|재단법인|사단법인|유한회사"
# names start at a word boundary and have bounded length: no quadratic backtracking on long text
NAME_KO = (
    rf"(?<![가-힣A-Za-z0-9&()])(?:(?:{_KO_AFFIX})[ \t]*)?"
    r"[A-Za-z0-9&]{0,12}[가-힣][가-힣A-Za-z0-9&]{0,24}"
)
_EN_NAME_WORD = rf"(?!{cues.EN_LEGAL_FORM})[{LATIN_UPPER}][{LATIN}0-9&\-]{{0,30}}"
NAME_EN = (  # a legal form may end it: "Nordhavn Terminals A/S" (clean_name drops it)
    rf"(?<![{LATIN}0-9&\-])(?:{_EN_NAME_WORD}(?:[ \t]+(?:&[ \t]+)?{_EN_NAME_WORD}){{0,3}}"
    rf"(?:,?[ \t]+{cues.EN_LEGAL_FORM})?)"
)
NAME = f"(?:{NAME_KO}|{NAME_EN})"
_PARTNER_WORDS = re.compile(
    rf"(?:{cues.KO_INSTITUTION}|상사|공사|공단|대학|연구원|부|시)(?:[ \t]?산학협력단)?$"
    rf"|\b(?:{cues.EN_INSTITUTION}|electronics|city|pharma\w*)$",
    re.IGNORECASE,
)
# industry words a startup's name may carry too (xx푸드, xx Logistics): weaker evidence
_INDUSTRY_WORDS = re.compile(
    r"(?:푸드|식품|유통|물류|통신|텔레콤|리테일|모터스|전자|화학|케미칼|제약|항공|해운|건설|상사|물산|"
    r"홀딩스|마트|그룹|에너지)$"
    r"|\b(?:foods?|logistics|retail|motors|telecom|trading|shipping|airlines?|pharma\w*|cloud|"
    r"construction|e&c|group|holdings|electronics|energy|chemicals?)$",
    re.IGNORECASE,
)
_STOP_KO = words(
    "저희 당사 우리 귀사 양사 각사 본사 자사 팀 미팅 회의 협업 파일럿 고객 고객사",
    "담당자 대표 함께 오늘 어제 내일 다음 이번 관련 진행 일정 논의 본건 해당 심사역",
    "투자팀 여러분 매장 내부 외부 기존 신규 공지 안내 회신 요청 긴급 보고 공유 참고",
    "중요 결과 건 제안 계약 업무 사업 프로젝트 기업 회사 스타트업 파트너 파트너사",
    "기관 협력사 제휴사 담당 실무진 실무 대표님 이사님 팀장님 매니저님",
    "상대 상대방 상대측 유통사 제조사 공급사 거래처 협력업체 발주처 고객처 대기업 중견기업",
)
_STOP_EN = words(
    "we our the this that they i you he she it team meeting pilot partnership hi dear",
    "thanks good news quick update subject re fwd fw fyi today yesterday tomorrow next",
    "last monday tuesday wednesday thursday friday saturday sunday january february",
    "march april may june july august september october november december jan feb mar",
    "apr jun jul aug sep sept oct nov dec best regards poc mou kickoff kick-off contract",
    "agreement deal ceo cto external internal announce announces announced sign signs",
    "launch launches kick kicks complete completes to for on at from via program manager",
    "coo cfo founder co-founder cofounder head director lead vp press release immediate",
    "open innovation confidential undisclosed unnamed tbd tba hello hey greetings",
)
_LABEL = re.compile(
    r"(?im)^[ \t]*(?:[-*•·▶■□▪◦]+[ \t]*)?\[?(?:"
    r"(?P<s>스타트업(?:명)?|포트폴리오(?:사)?|기업명|회사명|Startup(?:[ \t]+name)?|"
    r"Portfolio(?:[ \t]+company)?)|"
    r"(?P<p>협업[ \t]*기관(?:명)?|협력[ \t]*기관|파트너(?:사)?|제휴사|고객사|상대[ \t]*기관|"
    r"Partner(?:[ \t]+(?:org(?:anization|anisation)?|company))?|Client|Counterpart)"
    r")\]?[ \t]*[:：][ \t]*(?P<v>[^\n]+)"
)
_PATTERNS: list[tuple[re.Pattern[str], Shape]] = [
    # "본봄 x 한빛유통", "GreenWave × Hanbit Retail", "A & B"
    (re.compile(rf"(?P<a>{NAME})[ \t]+(?:[xX×✕]|<>|↔|&)[ \t]+(?P<b>{NAME})"),
     "pair-startup-first"),
    # "A와 B의 협업", "A과 B 파일럿", "A와 B가 MOU를": Korean lists the larger party first
    (re.compile(rf"(?P<a>{NAME})(?:와|과|하고|이랑|랑)[ \t]+(?P<b>{NAME})"
                r"(?=(?:의|이|가|은|는|간|사이)[ \t]|[ \t]+(?:간|사이|양사|공동|측)"
                rf"|[ \t]+{_COLLAB})"),
     "pair-partner-first"),
    # "오늘 대한물산과 물류 자동화 PoC 계약을", "A측과 미팅"
    (re.compile(rf"(?P<b>{NAME})(?:측과|와|과)(?:의)?[ \t]+(?:함께[ \t]+)?(?:\S+[ \t]+){{0,3}}?"
                rf"{_COLLAB}"), "counterpart"),
    (re.compile(rf"\bbetween[ \t]+(?P<a>{NAME_EN})[ \t]+and[ \t]+(?P<b>{NAME_EN})"),
     "pair-startup-first"),
    # "GreenWave signed a pilot agreement with Hanbit Retail": the subject is the reporter's side
    (re.compile(rf"(?P<a>{NAME_EN})[ \t]+(?:has[ \t]+|have[ \t]+|will[ \t]+|is[ \t]+|are[ \t]+)?"
                r"(?:signed|entered|kicked off|launched|started|began|held|agreed|partnered|"
                r"partnering|teamed up|collaborat\w+|met|completed|closed|finali[sz]ed|won)\b"
                rf"[^.\n]{{0,80}}?\bwith[ \t]+(?P<b>{NAME_EN})"), "with"),
    (re.compile(rf"(?P<a>{NAME_EN})[ \t]+and[ \t]+(?P<b>{NAME_EN})(?:'s?)?[ \t]+(?:(?:have|has|"
                rf"will|are|signed|agreed|held|kicked|launched|met|started|began|announce|"
                rf"announced|announces)\b|{_COLLAB})"),
     "pair-startup-first"),
    (re.compile(rf"(?i:partnership|pilot|poc|meeting|kick-?off|contract|agreement|mou|deal|"
                rf"trial|collaboration|call)(?:[ \t]+[^.\n]{{0,60}}?)?[ \t]+with[ \t]+"
                rf"(?P<b>{NAME_EN})"), "counterpart"),
]  # fmt: skip
_DEPARTMENT = re.compile(
    r"(?:팀|부서|본부|사업부|사업단|실|파트|TF|team|department|division)$", re.I
)
_INVESTOR = re.compile(
    r"(?:벤처스|인베스트먼트|캐피탈|파트너스|투자)$|\b(?:ventures|capital|investments?|partners)$",
    re.I,
)
_TOPIC = re.compile(rf"(?:^|[\s,])(?P<a>{NAME_KO})(?:은|는|이|가|에서|측은|측에서)[ \t]")
_SUBJECT_TAG = re.compile(r"^\s*\[(?P<a>[^\]\n]{2,30})\]")


@dataclass
class _Cand:
    """A name found in the email; ``kind`` is set when the directory knows it."""

    name: str
    start: int
    kind: str | None = None
    score: float = 1.0
    established: bool = False  # written with a large firm's legal form (AG, GmbH, K.K., PLC)


def clean_name(raw: str) -> str:
    """A name as written, minus particles, corporate affixes and stray punctuation."""
    name = unicodedata.normalize("NFKC", raw).strip()
    name = re.sub(rf"^(?:{_KO_AFFIX})\s*|\s*(?:{_KO_AFFIX})$", "", name)
    name = re.sub(rf"(?:,?\s*(?:{cues.EN_LEGAL_FORM}|Co\.?))+$", "", name)
    if re.search(r"[가-힣]$", name):
        name = re.sub(r"(?:입니다|이며|이고|이에요|예요)$", "", name)
        name = KO_PARTICLES.sub("", name)
    words = name.split()
    while words and words[-1].lower().strip(".,") in _STOP_EN:
        words.pop()
    while words and words[0].lower() in _STOP_EN:
        words.pop(0)
    return " ".join(words).strip(" .,:;-'\"()[]")


def _keep_final_syllable(name: str, raw: str, text: str) -> str:
    """ "오롯이" is a name, not 오롯 + 이, where the email writes it before " x " or "]"
    ("[오롯이 x 한울은행]"): no particle stands there."""
    whole = re.sub(rf"^(?:{_KO_AFFIX})\s*", "", unicodedata.normalize("NFKC", raw).strip())
    if whole == name or not whole.startswith(name) or len(whole) - len(name) > 1:
        return name
    standalone = re.escape(whole) + r"(?=[ \t]+(?:[xX×✕&/|]|<>)[ \t]|[ \t]*[\]|/,])"
    return whole if re.search(rf"(?<![가-힣]){standalone}", text) else name


def _acceptable(name: str, text: str, people: set[str], own: OwnOrg) -> bool:
    if len(name) < 2 or name in people or name.isdigit() or own.is_own(name):
        return False
    if name in _STOP_KO or name.lower() in _STOP_EN or COLLAB_WORDS.fullmatch(name):
        return False
    if _DEPARTMENT.search(name) or (not own.names and _INVESTOR.search(name)):
        return False  # a team inside a company, or (own org unknown) the investor reading
    if _PROGRAM.search(name) or re.fullmatch(KO_TITLES, name):
        return False  # a programme, or a bare title (책임, 대표)
    # "김철수 매니저와" is a person, not a company ("본봄 대표" is still the company)
    titled = re.search(re.escape(name) + r"\s?(?:" + KO_TITLES + r")(?![가-힣])", text)
    return not (titled and is_korean_name(name))


_PROGRAM = re.compile(
    r"\b(?:program|programme|accelerat\w*|demo day|batch|cohort|initiative|challenge|summit|"
    r"newsletter|fund)$|(?:프로그램|오픈이노베이션|액셀러레이팅|데모데이|공모전|챌린지|기수|뉴스레터)$",
    re.IGNORECASE,
)


class _Resolver:
    def __init__(
        self, directory: CompanyDirectory, text: str, people: set[str], own: OwnOrg
    ) -> None:
        self.directory, self.text, self.people, self.own = directory, text, people, own

    def __call__(self, raw: str, start: int, *, marked: bool = False) -> _Cand | None:
        """``marked``: a legal form or institution word already says it is an organisation;
        otherwise a plain dictionary word (회의록, 일정 변경) is not taken for a name."""
        name = _keep_final_syllable(clean_name(raw), raw, self.text)
        if not name or self.own.is_own(name):
            return None
        match = self.directory.match(name)
        if match is not None and match.score >= 0.85 and not self.own.is_own(match.canonical):
            return _Cand(match.canonical, start, match.kind, match.score)
        if not _acceptable(name, self.text, self.people, self.own):
            return None
        whole = unicodedata.normalize("NFKC", raw).strip()  # "데모데이" before particles go
        if is_verb_form(name) or (
            not marked and (is_common_word(name, verb_forms=True) or is_common_word(whole))
        ):
            return None
        return _Cand(name, start)


def line_start_of(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1
