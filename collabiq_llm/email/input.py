"""What a provider is given: the cleaned email text plus what we know about it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from collabiq_llm.entities import make_email_id

MAX_EMAIL_CHARS = 10_000


def as_date(value: object) -> dt.date | None:
    """A received date from a date, a datetime or an ISO string; anything else is an error.

    Checked here, before any provider is called: a caller's mistake must never look
    like a provider failure (it would open every circuit breaker).
    """
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value  # type: ignore[return-value]
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
        except ValueError:
            raise ValueError(f"received_at {value!r} is not an ISO date (YYYY-MM-DD)") from None
    raise TypeError(f"received_at must be a date or an ISO date string, not {type(value).__name__}")


def require_unicode(text: str, what: str = "email text") -> None:
    """Refuse unpaired surrogates (``"\\ud800"`` in JSON): not text, and not encodable as
    UTF-8, so they would fail only later, when the result or dead letter is written."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        from collabiq_llm.errors import InputError

        raise InputError(
            f"{what} holds an unpaired surrogate (U+{ord(text[exc.start]):04X} at character "
            f"{exc.start}): not valid Unicode"
        ) from None


@dataclass(frozen=True)
class EmailInput:
    """An email ready for extraction.

    ``text`` is the body the providers see (subject first line when known, quoted
    replies / signatures / disclaimers already trimmed). ``received_at`` anchors
    relative dates such as 어제 or "yesterday". ``sender`` / ``recipients`` are the
    From and To/Cc headers ("Name <addr>") when known: the offline extractor reads
    roles from them; the providers see only ``text``.
    """

    text: str
    received_at: dt.date | None = None
    subject: str | None = None
    email_id: str = field(default="")
    sender: str = ""
    recipients: tuple[str, ...] = ()
    # when the text is a forwarded or quoted message (the wrapper said nothing): that
    # message's own From / To+Cc and date, which its relative words (어제, next Monday) use
    quoted_sender: str = ""
    quoted_recipients: tuple[str, ...] = ()
    quoted_date: dt.date | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError(f"EmailInput.text must be str, not {type(self.text).__name__}")
        object.__setattr__(self, "received_at", as_date(self.received_at))
        if not self.email_id:
            object.__setattr__(self, "email_id", make_email_id(self.text))
