"""Structural cues that name an organisation without any directory.

Each finder returns ``(raw name, offset)`` pairs found by the *shape* of the email,
not by knowing the name: a legal form (㈜X, X(주), 주식회사 X, X Inc.), an
institution word (…은행, …대학교 산학협력단, …Agency, …Insurance), a salutation
("X 대표님", "X팀"), a signature line ("X | CEO", "쿡앤칠 대표", "Bokyung @ KidsOn")
and the email addresses of the correspondents. ``orgs`` decides the roles.
"""

from __future__ import annotations

import re
from email.utils import parseaddr

from collabiq_llm.offline.rules import (
    KO_TITLES,
    LATIN,
    LATIN_UPPER,
    is_korean_name,
    looks_like_person,
)

Hit = tuple[str, int]

_KO_WORD = r"[A-Za-z0-9&]{0,12}[가-힣][가-힣A-Za-z0-9&]{0,20}"
# legal forms that end a company's name, of any country; the "established" ones mark a
# large, incorporated firm (a startup's partner far more often than a startup)
ESTABLISHED_FORM = (
    r"(?:(?:Pte|Pvt|Pty)\.?[ \t]*Ltd\.?|Sdn\.?[ \t]*Bhd\.?|GmbH|AG|SE|A/S|ApS|ASA|AS|Oyj|Oy|AB|"
    r"S\.A\.S\.|SAS|S\.A\.|SA|S\.p\.A\.|SpA|S\.r\.l\.|Srl|SRL|SARL|B\.V\.|BV|N\.V\.|NV|"
    r"K\.K\.|KK|G\.K\.|PLC|plc)"
)
EN_LEGAL_FORM = (
    rf"(?:Co\.,?[ \t]*Ltd\.?|{ESTABLISHED_FORM}|Inc\.?|Corp\.?|Corporation|Ltd\.?|Limited|"
    r"LLC|LLP|Co\.)(?![A-Za-z0-9/])"
)
_EN_WORD = rf"(?!{EN_LEGAL_FORM})[{LATIN_UPPER}][{LATIN}0-9&'\-]{{0,30}}"
_EN_ORG = rf"{_EN_WORD}(?:[ \t]+(?:&[ \t]+|of[ \t]+|and[ \t]+)?{_EN_WORD}){{0,4}}"
_EN_LEGAL = rf",?[ \t]+{EN_LEGAL_FORM}"
_LEGAL: list[re.Pattern[str]] = [
    re.compile(rf"(?:㈜|\((?:주|유|재|사)\))[ \t]*(?P<n>{_KO_WORD}|{_EN_ORG})"),
    re.compile(rf"(?:주식회사|유한회사|재단법인|사단법인)[ \t]+(?P<n>{_KO_WORD}|{_EN_ORG})"),
    re.compile(rf"(?<![가-힣A-Za-z0-9])(?P<n>{_KO_WORD})[ \t]?(?:\((?:주|유)\)|㈜)"),
    re.compile(rf"(?<![{LATIN}0-9&])(?P<n>{_EN_ORG}){_EN_LEGAL}"),
]
# institutions and large firms: the usual partners of a startup
KO_INSTITUTION = (
    r"(?:은행|손해보험|생명보험|보험|생명|화재|카드|증권|캐피탈|대학교|대학병원|병원|재단|협회|"
    r"진흥원|연구원|연구소|공사|공단|혁신센터|지원센터|센터|위원회|그룹|백화점|마트|유통|물산|상사|"
    r"제약|식품|푸드|통신|텔레콤|항공|해운|물류|건설|중공업|화학|케미칼|전자|모터스|홀딩스|리테일|"
    r"기업부|과학기술정보통신부|[가-힣]{1,4}청|시청|구청|도청|농협|수협|축협|협동조합|조합)"
)
EN_INSTITUTION = (
    r"(?:Bank|Agency|Insurance|Retail|University|Foundation|Association|Institute|Hospital|"
    r"Group|Holdings|Logistics|Motors|Telecom|Airlines?|Pharma(?:ceuticals?)?|Foods?|"
    r"Securities|Center|Centre|Council|Ministry|Authority|Department Store|Mart|Trading|"
    r"Corporation|Cloud|E&C|Construction|Shipping|Airways)"
)
_KO_INST = re.compile(
    rf"(?<![가-힣A-Za-z0-9&])(?P<n>[가-힣A-Za-z0-9&]{{1,14}}?{KO_INSTITUTION}"
    rf"(?:[ \t]?산학협력단)?)"
    r"(?=[ \t]|[^가-힣A-Za-z0-9]|$|(?:과의|와의|에서|측|과|와|의|은|는|이|가|을|를|로|에|도|쪽))"
)
_EN_INST = re.compile(rf"(?<![A-Za-z0-9&\-])(?P<n>{_EN_WORD}(?:[ \t]+{_EN_WORD}){{0,3}}?"
                      rf"[ \t]+{EN_INSTITUTION})(?![A-Za-z0-9])")  # fmt: skip
