"""The quick reading of plain From / To / Cc headers gives exactly what the standard
library's full header parser gives, for any header it accepts (property test)."""

from __future__ import annotations

from email.policy import default

from hypothesis import given, settings
from hypothesis import strategies as st

from collabiq_llm.email import headers as h

words = st.sampled_from(
    [
        "김철수",
        "Jane",
        "Doe",
        "O'Neil",
        "J.",
        "(Google Calendar)",
        '"Kim, Ha"',
        "=?UTF-8?B?6rmA?=",
        "Müller",
        "팀",
        "st.",
        "a;b",
        "x:y",
        "[ops]",
        "\\",
        "Ann-Marie",
        "",
    ]
)
addresses = st.sampled_from(
    ["jane@x.example", "k.cs@startup.example", "a@b", "bad@", "@nodomain", "no-at-all"]
)
mailbox = st.tuples(st.lists(words, max_size=3), addresses, st.booleans()).map(
    lambda t: (" ".join(t[0]) + f" <{t[1]}>") if t[2] else t[1]
)
header = st.lists(mailbox, min_size=1, max_size=3).map(", ".join)


def full_parser(raw: bytes) -> tuple[str, tuple[str, ...]]:
    senders, recipients = h._correspondents(raw, default)
    return h._first_and_rest(senders, recipients)


@settings(max_examples=300, deadline=None)
@given(
    sender=header,
    to=header,
    cc=st.none() | header,
    fold=st.booleans(),
)
def test_plain_headers_read_as_the_full_parser_reads_them(
    sender: str, to: str, cc: str | None, fold: bool
) -> None:
    lines = [f"From: {sender}", f"To: {to}".replace(", ", ",\n " if fold else ", ")]
    if cc is not None:
        lines.append(f"Cc: {cc}")
    raw = ("\n".join([*lines, "Subject: hi", "", "body"]) + "\n").encode("utf-8")
    try:
        expected = full_parser(raw)
    except Exception:  # the full parser itself fails on it: the best-effort path decides
        return
    assert h.correspondents_of_message(raw) == expected


def test_most_real_headers_take_the_quick_reading() -> None:
    raw = "From: 김철수 <cs@startup.example>\nTo: Jane Doe <jane@x.example>\n\nhi\n".encode()
    assert h._plain_address_headers(raw) == {
        "from": "김철수 <cs@startup.example>",
        "to": "Jane Doe <jane@x.example>",
    }
    quoted = b'From: "Kim, Ha" <ha@x.example>\n\nhi\n'
    assert h._plain_address_headers(quoted) is None  # quoting: the full parser reads it
