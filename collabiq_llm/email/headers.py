"""Who wrote an email and to whom: the From / To / Cc headers as (display name, address).

The offline extractor reads roles from them (the sender's company is usually the
startup reporting; a mail sent by the user's own organisation is addressed to the
startup), so they travel with the email even though the providers see only the body.
"""

from __future__ import annotations

import re
from email.parser import BytesHeaderParser
from email.policy import Policy, compat32
from email.policy import default as default_policy
from email.utils import getaddresses

from collabiq_llm.email.cleanup import parse_header_block

_FROM_KEYS = ("from", "보낸 사람", "보낸사람", "발신자", "발신")
_TO_KEYS = ("to", "받는 사람", "받는사람", "수신자", "수신", "cc", "참조")


def format_address(name: str, address: str) -> str:
    """ "Name <addr>" (or whichever part is known)."""
    name, address = name.strip().strip('"').strip(), address.strip()
    if name and address:
        return f"{name} <{address}>"
    return name or address


def split_addresses(value: str) -> list[str]:
    """Every "Name <addr>" in a header value; plain names without an address are kept."""
    out = []
    try:
        pairs = getaddresses([value])
    except Exception:
        return []
    for name, address in pairs:
        if "@" not in address and not name:
            name, address = address, ""  # "김철수" alone parses as an address
        entry = format_address(name, address)
        if entry:
            out.append(entry)
    return out


def _pick(headers: dict[str, str], keys: tuple[str, ...]) -> list[str]:
    return [a for key in keys if headers.get(key) for a in split_addresses(headers[key])]


def correspondents_of_message(raw: bytes) -> tuple[str, tuple[str, ...]]:
    """(sender, recipients) from an RFC 822 message's own headers.

    Best effort: a header the standard library cannot parse (it raises IndexError or
    HeaderParseError on some malformed address lists) is read raw, and when even that
    fails the email simply has no known correspondents; it is never an error.
    """
    try:
        plain = _plain_address_headers(raw)
    except Exception:  # e.g. not UTF-8: the full parser decides
        plain = None
    if plain is not None:
        return _first_and_rest(_pick(plain, _FROM_KEYS), _pick(plain, _TO_KEYS))
    try:
        senders, recipients = _correspondents(raw, default_policy)
    except Exception:
        try:
            senders, recipients = _correspondents(raw, compat32)
        except Exception:
            return "", ()
    return _first_and_rest(senders, recipients)


def _first_and_rest(senders: list[str], recipients: list[str]) -> tuple[str, tuple[str, ...]]:
    return (senders[0] if senders else ""), tuple(recipients)


# One mailbox the full parser would hand back unchanged: a plain name (no comment,
# quoting, encoded word, group, domain literal or dot, which it rewrites) before
# <local@domain>, or a bare local@domain.
_PLAIN_MAILBOX = re.compile(
    r"[^()\"\\;:\[\].<>@,=]*<[^<>@\s(),;:\"\\]+@[^<>@\s(),;:\"\\]+>"
    r"|[^<>@\s(),;:\"\\\[\]]+@[^<>@\s(),;:\"\\\[\]]+"
)


def _plain_address_headers(raw: bytes) -> dict[str, str] | None:
    """From / To / Cc as they stand, when every one is a plain "Name <addr>" list that
    the standard library's full header parser (several times slower: it builds a
    token tree for each) would hand back unchanged; None when any needs that parser.

    ``tests/unit/test_email_headers_fast.py`` checks both give the same correspondents."""
    msg = BytesHeaderParser(policy=compat32).parsebytes(raw)
    headers: dict[str, str] = {}
    for name, value in msg.raw_items():
        key = name.lower()
        if key not in ("from", "to", "cc"):
            continue
        text = value.encode("ascii", "surrogateescape").decode("utf-8")
        text = " ".join(text.split())
        if not all(_PLAIN_MAILBOX.fullmatch(box.strip()) for box in text.split(",")):
            return None
        headers[key] = text
    return headers


def _correspondents(raw: bytes, policy: Policy) -> tuple[list[str], list[str]]:
    """Only From / To / Cc are turned into header objects (the last of each, as a
    mail reader shows it): the default policy parses every header it is asked for,
    and a delivered message carries dozens (Received, DKIM-Signature, ...)."""
    msg = BytesHeaderParser(policy=policy).parsebytes(raw)
    headers = {}
    for name in ("from", "to", "cc"):
        values = msg.get_all(name)
        if values:
            headers[name] = str(values[-1])
    return _pick(headers, _FROM_KEYS), _pick(headers, _TO_KEYS)


def correspondents_of_headers(
    headers: tuple[tuple[str, str], ...],
) -> tuple[str, tuple[str, ...]]:
    """(sender, recipients) from the header lines of a forwarded/quoted message."""
    table = {re.sub(r"\s+", " ", k.lower()): v for k, v in headers}
    return next(iter(_pick(table, _FROM_KEYS)), ""), tuple(_pick(table, _TO_KEYS))


def correspondents_of_plain(text: str) -> tuple[str, tuple[str, ...]]:
    """(sender, recipients) from pasted "From:/보낸사람:/To:" lines at the top of plain text."""
    head = re.sub(r"\r\n?", "\n", text).lstrip("\ufeff\n")
    headers, _rest = parse_header_block(head)
    senders = _pick(headers, _FROM_KEYS)
    return (senders[0] if senders else ""), tuple(_pick(headers, _TO_KEYS))
