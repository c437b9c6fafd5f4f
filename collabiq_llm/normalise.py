"""Canonical forms of names and dates, shared by consensus voting and evaluation.

Two providers that write "(주)테이블매니저" and "테이블매니저" mean the same company;
comparing normalised forms is what makes their votes count together.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_WS = re.compile(r"\s+")
_CORP_AFFIXES = re.compile(
    r"(주식회사|유한회사|\(주\)|\(유\)|㈜|"
    r"\b(?:co\.?,?\s*ltd\.?|company\s+limited|corporation|corp\.?|inc\.?|incorporated|"
    r"ltd\.?|llc|l\.l\.c\.|gmbh|plc|co\.)(?=\s|$|,))",
    re.IGNORECASE,
)
# legal forms that only ever end a name ("Kranich AG", "Nordhavn Terminals A/S", "Kallang
# Freight Pte. Ltd."): stripped at the end only, since "AS", "AB" or "SA" are words elsewhere
_LEGAL_SUFFIX = re.compile(
    r"(?:,?\s+(?:(?:pte|pvt|pty)\.?(?:\s*ltd\.?)?|sdn\.?(?:\s*bhd\.?)?|bhd\.?|a/s|aps|asa|as|ag|se|"
    r"oyj|oy|ab|"
    r"s\.a\.s\.?|sas|s\.a\.?|sa|s\.p\.a\.?|s\.r\.l\.?|srl|sarl|b\.v\.?|bv|n\.v\.?|nv|"
    r"k\.k\.?|kk|g\.k\.?|llp|limited))+\s*$"
)
_KO_TITLE_SUFFIX = re.compile(
    r"\s*(님|씨|매니저|대표이사|대표|팀장|부장|과장|차장|대리|실장|이사|책임|선임|수석|프로|"
    r"연구원|담당자|담당|센터장|본부장|상무|전무)$"
)
_EN_TITLE_PREFIX = re.compile(r"^(?:mr|ms|mrs|dr|prof)\.?\s+", re.IGNORECASE)
_PUNCT_EDGES = re.compile(r"^[\s,.;:·\-()\[\]\"']+|[\s,.;:·\-()\[\]\"']+$")


def basic(text: str) -> str:
    """NFKC, collapsed whitespace, case-folded."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def normalise_org_name(name: str) -> str:
    """Company name without corporate affixes, spacing or case: "(주) 본봄" -> "본봄",
    "Kranich AG" -> "kranich" (legal forms of any country, at the end)."""
    text = basic(name)
    text = _CORP_AFFIXES.sub(" ", text)
    text = _PUNCT_EDGES.sub("", _WS.sub(" ", text))
    text = _PUNCT_EDGES.sub("", _LEGAL_SUFFIX.sub("", text))
    return text.replace(" ", "") if _is_hangul_heavy(text) else text


def normalise_person(name: str) -> str:
    """Person name without titles/honorifics: "김철수 매니저님" -> "김철수"."""
    text = _PUNCT_EDGES.sub("", basic(name))
    text = _EN_TITLE_PREFIX.sub("", text)
    while True:  # titles stack at the end: "김철수 팀장님"
        stripped = _KO_TITLE_SUFFIX.sub("", text)
        if stripped == text or not stripped.strip():
            break
        text = stripped
    text = _PUNCT_EDGES.sub("", _WS.sub(" ", text))
    return text.replace(" ", "") if _is_hangul_heavy(text) else text


def normalise_date(value: object) -> str | None:
    """ISO date string for a date, a datetime or a parseable ISO string; else None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        return None


def _is_hangul_heavy(text: str) -> bool:
    hangul = sum(1 for ch in text if "\uac00" <= ch <= "\ud7a3")
    return hangul > 0 and hangul >= len(text.replace(" ", "")) / 2
