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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from collabiq_llm.companies import CompanyDirectory, OwnOrg
from collabiq_llm.offline import cues
from collabiq_llm.offline.names import (
    _DEPARTMENT,
    _INDUSTRY_WORDS,
    _KO_AFFIX,
    _LABEL,
    _PARTNER_WORDS,
    _PATTERNS,
    _STOP_EN,
    _SUBJECT_TAG,
    _TOPIC,
    NAME,
    NAME_EN,
    NAME_KO,
    Shape,
    _Cand,
    _Resolver,
    clean_name,
    line_start_of,
)
from collabiq_llm.offline.rules import KO_TITLES, Found


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
    display_orgs: dict[str, list[_Cand]]
    founders: list[_Cand]


_EN_TITLE = r"\b(?:Head|Director|Manager|Lead|VP|CEO|CTO|COO|Founder|Co-founder|Partner)\b"
_EN_SELF_ORG = re.compile(
    rf"\b(?:our team at|we at|here at|(?:I am|I'm|this is)[ \t]+{NAME_EN}[ \t]+(?:from|at|of))"
    rf"[ \t]+(?P<a>{NAME_EN})"
)


def _sender_orgs(text: str, people: set[str]) -> list[tuple[str, int]]:
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
    return [(m.group("a"), m.start("a")) for pattern in patterns for m in pattern.finditer(text)]


@dataclass(frozen=True)
class Parties:
    """Who is writing to whom: the From and To/Cc entries ("Name <addr>")."""

    sender: str = ""
    recipients: tuple[str, ...] = ()


def _collect(
    subject: str,
    body: str,
    directory: CompanyDirectory,
    people: set[str],
    own: OwnOrg,
    parties: Parties | None = None,
) -> _Evidence:
    text = subject + "\n" + body
    resolve = _Resolver(directory, text, people, own)
    ev = _Evidence({}, [], [], [], [], [], [], [], [], [], {}, [])

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
    add(ev.sender, _sender_orgs(text, people), marked=True)
    add(ev.sender, cues.signature_orgs(body), len(subject) + 1, marked=True)
    add(ev.founders, cues.founder_orgs(body), len(subject) + 1, marked=True)
    add(ev.addressee, cues.salutation_orgs(body), len(subject) + 1, marked=True)
    add(ev.startupish, cues.list_heads(body), len(subject) + 1)
    add(ev.startupish, cues.startup_phrases(text), marked=True)
    add(ev.sender, cues.contact_orgs(body), len(subject) + 1, marked=True)
    for role, addresses in (
        ("from", [parties.sender] if parties and parties.sender else []),
        ("to", list(parties.recipients) if parties else []),
    ):
        for address in addresses:
            if own.owns_address(address):
                continue
            hits = cues.party_orgs(address, text)
            add(ev.display_orgs.setdefault(role, []), hits, marked=True)
            known = directory.match(cues.domain_label(address) or "-")
            if known is not None and known.score >= 0.95:  # "petology.example" is Petology
                entry = _Cand(known.canonical, len(text) + 1, known.kind, known.score)
                ev.display_orgs[role].append(entry)
    add(ev.institutions, cues.institution_orgs(text), marked=True)
    add(ev.legal, cues.legal_form_orgs(text), marked=True)
    tag = _SUBJECT_TAG.match(subject)
    tag_parts = re.split(r"\s+(?:[xX×✕&+/]|<>|↔)\s+", tag.group("a")) if tag else []
    for part in tag_parts:  # "[A x B]" names two companies, even ordinary-looking words
        if (cand := resolve(part, subject.find(part), marked=len(tag_parts) > 1)) is not None:
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
    # "Harrow & Finch PLC" is one firm, not the pair "Harrow" & "Finch"
    whole = {c.name for c in [*ev.legal, *ev.institutions, *ev.partnerish, *ev.startupish]}
    ev.pairs = [p for p in ev.pairs if f"{p[0].name} & {p[1].name}" not in whole]
    subject_cands = [c for c in _everyone(ev) if c.start < len(subject)]
    ev.subject_names = _subject_names(subject, body, resolve, ev.subject_names + subject_cands)
    _merge_short_forms(ev)
    _mark_established(ev, text)
    return ev


def _mark_established(ev: _Evidence, text: str) -> None:
    """A company the email writes with a large firm's legal form anywhere ("Kranich AG")."""
    for cand in _everyone(ev) + ev.subject_names:
        tail = rf",?[ \t]+{cues.ESTABLISHED_FORM}(?![A-Za-z0-9/])"
        cand.established = bool(re.search(re.escape(cand.name) + tail, text))


