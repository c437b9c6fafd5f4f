"""What a provider is given: the cleaned email text plus what we know about it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from collabiq_llm.entities import make_email_id

MAX_EMAIL_CHARS = 10_000


@dataclass(frozen=True)
class EmailInput:
    """An email ready for extraction.

    ``text`` is the body the providers see (subject first line when known, quoted
    replies / signatures / disclaimers already trimmed). ``received_at`` anchors
    relative dates such as 어제 or "yesterday".
    """

    text: str
    received_at: dt.date | None = None
    subject: str | None = None
    email_id: str = field(default="")

    def __post_init__(self) -> None:
        if not self.email_id:
            object.__setattr__(self, "email_id", make_email_id(self.text))
