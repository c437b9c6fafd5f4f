"""Turn what a cron job delivers (plain text or a raw RFC 822 / .eml message) into an EmailInput.

The providers should see the message the sender actually wrote: the body (text/plain
preferred, HTML converted otherwise), quoted history, disclaimers and long
signatures trimmed, and the subject kept on the first line because it often names
both parties ("본봄 x 한빛유통"). The Date header anchors relative words (어제,
yesterday); an explicit ``received_at`` argument wins over it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from collabiq_llm.email.cleanup import (
    CleanBody,
    clean_body,
    header_date,
    header_subject,
    html_to_text,
    is_trivial,
    parse_header_block,
    strip_subject_prefix,
)
from collabiq_llm.email.dates import parse_date_value
from collabiq_llm.email.headers import (
    correspondents_of_headers,
    correspondents_of_message,
    correspondents_of_plain,
)
from collabiq_llm.email.input import MAX_EMAIL_CHARS, EmailInput, require_unicode
from collabiq_llm.entities import make_email_id
from collabiq_llm.errors import InputError

__all__ = ["html_to_text", "looks_like_rfc822", "parse_email"]

_RFC_HEADER = re.compile(r"^[!-9;-~]+:[ \t]*\S?|^[ \t]+\S")
_MESSAGE_HEADERS = {
    "from", "mime-version", "message-id", "received", "content-type",
    "return-path", "delivered-to", "x-mailer", "content-transfer-encoding",
}  # fmt: skip
_PSEUDO_NAMES = re.compile(
    r"^[ \t]*(?:subject|제목|from|보낸\s*사람|to|받는\s*사람|cc|참조|date|sent|날짜|보낸\s*날짜)"
    r"[ \t]*[:：]",
    re.IGNORECASE,
)
_CHARSET_ALIASES = {"euc-kr": "cp949", "ks_c_5601-1987": "cp949", "x-windows-949": "cp949"}
_SUBJECT_LINE = "Subject: {subject}\n\n{body}"


HEADER_SCAN_BYTES = 256 * 1024  # a header block longer than this is not a real message
_TEXT_CONTROLS = frozenset("\t\n\r\f\v\x1b")


def _looks_binary(text: str) -> bool:
    """NUL bytes, or more than a few C0 control characters: not something a person wrote."""
    if "\x00" in text:
        return True
    sample = text[:4000]
    controls = sum(1 for ch in sample if ch < " " and ch not in _TEXT_CONTROLS)
    return controls > max(3, len(sample) * 0.05)


def looks_like_rfc822(text: str) -> bool:
    """Headers at the top (before a blank line) that a real message carries (From:, Date:, ...)."""
    lines = text.lstrip("\ufeff\r\n").replace("\r\n", "\n").split("\n")
    if lines and lines[0].startswith("From "):  # mbox separator line
        lines = lines[1:]
    names: set[str] = set()
    for line in lines:  # any number of header lines (Received: chains run long)
        if not line.strip():
            break
        if not _RFC_HEADER.match(line):
            return False
        if not line[0].isspace():
            names.add(line.split(":", 1)[0].strip().lower())
    else:
        return False
    return bool(names & _MESSAGE_HEADERS)


def _part_text(part: Message) -> str:
    """A text part decoded by its declared charset, tolerating wrong declarations."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload() or "")
    declared = (part.get_content_charset() or "utf-8").lower()
    for charset in (_CHARSET_ALIASES.get(declared, declared), "utf-8", "cp949"):
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")


def _message_body(msg: EmailMessage) -> str:
    """text/plain preferred; HTML converted when it is the only (or the only non-blank) body."""
    bodies: dict[str, str] = {}
    for kind in ("plain", "html"):
        try:
            part = msg.get_body(preferencelist=(kind,))
        except (AttributeError, TypeError, ValueError, LookupError):  # malformed nested parts
            part = None  # trip the stdlib (a message/rfc822 part without headers): walk instead
        if part is not None and part.get_content_type() == f"text/{kind}":
            bodies[kind] = _part_text(part)
    if bodies.get("plain", "").strip():
        return bodies["plain"]
    if bodies.get("html", "").strip():
        return html_to_text(bodies["html"])
    for part in msg.walk():  # e.g. a lone text part marked as an attachment
        if part.get_content_maintype() == "text" and not part.is_multipart():
            text = _part_text(part)
            return html_to_text(text) if part.get_content_subtype() == "html" else text
    return ""


def _header_date(msg: Message) -> dt.date | None:
    raw = msg.get("date")
    if not raw:
        return None
    try:
        return parsedate_to_datetime(str(raw)).date()  # the sender's local date
    except (TypeError, ValueError, IndexError, OverflowError):
        return parse_date_value(str(raw))


def _attached_message(msg: EmailMessage) -> EmailMessage | None:
    for part in msg.walk():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                return inner[0]  # type: ignore[return-value]
    return None


def _from_message(raw: bytes) -> tuple[CleanBody, str | None, dt.date | None]:
    try:
        return _read_message(raw)
    except RecursionError:  # the stdlib parser recurses once per nested MIME part
        raise InputError("message is nested too deeply (MIME parts inside parts) to read") from None