def _merge_short_forms(ev: _Evidence) -> None:
    """ "Kestrel" and "Kestrel Retail" in one email are one company: use the full name."""
    cands = _everyone(ev) + ev.subject_names
    names = {c.name for c in cands}
    for cand in cands:
        if cand.kind is not None:
            continue
        tail = r"(?: [A-Z]\w*)+" if cand.name.isascii() else r" ?(?:산학협력단|병원)"
        longer = [n for n in names if re.fullmatch(re.escape(cand.name) + tail, n)]
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
    body_head: str,
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
    addressed = _by_domain(ev, directory, others) + ev.display_orgs.get("to", [])
    plain_topics = [c for c in ev.subject_names if not _is_partnerish(c)]
    if own_sender:  # the user's organisation wrote: the addressee is the startup
        for cand in addressed + ev.addressee + plain_topics:
            put("startup", cand, 0.6)
        return
    writers = _by_domain(ev, directory, [sender] if sender else [])
    writers += ev.display_orgs.get("from", []) + ev.sender
    writer = writers[0] if writers else None
    if writer is not None and writer.kind is None and writer.name.isascii():
        # a mixed mail: "그린라인리테일 방소이입니다" above "Greenline Retail" in the signature
        korean = [c for c in ev.sender if c.kind is None and re.search(r"[가-힣]", c.name)]
        if korean and re.search(r"[가-힣]", body_head):
            writer = korean[0]
    about = ev.subject_names
    topic = next((c for c in about if writer is None or c.name != writer.name), None)
    if writer is None:
        put("startup", (plain_topics or [topic])[0], 0.5)
        return
    if about and about[0].name == writer.name and not _is_partnerish(writer):
        topic = None  # the writer names itself first in the subject: its own report
    other = next((c for c in addressed if c.name != writer.name), None) or topic
    greeted = {c.name for c in ev.addressee}  # "X 대표님", "X팀": a startup is greeted so
    if _GREETS_CEO.search(body_head):  # "진서후 대표님,": the addressee's CEO is greeted
        greeted |= {c.name for c in addressed}
    founded = writer.name in {c.name for c in ev.founders}  # its CEO signs: the startup
    to_us = bool(parties.recipients) and own.owns_address(parties.recipients[0])
    if other is None:  # greeting the addressee's CEO: the writer is the other side
        partner_side = _is_partnerish(writer) or bool(_GREETS_CEO.search(body_head))
        put("partner" if partner_side and not founded else "startup", writer, 0.6)
        return
    hangul = bool(re.search(r"[가-힣]", body_head))
    w_weight = _partner_weight(writer, other, hangul)
    o_weight = _partner_weight(other, writer, hangul)
    if founded:
        writer_is_startup = True
    elif w_weight != o_weight:  # the more partner-like side is the partner
        writer_is_startup = w_weight < o_weight
    elif to_us:  # a company reporting to the user's organisation: its portfolio startup
        writer_is_startup = True
    else:  # both partner-like, the addressee greeted as a startup, or the subject's company
        writer_is_startup = not (w_weight > 0 or other.name in greeted or other is topic)
    if writer_is_startup:
        put("startup", writer, 0.6)
        put("partner", other, 0.55)
    else:
        put("startup", other, 0.55)
        put("partner", writer, 0.55)


_GREETS_CEO = re.compile(r"^[^\n]{0,40}(?:대표님|CEO님|Dear [A-Z]\w+ \(CEO\))", re.MULTILINE)

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


def _partner_weight(cand: _Cand, other: _Cand, hangul: bool) -> float:
    """How partner-like one of two companies is: the directory says it outright; else a
    large firm's legal form (AG, K.K.) and institution words (…은행, …Insurance) count more
    than industry words a startup may carry too (…푸드, …Logistics); in a Korean mail a
    Latin-only name beside a Korean one is more likely the foreign partner."""
    if cand.kind is not None:
        return 5.0 if cand.kind == "partner" else -5.0
    weight = 2.0 if cand.established else 0.0
    if _PARTNER_WORDS.search(cand.name):
        weight += 1.0 if _INDUSTRY_WORDS.search(cand.name) else 2.0
    if hangul and cand.name.isascii() and re.search(r"[가-힣]", other.name):
        weight += 0.5
    return weight


def _is_partnerish(cand: _Cand) -> bool:
    """A partner by the directory, or by its words (…은행, …Insurance) or legal form (AG)."""
    if cand.kind is not None:
        return cand.kind == "partner"
    return cand.established or bool(_PARTNER_WORDS.search(cand.name))


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
    ev = _collect(subject, body, directory, people, own, parties)
    roles: dict[str, Found] = {r: Found(c.name, 0.9, c.start) for r, c in ev.labels.items()}

    def taken() -> set[str]:
        return {f.value for f in roles.values()}

    def put(role: str, cand: _Cand | None, conf: float) -> None:
        ok = cand is not None and role not in roles and cand.name not in taken()
        if ok and cand is not None and not own.is_own(cand.name):
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
    _structure(ev, subject, body[:200], directory, parties, own, put)
    for cand in ev.startupish:
        put("startup", cand, 0.55)
    for a, b, shape in ev.pairs:  # neither known: partner-like words, else word order (a guess)
        a_p, b_p = _is_partnerish(a), _is_partnerish(b)
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
    if "startup" not in roles and "partner" in roles:  # last: the addressee's mail domain
        put("startup", _domain_company(parties, own, roles["partner"].value), 0.3)
    return roles.get("startup"), roles.get("partner")


def _domain_company(parties: Parties, own: OwnOrg, partner: str) -> _Cand | None:
    """A company named only by a mail domain ("jh@quokkalab.example"): an addressee's, else
    the writer's ("hyejin@moonpebble.example" writing to us about its partner)."""
    sender_label = cues.domain_label(parties.sender) if parties.sender else ""
    others = [a for a in parties.recipients if cues.domain_label(a) != sender_label]
    for address in [*others, *([parties.sender] if parties.sender else [])]:
        label = cues.domain_label(address)
        if label and not own.owns_address(address):
            name = " ".join(part.capitalize() for part in label.split("-") if part)
            if name and not cues.spells(label, partner):
                return _Cand(name, 1 << 20)
    return None
