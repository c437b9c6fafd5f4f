"""Which organisations an email is about, and which one is the startup.

Order of evidence: an explicit label (스타트업명:, 협업기관:, Partner:) > the known-company
directory (its entries say whether they are a startup or a partner) > the email's
structure (the sender's own company from its address, signature or self-introduction;
the addressee's company when the user's own organisation wrote; a "[X]" subject tag)
> sentence patterns ("A와 B의 협업", "A signed ... with B", "between A and B", "A x B"
in the subject) > institution words and legal forms (…은행, …Agency, ㈜X, X Inc.).
When patterns alone cannot tell the roles apart, a partner-like word (은행, 그룹, 재단,
Bank, University, ...) decides, and otherwise word order does, with a low "guess"
confidence. The user's own organisation (``OwnOrg``) is never a startup or partner.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from collabiq_llm.companies import KO_PARTICLES, CompanyDirectory, OwnOrg
from collabiq_llm.email.dates import COLLAB_WORDS
from collabiq_llm.offline import cues
from collabiq_llm.offline.lexicon import is_common_word
from collabiq_llm.offline.rules import KO_TITLES, Found, is_korean_name, words

Shape = Literal["pair-startup-first", "pair-partner-first", "with", "counterpart"]

_COLLAB = "(?i:" + COLLAB_WORDS.pattern + ")"
_KO_AFFIX = r"\((?:주|재|사|유)\)|㈜|주식회사|재단법인|사단법인|유한회사"
# names start at a word boundary and have bounded length: no quadratic backtracking on long text
NAME_KO = (
    rf"(?<![가-힣A-Za-z0-9&()])(?:(?:{_KO_AFFIX})[ \t]*)?"
    r"[A-Za-z0-9&]{0,12}[가-힣][가-힣A-Za-z0-9&]{0,24}"
)
NAME_EN = (
    r"(?<![A-Za-z0-9&\-])(?:[A-Z][A-Za-z0-9&\-]{0,30}"
    r"(?:[ \t]+(?:&[ \t]+)?[A-Z][A-Za-z0-9&\-]{0,30}){0,3})"
)
NAME = f"(?:{NAME_KO}|{NAME_EN})"
_PARTNER_WORDS = re.compile(
    rf"(?:{cues.KO_INSTITUTION}|상사|공사|공단|대학|연구원|부|시)(?:[ \t]?산학협력단)?$"
    rf"|\b(?:{cues.EN_INSTITUTION}|electronics|city|pharma\w*)$",
    re.IGNORECASE,
)
_STOP_KO = words(
    "저희 당사 우리 귀사 양사 각사 본사 자사 팀 미팅 회의 협업 파일럿 고객 고객사",
    "담당자 대표 함께 오늘 어제 내일 다음 이번 관련 진행 일정 논의 본건 해당 심사역",
    "투자팀 여러분 매장 내부 외부 기존 신규 공지 안내 회신 요청 긴급 보고 공유 참고",
    "중요 결과 건 제안 계약 업무 사업 프로젝트 기업 회사 스타트업 파트너 파트너사",
    "기관 협력사 제휴사 담당 실무진 실무 대표님 이사님 팀장님 매니저님",
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
                rf"will|are|signed|agreed|held|kicked|launched|met|started|began)\b|{_COLLAB})"),
     "pair-startup-first"),
    (re.compile(rf"(?i:partnership|pilot|poc|meeting|kick-?off|contract|agreement|mou|deal|"
                rf"trial|collaboration|call)[ \t]+with[ \t]+(?P<b>{NAME_EN})"), "counterpart"),
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


@dataclass
class _Evidence:
    labels: dict[str, _Cand]
    known: list[_Cand]
    pairs: list[tuple[_Cand, _Cand, Shape]]
    startupish: list[_Cand]
    partnerish: list[_Cand]
    sender: list[_Cand]
    addressee: list[_Cand]
    institutions: list[_Cand]
    legal: list[_Cand]
    subject_names: list[_Cand]


def clean_name(raw: str) -> str:
    """A name as written, minus particles, corporate affixes and stray punctuation."""
    name = unicodedata.normalize("NFKC", raw).strip()
    name = re.sub(rf"^(?:{_KO_AFFIX})\s*|\s*(?:{_KO_AFFIX})$", "", name)
    name = re.sub(r",?\s*(?:Co\.?,?\s*Ltd\.?|Inc\.?|Corp\.?|Ltd\.?|LLC|Co\.?)$", "", name)
    if re.search(r"[가-힣]$", name):
        name = KO_PARTICLES.sub("", name)
    words = name.split()
    while words and words[-1].lower().strip(".,") in _STOP_EN:
        words.pop()
    while words and words[0].lower() in _STOP_EN:
        words.pop(0)
    return " ".join(words).strip(" .,:;-'\"()[]")


def _acceptable(name: str, text: str, people: set[str], own: OwnOrg) -> bool:
    if len(name) < 2 or name in people or name.isdigit() or own.is_own(name):
        return False
    if name in _STOP_KO or name.lower() in _STOP_EN or COLLAB_WORDS.fullmatch(name):
        return False
    if _DEPARTMENT.search(name) or (not own.names and _INVESTOR.search(name)):
        return False  # a team inside a company, or (own org unknown) the investor reading
    if _PROGRAM.search(name):
        return False
    # "김철수 매니저와" is a person, not a company ("본봄 대표" is still the company)
    titled = re.search(re.escape(name) + r"\s?(?:" + KO_TITLES + r")(?![가-힣])", text)
    return not (titled and is_korean_name(name))


USE_LEXICON = True
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
        name = clean_name(raw)
        if not name or self.own.is_own(name):
            return None
        match = self.directory.match(name)
        if match is not None and match.score >= 0.85 and not self.own.is_own(match.canonical):
            return _Cand(match.canonical, start, match.kind, match.score)
        if not _acceptable(name, self.text, self.people, self.own):
            return None
        if not marked and USE_LEXICON and is_common_word(name):
            return None
        return _Cand(name, start)


def line_start_of(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


_EN_TITLE = r"\b(?:Head|Director|Manager|Lead|VP|CEO|CTO|COO|Founder|Co-founder|Partner)\b"
_EN_SELF_ORG = re.compile(
    rf"\b(?:our team at|we at|here at|(?:I am|I'm|this is)[ \t]+{NAME_EN}[ \t]+(?:from|at|of))"
    rf"[ \t]+(?P<a>{NAME_EN})"
)


def _sender_orgs(text: str, people: set[str]) -> list[str]:
    """The sender's own company: "본봄 사업개발팀 김철수입니다", "김철수 드림\n본봄 | 매니저"."""
    patterns = [_EN_SELF_ORG]
    for person in people:
        p = re.escape(person)
        patterns += [
            re.compile(
                rf"(?P<a>{NAME})[ \t]+(?:\S+[ \t]+){{0,2}}?{p}(?:[ \t]?(?:{KO_TITLES}))?"
                r"[ \t]?(?:입니다|드림|올림)"
            ),
            re.compile(rf"{p}[^\n]*\n[ \t]*(?P<a>{NAME_KO})[ \t]*[|/·,]"),
            re.compile(rf"{p}[^\n]*\n[^\n|,]*{_EN_TITLE}[^\n|,]*[|,][ \t]*(?P<a>{NAME_EN})"),
        ]
    return [m.group("a") for pattern in patterns for m in pattern.finditer(text)]


