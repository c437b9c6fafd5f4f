"""Building blocks for the synthetic evaluation emails: per-email facts, date arithmetic,
header/signature rendering and labelling (the directory itself is in ``directory``)."""
# ruff: noqa: E501  (directory tables: wide Hangul lines read better unbroken)

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from gen.directory import (
    COLLAB,
    ORGS,
    TEAMS_KO,
    TITLES_EN,
    TITLES_KO,
    VC,
    VC_TITLE_KO,
    Org,
    Person,
)

WD_KO = "월화수목금토일"
WD_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MON_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


@dataclass
class Ctx:
    """Facts for one email: who, which companies, when it was sent."""

    r: random.Random
    recv: dt.date
    startup: Org
    partner: Org
    sp: Person  # startup-side contact
    pp: Person  # partner-side contact
    vc: Person  # our venture-team staff (recipient)
    other: Person  # an extra colleague who is never the contact
    ts: dt.datetime = field(init=False)

    def __post_init__(self) -> None:
        minute = self.r.randint(8 * 60, 19 * 60)
        self.ts = dt.datetime.combine(self.recv, dt.time(minute // 60, minute % 60,
                                                         self.r.randint(0, 59)))

    def phone(self) -> str:
        return f"010-0000-{self.r.randint(1000, 9999)}"

    def addr(self, p: Person, org: Org) -> str:
        return f"{p.local}@{org.domain}"

    def title_ko(self, kind: str = "partner") -> str:
        return self.r.choice(TITLES_KO[kind])

    def staff_title(self) -> str:
        """A startup title that is not the CEO's (for a colleague named as the contact)."""
        return self.r.choice(["이사", "매니저", "팀장", "프로", "CTO", "COO", "사업개발 리드"])

    def title_en(self, kind: str = "partner") -> str:
        return self.r.choice(TITLES_EN[kind])

    def vc_title(self) -> str:
        return VC_TITLE_KO.get(self.vc.ko or "", "심사역")

    def vc_org(self) -> Org:
        return VC

    def twin(self, org: Org) -> Org | None:
        return ORGS[org.twin] if org.twin else None


# ---------------------------------------------------------------- dates
def shift(d: dt.date, days: int) -> dt.date:
    return d + dt.timedelta(days=days)


def week_day(d: dt.date, weeks: int, weekday: int) -> dt.date:
    """The given weekday (0=Mon) of the calendar week ``weeks`` away from d's week."""
    monday = d - dt.timedelta(days=d.weekday())
    return monday + dt.timedelta(days=7 * weeks + weekday)


def ko_date(d: dt.date, r: random.Random, *, year: bool | None = None) -> str:
    """An absolute date the way Korean mail writes it."""
    wd = WD_KO[d.weekday()]
    styles = [f"{d:%Y.%m.%d}", f"{d.year}. {d.month}. {d.day}.", f"{d.month}월 {d.day}일",
              f"{d.month}월 {d.day}일({wd})", f"{d.year}년 {d.month}월 {d.day}일",
              f"{d.month}/{d.day}({wd})", f"{d:%Y-%m-%d}", f"{d:%Y.%m.%d}({wd})"]
    if year is True:
        styles = [s for s in styles if str(d.year) in s]
    elif year is False:
        styles = [s for s in styles if str(d.year) not in s]
    return r.choice(styles)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def en_date(d: dt.date, r: random.Random, *, year: bool | None = None) -> str:
    """An absolute date the way English mail writes it."""
    mon, short = MON_EN[d.month - 1], MON_EN[d.month - 1][:3]
    styles = [f"{short} {ordinal(d.day)}", f"{mon} {d.day}", f"{d.day} {mon} {d.year}",
              f"{WD_EN[d.weekday()]}, {short} {d.day}", f"{short}. {d.day}, {d.year}",
              f"{mon} {ordinal(d.day)}, {d.year}", f"{d:%Y-%m-%d}"]
    if year is True:
        styles = [s for s in styles if str(d.year) in s]
    elif year is False:
        styles = [s for s in styles if str(d.year) not in s]
    return r.choice(styles)


def past_rel_ko(c: Ctx) -> tuple[str, dt.date]:
    """A Korean relative past expression and the weekday date it denotes."""
    opts = [("어제", shift(c.recv, -1)), ("그제", shift(c.recv, -2)),
            ("그저께", shift(c.recv, -2)), ("오늘 오전", c.recv)]
    opts += [(f"지난주 {WD_KO[w]}요일", week_day(c.recv, -1, w)) for w in range(5)]
    return _pick_weekday(c.r, opts)


