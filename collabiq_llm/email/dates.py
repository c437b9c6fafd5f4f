"""Find the collaboration/event date in an email and resolve relative date words.

Pure functions, no clock: relative words (어제, 지난주, yesterday) are resolved only
against an explicit ``reference`` date (the email's own date). Without one they
yield nothing, because resolving them against "today" would silently give a wrong
date for every email processed later than it was sent.

Semantics chosen (documented because each is a judgement call):

- ``11/1`` is month/day (the Korean and US convention); ``13/11/2025`` (first
  number > 12) is read day/month/year. A date without a year takes the
  reference's year, moved by one year when that lands more than six months
  away from the reference (``12월 30일`` in an email of 2026-01-02 is 2025-12-30).
- A bare week (지난주, 다음주, 이번 주, last/next/this week) resolves to the
  Monday of that ISO week and is reported with ``precision="week"``.
- ``지난주 금요일`` / ``다음주 금요일`` / ``next Friday`` name a weekday of the
  previous/next ISO week; ``지난 금요일`` / ``last Friday`` is the most recent
  Friday strictly before the reference; ``이번 주 금요일`` is Friday of the
  current ISO week; ``this Friday`` / ``오는 금요일`` is the next Friday on or
  after the reference. A bare ``금요일`` / ``on Friday`` looks at the sentence's
  tense: future wording (예정, will, ...) means the next one, otherwise the most
  recent one on or before the reference.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from email.utils import parsedate_tz
from typing import Literal

Method = Literal["label", "absolute", "relative"]
Precision = Literal["day", "weekday", "week"]

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MON = (
    r"(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_KO_WD = "월화수목금토일"
_EN_WD = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
}  # fmt: skip
_EN_WD_RE = (
    r"(?P<wd>mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?|fri(?:day)?|"
    r"sat(?:urday)?|sun(?:day)?)"
)
_F = re.IGNORECASE

# ---- absolute forms: each yields (year|None, month, day) ---------------------
_ABSOLUTE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?<![\d.])(?P<y>(?:19|20)\d{2})\s*[-./]\s*(?P<m>\d{1,2})\s*[-./]\s*"
                r"(?P<d>\d{1,2})(?![\d])"), "ymd"),
    (re.compile(r"(?<!\d)(?P<y>(?:19|20)?\d{2})\s*년\s*(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일"),
     "ymd"),
    (re.compile(r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>(?:19|20)\d{2})(?![\d/])"), "aby"),
    (re.compile(_MON + r"\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?![\d:])"
                r"(?:,?\s*(?P<y>(?:19|20)\d{2}))?", _F), "mdy"),
    (re.compile(r"(?<!\d)(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MON +
                r"\.?(?:,?\s*(?P<y>(?:19|20)\d{2}))?(?![a-z])", _F), "mdy"),
    (re.compile(r"(?<![\d.])(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일"), "md"),
    (re.compile(r"(?<![\w/.:\-])(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])"
                r"(?![\d/%])"), "md"),
]  # fmt: skip

# ---- relative forms: each maps (match, reference, sentence) -> (date, precision) -----
_Resolver = Callable[[re.Match[str], dt.date, str], "tuple[dt.date, Precision] | None"]
_FUTURE = re.compile(
    r"예정|계획|겠|할게|드릴게|가능하|될까|어떠|뵙|\bwill\b|'ll\b|\bgoing to\b|\bscheduled\b|"
    r"\bplan(?:ned|ning)?\b|\bupcoming\b|\bcan we\b|\bcould we\b|\blooking forward\b",
    _F,
)
_PAST = re.compile(
    r"했|였|었|았|됐|되었|가졌|마쳤|드렸|\b(?:held|had|met|was|were|did|signed|finished|completed|"
    r"took place|kicked off|launched|visited|discussed)\b",
    _F,
)


def _monday(day: dt.date, weeks: int = 0) -> dt.date:
    return day - dt.timedelta(days=day.weekday()) + dt.timedelta(weeks=weeks)


def _ko_wd(m: re.Match[str]) -> int:
    return _KO_WD.index(m.group("wd"))


def _en_wd(m: re.Match[str]) -> int:
    return _EN_WD[m.group("wd")[:3].lower()]


def _last_before(ref: dt.date, wd: int) -> dt.date:
    return ref - dt.timedelta(days=(ref.weekday() - wd - 1) % 7 + 1)


def _next_on_or_after(ref: dt.date, wd: int) -> dt.date:
    return ref + dt.timedelta(days=(wd - ref.weekday()) % 7)


def _bare_weekday(ref: dt.date, wd: int, sentence: str) -> dt.date:
    if _FUTURE.search(sentence) and not _PAST.search(sentence):
        return _next_on_or_after(ref + dt.timedelta(days=1), wd)
    return _last_before(ref + dt.timedelta(days=1), wd)


def _offset(days: int) -> _Resolver:
    return lambda m, ref, s: (ref + dt.timedelta(days=days), "day")


def _week(weeks: int) -> _Resolver:
    return lambda m, ref, s: (_monday(ref, weeks), "week")


def _week_day(weeks: int, wd: Callable[[re.Match[str]], int]) -> _Resolver:
    return lambda m, ref, s: (_monday(ref, weeks) + dt.timedelta(days=wd(m)), "weekday")


_KWD = f"(?P<wd>[{_KO_WD}])요일"
_LAST, _NEXT, _THIS = r"(?:지난|저번|전)\s*주", r"(?:다음|담|차)\s*주", r"(?:이번|금)\s*주"
_NOT_WEEK_WORD = r"(?!말|년|간|차|기|식|주|[월화수목금토일]요일)"
_RELATIVE: list[tuple[re.Pattern[str], _Resolver]] = [
    (re.compile(_LAST + r"\s*" + _KWD), _week_day(-1, _ko_wd)),
    (re.compile(_NEXT + r"\s*" + _KWD), _week_day(1, _ko_wd)),
    (re.compile(_THIS + r"\s*" + _KWD), _week_day(0, _ko_wd)),
    (re.compile(r"(?:지난|저번)\s*" + _KWD),
     lambda m, ref, s: (_last_before(ref, _ko_wd(m)), "weekday")),
    (re.compile(r"(?:오는|돌아오는|다가오는|다음)\s*" + _KWD),
     lambda m, ref, s: (_next_on_or_after(ref + dt.timedelta(days=1), _ko_wd(m)), "weekday")),
    (re.compile(r"(?<![가-힣])" + _KWD),
     lambda m, ref, s: (_bare_weekday(ref, _ko_wd(m), s), "weekday")),
    (re.compile(r"(?<![가-힣])(?:지난|저번)\s*주" + _NOT_WEEK_WORD), _week(-1)),
    (re.compile(r"(?<![가-힣])(?:다음|담)\s*주" + _NOT_WEEK_WORD), _week(1)),
    (re.compile(r"(?<![가-힣])이번\s*주" + _NOT_WEEK_WORD), _week(0)),
    (re.compile(r"내일\s*모레|엊그저께|엊그제|그저께|그제(?!야|서야)"),
     lambda m, ref, s: (ref + dt.timedelta(days=2 if m.group(0)[0] == "내" else -2), "day")),
    (re.compile(r"(?<![가-힣])모레"), _offset(2)),
    (re.compile(r"(?<![가-힣])글피"), _offset(3)),
    (re.compile(r"어제|어저께|(?<![가-힣])작일"), _offset(-1)),
    (re.compile(r"오늘|(?<![가-힣])금일"), _offset(0)),
    (re.compile(r"내일|(?<![가-힣])명일"), _offset(1)),
    (re.compile(r"(?<![\d월])(?P<n>\d{1,2})\s*일\s*(?P<dir>전|후|뒤)"),
     lambda m, ref, s: (ref + dt.timedelta(days=int(m.group("n")) * (-1 if m.group("dir") == "전"
                                                                      else 1)), "day")),
    (re.compile(r"\b(?:the\s+)?day\s+before\s+yesterday\b", _F), _offset(-2)),
    (re.compile(r"\b(?:the\s+)?day\s+after\s+tomorrow\b", _F), _offset(2)),
    (re.compile(r"\byesterday\b", _F), _offset(-1)),
    (re.compile(r"\b(?:today|tonight|this\s+(?:morning|afternoon|evening))\b", _F), _offset(0)),
    (re.compile(r"\btomorrow\b", _F), _offset(1)),
    (re.compile(r"\b(?P<n>\d{1,2})\s+days?\s+ago\b", _F),
     lambda m, ref, s: (ref - dt.timedelta(days=int(m.group("n"))), "day")),
    (re.compile(r"\bin\s+(?P<n>\d{1,2})\s+days\b", _F),
     lambda m, ref, s: (ref + dt.timedelta(days=int(m.group("n"))), "day")),
    (re.compile(r"\blast\s+week(?:'s)?\s+(?:on\s+)?" + _EN_WD_RE + r"\b", _F),
     _week_day(-1, _en_wd)),
    (re.compile(r"\b" + _EN_WD_RE + r"\s+(?:of\s+)?last\s+week\b", _F), _week_day(-1, _en_wd)),
    (re.compile(r"\blast\s+" + _EN_WD_RE + r"\b", _F),
     lambda m, ref, s: (_last_before(ref, _en_wd(m)), "weekday")),
    (re.compile(r"\bnext\s+week(?:'s)?\s+(?:on\s+)?" + _EN_WD_RE + r"\b", _F),
     _week_day(1, _en_wd)),
    (re.compile(r"\bnext\s+" + _EN_WD_RE + r"\b", _F), _week_day(1, _en_wd)),
    (re.compile(r"\b(?:this|coming|this\s+coming)\s+" + _EN_WD_RE + r"\b", _F),
     lambda m, ref, s: (_next_on_or_after(ref, _en_wd(m)), "weekday")),
    (re.compile(r"\bon\s+" + _EN_WD_RE + r"\b", _F),
     lambda m, ref, s: (_bare_weekday(ref, _en_wd(m), s), "weekday")),
    (re.compile(r"\blast\s+week\b", _F), _week(-1)),
    (re.compile(r"\bnext\s+week\b", _F), _week(1)),
    (re.compile(r"\bthis\s+week\b", _F), _week(0)),
]  # fmt: skip

_LABEL = re.compile(
    r"^[ \t]*(?:[-*•·▶■□▪◦>]+[ \t]*)?(?:\[)?(?:(?:미팅|회의|행사|킥오프|방문|계약|협약|체결)\s*)?"
    r"(?:일시|일자|날짜|일정|시간|Date|When|(?:Meeting|Event|Kickoff|Kick-off)\s+date)"
    r"(?:\])?[ \t]*[:：][ \t]*(?P<value>[^\n]*)",
    re.IGNORECASE | re.MULTILINE,
)
COLLAB_WORDS = re.compile(
    r"협업|협력|미팅|회의|파일럿|킥오프|계약|협약|MOU|제휴|도입|입점|납품|공급|실증|시범|"
    r"PoC|P\.O\.C|론칭|런칭|출시|투자|프로젝트|방문|행사|partnership|partner|pilot|meeting|"
    r"kick-?off|contract|agreement|collaborat\w*|proof of concept|deal|launch|trial|"
    r"integration|workshop|demo|signed|signing",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?。…])\s+|\n+")


@dataclass(frozen=True)
class DateMention:
    """A date found in text: where, how (label / absolute / relative) and how precise."""

    value: dt.date
    method: Method
    start: int
    end: int
    text: str
    precision: Precision = "day"
    has_year: bool = True
    score: float = 0.0


def _valid(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _infer_year(
    month: int, day: int, reference: dt.date | None, default_year: int | None
) -> dt.date | None:
    if reference is None:
        return _valid(default_year, month, day) if default_year else None
    best = None
    for year in (reference.year, reference.year - 1, reference.year + 1):
        cand = _valid(year, month, day)
        if cand and (best is None or abs((cand - reference).days) < abs((best - reference).days)):
            best = cand
    # prefer the reference year unless it is more than ~six months away
    same = _valid(reference.year, month, day)
    if same and abs((same - reference).days) <= 183:
        return same
    return best


def _absolute(
    text: str, reference: dt.date | None, default_year: int | None
) -> Iterator[DateMention]:
    for pattern, shape in _ABSOLUTE:
        for m in pattern.finditer(text):
            g = m.groupdict()
            if g.get("mon"):
                mon = g["mon"]
                if mon.lower() in ("may", "march", "june") and mon[0].islower():
                    continue  # the verb "may", "march"
                month, day = _MONTHS[mon[:3].lower()], int(g["d"])
            elif shape == "aby":
                a, b = int(g["a"]), int(g["b"])
                month, day = (b, a) if a > 12 else (a, b)
            else:
                month, day = int(g["m"]), int(g["d"])
            year_raw = g.get("y")
            if year_raw:
                year = int(year_raw) + (2000 if len(year_raw) == 2 else 0)
                value = _valid(year, month, day)
            else:
                value = _infer_year(month, day, reference, default_year)
            if value is not None:
                yield DateMention(
                    value, "absolute", m.start(), m.end(), m.group(0), has_year=bool(year_raw)
                )


def sentence_at(text: str, pos: int) -> str:
    """The sentence (or line) of ``text`` that contains position ``pos``."""
    starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text) if m.end() <= pos]
    start = starts[-1]
    end_m = _SENTENCE_END.search(text, pos)
    return text[start : end_m.start() if end_m else len(text)]


def _relative(text: str, reference: dt.date) -> Iterator[DateMention]:
    for pattern, resolve in _RELATIVE:
        for m in pattern.finditer(text):
            try:
                got = resolve(m, reference, sentence_at(text, m.start()))
            except OverflowError:  # 어제 of 0001-01-01, 내일 of 9999-12-31: no such date
                continue
            if got is not None:
                value, precision = got
                yield DateMention(value, "relative", m.start(), m.end(), m.group(0), precision)


def _label_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _LABEL.finditer(text):
        line = m.group(0)
        if re.match(r"\s*(?:보낸|받은|sent|received)", line, re.IGNORECASE):
            continue
        value = m.group("value")
        if parsedate_tz(value) and re.search(r"[+-]\d{4}|GMT|UTC", value):
            continue  # an RFC 822 "Date:" header line: when the mail was sent, not the event
        spans.append((m.start("value"), m.end("value")))
    return spans


def find_dates(text: str, reference: dt.date | None = None) -> list[DateMention]:
    """Every date mention in ``text``, in text order, overlaps resolved (absolute first).

    Relative words are only returned when ``reference`` is given. Mentions inside a
    labelled line (일시:, Date:, When:) get ``method="label"``.
    """
    years = [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", text)]
    default_year = years[0] if years else None
    found = list(_absolute(text, reference, default_year))
    if reference is not None:
        found.extend(_relative(text, reference))
    # earlier-listed, longer patterns win over anything they overlap
    kept: list[DateMention] = []
    for cand in sorted(found, key=lambda d: (d.method != "absolute", -(d.end - d.start))):
        if all(cand.end <= k.start or cand.start >= k.end for k in kept):
            kept.append(cand)
    labels = _label_spans(text)
    out = []
    for d in sorted(kept, key=lambda d: d.start):
        if any(a <= d.start < b for a, b in labels):
            d = replace(d, method="label")
        out.append(d)
    return out


_BASE = {"label": 3.0, "absolute": 1.5, "relative": 1.2}
_PRECISION_PENALTY = {"day": 0.0, "weekday": 0.2, "week": 0.6}


def score_mention(text: str, mention: DateMention, index: int = 0) -> float:
    """How likely ``mention`` is the event date (label > absolute near collaboration > relative).

    A sentence reporting something that already happened gets a bonus: an email
    saying "yesterday we held the kickoff; the PoC starts 11/10" is about the kickoff.
    """
    sentence = sentence_at(text, mention.start)
    score = _BASE[mention.method] - _PRECISION_PENALTY[mention.precision]
    if mention.method == "absolute" and not mention.has_year:
        score -= 0.1
    if COLLAB_WORDS.search(sentence):
        score += 1.0
    if _PAST.search(sentence) and not _FUTURE.search(sentence):
        score += 0.5
    return score - 0.01 * index


def find_event_date(text: str, reference: dt.date | None = None) -> DateMention | None:
    """The most likely collaboration/event date in ``text`` (with its score), or None."""
    mentions = find_dates(text, reference)
    if not mentions:
        return None
    scored = [replace(m, score=score_mention(text, m, i)) for i, m in enumerate(mentions)]
    return max(scored, key=lambda m: m.score)


def parse_date_value(value: str, reference: dt.date | None = None) -> dt.date | None:
    """A date from a short header-like value ("Sun, 2 Nov 2025 15:00 +0900", "2025년 11월 2일").

    RFC 2822 first (the date in the sender's own timezone), then the first absolute
    date in the string. Used for Date:/보낸 날짜: lines of forwarded or pasted emails.
    """
    from email.utils import parsedate_to_datetime

    value = value.strip()
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).date()
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    for mention in find_dates(value, reference):
        if mention.method != "relative":
            return mention.value
    return None