_NOT_INSTITUTION = re.compile(
    r"^(?:본|해당|관련|우리|저희|당사|귀사|고객|고객사|협력|제휴|일부|내부|외부|전체|각|타|대형|주요|"
    r"국내|해외|글로벌|지역|시중|민간|공공|정부|지방|중소|대|중|소|모|우리은행|전자|센터|병원|그룹)$"
)
_TITLE_WORDS = (
    r"(?:대표이사|공동대표|대표|이사|CEO|CTO|COO|CFO|Founder|Co-founder|Co-Founder|"
    r"Head of [A-Za-z ]+|Director|Manager|Lead|VP|Partner|PM|매니저|팀장|부장|실장|책임|프로)"
)
_SIGNATURE_ORG = [
    # "쿡앤칠 대표 | 010-...", "㈜뉴비오 대표이사", "본봄 사업개발팀"
    re.compile(rf"^[ \t]*(?:㈜|\(주\)|주식회사[ \t]+)?(?P<n>{_KO_WORD}|{_EN_ORG})(?:\(주\))?"
               rf"(?:[ \t]*\([^)\n]{{1,40}}\))?"  # "풍경소리 (Pungyeong Sori) 대표"
               rf"[ \t]+(?:[가-힣A-Za-z]+[ \t]+)?{_TITLE_WORDS}[ \t]*(?:[|/·,]|$)"),
    # "X | CEO", "X / 대표"
    re.compile(rf"^[ \t]*(?:㈜|\(주\))?(?P<n>{_KO_WORD}|{_EN_ORG})[ \t]*[|/·][ \t]*{_TITLE_WORDS}"),
    # "CEO | X", "CEO, X", "Head of BD, X"
    re.compile(rf"^[ \t]*{_TITLE_WORDS}[ \t]*(?:[|/·,]|at|@)[ \t]*(?:㈜|\(주\))?"
               rf"(?P<n>{_KO_WORD}|{_EN_ORG})[ \t]*$"),
    # "Bokyung @ KidsOn", "Noah Kang | Lumen Labs"
    re.compile(rf"^[ \t]*[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+)?[ \t]*(?:@|\||,|at)[ \t]*"
               rf"(?P<n>{_EN_ORG})[ \t]*$"),
]  # fmt: skip
_SALUTATION = re.compile(
    rf"(?m)^[ \t]*(?:안녕하세요[,!.]?[ \t]*)?(?P<n>{_KO_WORD}|{_EN_ORG})[ \t]?"
    r"(?:(?P<team>팀|team|Team)(?:[ \t]?(?:여러분|분들|일동))?"
    r"|[ \t]?(?:대표|대표이사|담당자|관계자)[ \t]?님)"
    r"(?=[ \t]*(?:[,!.]|께|안녕|$))"
)
_EN_GREETING_TEAM = re.compile(
    rf"(?m)^[ \t]*(?:Hi|Hello|Dear|Hey)[ \t]+(?P<n>{_EN_ORG})[ \t]+team\b"
)
_FREE_MAIL = frozenset(
    [
        "gmail",
        "naver",
        "daum",
        "hanmail",
        "kakao",
        "outlook",
        "hotmail",
        "yahoo",
        "icloud",
        "nate",
        "proton",
        "protonmail",
    ]
)


