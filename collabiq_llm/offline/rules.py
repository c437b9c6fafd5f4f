"""Rules the offline provider uses for people and details (no network, deterministic).

Every finder returns the value with a confidence that says *how* it was found:
an explicit label (담당자:, Contact:) ≈0.9, a signature or sign-off ≈0.6, a name
next to a title in running text ≈0.5. The offline result is a fallback, so its
confidences stay modest.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from collabiq_llm.email.dates import (
    COLLAB_WORDS,
)
from collabiq_llm.offline.lexicon import is_common_word

SURNAMES = frozenset(
    "김이박최정강조윤장임한오서신권황안송류유홍전고문양손배백허남심노하곽성차주우구민진나지엄채원천"
    "방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부"
    "피라빈좌평호범계승간견필감태판팽초"  # rarer ones (피승우, 라미소): dictionary words are
)  # still filtered by the lexicon wherever a name is taken from running text
DOUBLE_SURNAMES = ("남궁", "황보", "제갈", "선우", "독고", "사공", "서문")
KO_TITLES = (
    r"(?:공동대표|대표이사|대표|이사|매니저|팀장|부장|차장|과장|대리|주임|사원|실장|본부장|센터장|"
    r"파트장|그룹장|책임|선임|수석|연구원|프로|상무|전무|부사장|사장|회장|교수|박사|심사역|"
    r"CEO|CTO|COO|CFO|PM)(?:님)?|님|씨"
)


def words(*chunks: str) -> frozenset[str]:
    """A stop-word set from space-separated chunks (keeps the lists readable)."""
    return frozenset(" ".join(chunks).split())


# common words that start with a surname syllable and could sit before a title
_NOT_NAMES = words(
    "이번 이후 이전 이메일 이사 이상 이미 이제 이용 이슈 정도 정리 정보 정식",
    "조정 조율 진행 지난 지원 전달 전체 전략 전화 제안 제품 제공 주요 주간",
    "최근 최종 오늘 오전 오후 안녕 안내 우리 우선 유통 문의 방문 변경 공유",
    "공동 구매 고객 고객사 남은 하반기 상반기 한번 현재 홍보 신규 신청 서비스",
    "성과 송부 양사 연락 예정 도입 소개 담당 기존 기술 금주 금일 명일 마케팅",
    "마무리 인사 임원 장소 부서 사업 사전 사내 심사역 심사 차주 추가 추진 반영",
    "원활 경우 경영 여러분 강조 회사 사장 대표 팀장 매니저 연구원 본부 센터",
    "파트 그룹 고문 주식 주관 주최 기관 기업 모든 각각 다음 이야기 성공 성장",
    "연구 개발 운영 영업 전무 상무 실장 과장 부장 차장 대리 사원 선임 책임",
    "수석 교수 투자 투자팀 심사팀 전원 모두 제출 전송 조치 준비 지급 설명 송금 배송 반송",
)
_EN_STOP = words(
    "best regards kind warm thanks thank you many sincerely cheers hi hello dear",
    "team head of and the business development manager director partnerships",
    "partnership partner sales lead ceo cto coo cfo founder co-founder vp president",
    "officer marketing operations product strategy investment senior junior",
    "associate principal global korea inc ltd corp llc company group bank university",
    "monday tuesday wednesday thursday friday saturday sunday sent from my iphone",
    "contact person email phone mobile tel fax office please good news update",
    "program programme open innovation accelerator batch cohort demo day summit challenge",
    "initiative fund newsletter portfolio press media release immediate",
)
_KO_NAME = r"(?:남궁|황보|제갈|선우|독고|사공|서문)?[가-힣]{2,3}"
# Latin letters with diacritics (Chloé, Søren, Łukasz): names are not ASCII-only
LATIN_UPPER = "A-ZÀ-ÖØ-ÞĀ-ſ"
LATIN_LOWER = "a-zß-öø-ÿĀ-ſ"
LATIN = "A-Za-zÀ-ÖØ-öø-ÿĀ-ſ"
_EN_PART = (
    rf"[{LATIN_UPPER}](?:[{LATIN_LOWER}]+|'[{LATIN_UPPER}][{LATIN_LOWER}]+)"  # Kang, O'Brien
    rf"(?:[-'][{LATIN_UPPER}]?[{LATIN_LOWER}]+)?"
)
# "Sanne de Vries", "Ludwig van Beethoven": lower-case particles inside a name
_EN_PARTICLE = r"(?:(?:de|van|von|der|den|da|di|del|della|la|le|du|dos|das|bin|al|ter)[ ])"
# Latin-letter boundaries, not \b: "Emily Tran입니다" ends the name before the Hangul
_EN_NAME = rf"(?<![{LATIN}])" + _EN_PART + rf"(?:[ -]{_EN_PARTICLE}*{_EN_PART}){{0,2}}(?![{LATIN}])"
_LABEL = re.compile(
    r"(?im)(?:^|(?<=[.!?。…][ \t]))[ \t]*(?:[-*•·▶■□▪◦]+[ \t]*)?\[?(?:"
    r"(?:(?:실무|현업|프로젝트|업무|행사|미팅)[ \t]?)?"
    r"(?:담당자|담당|연락\s*담당자?|연락처|책임자|문의처?)\]?(?:\s*(?:는|은))?"
    r"(?:[ \t]*[:：]|[ \t]+(?=[가-힣]))"
    r"|(?:PIC|(?:(?:Media|Press|Main|Primary|Project)\s+)?Contact(?:\s+person)?|"
    r"Person\s+in\s+charge|Point\s+of\s+contact|"
    r"주최자|Organi[sz]er)\]?[ \t]*[:：]"
    r")[ \t]*(?P<v>[^\n]+)"
)
_INLINE_LABEL = re.compile(
    r"(?:담당(?:자|하시는\s*분)?|연락(?:\s*창구)?|contact(?:\s+point)?|point of contact|PIC)"
    r"(?:는|은|로)\s+(?P<v>[^\n.,]{2,40})"
    r"|(?i:\b(?:(?:your|our|their|the|main|primary)\s+)?(?:contact(?:\s+person)?|point of contact|"
    r"owner))\s+(?:is|will be)\s+(?P<w>[^\n.,;]{2,40})",
)
# "청솔에너지 측 담당: 표예나", "유통사 담당: 추은별 MD", "실무 contact: 제가온",
# "Owner on our side: X"
_PREFIXED_LABEL = re.compile(
    r"(?m)^[ \t]*(?:[-*•·▶■□▪◦]+[ \t]*)?(?:[^\n:：]{1,24}?[ \t]?(?:측|쪽)?[ \t]*)?"
    r"(?:담당자?|연락처|(?i:contact|PIC|owner))(?:[ \t]+(?i:on\s+(?:our|their|the\s+\w+)\s+side))?"
    r"[ \t]*[:：][ \t]*(?P<v>[^\n]+)"
)
# "Wei Ling Tan, will be your contact", "Ingrid will be our contact there", "I will be your
# point of contact" (the writer), "Laura Fenn ... owns the project on their side"
_WILL_BE_CONTACT = re.compile(
    r"(?P<v>[^\n.,;:]{2,40}?),?\s+(?:will be|is|'ll be|owns the project)"
    r"(?:\s+(?:your|our|the|their))?(?:\s+(?:main|primary|day-to-day|key))?"
    r"\s+(?:point of contact|contact(?:\s+person)?|project|lead)\b",
    re.IGNORECASE,
)
# "문가온 팀장이 맡습니다", "Chris Oh 상무님이 리드하십니다", "led by 한지민 이사": who runs it
_RUNS = re.compile(
    r"(?P<v>(?:" + _KO_NAME + r"|" + _EN_NAME + r"))[ \t]?(?:(?:" + KO_TITLES + r")[ \t]?)?"
    r"(?:이|가)\s+(?:리드|총괄|맡|담당하|진행을\s*맡)"
    r"|(?i:\bled\s+by)\s+(?P<w>[^\n,.;]{2,40})"
)
# the writer stays the contact: "계속 제가 창구 역할 하겠습니다", "I'll remain your contact"
_SELF_CONTACT = re.compile(
    r"제가\s+(?:계속\s+)?(?:창구|담당|연락)|(?:계속\s+)?제가\s+맡|"
    r"(?i:\bI(?:'ll| will)\s+(?:remain|stay|be)\s+(?:your|the)\s+(?:main\s+)?(?:point of )?contact)"
)
# "Their innovation lead, Tom Haskett (copied)", "You'll meet Laura Fenn from their team"
_INTRODUCED = re.compile(
    r"(?i:\b(?:their|our|the)\s+[a-z][a-z \-]{1,40}?\b(?:lead|director|manager|head|owner|"
    r"officer|partner|VP|champion|sponsor)),\s+(?P<v>[^\n,(]{2,40})"
    r"|(?i:\b(?:meet|introduce you to|connect you with|introducing|working with))"
    r"\s+(?P<w>[^\n,.;]{2,40})"
)
_AFTER_TITLE = (
    r"(?=$|[^가-힣]|(?:와|과|께서|께|이|가|은|는|을|를|의|도|에게|랑|하고)(?:[^가-힣]|$))"
)
_TITLED = re.compile(r"(?<![가-힣])(?P<n>" + _KO_NAME + r")\s?(?:" + KO_TITLES + ")" + _AFTER_TITLE)
_TITLED_EN = re.compile(r"(?:Mr|Ms|Mrs|Dr)\.?\s+(?P<n>" + _EN_NAME + ")")
_SIGN = re.compile(  # "김철수 드림" closing a line
    r"(?m)(?<![가-힣])(?P<n>" + _KO_NAME + r")(?:\s?(?:" + KO_TITLES + r"))?\s?(?:드림|올림|배상)"
    r"[ \t.!~]*$"
)
_SIGNOFF = re.compile(
    r"(?im)^[ \t]*(?:감사합니다|고맙습니다|감사드립니다|Best regards|Kind regards|Warm regards|"
    r"Regards|Best|Thanks|Thank you|Many thanks|Sincerely|Cheers|BR)[ \t]*[.,!~]*[ \t]*$"
)
_SIGNOFF_SAME_LINE = re.compile(  # "Best, Noah Kang", "Thanks, Grace", "— Grace", "-- 김철수"
    r"(?im)^[ \t]*(?:(?:Best(?:[ \t]+regards)?|Kind regards|Warm regards|Regards|Thanks|Thank you|"
    r"Cheers|Sincerely|Many thanks|감사합니다|고맙습니다)[ \t]*[,.!][ \t]*|[-—–~]{1,2}[ \t]*)"
    r"(?P<n>" + _EN_NAME + r"|" + _KO_NAME + r")[ \t]*[.!]?[ \t]*$"
)
_SELF_KO = re.compile(
    r"(?<![가-힣])(?P<n>" + _KO_NAME + r")\s?(?:(?:" + KO_TITLES + r")\s?)?입니다(?=[\s.,!]|$)"
)
_INTRO_CHARS = 200  # self-introductions ("본봄 김철수입니다") live at the top
_SELF_EN = re.compile(r"\b(?:I am|I'm|this is|my name is)\s+(?P<n>" + _EN_NAME + r")(?=[\s,.!]|$)")
_HEADER_LINE = re.compile(
    r"(?im)^[ \t]*(?:from|sent|to|cc|subject|보낸\s*사람|보낸\s*날짜|받는\s*사람|참조|제목)"
    r"[ \t]*[:：].*$"
)
_DATE_HEADER = re.compile(r"(?im)^[ \t]*(?:date|날짜)[ \t]*[:：][ \t]*(?P<v>.+)$")
_CONTACT_LINE = re.compile(
    r"(?i)@|\+?\d{2,3}[-.) ]\d{3,4}[-. ]\d{4}|^(?:tel|phone|mobile|fax|e-?mail|연락처|전화|이메일|"
    r"주소|address|www\.|https?://)"
)


@dataclass(frozen=True)
class Found:
    """A value with the confidence its finding method earns, and where it was found."""

    value: str
    confidence: float
    start: int = 0


@dataclass(frozen=True)
class EmailParts:
    """The email text split for the rules: subject, body, and the date relative words use."""

    subject: str
    body: str
    anchor: dt.date | None
    sender: str = ""  # From: of the last forwarded/quoted header block in the text, if any
    recipients: tuple[str, ...] = ()


def split_email(text: str, received_at: dt.date | None) -> EmailParts:
    """Separate "Subject:" and header-like lines; a Date: header line is a fallback anchor."""
    subject = ""
    m = re.match(r"[ \t]*(?:Subject|제목)[ \t]*[:：][ \t]*(?P<s>[^\n]*)\n?", text, re.IGNORECASE)
    if m:
        subject, text = m.group("s").strip(), text[m.end() :]
    anchor = received_at
    for dm in _DATE_HEADER.finditer(text):
        try:
            sent = parsedate_to_datetime(dm.group("v").strip()).date()
        except (TypeError, ValueError, IndexError, OverflowError):
            continue  # not an RFC 822 date: an event label such as "Date: Nov 5"
        anchor = anchor or sent
        text = text.replace(dm.group(0), "", 1)
    sender, recipients = _inner_parties(text)
    text = _HEADER_LINE.sub("", text)
    return EmailParts(subject, text, anchor, sender, recipients)


_PARTY_LINE = re.compile(
    r"(?im)^[ \t>]*(?P<k>from|to|cc|보낸\s*사람|받는\s*사람|참조)[ \t]*[:：][ \t]*(?P<v>.+)$"
)


def _inner_parties(text: str) -> tuple[str, tuple[str, ...]]:
    """From / To / Cc of the last header block pasted in the text (a forwarded message)."""
    sender, recipients = "", []
    for m in _PARTY_LINE.finditer(text):
        key = m.group("k").lower().replace(" ", "")
        if key in ("from", "보낸사람"):
            sender, recipients = m.group("v").strip(), []
        elif sender:
            recipients += [a.strip() for a in m.group("v").split(",") if a.strip()]
    return sender, tuple(recipients)


def is_korean_name(token: str) -> bool:
    """Shape of a Korean personal name: a surname syllable plus one or two more."""
    if token in _NOT_NAMES or not re.fullmatch(_KO_NAME, token):
        return False
    if token[:2] in DOUBLE_SURNAMES:
        return len(token) in (3, 4)
    return token[0] in SURNAMES and len(token) in (2, 3)


def _is_english_name(token: str) -> bool:
    words = re.split(r"[ -]", token)
    return bool(words) and not any(w.lower() in _EN_STOP for w in words)


def looks_like_person(name: str) -> bool:
    """A display name that is a person ("김철수", "Noah Kang"), not a team or company."""
    name = name.strip()
    if is_korean_name(name.replace(" ", "")):
        return True
    return bool(re.fullmatch(_EN_NAME, name)) and _is_english_name(name) and " " in name


def name_in(value: str, exclude: set[str] | frozenset[str] = frozenset()) -> str | None:
    """The first personal name inside a short value ("본봄 김철수 매니저 (010-...)")."""
    value = re.split(r"[(<\[/|,;]|\d{2,}|\S+@", value)[0]
    for token in re.findall(r"[가-힣]+", value):
        if not (len(token) == 3 and token.endswith("은") and is_korean_name(token)):  # 우다은
            token = re.sub(r"(?:입니다|이에요|예요|이며|이고|인데|께서|께|이|가|은|는)$", "", token)
        token = re.sub(r"(?:" + KO_TITLES + r")$", "", token)
        if token not in exclude and is_korean_name(token) and not is_common_word(token):
            return token
    m = re.search(_EN_NAME, value)
    if m and _is_english_name(m.group(0)) and m.group(0) not in exclude:
        return m.group(0)
    return None


def _signer(body: str, exclude: set[str]) -> Found | None:
    """Who signs the message: the last sign-off ("김철수 드림", "Best, Noah", "— Grace")."""
    candidates: list[Found] = []
    for m in _SIGN.finditer(body):
        if is_korean_name(m.group("n")) and m.group("n") not in exclude:
            candidates.append(Found(m.group("n"), 0.65, m.start()))
    for m in _SIGNOFF_SAME_LINE.finditer(body):
        name = name_in(m.group("n"), exclude)
        if name and (not re.search("[가-힣]", name) or not is_common_word(name)):
            candidates.append(Found(name, 0.6, m.start("n")))
    for m in _SIGNOFF.finditer(body):
        for line in body[m.end() :].split("\n")[:3]:
            if line.strip():
                name = name_in(line, exclude)
                if name and len(line.strip()) <= 60:
                    candidates.append(Found(name, 0.6, m.end()))
                break
    if not candidates:
        return None
    return max(candidates, key=lambda f: (f.start, f.confidence))  # the last sign-off


def find_person(body: str, exclude: set[str]) -> Found | None:
    """Contact person: labelled > named as the one who runs it > sign-off/signature >
    self-introduction > someone introduced ("their innovation lead, X") > titled mention."""
    for pattern, conf in ((_LABEL, 0.9), (_PREFIXED_LABEL, 0.85)):
        for m in pattern.finditer(body):
            name = name_in(m.group("v"), exclude)
            if name:
                return Found(name, conf, m.start("v"))
    signer = _signer(body, exclude)
    if signer is not None and _SELF_CONTACT.search(body):
        return signer  # "계속 제가 창구 역할 하겠습니다": the writer stays the contact
    for pattern in (_INLINE_LABEL, _WILL_BE_CONTACT, _RUNS):
        for m in pattern.finditer(body):
            group = "w" if "w" in pattern.groupindex and m.group("w") else "v"
            name = name_in(m.group(group), exclude)
            if name:
                return Found(name, 0.8, m.start(group))
    if signer is not None:
        return signer
    for pattern in (_SELF_KO, _SELF_EN):
        for m in pattern.finditer(body, 0, _INTRO_CHARS):
            name = m.group("n")
            ok = is_korean_name(name) if pattern is _SELF_KO else _is_english_name(name)
            if ok and name not in exclude and not is_common_word(name):
                return Found(name, 0.55, m.start())
    for m in _INTRODUCED.finditer(body):
        group = "w" if m.group("w") else "v"
        name = name_in(m.group(group), exclude)
        if name and " " in name:
            return Found(name, 0.5, m.start(group))
    for pattern in (_TITLED, _TITLED_EN):
        for m in pattern.finditer(body):
            name = m.group("n")
            ok = is_korean_name(name) if pattern is _TITLED else _is_english_name(name)
            ok = ok and not is_common_word(name)
            if ok and name not in exclude and not _addressee(body, m.start()):
                return Found(name, 0.45, m.start())
    return None


def full_name(name: str, body: str, correspondents: tuple[str, ...] = ()) -> str:
    """A first name signed alone ("Best,\nLena") completed from a display name or the
    signature ("Lena Vogt"); any other name comes back as it is."""
    if " " in name or not re.fullmatch(_EN_PART, name):
        return name
    for display in correspondents:
        if display.split(" ", 1)[0] == name and looks_like_person(display):
            return display
    for m in re.finditer(_EN_NAME, body):
        if m.group(0).startswith(name + " ") and _is_english_name(m.group(0)):
            return m.group(0)
    return name


def _addressee(body: str, pos: int) -> bool:
    """A titled name in the salutation ("박지훈 심사역님, 안녕하세요") is the recipient."""
    line_start = body.rfind("\n", 0, pos) + 1
    line_end = body.find("\n", pos)
    line = body[line_start : line_end if line_end >= 0 else len(body)]
    first_line = not body[:line_start].strip()
    greets = re.match(r"\s*\S+\s?\S*님\s*[,!]", body[pos : line_end if line_end >= 0 else None])
    return (
        bool(re.search(r"안녕|^\s*(?:dear|hi|hello)\b", line, re.I))
        or ((first_line or not body[line_start:pos].strip()) and bool(greets))
        or (first_line and len(line.strip()) < 40)
    )


# ---- details -----------------------------------------------------------------
DETAILS_MAX = 300
_SENTENCE = re.compile(r"[^\n]+?(?:[.!?。…](?=\s|$)|$)", re.MULTILINE)
_ABBREVIATION = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|Prof|Inc|Co|Ltd|Corp|No|vs|etc|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|"
    r"Oct|Nov|Dec|St|[A-Z])\.$"
)
_GREETING = re.compile(
    r"^(?:안녕하세요|안녕하십니까|hi\b|hello\b|dear\b|hey\b|fyi\b|감사합니다|고맙습니다|thanks|"
    r"thank you|best|regards|sincerely|cheers)",
    re.IGNORECASE,
)


def _sentences(body: str) -> list[tuple[int, str]]:
    """Content sentences with their offsets; labels, contacts and sign-offs left out."""
    signoff = _SIGNOFF.search(body)
    end = signoff.start() if signoff else len(body)
    pieces: list[tuple[int, str]] = []
    for m in _SENTENCE.finditer(body, 0, end):
        if pieces and _ABBREVIATION.search(pieces[-1][1]) and body[m.start() - 1] != "\n":
            pieces[-1] = (pieces[-1][0], pieces[-1][1] + " " + m.group(0).strip())
        else:
            pieces.append((m.start(), m.group(0).strip()))
    out = []
    for start, sentence in pieces:
        greeting = _GREETING.match(sentence) or _NOT_CONTENT.search(sentence)
        if greeting and _is_collab(sentence) and len(sentence) > 30:
            greeting = None  # "Thanks again for yesterday's data-sharing workshop in Lyon."
        if (
            len(sentence) < 4
            or greeting
            or _LABEL.match(sentence)
            or _PREFIXED_LABEL.match(sentence)
            or _INLINE_LABEL.search(sentence)
            or _CONTACT_LINE.search(sentence)
            or sentence.startswith(">")
            or (_SELF_INTRO.match(sentence) and not _is_collab(sentence))
        ):
            continue
        out.append((start, sentence))
    return out


# greetings, self-introductions, sign-offs and "key: value" logistics lines describe no
# collaboration, wherever they sit
_NOT_CONTENT = re.compile(
    r"안녕하(?:세요|십니까)|^[-—–~]{1,2}\s*\S+$|"
    r"^(?:I lead|I'm|I am|This is|My name is)\b|"
    r"^(?:Congratulations|Thanks|Thank you)\b|"
    r"^[ \t]*(?:[-*•·▶■□▪◦]+[ \t]*)?"
    r"(?:장소|위치|참석(?:자)?|준비물|Where|Location|Attendees?|Venue|"
    r"Dial-in|Join)[ \t]*[:：]",
    re.IGNORECASE,
)
_SELF_INTRO = re.compile(r"^\S+(?:\s\S+){0,2}(?:입니다|이에요|예요)[.!]?$")  # "본봄 김철수입니다."
_EVENT_WORDS = re.compile(
    r"리뷰|웨비나|데모데이|발표|실사|밋업|시연|공유회|설명회|점검|운영|캠페인|NDA|체결|테스트|"
    r"프로그램|선정|\b(?:tests?|program(?:me)?|selected|letter of intent|LOI)\b|"
    r"\breview\b|\bwebinar\b|\bmeetup\b|\bsession\b|\bcampaign\b|\bdemo day\b|\bco-?host",
    re.IGNORECASE,
)


def _is_collab(sentence: str) -> bool:
    return bool(COLLAB_WORDS.search(sentence) or _EVENT_WORDS.search(sentence))


def _clip(text: str) -> str:
    if len(text) <= DETAILS_MAX:
        return text
    cut = text[: DETAILS_MAX - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[-40:] else cut).rstrip(" ,") + "…"


def find_details(subject: str, body: str, org_names: list[str]) -> Found:
    """The sentence(s) describing the collaboration, in the sender's words (≤ ~300 chars)."""
    sentences = _sentences(body)
    chosen = [(pos, s) for pos, s in sentences if _is_collab(s)]
    if chosen:
        picked: list[str] = []
        for _, sentence in chosen:
            if picked and len(" ".join([*picked, sentence])) > DETAILS_MAX:
                break
            picked.append(sentence)
        text = _clip(" ".join(picked))
        names = [n.casefold() for n in org_names if n]
        mentions_org = any(n in text.casefold() for n in names)
        return Found(text, 0.7 if mentions_org else 0.6, chosen[0][0])
    topic = re.sub(r"^\s*\[[^\]]*\]\s*", "", subject).strip()
    if topic and _is_collab(topic):  # the subject names the event the body does not
        return Found(_clip(topic), 0.4)
    if sentences:
        return Found(_clip(sentences[0][1]), 0.3, sentences[0][0])
    if subject:
        return Found(_clip(subject), 0.3)
    return Found("", 0.0)