@dataclass(frozen=True)
class Parties:
    """Who is writing to whom: the From and To/Cc entries ("Name <addr>")."""

    sender: str = ""
    recipients: tuple[str, ...] = ()


def _collect(
    subject: str, body: str, directory: CompanyDirectory, people: set[str], own: OwnOrg
) -> _Evidence:
    text = subject + "\n" + body
    resolve = _Resolver(directory, text, people, own)
    ev = _Evidence({}, [], [], [], [], [], [], [], [], [])

    def add(
        target: list[_Cand], hits: list[tuple[str, int]], offset: int = 0, marked: bool = False
    ) -> None:
        for raw, start in hits:
            if (cand := resolve(raw, start + offset, marked=marked)) is not None:
                target.append(cand)

    for m in _LABEL.finditer(text):
        value = re.sub(rf"^\s*(?:{_KO_AFFIX})\s*", "", m.group("v"))
        cand = resolve(re.split(r"[(/,;|]|\s-\s", value)[0], m.start("v"), marked=True)
        role = "startup" if m.group("s") else "partner"
        if cand is not None and role not in ev.labels:
            ev.labels[role] = cand
    ev.known = [
        _Cand(m.canonical, m.start, m.kind, m.score)
        for m in directory.find_in_text(text)
        if not own.is_own(m.canonical) and not own.is_own(m.surface)
    ]
    add(ev.sender, [(raw, 0) for raw in _sender_orgs(text, people)], marked=True)
    add(ev.sender, cues.signature_orgs(body), len(subject) + 1, marked=True)
    add(ev.addressee, cues.salutation_orgs(body), len(subject) + 1, marked=True)
    add(ev.institutions, cues.institution_orgs(text), marked=True)
    add(ev.legal, cues.legal_form_orgs(text), marked=True)
    tag = _SUBJECT_TAG.match(subject)
    for part in re.split(r"\s+(?:[xX×✕&+/]|<>|↔)\s+", tag.group("a")) if tag else []:
        if (cand := resolve(part, subject.find(part))) is not None:
            ev.subject_names.append(cand)
    for pattern, shape in _PATTERNS:
        for m in pattern.finditer(text):
            b_raw, b_start = m.group("b"), m.start("b")
            if _DEPARTMENT.search(clean_name(b_raw)):  # "대성그룹 혁신팀과" -> 대성그룹
                before = re.search(
                    rf"({NAME})[ \t]+$", text[line_start_of(text, b_start) : b_start]
                )
                if before:
                    b_raw, b_start = before.group(1), b_start - len(before.group(0))
            b = resolve(b_raw, b_start)
            a = resolve(m.group("a"), m.start("a")) if "a" in m.groupdict() else None
            if shape == "counterpart":
                if b is not None:
                    ev.partnerish.append(b)
                    for t in _TOPIC.finditer(text, line_start_of(text, m.start()), m.start()):
                        topic = resolve(t.group("a"), t.start("a"))
                        if topic is not None and topic.name != b.name:
                            ev.startupish.append(topic)
            elif a is not None and b is not None and a.name != b.name:
                if shape == "with":  # "A signed ... with B": the reporter's side is the subject
                    if _is_partnerish(a) and not _is_partnerish(b):
                        a, b = b, a  # "Kestrel Retail signed ... with Fennel Robotics"
                    ev.startupish.append(a)
                    ev.partnerish.append(b)
                else:
                    ev.pairs.append((a, b, shape))
    subject_cands = [c for c in _everyone(ev) if c.start < len(subject)]
    ev.subject_names = _subject_names(subject, body, resolve, ev.subject_names + subject_cands)
    _merge_short_forms(ev)
    return ev