def future_rel_ko(c: Ctx) -> tuple[str, dt.date]:
    opts = [("내일", shift(c.recv, 1)), ("모레", shift(c.recv, 2))]
    opts += [(f"다음 주 {WD_KO[w]}요일", week_day(c.recv, 1, w)) for w in range(5)]
    opts += [(f"이번 주 {WD_KO[w]}요일", week_day(c.recv, 0, w))
             for w in range(c.recv.weekday() + 1, 5)]
    return _pick_weekday(c.r, opts)


def past_rel_en(c: Ctx) -> tuple[str, dt.date]:
    """'last <day>' only where 'most recent' and 'previous week' readings agree."""
    opts = [("yesterday", shift(c.recv, -1)), ("earlier today", c.recv)]
    opts += [(f"last {WD_EN[w]}", week_day(c.recv, -1, w))
             for w in range(c.recv.weekday(), 5)]
    return _pick_weekday(c.r, opts)


def future_rel_en(c: Ctx) -> tuple[str, dt.date]:
    """'next <day>' only where 'coming' and 'following week' readings agree."""
    opts = [("tomorrow", shift(c.recv, 1)), ("the day after tomorrow", shift(c.recv, 2))]
    opts += [(f"next {WD_EN[w]}", week_day(c.recv, 1, w)) for w in range(c.recv.weekday() + 1)]
    opts += [(f"this {WD_EN[w]}", week_day(c.recv, 0, w)) for w in range(c.recv.weekday() + 1, 5)]
    return _pick_weekday(c.r, opts)


def _pick_weekday(r: random.Random, opts: list[tuple[str, dt.date]]) -> tuple[str, dt.date]:
    good = [o for o in opts if o[1].weekday() < 5]
    return r.choice(good or opts)


def near_date(c: Ctx, lo: int, hi: int) -> dt.date:
    """A weekday between lo and hi days from the received date."""
    for _ in range(50):
        d = shift(c.recv, c.r.randint(lo, hi))
        if d.weekday() < 5:
            return d
    return shift(c.recv, lo)


# ---------------------------------------------------------------- rendering
def header(c: Ctx, style: str, frm: tuple[str, str], to: list[tuple[str, str]], subject: str,
           *, when: dt.datetime | None = None, cc: list[tuple[str, str]] | None = None) -> str:
    """A header block as a mail client shows it: RFC-ish, Korean client or Outlook."""
    when = when or c.ts

    def who(pairs: list[tuple[str, str]]) -> str:
        return ", ".join(f"{n} <{a}>" if n else a for n, a in pairs)

    if style == "ko":
        ampm = "오전" if when.hour < 12 else "오후"
        hour = when.hour if when.hour <= 12 else when.hour - 12
        lines = [f'보낸사람: "{frm[0]}" <{frm[1]}>', f"받는사람: {who(to)}"]
        if cc:
            lines.append(f"참조: {who(cc)}")
        lines += [f"날짜: {when.year}년 {when.month}월 {when.day}일 "
                  f"({WD_KO[when.weekday()]}) {ampm} {hour}:{when.minute:02d}", f"제목: {subject}"]
    elif style == "outlook":
        ampm = "AM" if when.hour < 12 else "PM"
        hour = when.hour if when.hour <= 12 else when.hour - 12
        lines = [f"From: {frm[0]} <{frm[1]}>",
                 f"Sent: {WD_EN[when.weekday()]}, {MON_EN[when.month - 1]} {when.day}, "
                 f"{when.year} {hour}:{when.minute:02d} {ampm}", f"To: {who(to)}"]
        if cc:
            lines.append(f"Cc: {who(cc)}")
        lines.append(f"Subject: {subject}")
    else:
        lines = [f"From: {frm[0]} <{frm[1]}>", f"To: {who(to)}"]
        if cc:
            lines.append(f"Cc: {who(cc)}")
        lines += [f"Date: {WD_EN[when.weekday()][:3]}, {when.day} {MON_EN[when.month - 1][:3]} "
                  f"{when.year} {when:%H:%M:%S} +0900", f"Subject: {subject}"]
    return "\n".join(lines)


def sig_ko(c: Ctx, p: Person, org: Org, *, title: str | None = None, team: str | None = None) -> str:
    """A Korean signature block in one of several house styles."""
    title = title or c.title_ko(org.kind)
    name, phone, mail = p.name("ko"), c.phone(), c.addr(p, org)
    team_s = (team or c.r.choice(TEAMS_KO)) + " " if org.kind == "partner" else ""
    style = c.r.randrange(4)
    if style == 0:
        return f"--\n{name} | {team_s}{title}\n{org.legal('ko', c.r)}\nM. {phone} | E. {mail}"
    if style == 1:
        return f"{name} 드림\n\n{org.ko} {team_s}{title}\n휴대폰 {phone}"
    if style == 2:
        return f"감사합니다.\n\n{org.ko} {title} {name}\nTel. 02-000-{c.r.randint(1000, 9999)}" \
               f" / Mobile. {phone}\n{mail}"
    return f"─────────────\n{name} {title}\n{org.legal('ko', c.r)} {team_s}".rstrip() + f"\nT {phone}"


