"""The event date of an email: the date mention that names the collaboration's event.

``collabiq_llm.email.dates`` finds and resolves every date mention; this module picks
the event among them the way a reader would: not a deadline (…까지, by …), not an
aside (참고로, originally), not a declined slot (어렵, can't) or a pasted sent-date
header, preferably the event the subject names; a calendar invitation's subject
first; no date for an event postponed without a new one.
"""

from __future__ import annotations

import datetime as dt
import re

from collabiq_llm.email.dates import (
    COLLAB_WORDS,
    DateMention,
    find_dates,
    score_mention,
    sentence_at,
)
from collabiq_llm.offline.rules import EmailParts

_DATE_BASE = {"label": 0.85, "absolute": 0.7, "relative": 0.65}
_DATE_PRECISION = {"day": 0.0, "weekday": 0.1, "week": 0.3}


_DEADLINE_AFTER = re.compile(r"^[^\n.]{0,12}?까지|^\s*(?:deadline|마감)")


def _words(*alternatives: str) -> str:
    """English words that may touch a Korean particle ("draft를"): ASCII boundaries, not \\b."""
    return r"(?<![A-Za-z])(?:" + "|".join(alternatives) + r")(?![A-Za-z])"


_DEADLINE_BEFORE = re.compile(
    r"(?:" + _words("by", "until", "before", r"due(?:\s+on)?") + r"|deadline[:\s]*|마감[:\s]*)\s*$",
    re.I,
)
_ASIDE = re.compile(
    r"참고로|원래|당초|초안|기존|" + _words("originally", "initially", "previously", "draft"), re.I
)
_DECLINED = re.compile(
    r"어렵|불가|안\s?될|안\s?되|취소|연기|"
    + _words("tough", r"can'?t", "cannot", r"won'?t work", r"cancel\w*", r"postpon\w*", "conflict"),
    re.I,
)
# the date a correction calls wrong: "개시일을 3월 23일로 잘못 적었습니다", "the 12th was a typo"
_WRONG = re.compile(
    r"잘못\s*(?:적|기재|표기|안내|말씀|전달|보내)|오기|"
    + _words("wrong", "incorrect", "mistaken", "typo", "in error"),
    re.I,
)
# a date that only dates what led here: "Following our call on May 20, we confirm ..."
_EARLIER_CONTACT = re.compile(
    _words("following", "after", "since", "further to", "per", "from")
    + r"\s+(?:our|the|your|my|last)\s+(?:\w+\s+){0,2}(?:call|meeting|chat|conversation|email|"
    r"e-mail|discussion|talk|visit)\s+(?:on|of)\s*$|"
    r"(?:통화|미팅|회의|메일|논의|대화)(?:에서|때|에)?\s*(?:말씀드린|말씀하신|논의한|나눈)?\s*$",
    re.I,
)
# thanking for an event names it: "thanks again for yesterday's workshop", "오늘 방문 감사"
_THANKED = re.compile(
    r"(?:thanks?|thank you)(?:\s+(?:again|so much|a lot))?\s+for\b|감사(?:드립|합)|고맙",
    re.I,
)
_CONFIRMED = re.compile(r"변경|확정|" + _words("instead", "moved to", "confirmed?", "works"), re.I)
_DATELINE = re.compile(r"^[ \t]*[A-Z][A-Z .'-]{1,30},[ \t]*$")  # "LONDON, " before a press date
_INVITE = re.compile(r"^\s*(?:초대|업데이트된 초대|Invitation|Updated invitation)\s*[:：]", re.I)
_HEADER_LABEL = re.compile(r"^[ \t]*(?:날짜|Date|Sent|보낸\s*날짜)[ \t]*[:：]", re.I | re.M)


def _event_score(
    text: str, mention: DateMention, index: int, subject: str, anchor: dt.date | None
) -> float:
    """``score_mention`` plus what an event date is not: a deadline (…까지, by …), an aside
    (참고로, originally), a declined slot (어렵, can't); and what it is: the subject's event."""
    score = score_mention(text, mention, index)
    sentence = sentence_at(text, mention.start)
    if _DEADLINE_AFTER.search(text[mention.end :]) or _DEADLINE_BEFORE.search(
        text[max(0, mention.start - 20) : mention.start]
    ):
        score -= 1.0
    if _ASIDE.search(sentence):
        score -= 0.5
    if _WRONG.search(text[mention.end : mention.end + 20]):
        score -= 1.5  # "3월 23일로 잘못 적었습니다": the corrected date, not the event
    if _EARLIER_CONTACT.search(text[max(0, mention.start - 40) : mention.start]):
        score -= 1.0
    past = mention.method == "relative" and mention.value <= (anchor or mention.value)
    if past and _THANKED.search(sentence) and not COLLAB_WORDS.search(sentence):
        score += 0.5  # "thanks for coming to Dortmund today": the subject's event, just held
    if _DECLINED.search(sentence) and not _CONFIRMED.search(sentence):
        score -= 1.0
    elif _CONFIRMED.search(sentence):
        score += 0.3
    topic = {w.lower() for w in COLLAB_WORDS.findall(subject)}
    if topic & {w.lower() for w in COLLAB_WORDS.findall(sentence)}:
        score += 0.5
    line_start = text.rfind("\n", 0, mention.start) + 1
    if mention.value == anchor and _HEADER_LABEL.match(text, line_start):
        score -= 2.5  # a pasted "날짜: <sent date>" header line, not the event
    if _DATELINE.match(text[line_start : mention.start]):
        score -= 2.0  # a press release's dateline: when it was published
    return score


def find_date(parts: EmailParts) -> tuple[dt.date | None, float]:
    """Event date from the body (subject as a fallback; first for a calendar invitation)
    and a confidence for how it was found."""
    texts = (
        (parts.subject, parts.body) if _INVITE.match(parts.subject) else (parts.body, parts.subject)
    )
    for text in texts:
        mentions = find_dates(text, parts.anchor) if text else []
        if mentions:
            scored = [
                (_event_score(text, m, i, parts.subject, parts.anchor), m)
                for i, m in enumerate(mentions)
            ]
            best = max(scored, key=lambda pair: pair[0])[1]
            if _POSTPONED.search(sentence_at(text, best.start)):
                return None, 0.0  # the event was postponed with no new date: none to give
            return best.value, date_confidence(text, best)
    return None, 0.0


_POSTPONED = re.compile(
    r"연기(?:되었|됐|합니다|하게)|무기한|추후\s*(?:공지|안내|확정)|\bpostponed\b|\bcancell?ed\b|"
    r"\bon hold\b|\bnew date (?:is )?(?:TBD|to be confirmed)",
    re.IGNORECASE,
)


def date_confidence(text: str, mention: DateMention) -> float:
    conf = _DATE_BASE[mention.method] - _DATE_PRECISION[mention.precision]
    if mention.method == "absolute" and not mention.has_year:
        conf -= 0.05
    if mention.method != "label" and not COLLAB_WORDS.search(sentence_at(text, mention.start)):
        conf -= 0.15
    return round(max(conf, 0.2), 2)