def _merge_short_forms(ev: _Evidence) -> None:
    """ "Kestrel" and "Kestrel Retail" in one email are one company: use the full name."""
    cands = _everyone(ev) + ev.subject_names
    names = {c.name for c in cands}
    for cand in cands:
        if cand.kind is not None or not cand.name.isascii():
            continue
        longer = [n for n in names if re.fullmatch(re.escape(cand.name) + r"(?: [A-Z]\w*)+", n)]
        if longer:
            cand.name = min(longer, key=len)


def _most_mentioned(cands: list[_Cand], kind: str, exclude: set[str]) -> _Cand | None:
    named = [c for c in cands if c.kind == kind and c.name not in exclude]
    if not named:
        return None
    counts = Counter(c.name for c in named)
    return max(named, key=lambda c: (counts[c.name], -c.start))


def _everyone(ev: _Evidence) -> list[_Cand]:
    """Every candidate found, in the order of the text."""
    cands = [
        *ev.labels.values(), *ev.known, *ev.sender, *ev.addressee, *ev.startupish,
        *ev.partnerish, *ev.institutions, *ev.legal, *(c for p in ev.pairs for c in p[:2]),
    ]  # fmt: skip
    return sorted(cands, key=lambda c: c.start)


def _by_domain(ev: _Evidence, directory: CompanyDirectory, addresses: list[str]) -> list[_Cand]:
    """Candidates whose (Latin) name or directory alias the addresses' domains spell."""
    labels = [d for d in (cues.domain_label(a) for a in addresses) if d]
    if not labels:
        return []
    out = []
    for cand in _everyone(ev):
        company = directory.get(cand.name)
        spellings = company.spellings if company else (cand.name,)
        if any(cues.spells(label, s) for label in labels for s in spellings):
            out.append(cand)
    return out