def sig_en(c: Ctx, p: Person, org: Org, *, title: str | None = None) -> str:
    """An English signature block in one of several house styles."""
    title = title or c.title_en(org.kind)
    name, phone = p.name("en"), c.phone().replace("010", "+82 10", 1)
    closing = c.r.choice(["Best regards,", "Best,", "Kind regards,", "Thanks,", "Cheers,"])
    if c.r.random() < 0.5:
        return f"{closing}\n{name}\n{title}, {org.legal('en', c.r)}\n{phone} | {c.addr(p, org)}"
    return f"{closing}\n\n{name} | {title}\n{org.en}\nMobile: {phone}"


def an(phrase: str) -> str:
    """'a' or 'an' before an English phrase (MOU and API read with a vowel sound)."""
    vowel = phrase[:1].lower() in "aeio" or phrase.startswith(("MOU", "API", "R&D", "SI "))
    return f"{'an' if vowel else 'a'} {phrase}"


def quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


@dataclass
class Draft:
    """One labelled email before it gets its id."""

    lang: str
    text: str
    person: str | None
    startup: str | None
    partner: str | None
    details: str
    date: dt.date | None
    received: dt.date
    tags: list[str]
    difficulty: str
    distractors: dict[str, list[str]] = field(default_factory=dict)


# ---------------------------------------------------------------- language helpers
def has_batchim(word: str) -> bool:
    """Whether a word ends in a final consonant (decides 과/와, 을/를, ...)."""
    ch = word.rstrip(" )")[-1:]
    if "가" <= ch <= "힣":
        return (ord(ch) - 0xAC00) % 28 != 0
    return word.lower().endswith(("m", "n", "ng", "l", "ab", "ob", "ing"))


def j(word: str, pair: str) -> str:
    """Attach the right form of a Korean particle pair like '과/와' or '을/를'."""
    with_b, without_b = pair.split("/")
    if pair == "으로/로":
        ch = word[-1:]
        rieul = "가" <= ch <= "힣" and (ord(ch) - 0xAC00) % 28 == 8
        return word + ("로" if rieul or not has_batchim(word) else "으로")
    return word + (with_b if has_batchim(word) else without_b)


def collab(c: Ctx, keys: list[str], lang: str) -> str:
    """Pick a collaboration phrase; lang 'ko' | 'en' | 'mixed'."""
    ko, en, mixed = COLLAB[c.r.choice(keys)]
    return {"ko": ko, "en": en, "mixed": mixed}[lang]


def draft(c: Ctx, lang: str, text: str, *, person: Person | str | None, startup: str | None,
          partner: str | None, details: str, date: dt.date | None, tags: list[str],
          difficulty: str, persons: tuple[str, ...] = (), companies: tuple[str, ...] = (),
          dates: tuple[dt.date, ...] = (), other_details: tuple[str, ...] = ()) -> Draft:
    """Label an email; distractors are the plausible wrong answers the oracle may give."""
    name_lang = "ko" if lang != "en" else "en"
    pname = person.name(name_lang) if isinstance(person, Person) else person
    assert details in text, f"details {details!r} not verbatim in the email"
    for value in (pname, startup, partner):
        assert value is None or value in text, f"{value!r} not in the email"
    d_persons = [c.vc.name(name_lang), c.other.name(name_lang), *persons]
    d_companies = [*companies, VC.name(name_lang)]
    for org in (c.startup, c.partner):
        tw = c.twin(org)
        if tw:
            d_companies.append(tw.name(name_lang))
    if date is not None:
        d_dates = [*dates, c.recv, shift(date, 1), shift(date, -1)]
    else:
        d_dates = [*dates, c.recv]
    distractors = {
        "person_in_charge": _uniq(d_persons, pname),
        "startup_name": _uniq(d_companies + ([partner] if partner else []), startup),
        "partner_org": _uniq(d_companies + ([startup] if startup else []), partner),
        "date": _uniq([d.isoformat() for d in d_dates], date.isoformat() if date else None),
        "details": _uniq(list(other_details), details),
    }
    return Draft(lang, text.strip() + "\n", pname, startup, partner, details, date, c.recv,
                 sorted(set(tags)), difficulty, distractors)


def _uniq(values: list[str], truth: str | None) -> list[str]:
    out: list[str] = []
    for v in values:
        if v and v != truth and v not in out:
            out.append(v)
    return out

