"""``collabiq llm dead-letters``: list, show, replay and drop kept emails.

A letter is addressed by its id (the file name, shown by ``list``), its email_id,
or a unique id prefix. Replay uses the *current* strategy (``set-strategy`` /
config), or ``--strategy``; a replay answered only in a degraded way (the offline
last resort, or consensus with one answer) keeps the letter unless
``--accept-degraded``: the real extraction has not happened yet.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from collabiq_llm.cli.output import ExitCode, err_console_print, print_json, stdout_console
from collabiq_llm.errors import AllProvidersFailed, InputError


def _box(home: Path | None = None):
    from collabiq_llm.dead_letters import DeadLetterBox
    from collabiq_llm.settings import resolve_home

    return DeadLetterBox((home or resolve_home()) / "dead_letters")


def _listed(letter_id: str, letter) -> dict:
    data = json.loads(letter.model_dump_json(exclude={"text"}))
    return {"id": letter_id, **data, "chars": len(letter.text)}


def _errors_line(letter) -> str:
    return "; ".join(f"{k}: {v.removeprefix(k + ': ')}" for k, v in letter.errors.items())


def _report_unreadable(unreadable) -> None:
    """A letter file that cannot be read still holds an email: never skip it silently."""
    for bad in unreadable:
        err_console_print(
            f"warning: {bad.path}: {bad.reason}; left in place (fix or remove it by hand)"
        )


def run_dead_letters_list(*, as_json: bool) -> int:
    pairs, unreadable = _box().scan_entries()
    _report_unreadable(unreadable)
    if as_json:
        print_json([_listed(i, x) for i, x in pairs])
        return int(ExitCode.OK)
    if not pairs:
        print("no dead letters")
        return int(ExitCode.OK)
    console = stdout_console()
    console.print(letters_table(pairs, console.width))
    console.print(
        "show one: collabiq llm dead-letters show ID    replay: collabiq llm dead-letters replay",
        soft_wrap=True,
    )
    return int(ExitCode.OK)


def letters_table(pairs, width: int):
    """Id, failure time and errors always (errors cut last); tries, source, strategy if room."""
    from rich.markup import escape
    from rich.text import Text

    from collabiq_llm.cli.tables import Column, fitted_table

    columns = [
        Column("id", [escape(i) for i, _ in pairs]),
        Column("failed at (UTC)", [x.failed_at.strftime("%Y-%m-%d %H:%M") for _, x in pairs]),
        Column("tries", [str(x.attempts) for _, x in pairs], rank=1, justify="right"),
        Column("strategy", [escape(x.strategy or "-") for _, x in pairs], rank=3),
        Column("source", [escape(x.source or "-") for _, x in pairs], rank=2),
        Column(
            "errors",
            [Text(_errors_line(x), no_wrap=True, overflow="ellipsis") for _, x in pairs],
            flexible=True,
            min_width=20,
        ),
    ]
    return fitted_table(f"{len(pairs)} dead letter(s)", columns, width)


def _one(box, ref: str):
    found = box.find(ref)
    if not found:
        raise InputError(f"no dead letter {ref!r} (see: collabiq llm dead-letters list)")
    if len(found) > 1:
        ids = ", ".join(i for i, _ in found[:5])
        raise InputError(f"{ref!r} matches {len(found)} dead letters ({ids}); give a full id")
    return found[0]


def run_dead_letters_show(ref: str, *, as_json: bool) -> int:
    letter_id, letter = _one(_box(), ref)
    if as_json:
        print_json({"id": letter_id, **json.loads(letter.model_dump_json())})
        return int(ExitCode.OK)
    from rich.markup import escape

    console = stdout_console()
    fields = {
        "id": letter_id,
        "email_id": letter.email_id,
        "failed at": f"{letter.failed_at:%Y-%m-%d %H:%M:%S} UTC",
        "tries": str(letter.attempts),
        "strategy": letter.strategy or "-",
        "received": str(letter.received_at or "-"),
        "source": letter.source or "-",
    }
    for key, value in fields.items():
        console.print(f"{key + ':':<11}{escape(value)}", soft_wrap=True)
    console.print("errors:")
    for name, error in letter.errors.items():
        console.print(f"  {escape(name)}: {escape(error.removeprefix(name + ': '))}")
    console.print(f"text ({len(letter.text)} characters):")
    console.print(escape(letter.text), soft_wrap=True, markup=False)
    return int(ExitCode.OK)


def run_dead_letters_drop(refs: list[str], *, as_json: bool) -> int:
    if not refs:
        raise InputError("name at least one dead letter ID to drop (see: dead-letters list)")
    box = _box()
    targets = [_one(box, ref) for ref in refs]  # every id checked before anything is deleted
    dropped = [i for i, _ in dict(targets).items() if box.drop(i)]
    if as_json:
        print_json({"dropped": dropped})
    else:
        for letter_id in dropped:
            print(f"dropped {letter_id}")
    return int(ExitCode.OK)


def _degraded_reasons(result) -> dict[str, str]:
    """Why an answer is degraded, per provider, from its attempts."""
    reasons = {
        a.provider: f"{a.error_kind or a.outcome}: {a.error or 'no answer'}"
        for a in result.meta.attempts
        if a.outcome != "success"
    }
    if not reasons:
        reasons[result.meta.provider or "consensus"] = "only one provider answered"
    return reasons


def run_dead_letters_replay(
    refs: list[str],
    *,
    strategy: str | None,
    output: Path | None,
    accept_degraded: bool = False,
    as_json: bool = False,
) -> int:
    import asyncio

    from collabiq_llm.email.input import EmailInput
    from collabiq_llm.entities import utc_now
    from collabiq_llm.orchestration.orchestrator import Orchestrator

    orch = Orchestrator()
    try:
        strategy_name = orch.active_strategy(strategy)  # the current one, as documented
    except ValueError as exc:
        raise InputError(str(exc)) from None
    box = _box(orch.settings.home)
    unreadable = []
    if refs:
        pairs = [_one(box, ref) for ref in refs]
    else:
        pairs, unreadable = box.scan_entries()
        _report_unreadable(unreadable)
    pairs = list(dict(pairs).items())  # the same letter named twice is replayed once
    try:
        out = None if output is None else output.open("a", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from None
    replayed: list[dict] = []
    kept: list[dict] = []
    results: list[dict] = []
    elsewhere: list[str] = []  # claimed by a concurrent replay (or already done by it)

    def keep(letter_id: str, letter, errors: dict[str, str], why: str) -> None:
        box.put(letter.model_copy(update={"errors": errors, "failed_at": utc_now()}))
        kept.append({"id": letter_id, "email_id": letter.email_id, "reason": why})
        err_console_print(f"kept {letter_id}: {why}")

    async def _replay_one(letter_id: str, letter) -> None:
        email = EmailInput(
            text=letter.text, received_at=letter.received_at, email_id=letter.email_id
        )
        try:
            result = await orch.aextract(email, strategy_name)
        except AllProvidersFailed as exc:
            errors = {k: str(v) for k, v in exc.failures.items()}
            keep(letter_id, letter, errors, f"still failing: {exc}")
            return
        if result.meta.degraded and not accept_degraded:
            reasons = _degraded_reasons(result)
            summary = "; ".join(f"{k} {v}" for k, v in reasons.items())
            keep(
                letter_id,
                letter,
                reasons,
                f"answer would be degraded ({summary}); --accept-degraded takes it",
            )
            return
        record = json.loads(result.model_dump_json())
        if out is not None:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
        elif as_json:
            results.append(record)
        else:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        box.drop(letter_id)  # only after the result was written
        replayed.append({"id": letter_id, "email_id": letter.email_id})

    async def _replay() -> None:
        try:
            for letter_id, listed in pairs:
                with box.claim(listed) as letter:  # a concurrent replay never takes it too
                    if letter is None:
                        elsewhere.append(letter_id)
                        continue
                    await _replay_one(letter_id, letter)
        finally:
            await orch.aclose()

    try:
        asyncio.run(_replay())
    finally:
        if out is not None:
            out.close()
    if as_json:
        summary = {
            "strategy": strategy_name,
            "replayed": replayed,
            "kept": kept,
            "taken_by_another_replay": elsewhere,
            "unreadable": [str(bad.path) for bad in unreadable],
        }
        print_json(summary if output is not None else {**summary, "results": results})
    taken = f"; {len(elsewhere)} taken by another replay" if elsewhere else ""
    broken = f"; {len(unreadable)} unreadable" if unreadable else ""
    err_console_print(
        f"replayed {len(replayed)} of {len(pairs)} with {strategy_name}; "
        f"{len(kept)} still kept{taken}{broken}"
    )
    return int(ExitCode.NOT_EXTRACTED) if kept or unreadable else int(ExitCode.OK)