def _structure(
    ev: _Evidence,
    subject: str,
    directory: CompanyDirectory,
    parties: Parties,
    own: OwnOrg,
    put: Callable[[str, _Cand | None, float], None],
) -> None:
    """Roles from who writes to whom: the writer's company, the addressees' companies
    (from their address domains and the salutation) and the company the subject names."""
    sender = parties.sender
    own_sender = bool(sender) and (
        own.owns_address(sender) or own.is_own(cues.display_name(sender))
    )
    sender_domain = cues.domain_label(sender) if sender else ""
    others = [
        r
        for r in parties.recipients
        if not own.owns_address(r) and cues.domain_label(r) not in ("", sender_domain)
    ]
    addressed = _by_domain(ev, directory, others)
    if own_sender:  # the user's organisation wrote: the addressee is the startup
        for cand in addressed + ev.addressee:
            put("startup", cand, 0.6)
        return
    writers = _by_domain(ev, directory, [sender] if sender else []) + ev.sender
    writer = writers[0] if writers else None
    about = ev.subject_names
    topic = next((c for c in about if writer is None or c.name != writer.name), None)
    if writer is None:
        put("startup", topic, 0.5)
        return
    if about and about[0].name == writer.name and not _is_partnerish(writer):
        topic = None  # the writer names itself first in the subject: its own report
    other = next((c for c in addressed if c.name != writer.name), None) or topic
    if other is None:
        put("partner" if _is_partnerish(writer) else "startup", writer, 0.6)
    elif _is_partnerish(writer) or (other is topic and not _is_partnerish(other)):
        put("startup", other, 0.55)
        put("partner", writer, 0.55)
    else:
        put("startup", writer, 0.6)
        put("partner", other, 0.55)


_SUBJECT_SPLIT = re.compile(r"[\[\]()<>{}:;,/|!?\"“”'‘’]+|\s+[-–—xX×&+]\s+|\s+")


def _subject_names(subject: str, body: str, resolve: _Resolver, found: list[_Cand]) -> list[_Cand]:
    """Companies the subject names: a candidate found anywhere whose name is in the subject,
    or a subject word that the body repeats and that is no ordinary word."""
    out = [c for c in found if c.start < len(subject) or (c.name and c.name in subject)]
    seen = {c.name for c in out}
    for m in re.finditer(rf"{NAME}", subject):
        tokens = {m.group(0)} if m.group(0).isascii() else set(_SUBJECT_SPLIT.split(m.group(0)))
        for token in tokens:
            name = clean_name(token)
            if name.isascii() and (name.isupper() or name.lower() in _STOP_EN):
                continue  # "NDA", "IMMEDIATE RELEASE": not a company
            if len(name) < 2 or name in seen or body.count(name) < 1:
                continue
            cand = resolve(name, m.start())
            if cand is not None and cand.name not in seen:
                out.append(cand)
                seen.add(cand.name)
    return sorted(out, key=lambda c: c.start if c.start < len(subject) else subject.find(c.name))


