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
def is_common_word(word: str, *, verb_forms: bool = False) -> bool:
    """True for a Hangul word (or phrase) the analyser knows as ordinary vocabulary;
    with ``verb_forms``, also for anything it reads as a verb or adjective form (for
    company names; a person's name may look like one: 여민준 = 여미 + ㄴ + 준)."""
    hangul = re.sub(r"[^가-힣]", "", word)
    if not ENABLED or not 2 <= len(hangul) <= MAX_SYLLABLES or hangul != word.replace(" ", ""):
        return False
    kiwi = _kiwi()
    if kiwi is None:
        return False
    tokens, score = kiwi.analyze(hangul, top_n=1)[0]
    if verb_forms and any(t.tag in _PREDICATE_TAGS for t in tokens):
        return True  # a verb or adjective form (써주셔서, 가능하실까요): never a name
    if any(t.tag == "NNP" for t in tokens):  # a proper noun: a name (김철수, 하늘정원) unless
        return float(score) > COMMON_PLACE_SCORE  # as frequent as 서울, 유럽, 홍콩
    return float(score) > COMMON_WORD_SCORE
