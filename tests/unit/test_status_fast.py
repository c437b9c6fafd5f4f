"""The pydantic-free ``status --json`` path says exactly what the full path says, or
steps aside: shapes match the state models, random state gives the same JSON, and any
input it cannot vouch for (a changed setting, a corrupt file, spooled events) sends the
command to the full path."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from collabiq_llm import status_fast as fast
from collabiq_llm.settings import Settings, provider_is_configured
from collabiq_llm.state.api import (
    CallEvent,
    CostTotals,
    LedgerEntry,
    LedgerProviderCost,
    OrchestrationConfig,
    ProviderSnapshot,
)
from collabiq_llm.state.breaker import BreakerState
from collabiq_llm.state.costs import Usage
from collabiq_llm.state.health import HealthStats
from collabiq_llm.state.json_docs import CostsDoc, HealthDoc, ProviderRecord
from collabiq_llm.state.json_store import JsonStateStore
from collabiq_llm.status import (
    ProviderStatus,
    StatusReport,
    Totals,
    checked_orchestration,
    current_status,
)
from collabiq_llm.status_core import EMPTY_PROVIDER, report_fields

SHAPES: list[tuple[dict[str, Any], type[BaseModel]]] = [
    (fast.BREAKER_STATE, BreakerState),
    (fast.HEALTH_STATS, HealthStats),
    (fast.USAGE, Usage),
    (fast.PROVIDER_RECORD, ProviderRecord),
    (fast.HEALTH_DOC, HealthDoc),
    (fast.COST_TOTALS, CostTotals),
    (fast.COSTS_DOC, CostsDoc),
    (fast.ORCHESTRATION, OrchestrationConfig),
]
T0 = dt.datetime(2026, 3, 31, 23, 50, tzinfo=dt.UTC)  # near a day and a month boundary


def plain(value: Any) -> Any:
    if isinstance(value, SimpleNamespace):
        return {k: plain(v) for k, v in vars(value).items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@pytest.mark.parametrize(("shape", "model"), SHAPES, ids=[m.__name__ for _, m in SHAPES])
def test_shapes_name_every_field_of_the_state_models_with_their_defaults(
    shape: dict[str, Any], model: type[BaseModel]
) -> None:
    assert list(shape) == list(model.model_fields)
    assert plain(fast.parse(shape, {})) == model().model_dump()


def test_report_keys_are_in_the_models_field_order() -> None:
    assert plain(EMPTY_PROVIDER) == ProviderSnapshot().model_dump()
    s = Settings()
    store = JsonStateStore(s.state_dir, s.breaker, cost=s.cost, clock=lambda: T0)
    fields = report_fields(s, store.snapshot(), OrchestrationConfig(), T0, provider_is_configured)
    assert list(fields) == list(StatusReport.model_fields)
    assert list(fields["totals"]) == list(Totals.model_fields)
    for row in fields["providers"].values():
        assert list(row) == list(ProviderStatus.model_fields)


# -- parse: never accepts what pydantic rejects; agrees where both accept --------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "",
            "5",
            "closed",
            "open",
            "half_open",
            "2026-03-31T23:50:00Z",
            "2026-03-31T23:50:00.123+09:00",
            "2026-03-31 23:50:00",
            "2026-03-31",
            "x",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "calls", "state", "gemini"]), inner, max_size=3),
    ),
    max_leaves=6,
)


def valid(kind: Any) -> st.SearchStrategy[Any]:
    """JSON values a state file may hold for ``kind`` (fields may be missing)."""
    if isinstance(kind, dict):
        return st.fixed_dictionaries({}, optional={n: valid(k) for n, k in kind.items()})
    if kind == fast.INT:
        return st.integers(0, 10**6)
    if kind == fast.FLOAT:
        return st.floats(0, 1e6) | st.integers(0, 100)
    if kind == fast.STR:
        return st.text(max_size=4)
    if kind == fast.DATETIME:
        moments = st.datetimes(
            min_value=dt.datetime(2020, 1, 1), timezones=st.none() | st.just(dt.UTC)
        )
        return moments.map(lambda d: d.isoformat().replace("+00:00", "Z"))
    tag, sub = kind
    if tag == "optional":
        return st.none() | valid(sub)
    if tag == "dict":
        return st.dictionaries(st.text(max_size=4), valid(sub), max_size=2)
    if tag == "list":
        return st.lists(valid(sub), max_size=3)
    return st.sampled_from(sub)


def mutate(doc: Any, kind: Any, data: st.DataObject) -> Any:
    """``doc`` with at most one field (present or not) set to anything at all."""
    if not data.draw(st.booleans()):
        return doc
    if isinstance(kind, dict):
        name = data.draw(st.sampled_from(list(kind)))
        sub = kind[name]
        if name in doc and data.draw(st.booleans()):
            doc[name] = mutate(doc[name], sub, data)
        else:
            doc[name] = data.draw(values)
    elif isinstance(kind, tuple) and kind[0] in ("dict", "list") and doc:
        keys = list(doc) if isinstance(doc, dict) else list(range(len(doc)))
        key = data.draw(st.sampled_from(keys))
        doc[key] = (
            mutate(doc[key], kind[1], data) if data.draw(st.booleans()) else data.draw(values)
        )
    return doc


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_parse_never_disagrees_with_pydantic(data: st.DataObject) -> None:
    shape, model = data.draw(st.sampled_from(SHAPES))
    doc = mutate(data.draw(valid(shape)), shape, data)
    try:
        light = plain(fast.parse(shape, doc))
    except fast.Unsure:
        return  # the full path answers
    try:
        expected = model.model_validate(doc).model_dump()
    except ValidationError as exc:
        pytest.fail(f"the fast path accepted what the state model rejects: {exc}")
    assert light == expected


# -- whole reports: random state, both paths -----------------------------------------------

KINDS = [None, "server", "timeout", "rate_limit", "auth", "bad_request", "invalid_output"]
event = st.fixed_dictionaries(
    {
        # mostly one provider, so runs of failures open its breaker
        "provider": st.sampled_from(["gemini", "gemini", "gemini", "claude", "openai"]),
        "ok": st.booleans(),
        "kind": st.sampled_from(KINDS),
        "minutes": st.integers(0, 120),
        "latency": st.floats(1, 5000),
        "first_event": st.none() | st.floats(1, 3000),
        "tokens": st.integers(0, 5000),
        "cost": st.none() | st.floats(0, 0.05),
        "retry_after": st.none() | st.floats(0.5, 7200),
        "hedge": st.booleans(),
    }
)
email = st.fixed_dictionaries(
    {
        "strategy": st.sampled_from(["failover", "consensus", "best-match"]),
        "costs": st.lists(
            st.tuples(st.sampled_from(["gemini", "claude", "openai"]), st.none() | st.floats(0, 1)),
            min_size=1,
            max_size=3,
        ),
    }
)


def _fill(store: JsonStateStore, events: list[dict], emails: list[dict]) -> None:
    for i, e in enumerate(events):
        failed = not e["ok"]
        store.record_call(
            CallEvent(
                provider=e["provider"],
                model="m-1",
                ok=e["ok"],
                at=T0 + dt.timedelta(minutes=e["minutes"] - 120),
                latency_ms=None if failed else e["latency"],
                error_kind=(e["kind"] or "server") if failed else None,
                error_message=f"error {i}" if failed else None,
                retry_after_s=e["retry_after"] if failed and e["kind"] == "rate_limit" else None,
                first_event_ms=e["first_event"],
                input_tokens=e["tokens"],
                output_tokens=e["tokens"] // 3,
                cost_usd=e["cost"],
                hedge=e["hedge"],
                counts_against_provider=e["kind"] != "bad_request",
            )
        )
    for i, m in enumerate(emails):
        known = [c for _, c in m["costs"]]
        store.record_email(
            LedgerEntry(
                email_id=f"em_{i}",
                at=T0,
                strategy=m["strategy"],
                providers=[
                    LedgerProviderCost(provider=p, model="m-1", cost_usd=c) for p, c in m["costs"]
                ],
                total_cost_usd=None if None in known else sum(c for c in known if c is not None),
            )
        )
    store.flush()


def _full(now: dt.datetime) -> dict[str, Any]:
    s = Settings()
    store = JsonStateStore(s.state_dir, s.breaker, cost=s.cost, clock=lambda: now)
    checked, _ = checked_orchestration(s, store.get_orchestration())
    fields = report_fields(s, store.snapshot(), checked, now, provider_is_configured)
    return json.loads(StatusReport.model_validate(fields).model_dump_json())


def _failures(n: int, kind: str, cost: float | None = 0.0) -> list[dict]:
    base = {
        "provider": "gemini",
        "ok": False,
        "kind": kind,
        "minutes": 119,
        "latency": 5.0,
        "first_event": None,
        "tokens": 10,
        "cost": cost,
        "retry_after": 30.0,
        "hedge": False,
    }
    return [base] * n


KEYS = {"GEMINI_API_KEY", "ANTHROPIC_API_KEY"}


@example(events=_failures(5, "server"), emails=[], later=1, saved=None, budgets=False, keys=KEYS)
@example(events=_failures(5, "server"), emails=[], later=61, saved=None, budgets=False, keys=KEYS)
@example(events=_failures(1, "rate_limit"), emails=[], later=1, saved=None, budgets=True, keys=KEYS)
@example(
    events=_failures(2, "server", 0.02), emails=[], later=0, saved=None, budgets=True, keys=KEYS
)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    events=st.lists(event, max_size=16),
    emails=st.lists(email, max_size=4),
    later=st.sampled_from([0, 1, 30, 61, 600, 3600, 86_400, 40 * 86_400]),
    saved=st.sampled_from(
        [
            None,
            ("consensus", None),
            ("fastest", None),
            (None, ["claude"]),
            (None, ["nope"]),
            ("best_match", ["openai", "gemini"]),
        ]
    ),
    budgets=st.booleans(),
    keys=st.sets(st.sampled_from(["GEMINI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY"])),
)
def test_both_paths_print_the_same_report(
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    events: list[dict],
    emails: list[dict],
    later: int,
    saved: tuple | None,
    budgets: bool,
    keys: set[str],
) -> None:
    for name in ("GEMINI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY"):
        if name in keys:
            monkeypatch.setenv(name, "k-test-0123456789")
        else:
            monkeypatch.delenv(name, raising=False)
    if budgets:
        monkeypatch.setenv("COLLABIQ_PROVIDERS__GEMINI__BUDGET_DAILY_USD", "0.01")
        monkeypatch.setenv("COLLABIQ_PROVIDERS__CLAUDE__BUDGET_MONTHLY_USD", "0.02")
    else:
        monkeypatch.delenv("COLLABIQ_PROVIDERS__GEMINI__BUDGET_DAILY_USD", raising=False)
        monkeypatch.delenv("COLLABIQ_PROVIDERS__CLAUDE__BUDGET_MONTHLY_USD", raising=False)
    s = Settings()
    state_dir = s.state_dir
    for child in state_dir.glob("*") if state_dir.exists() else []:
        child.unlink() if child.is_file() else None
    store = JsonStateStore(state_dir, s.breaker, cost=s.cost, clock=lambda: T0)
    _fill(store, events, emails)
    if saved is not None:  # written as an edited file would be: possibly invalid values
        path = state_dir / "orchestration.json"
        path.write_text(json.dumps({"schema": 1, "strategy": saved[0], "providers": saved[1]}))
    fast.write_memo(fast.settings_memo(s, state_dir, provider_is_configured))
    now = T0 + dt.timedelta(seconds=later)
    light, _ = fast.report(now)
    assert fast.json_ready(light) == _full(now)


# -- stepping aside ----------------------------------------------------------------------------


def _memo() -> None:
    current_status()  # the full path leaves the memo


def test_the_full_path_leaves_a_memo_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "AIzaSyTHIS-IS-THE-SECRET-0123456789")
    _memo()
    text = fast.memo_path().read_text("utf-8")
    assert "THIS-IS-THE-SECRET" not in text
    fields, _ = fast.report(T0)
    assert fields["providers"]["gemini"]["configured"] is True


@pytest.mark.parametrize(
    "change",
    [
        lambda home: os.environ.__setitem__("COLLABIQ_STRATEGY", "consensus"),
        lambda home: os.environ.__setitem__("OPENAI_API_KEY", "sk-test-new-key-0123456789abcdef"),
        lambda home: (home / "config.toml").write_text('strategy = "best-match"\n'),
        lambda home: (home / ".env").write_text("ANTHROPIC_API_KEY=sk-ant-test-0123456789\n"),
        lambda home: Path(".env").write_text("COLLABIQ_PRIORITY='[\"claude\"]'\n"),
    ],
    ids=["env var", "key set", "config file", "home .env", "cwd .env"],
)
def test_any_change_of_a_settings_input_sends_status_to_the_full_path(
    change: Any, isolated_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    _memo()
    fast.report(T0)  # the memo holds
    monkeypatch.setenv("COLLABIQ_STRATEGY", os.environ.get("COLLABIQ_STRATEGY", "failover"))
    monkeypatch.setenv("OPENAI_API_KEY", os.environ.get("OPENAI_API_KEY", ""))
    change(isolated_home)
    with pytest.raises(fast.Unsure):
        fast.report(T0)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / "health.json").write_text("{not json"),
        lambda d: (d / "health.json").write_text('{"schema": 1, "providers": {"gemini": 5}}'),
        lambda d: (d / "costs.json").write_text('{"schema": 2}'),
        lambda d: (d / "costs.json").write_text('{"schema": 1, "emails": "3"}'),
        lambda d: (d / "pending").mkdir(),
    ],
    ids=["invalid json", "wrong shape", "other schema", "string count", "spooled events"],
)
def test_state_it_cannot_vouch_for_goes_to_the_full_path(damage: Any) -> None:
    _memo()
    state_dir = Settings().state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    damage(state_dir)
    assert fast.run(as_json=True) is None


def test_an_unknown_setting_is_warned_about_on_every_run(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_home / "config.toml").write_text("failure_treshold = 3\n")
    _memo()
    assert not fast.memo_path().exists()  # so the next run takes the full path and warns


def test_check_fails_the_same_way_on_both_paths(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from collabiq_llm.cli.status_cmd import check_report

    monkeypatch.setenv("GEMINI_API_KEY", "AIzaSy-test-key-0123456789012345")
    s = Settings()
    store = JsonStateStore(s.state_dir, s.breaker, cost=s.cost)
    for _ in range(2):  # an auth failure opens the breaker at once: misconfigured
        store.record_call(
            CallEvent(
                provider="gemini",
                model="m",
                ok=False,
                at=dt.datetime.now(dt.UTC),
                error_kind="auth",
                error_message="401 API key not valid",
            )
        )
    store.flush()
    _, _, report = current_status()  # the full path, which also leaves the memo
    capsys.readouterr()
    full = check_report(report)
    full_err = capsys.readouterr().err
    assert full == 3 and "gemini: misconfigured" in full_err
    assert fast.run(as_json=False, check=True) == full
    assert capsys.readouterr().err == full_err


def test_an_edited_memo_is_not_believed() -> None:
    _memo()
    path = fast.memo_path()
    memo = json.loads(path.read_text("utf-8"))
    memo["settings"]["strategy"] = "consensus"
    path.write_text(json.dumps(memo))
    with pytest.raises(fast.Unsure, match="edited"):
        fast.report(T0)