def _read_message(raw: bytes) -> tuple[CleanBody, str | None, dt.date | None]:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    raw_subject = str(msg.get("subject") or "")  # each get() parses the header again
    subject = strip_subject_prefix(raw_subject) or None
    cleaned = clean_body(_message_body(msg), raw_subject)
    date = _header_date(msg)
    attached = _attached_message(msg)
    if attached is not None and is_trivial(cleaned.text):  # Outlook "forward as attachment"
        inner = clean_body(_message_body(attached), str(attached.get("subject") or ""))
        inner_subject = strip_subject_prefix(str(attached.get("subject") or "")) or None
        cleaned = CleanBody(inner.text, _header_date(attached) or inner.date, inner_subject, True)
    return cleaned, subject, date


def _from_plain(text: str) -> tuple[CleanBody, str | None, dt.date | None]:
    """Plain text, optionally starting with pasted "Subject:/제목:/From:/Date:" lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\n")
    first = text.split("\n", 1)[0]
    subject = date = None
    if _PSEUDO_NAMES.match(first):
        headers, rest = parse_header_block(text)
        ends_block = not rest.strip() or rest.startswith("\n")
        named = set(headers) & {"subject", "제목", "from", "보낸 사람", "보낸사람"}
        if ends_block and (named or len(headers) >= 2):
            subject = header_subject(headers)
            date = header_date(headers)
            text = rest
    raw_subject = subject or ""
    return clean_body(text, raw_subject), subject, date


def _id_source(raw: str | bytes) -> str:
    """What the id hashes: the input as delivered, so ids survive changes to the trimming rules."""
    if isinstance(raw, bytes):
        return raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    return raw.removeprefix("\ufeff")


def _decode_bytes(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"input is not valid UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


def parse_email(
    raw: str | bytes,
    *,
    received_at: dt.date | None = None,
    email_id: str | None = None,
) -> EmailInput:
    """Parse plain text or a raw RFC 822 message into the ``EmailInput`` providers receive.

    ``email_id`` defaults to ``make_email_id`` of the input as given (not of the
    trimmed text), so the same delivered email always gets the same id.

    Raises ``InputError`` (one clear line) for empty, binary or non-UTF-8 input and
    for email text over ``MAX_EMAIL_CHARS`` after quotes/signatures were removed.
    """
    if isinstance(raw, bytes):
        raw = raw.removeprefix(b"\xef\xbb\xbf")
        if b"\x00" in raw or _looks_binary(raw[:4000].decode("latin-1")):
            raise InputError("input looks binary (NUL bytes or control characters), not email text")
        head = raw[:HEADER_SCAN_BYTES].decode("utf-8", errors="replace")
        as_bytes: bytes | None = raw if looks_like_rfc822(head) else None
        text = "" if as_bytes is not None else _decode_bytes(raw)
    elif isinstance(raw, str):
        require_unicode(raw)
        text = raw.removeprefix("\ufeff")
        as_bytes = None
    else:
        raise InputError(f"email must be text or bytes, not {type(raw).__name__}")
    if as_bytes is None:
        if not text.strip():
            raise InputError("email text is empty" if not text else "email text is only whitespace")
        if _looks_binary(text):
            raise InputError("input looks binary (NUL bytes or control characters), not email text")
        if looks_like_rfc822(text):
            as_bytes = text.encode("utf-8", errors="surrogateescape")
    if as_bytes is not None:
        cleaned, subject, header_day = _from_message(as_bytes)
        sender, recipients = correspondents_of_message(as_bytes)
    else:
        cleaned, subject, header_day = _from_plain(text)
        sender, recipients = correspondents_of_plain(text)

    quoted_sender, quoted_recipients = "", ()
    if cleaned.from_quoted:  # the forwarded/quoted message is the content: its own date/subject
        header_day = cleaned.date or header_day
        subject = cleaned.subject or subject
        quoted_sender, quoted_recipients = correspondents_of_headers(cleaned.headers)
    body = cleaned.text.strip()
    if not body and not subject:
        raise InputError("email has no text content (no readable text/plain or text/html body)")
    final = _SUBJECT_LINE.format(subject=subject, body=body).strip() if subject else body
    final = unicodedata.normalize("NFC", final)
    if len(final) > MAX_EMAIL_CHARS:
        raise InputError(
            f"email text is {len(final):,} characters; the limit is {MAX_EMAIL_CHARS:,} "
            "(counted after quoted replies, signatures and disclaimers were removed)"
        )
    if isinstance(received_at, dt.datetime):
        received_at = received_at.date()
    return EmailInput(
        text=final,
        received_at=received_at or header_day,
        subject=subject,
        email_id=email_id or make_email_id(_id_source(raw)),
        sender=sender,
        recipients=recipients,
        quoted_sender=quoted_sender,
        quoted_recipients=quoted_recipients,
        quoted_date=cleaned.date if cleaned.from_quoted else None,
    )