def _hits(pattern: re.Pattern[str], text: str) -> list[Hit]:
    return [(m.group("n"), m.start("n")) for m in pattern.finditer(text)]


def legal_form_orgs(text: str) -> list[Hit]:
    """Names carrying a legal form: ㈜X, X(주), 주식회사 X, X Inc., X Co., Ltd."""
    return [hit for pattern in _LEGAL for hit in _hits(pattern, text)]


def institution_orgs(text: str) -> list[Hit]:
    """Names ending in an institution word (…은행, …대학교 산학협력단, …Agency, …Retail)."""
    out = []
    for m in _KO_INST.finditer(text):
        name = m.group("n")
        stem = re.sub(KO_INSTITUTION + r"(?:[ \t]?산학협력단)?$", "", name)
        if not stem or _NOT_INSTITUTION.match(stem) or _NOT_INSTITUTION.match(name):
            continue
        if len(stem) < 2 and len(name) - len(stem) < 3:
            continue  # "스마트" is 스 + 마트: a one-syllable stem before a short word
        if name.endswith("연구원") and is_korean_name(stem):
            continue  # "김철수연구원" is a person with a title
        out.append((name, m.start("n")))
    out += _hits(_EN_INST, text)
    return out


_FOUNDER = re.compile(r"대표|CEO|Founder|Co-?founder|공동창업|창업자", re.IGNORECASE)


_STARTUP_PHRASES = [
    # "Corkmoss, a Seoul-based materials startup, today announced"
    re.compile(rf"(?<![{LATIN}0-9&])(?P<n>{_EN_ORG}),[ \t]+an?[ \t]+[^,.\n]{{0,60}}?"
               r"\b(?:start-?up|scale-?up)\b", re.IGNORECASE),
    # "said Yuna Seo, CEO of Corkmoss", "co-founder of Kelpwise"
    re.compile(rf"\b(?:CEO|Co-?founder|Founder)(?:[ \t]+and[ \t]+\w+)?[ \t]+of[ \t]+"
               rf"(?P<n>{_EN_ORG})"),
    # "헬스케어 스타트업 숨결랩", "숨결랩(대표 원서준)은"
    re.compile(rf"스타트업[ \t]+(?P<n>{_KO_WORD})"),
    re.compile(rf"(?<![가-힣A-Za-z0-9])(?P<n>{_KO_WORD})[ \t]?\([ \t]*(?:대표|대표이사|CEO)[ \t]+"
               r"[가-힣]{2,4}[ \t]*\)"),
]  # fmt: skip


def startup_phrases(text: str) -> list[Hit]:
    """Companies the text itself calls a startup or names with its founder (press releases)."""
    return [hit for pattern in _STARTUP_PHRASES for hit in _hits(pattern, text)]


def founder_orgs(body: str, last_lines: int = 8) -> list[Hit]:
    """Signature companies whose writer signs as CEO / 대표 / founder: a startup's own mail."""
    hits = signature_orgs(body, last_lines)
    return [
        (n, s) for n, s in hits if _FOUNDER.search(body[s : body.find("\n", s) % (len(body) + 1)])
    ]


def signature_orgs(body: str, last_lines: int = 8) -> list[Hit]:
    """Organisation names in the signature block (the last few non-empty lines)."""
    lines = [(m.start(), m.group(0)) for m in re.finditer(r"[^\n]+", body)]
    out = []
    for start, line in [ln for ln in lines if ln[1].strip()][-last_lines:]:
        if len(line) > 80:
            continue
        for pattern in _SIGNATURE_ORG:
            m = pattern.search(line)
            if m and not re.fullmatch(KO_TITLES, m.group("n")):
                out.append((m.group("n"), start + m.start("n")))
                break
    return out


