"""Generate data/eval/emails.jsonl and data/eval/companies.toml (synthetic, fictional).

Run from the repository root:  .venv/bin/python data/eval/make_dataset.py
Output is deterministic; the committed files are what the benchmark uses, this script
documents how they were made. Each template in gen/ writes one kind of real mail
(report, invite, forward, reply, notice, minutes, press release, ...); every template is
used a few times with different companies, people, dates and phrasings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from gen import en, ko, ko2, mixed
from gen.common import (
    Ctx,
    Draft,
)
from gen.directory import (
    EN_PEOPLE,
    KO_PEOPLE,
    ORGS,
    PARTNERS,
    STARTUPS,
    VC_STAFF,
)

HERE = Path(__file__).resolve().parent
USES_PER_TEMPLATE = 3
FIRST_DAY, LAST_DAY = dt.date(2025, 9, 1), dt.date(2025, 12, 19)

# Templates whose story needs a particular kind of partner or startup.
PARTNER_POOL: dict[str, list[str]] = {
    "program_notice": ["gicenter", "smartfarm", "seoun"],
    "lookalike_both": [k for k, o in PARTNERS.items() if o.twin],
    "en_lookalike": [k for k, o in PARTNERS.items() if o.twin],
    "demo_day_thanks": ["gicenter", "kestrel", "smartfarm"],
    "investment_meeting": ["kestrel", "hanbitcap", "helios", "miraero"],
    "en_notice": ["kestrel", "gicenter", "smartfarm"],
    "en_forward_intro": ["kestrel", "hanbitcap", "yotta", "aster", "helios"],
    "mixed_bilingual_notice": ["gicenter", "smartfarm", "seoun"],
    "mixed_forward_english": ["aster", "yotta", "kestrel", "helios"],
}
STARTUP_POOL: dict[str, list[str]] = {
    "startup_lookalike": [k for k, o in STARTUPS.items() if o.twin],
}


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _weekday(r: random.Random) -> dt.date:
    span = (LAST_DAY - FIRST_DAY).days
    while True:
        d = FIRST_DAY + dt.timedelta(days=r.randint(0, span))
        if d.weekday() < 5:
            return d


def _context(name: str, i: int, startups: list[str], partners: list[str]) -> Ctx:
    r = _rng("collabiq-eval-v1", name, i)
    s_key = r.choice(STARTUP_POOL.get(name, startups))
    p_key = r.choice(PARTNER_POOL.get(name, partners))
    people = r.sample(KO_PEOPLE, 3)
    return Ctx(r, _weekday(r), STARTUPS[s_key], PARTNERS[p_key], people[0], people[1],
               r.choice(VC_STAFF), people[2])


def _foreign_contact(c: Ctx) -> None:
    """English-language partners usually write from a Latin-only name."""
    if c.partner.ko == c.partner.en and c.r.random() < 0.7:
        c.pp = c.r.choice(EN_PEOPLE)


def _auto_tags(d: Draft, c: Ctx) -> list[str]:
    tags = set(d.tags)
    for org, value in ((c.startup, d.startup), (c.partner, d.partner)):
        if value and org.twin:
            tags.add("lookalike")
            twin = ORGS[org.twin]
            if any(_mentions(d.text, t, o) for t, o in ((twin.ko, org.ko), (twin.en, org.en))):
                tags.add("lookalike-in-text")
        if value and any(a in d.text for a in ("(주)", "㈜", "주식회사", "Inc.", "Co., Ltd.",
                                                "LLC", "Ltd.")):
            tags.add("affix")
    if d.person is None:
        tags.add("missing-person")
    if d.partner is None:
        tags.add("missing-partner")
    if d.startup is None:
        tags.add("missing-startup")
    if d.date is None:
        tags.add("missing-date")
    return sorted(tags)


def _mentions(text: str, name: str, other: str) -> bool:
    """Whether ``name`` appears in text other than inside the longer look-alike ``other``."""
    return name in (text.replace(other, "") if len(other) > len(name) else text)


def build() -> list[dict[str, object]]:
    templates: list[tuple[Callable[[Ctx], Draft], str]] = [
        *((f, "ko") for f in ko.TEMPLATES_1), *((f, "ko") for f in ko2.TEMPLATES_2),
        *((f, "en") for f in en.TEMPLATES), *((f, "mixed") for f in mixed.TEMPLATES)]
    startups, partners = sorted(STARTUPS), sorted(PARTNERS)
    counters: Counter[str] = Counter()
    rows: list[dict[str, object]] = []
    for func, lang in templates:
        for i in range(USES_PER_TEMPLATE):
            c = _context(func.__name__, i, startups, partners)
            if lang != "ko":
                _foreign_contact(c)
            d = func(c)
            assert d.lang == lang, func.__name__
            counters[lang] += 1
            rows.append({
                "id": f"{lang}-{counters[lang]:03d}",
                "lang": lang,
                "received_at": d.received.isoformat(),
                "template": func.__name__,
                "text": d.text,
                "tags": _auto_tags(d, c),
                "difficulty": d.difficulty,
                "expected": {"person_in_charge": d.person, "startup_name": d.startup,
                             "partner_org": d.partner, "details": d.details,
                             "date": d.date.isoformat() if d.date else None},
                "distractors": d.distractors,
            })
    return rows


def companies_toml() -> str:
    """The known-company directory for this dataset: canonical Korean name + aliases."""
    out = ["# Known companies for the synthetic evaluation set (data/eval/emails.jsonl).",
           "# Fictional. Same shape as config/companies.toml. Generated by make_dataset.py.", ""]
    for section, orgs in (("startups", STARTUPS), ("partners", PARTNERS)):
        for org in orgs.values():
            aliases = [org.en] if org.en != org.ko else []
            if org.twin:
                out.append(f"# a different entity from {ORGS[org.twin].ko} (look-alike name)")
            out += [f"[[{section}]]", f'name = "{org.ko}"',
                    "aliases = [" + ", ".join(json.dumps(a, ensure_ascii=False) for a in aliases)
                    + "]", ""]
    return "\n".join(out)


def main() -> int:
    rows = build()
    with (HERE / "emails.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    (HERE / "companies.toml").write_text(companies_toml(), encoding="utf-8")
    langs = Counter(str(r["lang"]) for r in rows)
    tags = Counter(t for r in rows for t in r["tags"])  # type: ignore[union-attr]
    print(f"{len(rows)} emails {dict(langs)}", file=sys.stderr)
    print(dict(sorted(tags.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
