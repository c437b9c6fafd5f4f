"""The known-company directory: portfolio startups and partner organisations.

One list serves three users: the LLM prompt (so providers spell names the way the
team does), the consensus merge (aliases of one entry are the same company) and
the offline provider (finding companies in raw text). Matching ignores case,
spacing, width and corporate affixes such as (주), 주식회사, Inc. or Co., Ltd.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, NamedTuple

from rapidfuzz import fuzz, process

from collabiq_llm.errors import ConfigurationError
from collabiq_llm.normalise import normalise_org_name

__all__ = [
    "Company",
    "CompanyDirectory",
    "CompanyMatch",
    "CompanyMention",
    "Kind",
    "OwnOrg",
    "load_directory",
    "normalise_org_name",
    "org_key",
]

Kind = Literal["startup", "partner"]
_SECTIONS: dict[str, Kind] = {"startups": "startup", "partners": "partner"}
_NON_WORD = re.compile(r"[\W_]+")
_HANGUL = re.compile(r"[가-힣]")
_ASCII_AFFIX = re.compile(
    r"(?:,?\s*(?:co\.?,?\s*ltd\.?|inc\.?|corp\.?|corporation|ltd\.?|llc|co\.))+\s*$", re.IGNORECASE
)
_KO_AFFIX = re.compile(r"주식회사|유한회사|\(주\)|\(유\)|㈜")
# particles and role words that stick to a Korean name in running text
KO_PARTICLES = re.compile(
    r"(?:과의|와의|에서는|에서|에게|으로|이랑|하고|측과|측의|측은|측|님|과|와|의|은|는|이|가|을|를|로|도|만|랑|께)$"
)
# what may follow a Korean name inside the same word: a particle or a role word, never more
# name ("본봄과", "본봄측", "본봄팀은" match 본봄; "본봄랩스", "본봄벤처스" do not)
_KO_TAIL = (
    r"(?:측|팀|사|님)?(?:과의|와의|에서는|에서|에게|에는|으로|로서|이랑|하고|께서|까지|부터|처럼|"
    r"보다|한테|이나|과는|와는|이며|이고|이다|입니다|과|와|의|은|는|이|가|을|를|로|도|만|랑|께|에)?"
)
# an English name ends at a word boundary and is not the first word of a longer name
# ("Bonbom" is not "Bonbom Labs"), though a role or legal word may follow ("Bonbom Team")
_EN_RIGHT = (
    r"(?![A-Za-z0-9])(?-i:(?![ \t]+(?!(?:Team|Inc|Corp|Co|Ltd|LLC|CEO|CTO|COO|Korea|And|X)\b)"
    r"[A-Z][a-z]))"
)
FUZZY_MIN = 90.0  # rapidfuzz ratio (0-100) on Hangul-decomposed keys


def org_key(name: str) -> str:
    """The comparison key: ``normalise_org_name`` without any punctuation or spaces."""
    return _NON_WORD.sub("", normalise_org_name(name))


def _jamo(key: str) -> str:
    """Hangul syllables split into letters, so one wrong vowel is a small difference."""
    return unicodedata.normalize("NFD", key)


@dataclass(frozen=True)
class Company:
    """One directory entry: the canonical spelling, its kind and other spellings."""

    name: str
    kind: Kind
    aliases: tuple[str, ...] = ()

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class OwnOrg:
    """The user's own organisation (the accelerator or VC reading the mail).

    Never a startup or partner; its staff are still candidates for person in charge.
    A name counts as ours when it equals one of ``names`` or extends it ("넥스트브릿지벤처스
    투자팀"); an address counts when its domain is one of ``domains`` or a subdomain.
    """

    names: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()

    def __or__(self, other: OwnOrg) -> OwnOrg:
        return OwnOrg(
            tuple(dict.fromkeys((*self.names, *other.names))),
            tuple(dict.fromkeys((*self.domains, *other.domains))),
        )

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for k in (org_key(n) for n in self.names) if len(k) >= 2)

    def is_own(self, name: str) -> bool:
        key = org_key(name)
        return bool(key) and any(key == k or key.startswith(k) for k in self.keys)

    def owns_address(self, address: str) -> bool:
        domain = address.rsplit("@", 1)[-1].strip(" >").lower()
        return bool(domain) and any(
            domain == d.lower() or domain.endswith("." + d.lower()) for d in self.domains
        )


class CompanyMatch(NamedTuple):
    """A fragment resolved to a directory entry; unpacks as ``(canonical, kind, score)``."""

    canonical: str
    kind: Kind
    score: float


@dataclass(frozen=True)
class CompanyMention:
    """A directory company found in running text, with its character span."""

    canonical: str
    kind: Kind
    start: int
    end: int
    surface: str
    score: float


def _surface_pattern(alias: str) -> re.Pattern[str] | None:
    """A regex for one spelling as it appears in text (spacing- and case-tolerant)."""
    core = _KO_AFFIX.sub("", unicodedata.normalize("NFKC", alias))
    core = _ASCII_AFFIX.sub("", core).strip(" ,.")
    if not core:
        return None
    short_ascii = core.isascii() and len(core.replace(" ", "")) <= 3
    parts: list[str] = []
    for i, ch in enumerate(core):
        if ch.isspace():
            if parts and parts[-1] != r"[\s\-]*":
                parts.append(r"[\s\-]*")
            continue
        if (
            i
            and not short_ascii
            and ((_HANGUL.match(ch) and len(core) >= 4) or (ch.isupper() and core[i - 1].islower()))
            and parts[-1] != r"[\s\-]*"
        ):
            parts.append(r"\s?" if _HANGUL.match(ch) else r"[\s\-]?")
        parts.append(re.escape(ch))
    left = r"(?<![가-힣])" if _HANGUL.match(core[0]) else r"(?<![A-Za-z0-9])"
    right = rf"(?={_KO_TAIL}(?![가-힣]))" if _HANGUL.match(core[-1]) else _EN_RIGHT
    flags = 0 if short_ascii else re.IGNORECASE
    return re.compile(left + "".join(parts) + right, flags)


class CompanyDirectory:
    """Known companies with fuzzy lookup; build with ``load_directory``."""

    def __init__(self, companies: Iterable[Company], own_org: OwnOrg | None = None) -> None:
        self.companies: tuple[Company, ...] = tuple(companies)
        self.own_org = own_org or OwnOrg()
        self._by_key: dict[str, Company] = {}
        self._patterns: list[tuple[re.Pattern[str], Company]] = []
        for company in self.companies:
            for spelling in company.spellings:
                key = org_key(spelling)
                if not key:
                    continue
                other = self._by_key.get(key)
                if other is not None and other is not company:
                    raise ConfigurationError(
                        f"company directory: {spelling!r} is listed for both "
                        f"{other.name!r} and {company.name!r}"
                    )
                self._by_key[key] = company
                pattern = _surface_pattern(spelling)
                if pattern is not None:
                    self._patterns.append((pattern, company))
        # fuzzy only on keys long enough that a one-letter slip is not another word
        self._fuzzy_keys = {
            _jamo(k): c
            for k, c in self._by_key.items()
            if (len(k) >= 4 if _HANGUL.search(k) else len(k) >= 6)
        }

    def __len__(self) -> int:
        return len(self.companies)

    def get(self, canonical: str) -> Company | None:
        """The entry whose canonical name is ``canonical`` (exact), if any."""
        return next((c for c in self.companies if c.name == canonical), None)

    def match(self, text_fragment: str) -> CompanyMatch | None:
        """Resolve a short name ("(주)테이블매니저", "Table Manager Inc.") to an entry.

        Exact alias (after normalisation) scores 1.0; with a trailing Korean
        particle stripped 0.95; a close spelling (rapidfuzz on Hangul letters)
        up to 0.9; a fragment that contains exactly one known name 0.85.
        """
        key = org_key(text_fragment)
        if not key:
            return None
        company = self._by_key.get(key)
        if company is not None:
            return CompanyMatch(company.name, company.kind, 1.0)
        stripped = KO_PARTICLES.sub("", key)
        if stripped != key and stripped in self._by_key:
            company = self._by_key[stripped]
            return CompanyMatch(company.name, company.kind, 0.95)
        fuzzy = self._fuzzy(stripped)
        if fuzzy is not None:
            return fuzzy
        if len(text_fragment) <= 60:
            found = {(m.canonical, m.kind) for m in self.find_in_text(text_fragment)}
            if len(found) == 1:
                name, kind = found.pop()
                return CompanyMatch(name, kind, 0.85)
        return None

    def _fuzzy(self, key: str) -> CompanyMatch | None:
        if not self._fuzzy_keys or len(key) < (4 if _HANGUL.search(key) else 6):
            return None
        best = process.extractOne(
            _jamo(key), list(self._fuzzy_keys), scorer=fuzz.ratio, score_cutoff=FUZZY_MIN
        )
        if best is None:
            return None
        company = self._fuzzy_keys[best[0]]
        if best[0] != _jamo(key) and (best[0] in _jamo(key) or _jamo(key) in best[0]):
            return None  # one name inside the other (하늘모빌리티 / 밤하늘모빌리티): another entity
        return CompanyMatch(company.name, company.kind, round(0.9 * best[1] / 100, 3))

    def find_in_text(self, text: str) -> list[CompanyMention]:
        """Every known company mentioned in ``text``, in order, overlaps resolved to the longest.

        Exact spellings (spacing/case tolerant) first; then Korean words that are
        a close misspelling of a long name (e.g. 테이블매니져).
        """
        found: list[CompanyMention] = []
        for pattern, company in self._patterns:
            for m in pattern.finditer(text):
                found.append(
                    CompanyMention(company.name, company.kind, m.start(), m.end(), m.group(0), 1.0)
                )
        for m in re.finditer(r"[가-힣]{4,}", text):
            if any(f.start < m.end() and m.start() < f.end for f in found):
                continue
            word = KO_PARTICLES.sub("", m.group(0))
            fuzzy = self._fuzzy(word)
            if fuzzy is not None:
                end = m.start() + len(word)
                found.append(
                    CompanyMention(fuzzy.canonical, fuzzy.kind, m.start(), end, word, fuzzy.score)
                )
        kept: list[CompanyMention] = []
        for cand in sorted(found, key=lambda f: (-(f.end - f.start), f.start)):
            if all(cand.end <= k.start or cand.start >= k.end for k in kept):
                kept.append(cand)
        return sorted(kept, key=lambda f: f.start)

    def prompt_context(self) -> str:
        """A compact listing for LLM prompts: canonical names with their aliases, by kind."""

        def entry(c: Company) -> str:
            return f"{c.name} (aka {', '.join(c.aliases)})" if c.aliases else c.name

        lines = []
        for kind, title in (("startup", "Startups"), ("partner", "Partners")):
            entries = [entry(c) for c in self.companies if c.kind == kind]
            if entries:
                lines.append(f"{title}: " + "; ".join(entries))
        return "\n".join(lines)


def _parse_own_org(data: dict[str, object], path: Path) -> OwnOrg:
    """The optional ``[own_org]`` table: ``names`` and ``domains`` (lists of strings)."""
    table = data.get("own_org", {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"{path}: [own_org] must be a table")
    out: dict[str, tuple[str, ...]] = {}
    for key in ("names", "domains"):
        values = table.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ConfigurationError(f"{path}: own_org.{key} must be a list of strings")
        out[key] = tuple(v.strip() for v in values if v.strip())
    return OwnOrg(out["names"], out["domains"])


def _parse(data: dict[str, object], path: Path) -> list[Company]:
    companies: list[Company] = []
    for section, kind in _SECTIONS.items():
        entries = data.get(section, [])
        if not isinstance(entries, list):
            raise ConfigurationError(f"{path}: [[{section}]] must be an array of tables")
        for i, entry in enumerate(entries, 1):
            name = entry.get("name") if isinstance(entry, dict) else None
            aliases = entry.get("aliases", []) if isinstance(entry, dict) else None
            if not isinstance(name, str) or not name.strip():
                raise ConfigurationError(f"{path}: {section} entry {i} needs a non-empty name")
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                raise ConfigurationError(f"{path}: aliases of {name!r} must be a list of strings")
            companies.append(
                Company(name.strip(), kind, tuple(a.strip() for a in aliases if a.strip()))
            )
    return companies


@lru_cache(maxsize=16)
def _load(path: str, mtime_ns: int) -> CompanyDirectory:
    file = Path(path)
    try:
        with file.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"cannot read company directory {file}: {exc}") from exc
    return CompanyDirectory(_parse(data, file), _parse_own_org(data, file))


def load_directory(path: str | Path) -> CompanyDirectory:
    """Read a companies TOML file (``[[startups]]`` / ``[[partners]]`` tables, and an
    optional ``[own_org]`` table naming the organisation the directory belongs to).

    Cached per path and modification time, so callers may load it per email.
    A missing file raises ``FileNotFoundError``; a malformed one ``ConfigurationError``.
    """
    file = Path(path).expanduser().resolve()
    return _load(str(file), file.stat().st_mtime_ns)
