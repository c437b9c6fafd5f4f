"""Is a Korean word an ordinary dictionary word (회의록, 보도자료) rather than a name?

Uses the Kiwi morphological analyser (``kiwipiepy``; its model ships on PyPI as
``kiwipiepy-model``): a word the analyser explains cheaply from its dictionary is a
common word; an invented company name (쿡앤칠, 테셀레이트) costs it far more.
The model takes ~2 s and ~100 MB to load, so it is loaded on first use (never at
CLI start-up) and the offline extractor works without it if it is missing.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)

# log-probability of Kiwi's best analysis; dictionary words score above it, invented
# names below (measured on the templated set's names and the words it mistook for names)
COMMON_WORD_SCORE = -22.0
ENABLED = True  # benchmarks switch it off to measure what the analyser adds
COMMON_PLACE_SCORE = -18.5
VERB_FORM_SCORE = -27.0  # an invented name may parse as a verb too (푸른들 = 푸르+ㄴ+들), unlikely
_PREDICATE_TAGS = frozenset(
    {"VV", "VA", "VX", "VCP", "VCN", "EP", "EF", "EC", "ETM", "ETN", "XSV", "XSA"}
)
MAX_SYLLABLES = 12  # names are short; the analyser's cost grows fast with word length
_lock = threading.Lock()
_state: dict[str, Any] = {}


def _kiwi() -> Any | None:
    with _lock:
        if "kiwi" not in _state:
            try:
                from kiwipiepy import Kiwi

                kiwi = Kiwi()
                kiwi.analyze("협업 미팅", top_n=1)  # its first analysis builds tables (~2 s)
                _state["kiwi"] = kiwi
            except Exception as exc:  # missing package or model: rules work without it
                log.warning("offline extractor: Korean analyser unavailable (%s)", exc)
                _state["kiwi"] = None
        return _state["kiwi"]


def load() -> bool:
    """Load the analyser now (a provider's one-off work before its first timed call)."""
    return _kiwi() is not None


@lru_cache(maxsize=8192)
def _analysis(hangul: str) -> tuple[tuple[str, ...], float] | None:
    """(tags, log-probability) of the analyser's best reading; None when it is unavailable."""
    kiwi = _kiwi()
    if kiwi is None:
        return None
    tokens, score = kiwi.analyze(hangul, top_n=1)[0]
    return tuple(t.tag for t in tokens), float(score)


def _hangul_word(word: str) -> str | None:
    hangul = re.sub(r"[^가-힣]", "", word)
    if not ENABLED or not 2 <= len(hangul) <= MAX_SYLLABLES or hangul != word.replace(" ", ""):
        return None
    return hangul


def is_verb_form(word: str) -> bool:
    """True for what the analyser reads as a verb or adjective form (써주셔서, 가능하실까요)."""
    hangul = _hangul_word(word)
    found = _analysis(hangul) if hangul else None
    if found is None:
        return False
    tags, score = found
    return score > VERB_FORM_SCORE and any(tag in _PREDICATE_TAGS for tag in tags)


def is_common_word(word: str, *, verb_forms: bool = False) -> bool:
    """True for a Hangul word (or phrase) the analyser knows as ordinary vocabulary;
    with ``verb_forms``, also for anything it reads as a verb or adjective form (for
    company names; a person's name may look like one: 여민준 = 여미 + ㄴ + 준)."""
    hangul = _hangul_word(word)
    found = _analysis(hangul) if hangul else None
    if found is None:
        return False
    tags, score = found
    if verb_forms and is_verb_form(word):
        return True  # a verb or adjective form: never a company name
    if "NNP" in tags:  # a proper noun: a name (김철수, 하늘정원) unless as frequent as 서울
        return score > COMMON_PLACE_SCORE
    return score > COMMON_WORD_SCORE