def _is_partnerish(cand: _Cand) -> bool:
    return cand.kind == "partner" or (cand.kind is None and bool(_PARTNER_WORDS.search(cand.name)))


def find_orgs(
    subject: str,
    body: str,
    directory: CompanyDirectory,
    people: set[str],
    parties: Parties | None = None,
    own: OwnOrg | None = None,
) -> tuple[Found | None, Found | None]:
    """(startup, partner) with confidences: label 0.9, directory ≈0.8, structure ≈0.6,
    pattern ≈0.55, institution/legal form ≈0.45, guess 0.35."""
    own = (own or OwnOrg()) | directory.own_org
    parties = parties or Parties()
    ev = _collect(subject, body, directory, people, own)
    roles: dict[str, Found] = {r: Found(c.name, 0.9, c.start) for r, c in ev.labels.items()}

    def taken() -> set[str]:
        return {f.value for f in roles.values()}

    def put(role: str, cand: _Cand | None, conf: float) -> None:
        if cand is not None and role not in roles and cand.name not in taken():
            if not own.is_own(cand.name):
                roles[role] = Found(cand.name, round(conf, 2), cand.start)

    def put_org(cand: _Cand, conf: float) -> None:
        """A company whose role only its kind or its words tell."""
        put("partner" if _is_partnerish(cand) else "startup", cand, conf)

    for role in ("startup", "partner"):
        best = _most_mentioned(ev.known, role, taken())
        put(role, best, 0.8 * best.score if best else 0.0)
    known_names = {c.name for c in ev.known} | taken()
    for a, b, _shape in ev.pairs:  # one side known: the other takes the other role
        for this, other in ((a, b), (b, a)):
            if this.name in known_names and other.name not in known_names:
                this_role = next((r for r, f in roles.items() if f.value == this.name), this.kind)
                if this_role in ("startup", "partner"):
                    put("partner" if this_role == "startup" else "startup", other, 0.6)
    # the email's structure: who writes, to whom, about whom (the subject names the startup)
    _structure(ev, subject, directory, parties, own, put)
    for cand in ev.startupish:
        put("startup", cand, 0.55)
    for a, b, shape in ev.pairs:  # neither known: partner-like words, else word order (a guess)
        a_p, b_p = bool(_PARTNER_WORDS.search(a.name)), bool(_PARTNER_WORDS.search(b.name))
        if a_p != b_p:
            first, conf = ("partner" if a_p else "startup"), 0.5
        else:
            first, conf = ("startup" if shape != "pair-partner-first" else "partner"), 0.35
        put(first, a, conf)
        put("partner" if first == "startup" else "startup", b, conf)
    paired = {a.name for a, _, _ in ev.pairs}
    for cand in ev.partnerish:  # "A와 ... 미팅": A is the other party
        if cand.name not in paired:
            put(
                "startup" if cand.kind == "startup" and "startup" not in roles else "partner",
                cand,
                0.55,
            )
    for cand in ev.institutions:
        put("partner", cand, 0.45)
    for cand in ev.addressee:
        put_org(cand, 0.4)
    for cand in ev.legal:
        put_org(cand, 0.4)
    extra = _most_mentioned(ev.known, "startup", taken())  # two startups working together
    put("partner", extra, 0.5)
    if len(roles) == 1:  # one role found: the other party named anywhere takes the other
        missing = "partner" if "startup" in roles else "startup"
        for cand in _everyone(ev):
            put(missing, cand, 0.35)
    return roles.get("startup"), roles.get("partner")
