"""The hand-written evaluation sets (data/eval/dev, data/eval/independent) stay what their
READMEs say they are: valid, uniquely labelled, in the stated languages, about companies
the shipped directories do not know, and never naming the receiving accelerator as a
startup or partner. If an edit breaks one of these, the set no longer measures
generalisation and the benchmark figures built on it stop meaning what they claim.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from collabiq_llm.evaluation import AliasTable, EvalExample, load_dataset

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "data" / "eval"
DEV = EVAL / "dev"
INDEPENDENT = EVAL / "independent"
DIRECTORIES = (ROOT / "config" / "companies.toml", EVAL / "companies.toml")
ORG_FIELDS = ("startup_name", "partner_org")

_HANGUL = re.compile(r"[가-힣]")
_LATIN = re.compile(r"[A-Za-z]")
_ADDRESSES = re.compile(r"\S+@\S+|https?://\S+")
_NON_WORD = re.compile(r"[\W_]+")


def _load(folder: Path) -> list[EvalExample]:
    return load_dataset(folder / "emails.jsonl")


def _hangul_share(text: str) -> float:
    """Share of Hangul among letters, ignoring addresses and URLs (which are always Latin)."""
    body = _ADDRESSES.sub("", text)
    hangul, latin = len(_HANGUL.findall(body)), len(_LATIN.findall(body))
    return hangul / (hangul + latin) if hangul + latin else 0.0


def _compact(text: str) -> str:
    return _NON_WORD.sub("", text).casefold()


@pytest.fixture(scope="module")
def dev() -> list[EvalExample]:
    return _load(DEV)


@pytest.fixture(scope="module")
def independent() -> list[EvalExample]:
    return _load(INDEPENDENT)


def test_sizes_and_language_mix(dev: list[EvalExample], independent: list[EvalExample]) -> None:
    assert Counter(e.lang for e in dev) == {"ko": 12, "en": 9, "mixed": 9}
    assert len(independent) >= 80
    counts = Counter(e.lang for e in independent)
    shares = {lang: counts[lang] / len(independent) for lang in ("ko", "en", "mixed")}
    assert shares["ko"] == pytest.approx(0.40, abs=0.05)
    assert shares["en"] == pytest.approx(0.30, abs=0.05)
    assert shares["mixed"] == pytest.approx(0.30, abs=0.05)


def test_ids_are_unique_across_sets_and_name_their_language(
    dev: list[EvalExample], independent: list[EvalExample]
) -> None:
    ids = [e.id for e in dev + independent]
    assert len(ids) == len(set(ids))
    for prefix, examples in (("dev", dev), ("ind", independent)):
        for example in examples:
            assert re.fullmatch(rf"{prefix}-{example.lang}-\d{{3}}", example.id), example.id


@pytest.mark.parametrize("folder", [DEV, INDEPENDENT], ids=["dev", "independent"])
def test_texts_are_in_the_stated_language(folder: Path) -> None:
    for example in _load(folder):
        share = _hangul_share(example.text)
        if example.lang == "ko":
            assert share >= 0.75, (example.id, share)
        elif example.lang == "en":
            assert share == 0.0, example.id
        else:  # mixed: real Korean and real English in the same mail
            assert 0.05 <= share <= 0.9, (example.id, share)


@pytest.mark.parametrize("folder", [DEV, INDEPENDENT], ids=["dev", "independent"])
def test_labels_come_from_the_email(folder: Path) -> None:
    """Every expected name and details phrase is in the mail, and dates are near it."""
    for example in _load(folder):
        text = _compact(example.text)
        for field in ("person_in_charge", *ORG_FIELDS, "details"):
            value = example.expected.value(field)
            if value is not None:
                assert _compact(value) in text, (example.id, field, value)
        date = example.expected.date
        if date is not None:
            assert abs(date - example.received_at) <= dt.timedelta(days=60), example.id


@pytest.mark.parametrize("folder", [DEV, INDEPENDENT], ids=["dev", "independent"])
def test_own_organisation_is_never_startup_or_partner(folder: Path) -> None:
    with (folder / "own_org.toml").open("rb") as fh:
        own = tomllib.load(fh)
    assert own["names"] and own["domains"]
    own_names = {_compact(name) for name in own["names"]}
    examples = _load(folder)
    for example in examples:
        for field in ORG_FIELDS:
            value = example.expected.value(field)
            assert value is None or _compact(value) not in own_names, (example.id, value)
    staff_mail = [e for e in examples if any(d in e.text for d in own["domains"])]
    assert len(staff_mail) >= len(examples) // 2  # the set really is mail the firm receives


@pytest.mark.parametrize("folder", [DEV, INDEPENDENT], ids=["dev", "independent"])
def test_most_companies_are_unknown_to_the_shipped_directories(folder: Path) -> None:
    directories = [AliasTable.from_toml(path) for path in DIRECTORIES]
    names = {
        value
        for example in _load(folder)
        for field in ORG_FIELDS
        if (value := example.expected.value(field)) is not None
    }
    unknown = [n for n in names if all(d.canonical(n) is None for d in directories)]
    assert len(names) >= 50
    assert len(unknown) / len(names) >= 0.6, sorted(set(names) - set(unknown))


def test_directory_lookup_would_notice_a_known_company() -> None:
    """The absence check above can fail: a name from a directory is found by it."""
    with DIRECTORIES[1].open("rb") as fh:
        entry = tomllib.load(fh)["startups"][0]
    table = AliasTable.from_toml(DIRECTORIES[1])
    assert table.canonical(f"(주) {entry['name']}") == entry["name"]


def test_the_sets_cover_the_hard_cases(independent: list[EvalExample]) -> None:
    tags = Counter(tag for example in independent for tag in example.tags)
    for tag in (
        "forwarded",
        "quoted-reply",
        "relative-date",
        "subject-pair",
        "program-name",
        "injection",
        "own-org-mention",
        "lookalike-in-text",
        "deadline",
    ):
        assert tags[tag] >= 2, tag
    nulls = Counter(
        field
        for example in independent
        for field in ("person_in_charge", *ORG_FIELDS, "date")
        if example.expected.value(field) is None
    )
    assert nulls["person_in_charge"] >= 3 and nulls["partner_org"] >= 2 and nulls["date"] >= 2