def salutation_orgs(body: str, first_chars: int = 200) -> list[Hit]:
    """The addressee's organisation: "본봄팀 안녕하세요", "쿡앤칠 대표님께", "Hi KidsOn team"."""
    head = body[:first_chars]
    out = []
    for m in _SALUTATION.finditer(head):
        name = m.group("n")
        if not m.group("team") and is_korean_name(name):
            continue  # "김민수 대표님": a person
        out.append((name, m.start("n")))
    return out + _hits(_EN_GREETING_TEAM, head)


def domain_label(address: str) -> str:
    """The organisation part of an address: "jiho@mail.cookchill.co.kr" -> "cookchill"."""
    _, addr = parseaddr(address)
    domain = (addr or address).rsplit("@", 1)[-1].lower().strip(" >")
    if "@" not in (addr or address) or not domain:
        return ""
    parts = [p for p in domain.split(".") if p]
    while len(parts) > 1 and (
        len(parts[-1]) <= 3 or parts[-1] in ("example", "local", "test", "invalid")
    ):
        parts.pop()  # TLDs and the reserved example domains: co.kr, com, .example
    label = parts[-1] if parts else ""
    return "" if label in _FREE_MAIL else label


def display_name(address: str) -> str:
    return parseaddr(address)[0].strip()


_MAILBOXES = frozenset(
    {
        *("team", "info", "contact", "hello", "hi", "biz", "business", "press", "pr", "media"),
        *("founders", "founder", "admin", "office", "sales", "partnerships", "partners"),
        *("partner", "bd", "marketing", "support", "help", "noreply", "no-reply"),
        *("newsletter", "oip", "portfolio", "invest", "ir", "hr", "careers", "jobs"),
    }
)


def is_person_address(address: str) -> bool:
    """A correspondent who is a person: a personal display name on a personal mailbox
    ("Saltmarsh Analytics <team@...>" is a company, "Noah Kang <noah@...>" a person)."""
    name = display_name(address)
    _, addr = parseaddr(address)
    local = addr.split("@", 1)[0].lower() if "@" in addr else ""
    return bool(name) and looks_like_person(name) and local not in _MAILBOXES


_INITIALS = [
    "g",
    "kk",
    "n",
    "d",
    "tt",
    "r",
    "m",
    "b",
    "pp",
    "s",
    "ss",
    "_",
    "j",
    "jj",
    "ch",
    "k",
    "t",
    "p",
    "h",
]
_VOWELS = [
    "a",
    "ae",
    "ya",
    "yae",
    "eo",
    "e",
    "yeo",
    "ye",
    "o",
    "wa",
    "wae",
    "oe",
    "yo",
    "u",
    "wo",
    "we",
    "wi",
    "yu",
    "eu",
    "ui",
    "i",
]
_FINALS = [
    "",
    *[
        "k",
        "k",
        "k",
        "n",
        "n",
        "n",
        "t",
        "l",
        "k",
        "m",
        "l",
        "l",
        "l",
        "p",
        "l",
        "m",
        "p",
        "p",
        "t",
        "t",
        "ng",
        "t",
        "t",
        "k",
        "t",
        "p",
        "t",
    ],
]


