"""Hostile emails: MIME trees, header blocks and dates never crash parsing or extraction.

``parse_email`` either gives an EmailInput or raises InputError (one clear line);
the offline extractor answers every parsed email, whatever its date anchor.
"""

from __future__ import annotations

import base64
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from collabiq_llm.email.input import EmailInput
from collabiq_llm.email.parsing import parse_email
from collabiq_llm.errors import InputError
from collabiq_llm.providers.offline import extract_offline, load_directory_or_empty
from collabiq_llm.settings import default_config_dir
from tests.property.strategies import (
    email_text,
    extreme_dates,
    header_block,
    raw_message,
    rfc_date,
)

DIRECTORY = load_directory_or_empty(default_config_dir() / "companies.toml")


def _parse_or_input_error(raw: bytes | str, **kwargs) -> EmailInput | None:
    try:
        return parse_email(raw, **kwargs)
    except InputError as exc:
        assert "\n" not in str(exc)  # one line
        return None


@settings(max_examples=120)
@given(raw=raw_message(), received=st.one_of(st.none(), extreme_dates))
def test_any_mime_tree_parses_or_is_one_input_error(raw: bytes, received) -> None:
    email = _parse_or_input_error(raw, received_at=received)
    if email is not None:
        entities = extract_offline(email, DIRECTORY)  # answers every parsed email
        assert entities.email_id == email.email_id


@settings(max_examples=30)
@given(headers=header_block(200, 320), text=email_text)
def test_a_long_header_block_is_still_read_as_a_message(headers: str, text: str) -> None:
    """Over 200 header lines: the base64 body is decoded, never read as plain text."""
    marker = "본봄 x 한빛유통 킥오프 미팅"
    body = base64.b64encode(f"{marker} {text}".encode()).decode()
    raw = (
        "From: a@example.com\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        f"Content-Transfer-Encoding: base64\n{headers}\n\n{body}\n"
    )
    email = _parse_or_input_error(raw.encode("utf-8"))
    if email is not None:  # e.g. the drawn text alone is over the limit
        assert marker in email.text and body[:20] not in email.text


@settings(max_examples=80)
@given(text=email_text, received=extreme_dates)
def test_relative_dates_at_the_ends_of_the_calendar(text: str, received: dt.date) -> None:
    """어제 of 0001-01-01 or 내일 of 9999-12-31 has no answer: no date, never a crash."""
    email = _parse_or_input_error(text, received_at=received)
    if email is not None:
        entities = extract_offline(email, DIRECTORY)
        assert entities.date is None or dt.date.min <= entities.date <= dt.date.max


@settings(max_examples=60)
@given(date=rfc_date, text=email_text)
def test_any_date_header(date: str, text: str) -> None:
    for raw in (
        f"From: a@example.com\nDate: {date}\nSubject: s\n\n{text}\n",  # a real message
        f"Date: {date}\nSubject: s\n\n{text}\n",  # pasted header lines
    ):
        email = _parse_or_input_error(raw.encode("utf-8", "surrogatepass"))
        if email is not None:
            extract_offline(email, DIRECTORY)
