"""Consensus merge on tricky Korean/English cases (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from collabiq_llm.entities import ConfidenceScores, ExtractedEntities
from collabiq_llm.orchestration.merge import (
    MergeSettings,
    Vote,
    comparison_key,
    merge_field,
    merge_votes,
    same_value,
)

S = MergeSettings()


def ent(person=None, startup=None, partner=None, details="d", date=None, conf=0.8, **confs):
    c = {k: conf for k in ("person", "startup", "partner", "details", "date")} | confs
    return ExtractedEntities(
        person_in_charge=person,
        startup_name=startup,
        partner_org=partner,
        details=details,
        date=date,
        confidence=ConfidenceScores(**c),
        email_id="em_test",
    )


def votes(*entities, weights=None):
    weights = weights or [1.0] * len(entities)
    names = ["gemini", "claude", "openai", "extra"]
    return [Vote(names[i], e, weights[i], i) for i, e in enumerate(entities)]


def key(field, v):
    return comparison_key(field, v, None)


def test_company_affixes_normalise_to_same_key() -> None:
    assert key("startup_name", "(주)테이블매니저") == key("startup_name", "테이블매니저")
    assert key("startup_name", "주식회사 본봄") == key("startup_name", "본봄")
    assert key("partner_org", "Acme Co., Ltd.") == key("partner_org", "ACME")


def test_bonbom_and_bonbom_company_merge() -> None:
    assert same_value(key("startup_name", "본봄"), key("startup_name", "본봄컴퍼니"), 0.85)
    d = merge_field("startup_name", votes(ent(startup="본봄"), ent(startup="본봄컴퍼니")), S)
    assert d.value == "본봄"  # tie on support -> priority order picks gemini's spelling
    assert d.supporters == ["gemini", "claude"]


def test_shinsegae_and_shinsegae_international_do_not_merge() -> None:
    a, b = key("partner_org", "신세계"), key("partner_org", "신세계인터내셔널")
    assert not same_value(a, b, 0.85)
    d = merge_field(
        "partner_org",
        votes(
            ent(partner="신세계"), ent(partner="신세계인터내셔널"), ent(partner="신세계인터내셔널")
        ),
        S,
    )
    assert d.value == "신세계인터내셔널"
    assert d.dissenters == ["gemini"]


def test_hangul_and_latin_spelling_merge_only_through_directory() -> None:
    v = votes(ent(startup="(주)테이블매니저", conf=0.7), ent(startup="TableManager", conf=0.9))
    without = merge_field("startup_name", v, S)
    assert without.value == "TableManager" and without.dissenters == ["gemini"]
    directory = {"테이블매니저": "테이블매니저", "tablemanager": "테이블매니저"}

    def canonical(text: str) -> str | None:
        return directory.get(key("startup_name", text))

    with_dir = merge_field("startup_name", v, S, canonical)
    assert with_dir.supporters == ["gemini", "claude"]
    assert with_dir.confidence > 0.9  # agreement raises confidence


def test_dates_compare_as_dates() -> None:
    d = merge_field(
        "date",
        votes(ent(date="2025-11-01"), ent(date=dt.date(2025, 11, 1)), ent(date="2025-11-02")),
        S,
    )
    assert d.value == dt.date(2025, 11, 1)
    assert d.supporters == ["gemini", "claude"]


def test_abstain_when_every_candidate_is_weak() -> None:
    d = merge_field(
        "person_in_charge", votes(ent(person="김철수", conf=0.2), ent(person="이영희", conf=0.1)), S
    )
    assert d.value is None and d.confidence == 0.0


def test_weighted_vote_beats_single_confident_outlier() -> None:
    d = merge_field(
        "person_in_charge",
        votes(
            ent(person="박지민", conf=0.95),
            ent(person="김철수", conf=0.6),
            ent(person="김철수 매니저", conf=0.6),
        ),
        S,
    )
    assert d.value in ("김철수", "김철수 매니저")
    assert d.supporters == ["claude", "openai"]


def test_tie_goes_to_more_providers_then_priority() -> None:
    # equal support 0.8 vs 0.4+0.4: more providers wins
    d = merge_field(
        "startup_name",
        votes(
            ent(startup="A사", conf=0.8), ent(startup="B랩", conf=0.4), ent(startup="B랩", conf=0.4)
        ),
        S,
    )
    assert d.value == "B랩"
    # equal support, equal count: priority order
    d2 = merge_field("startup_name", votes(ent(startup="A사"), ent(startup="B랩")), S)
    assert d2.value == "A사"


def test_grouping_is_order_independent() -> None:
    values = ["Shinsegae International", "Shinsegae Internatonal", "Shinsegae Intl", "Lotte"]
    results = set()
    for perm in itertools.permutations(values):
        ents = [ent(partner=p) for p in perm]
        v = [Vote(f"p{i}", e, 1.0, 0) for i, e in enumerate(ents)]
        d = merge_field("partner_org", v, S)
        results.add((key("partner_org", str(d.value)) if d.value else None, round(d.confidence, 6)))
    assert len(results) == 1


def test_merged_confidence_comes_from_agreement_and_rises_with_it() -> None:
    two = merge_field(
        "startup_name", votes(ent(startup="본봄", conf=0.7), ent(startup="본봄", conf=0.7)), S
    )
    three = merge_field(
        "startup_name",
        votes(ent(startup="본봄", conf=0.7), ent(startup="본봄", conf=0.7), ent(startup="본봄")),
        S,
    )
    contested = merge_field(
        "startup_name",
        votes(
            ent(startup="본봄", conf=0.7), ent(startup="본봄"), ent(startup="한빛유통", conf=0.6)
        ),
        S,
    )
    assert 0.9 < two.confidence < three.confidence <= 1.0
    assert contested.value == "본봄" and 0.5 < contested.confidence < two.confidence


def test_confident_lone_value_is_capped_when_another_provider_disagrees() -> None:
    """The "Minsu" case: one provider claims 1.0, the others say something else."""
    d = merge_field(
        "person_in_charge",
        votes(ent(person="Minsu", conf=1.0), ent(person="김철수", conf=0.6), ent(person="이영희")),
        S,
    )
    assert d.supporters == ["gemini"] and d.confidence <= 0.5
    abstain = MergeSettings(lone_policy="abstain")
    d2 = merge_field(
        "person_in_charge", votes(ent(person="Minsu", conf=1.0), ent(person="김철수")), abstain
    )
    assert d2.value is None and d2.confidence == 0.0


def test_two_nulls_outvote_one_value_and_one_null_does_not() -> None:
    d = merge_field("person_in_charge", votes(ent(), ent(person="김철수"), ent()), S)
    assert d.value is None and d.supporters == ["gemini", "openai"]
    single = merge_field("person_in_charge", votes(ent(), ent(person="김철수")), S)
    assert single.value == "김철수" and single.confidence <= 0.5  # its word against a null
    assert merge_field("person_in_charge", votes(ent(), ent()), S).value is None


def test_learned_accuracy_breaks_a_three_way_split() -> None:
    three_way = votes(ent(date="2025-11-01"), ent(date="2025-11-02"), ent(date="2025-11-03"))
    assert merge_field("date", three_way, S).value == dt.date(2025, 11, 1)  # priority
    learned = [
        Vote(v.provider, v.entities, 1.0, v.priority, {"date": acc})
        for v, acc in zip(three_way, (0.6, 0.95, 0.7), strict=True)
    ]
    d = merge_field("date", learned, S)
    assert d.value == dt.date(2025, 11, 2) and d.confidence <= 0.5


def test_low_weight_voter_joins_but_cannot_outvote() -> None:
    """offline (weight 0.5) backing a value makes it agreed; alone it loses to a full vote."""
    v = [
        Vote("claude", ent(partner="신세계인터내셔널"), 1.0, 0),
        Vote("offline", ent(partner="신세계인터내셔널"), 0.5, 1),
    ]
    d = merge_field("partner_org", v, S)
    assert d.supporters == ["claude", "offline"] and d.confidence > 0.5
    v2 = [
        Vote("claude", ent(partner="롯데"), 1.0, 1),
        Vote("offline", ent(partner="신세계"), 0.5, 0),
    ]
    assert merge_field("partner_org", v2, S).value == "롯데"


def test_no_field_agreed_by_two_is_not_agreed() -> None:
    out = merge_votes(
        votes(
            ent("Minsu", "Minsu", "Minsu", date="2025-01-01", conf=1.0),
            ent("김철수", "본봄", "신세계인터내셔널", date="2025-11-01"),
            ent("이영희", "한빛유통", "롯데", date="2025-11-03"),
        ),
        S,
        email_id="em_x",
    )
    assert not out.agreed
    c = out.entities.confidence
    assert max(c.person, c.startup, c.partner, c.date, c.details) <= 0.5


def test_merge_votes_details_from_provider_winning_most_fields() -> None:
    out = merge_votes(
        votes(
            ent("김철수", "본봄", "신세계인터내셔널", details="gemini text", date="2025-11-01"),
            ent("김철수", "본봄", "신세계", details="claude text", date="2025-11-01"),
            ent("이영희", "본봄", "신세계인터내셔널", details="openai text", date="2025-11-02"),
        ),
        S,
        email_id="em_x",
    )
    e = out.entities
    assert (e.person_in_charge, e.startup_name, e.partner_org, e.date) == (
        "김철수",
        "본봄",
        "신세계인터내셔널",
        dt.date(2025, 11, 1),
    )
    assert out.details_from == "gemini" and e.details == "gemini text"
    assert e.email_id == "em_x"
    assert 0.0 <= e.confidence.person <= 1.0


# ---------------------------------------------------------------- properties (hypothesis)
PROPS = settings(max_examples=60, deadline=None, derandomize=True, database=None)
PROVIDERS = ("gemini", "claude", "openai", "offline", "local")
POOLS = {  # values that never group with each other (no alias, far apart)
    "person_in_charge": ("김철수", "이영희", "Minsu", "Jane Doe", "박지민"),
    "startup_name": ("본봄", "한빛유통", "Luminut", "다온바이오", "키즈온"),
    "partner_org": ("신세계인터내셔널", "롯데", "Kestrel Partners", "데이터숲", "Wavefin"),
    "date": ("2025-11-01", "2025-11-03", "2025-12-15", "2026-01-07", "2025-08-29"),
}
confidences = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def ballot(draw: st.DrawFn, *, distinct: bool = False) -> list[Vote]:
    """2–5 voters; ``distinct``: every voter a different non-null value on every field."""
    n = draw(st.integers(2, 5))
    names = draw(st.permutations(PROVIDERS))[:n]
    picks: dict[str, list[str | None]] = {}
    for name, pool in POOLS.items():
        if distinct:
            picks[name] = list(draw(st.permutations(pool))[:n])
        else:
            picks[name] = [draw(st.sampled_from((*pool[:2], None))) for _ in range(n)]
    out = []
    for i, provider in enumerate(names):
        conf = {k: draw(confidences) for k in ("person", "startup", "partner", "details", "date")}
        entities = ExtractedEntities(
            person_in_charge=picks["person_in_charge"][i],
            startup_name=picks["startup_name"][i],
            partner_org=picks["partner_org"][i],
            details=f"{provider} text",
            date=picks["date"][i],
            confidence=ConfidenceScores(**conf),
            email_id="em_p",
        )
        accuracy = {f: draw(st.floats(0.55, 0.99)) for f in POOLS}
        weight = draw(st.sampled_from((0.5, 1.0, 1.5)))
        out.append(Vote(provider, entities, weight, i, accuracy))
    return out


def summary(out) -> tuple:
    e = out.entities
    return (
        e.model_dump(exclude={"extracted_at"}),
        {k: (d.value, d.confidence, d.supporters, d.dissenters) for k, d in out.decisions.items()},
        out.agreed,
    )


@PROPS
@given(ballot(), st.randoms(use_true_random=False))
def test_merge_ignores_the_order_votes_arrive_in(vs: list[Vote], rnd) -> None:
    shuffled = list(vs)
    rnd.shuffle(shuffled)
    a = merge_votes(vs, S, email_id="em_p")
    b = merge_votes(shuffled, S, email_id="em_p")
    assert summary(a) == summary(b)


@PROPS
@given(ballot(distinct=True))
def test_when_all_disagree_no_field_is_confident_and_nothing_is_agreed(vs: list[Vote]) -> None:
    for policy in ("cap", "abstain"):
        out = merge_votes(vs, MergeSettings(lone_policy=policy), email_id="em_p")
        assert not out.agreed
        for name in POOLS:
            d = out.decisions[name]
            assert d.value is None or d.confidence <= 0.5
            assert len(d.supporters) <= 1
            if policy == "abstain":
                assert d.value is None and d.confidence == 0.0


@PROPS
@given(ballot())
def test_confidence_stays_in_bounds_and_lone_values_stay_low(vs: list[Vote]) -> None:
    out = merge_votes(vs, S, email_id="em_p")
    for name, d in out.decisions.items():
        assert 0.0 <= d.confidence <= 1.0
        if d.value is None:
            assert d.confidence == 0.0
        elif name != "details" and len(d.supporters) == 1:
            assert d.confidence <= S.lone_cap
    c = out.entities.confidence
    assert all(0.0 <= getattr(c, k) <= 1.0 for k in ("person", "startup", "partner", "date"))
    if out.agreed:
        assert any(len(out.decisions[n].supporters) >= 2 for n in POOLS)


def _learned(vs: list[Vote], rel) -> list[Vote]:
    """The same ballot as consensus builds it with learned weights from ``rel``."""
    from collabiq_llm.orchestration.consensus import learned_vote
    from collabiq_llm.settings import ConsensusSettings

    out = []
    for v in vs:
        accuracy, shift = learned_vote(rel, v.provider, v.entities, ConsensusSettings())
        out.append(Vote(v.provider, v.entities, v.weight, v.priority, accuracy, shift))
    return out


@PROPS
@given(ballot())
def test_learned_weights_without_history_are_exactly_the_fixed_weights(vs: list[Vote]) -> None:
    """Online cold start: the first emails of a run (nothing learned yet) are merged
    exactly as with fixed weights, low-weight voters (offline, 0.5) included."""
    from collabiq_llm.reliability import estimate_reliability

    fixed = [Vote(v.provider, v.entities, v.weight, v.priority) for v in vs]
    empty = estimate_reliability([], coincidence=S.coincidence, prior=S.prior_accuracy)
    assert summary(merge_votes(_learned(fixed, empty), S, email_id="em_p")) == summary(
        merge_votes(fixed, S, email_id="em_p")
    )


@PROPS
@given(ballot())
def test_a_short_history_of_alike_providers_leaves_the_merge_as_fixed(vs: list[Vote]) -> None:
    """Twenty emails, all voters alike but a dissent every fifth email: too little to tell
    the providers (or them and the fixed 0.8) apart, so every learned figure is fixed."""
    from collabiq_llm.reliability import Observation, estimate_reliability

    names = tuple(v.provider for v in vs)
    history = []
    for k in range(20):
        labels = [int(k % 5 == 0 and i == (k // 5) % len(names)) for i in range(len(names))]
        history.append(Observation(names, dict.fromkeys(POOLS, labels)))
    rel = estimate_reliability(history, coincidence=S.coincidence, prior=S.prior_accuracy)
    fixed = [Vote(v.provider, v.entities, v.weight, v.priority) for v in vs]
    assert summary(merge_votes(_learned(fixed, rel), S, email_id="em_p")) == summary(
        merge_votes(fixed, S, email_id="em_p")
    )