def romanise(text: str) -> str:
    """Hangul in the Revised Romanisation (letters only), other characters lower-cased."""
    out = []
    for ch in text:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            initial = _INITIALS[code // 588]
            out.append(("" if initial == "_" else initial) + _VOWELS[code % 588 // 28])
            out.append(_FINALS[code % 28])
        elif ch.isalnum():
            out.append(ch.lower())
    return "".join(out)


def _latin_prefix(domain: str, key: str) -> bool:
    """ "tidewater-agency" spells "Tidewater Development Agency": its first word leads."""
    first = domain.split("-")[0]
    return len(first) >= 5 and key.startswith(first)


def spells(domain: str, name: str) -> bool:
    """Whether an email domain label spells an organisation's name (Latin, or Korean read
    in the Revised Romanisation: 도토리에너지 ~ dotori-energy, 새솔은행 ~ saesolbank)."""
    if name.isascii() and _latin_prefix(domain.lower(), romanise(name)):
        return True
    domain = re.sub(r"[^a-z0-9]", "", domain.lower())
    key = romanise(name)
    if len(domain) < 3 or len(key) < 3:
        return False
    if key == domain or (len(key) >= 4 and (domain.startswith(key) or key.startswith(domain))):
        return True
    common = 0
    for a, b in zip(key, domain, strict=False):
        if a != b:
            break
        common += 1
    return bool(re.search(r"[가-힣]", name)) and common >= 5


_CONTACT_ORG = re.compile(  # "담당: 윤세라 (바다숲랩 CSO)", "Contact: Jane Doe (Lumafold, CEO)"
    rf"(?:담당자?|연락처|문의|Contact|PIC)[ \t]*[:：][^\n(]{{1,30}}\([ \t]*"
    rf"(?P<n>{_KO_WORD}|{_EN_ORG})[ \t]*,?[ \t]+[A-Za-z가-힣 ]{{1,20}}\)",
    re.IGNORECASE,
)
_LIST_HEAD = re.compile(  # "1) 고양이발자국 — Meridian Pet Care와 ...": an update lists companies
    rf"(?m)^[ \t]*(?:\d{{1,2}}[.)]|[-*•·▪])[ \t]*(?P<n>{_KO_WORD}|{_EN_ORG})[ \t]*[—–:][ \t]"
)


def contact_orgs(body: str) -> list[Hit]:
    """The company named beside a labelled contact person."""
    return _hits(_CONTACT_ORG, body)


def list_heads(body: str) -> list[Hit]:
    """Companies heading the items of a list (portfolio updates)."""
    return _hits(_LIST_HEAD, body)


def _without_person(display: str) -> str:
    """ "㈜들꽃소프트 김하율", "모아핀 송지후 대표님" -> the company part of a display name."""
    words = display.split()
    kept = [
        w for w in words if not (is_korean_name(w) or re.fullmatch(rf"(?:{KO_TITLES})(?:님)?", w))
    ]
    return " ".join(kept) if kept else display


def party_orgs(address: str, text: str) -> list[Hit]:
    """A correspondent's company: a display name that is no person ("밤하늘모빌리티 <biz@...>"),
    or the address domain's words found in the text ("greyhaven-rentals" -> "Greyhaven
    Rentals"). Offsets past the end of the text: these are not mentions."""
    out: list[Hit] = []
    far = len(text) + 1
    name = display_name(address)
    if name and not is_person_address(address) and "@" not in name:
        out.append((_without_person(name), far))
    _, addr = parseaddr(address)
    domain = addr.rsplit("@", 1)[-1].lower() if "@" in addr else ""
    label = next((p for p in domain.split(".") if p and p not in ("mail", "www")), "")
    parts = [p for p in label.split("-") if p]
    label_key = domain_label(address)
    if label_key:  # a Korean word the domain spells in romanisation (hobakssi-lab ~ 호박씨랩)
        for word in re.finditer(
            r"(?<![가-힣])(?P<k>[가-힣]{2,12})(?P<l>[A-Z0-9]{1,5}(?![a-z]))?", text
        ):
            stem = re.sub(
                r"(?:과의|와의|에서|측|과|와|의|은|는|이|가|을|를|로|에|도|랑)$",
                "",
                word.group("k"),
            )
            if len(stem) >= 2 and spells(label_key, stem) and romanise(stem)[:1] == label_key[:1]:
                whole = stem == word.group("k") and word.group("l")  # "구름빛AI" (gureumbit)
                out.append((stem + word.group("l") if whole else stem, far))
                break
    if parts and len("".join(parts)) >= 4 and domain_label(address):
        phrase = r"[ \t\-]?".join(re.escape(p) for p in parts)
        m = re.search(rf"(?<![A-Za-z0-9@.]){phrase}(?![A-Za-z0-9@]|\.\w)", text, re.IGNORECASE)
        if m and not m.group(0).islower():  # a name as written, not an address
            out.append((m.group(0), far))
    return out
