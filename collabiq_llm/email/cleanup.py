"""Turn an email body into the part worth extracting from.

What goes: quoted older messages (replies), legal disclaimers, "Sent from my
iPhone" lines and long signature blocks. What stays: the new message, a short
signature (the person in charge is often named only there), and a forwarded
message when the sender's own text is just "FYI" (then it *is* the content).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from collabiq_llm.email.dates import COLLAB_WORDS, parse_date_value

# ---- HTML -> text ------------------------------------------------------------
_SKIP = {"script", "style", "head", "title", "noscript", "template", "svg"}
_BLOCK = {
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section",
    "article", "header", "footer", "ul", "ol", "hr", "pre", "dt", "dd", "address", "center",
    "form", "fieldset", "figure", "figcaption", "main", "nav", "aside", "tbody", "thead",
}  # fmt: skip


class _TextExtractor(HTMLParser):
    """Collects visible text; blocks become line breaks, blockquotes become "> " lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._stack: list[list[str]] = [[]]
        self._skip = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag == "blockquote":
            self._stack.append([])
        elif tag in _BLOCK:
            self._stack[-1].append("\n")
            self._pre += tag == "pre"
        elif tag in ("td", "th"):
            self._stack[-1].append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._stack[-1].append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "blockquote" and len(self._stack) > 1:
            inner = _tidy("".join(self._stack.pop()))
            quoted = "\n".join("> " + line if line else ">" for line in inner.split("\n"))
            self._stack[-1].append("\n" + quoted + "\n")
        elif tag in _BLOCK and tag != "br":
            self._stack[-1].append("\n")
            self._pre -= tag == "pre" and self._pre > 0

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._stack[-1].append(data if self._pre else re.sub(r"\s+", " ", data))

    def text(self) -> str:
        while len(self._stack) > 1:  # unclosed blockquote
            inner = self._stack.pop()
            self._stack[-1].extend(inner)
        return _tidy("".join(self._stack[0]))


def _tidy(text: str) -> str:
    text = text.replace("\xa0", " ").replace("\u200b", "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [
        line.strip() if not line.startswith(">") else line.rstrip() for line in text.split("\n")
    ]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """Visible text of an HTML body: no script/style, one line per block, entities decoded."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError, IndexError):  # the stdlib parser on "<![" and kin
        import html as html_lib

        return html_lib.unescape(re.sub(r"<[^>]*>", " ", html)).strip()
    return parser.text()


# ---- markers -----------------------------------------------------------------
_FORWARD = re.compile(
    r"^[ \t]*-{2,}[ \t]*(?:Forwarded message|Forwarded Message|전달된 메일|전달된 메시지|전달 메일|"
    r"전달한 메일)[ \t]*-{2,}[ \t]*$|^[ \t]*Begin forwarded message:[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_REPLY = re.compile(
    r"^[ \t]*-{2,}[ \t]*(?:Original Message|원본 메시지|원본 메일|원래 메시지)[ \t]*-{2,}[ \t]*$"
    r"|^[ \t]*On\s[^\n]{1,250}(?:\n[^\n]{0,250})?\swrote:[ \t]*$"
    r"|^[ \t]*\d{4}\s*[년./-][^\n]{0,250}(?:\n[^\n]{0,250})?"
    r"(?:님이\s*(?:작성|씀)(?:했습니다)?[ \t]*:?|(?:작성|wrote)[ \t]*:)[ \t]*$"
    r"|^[^\n]{0,250}님이\s*(?:작성|씀)(?:했습니다)?[ \t]*:[ \t]*$",
    re.MULTILINE,
)
_HEADER_KEY = (
    r"(?:From|Sent|Date|To|Cc|Bcc|Subject|Reply-To|보낸\s*사람|보낸\s*날짜|받는\s*사람|"
    r"참조|숨은\s*참조|제목|날짜|발신|발신일|수신|보낸\s*시간)"
)
_HEADER_LINE = re.compile(r"^[ \t]*\*?" + _HEADER_KEY + r"\*?[ \t]*[:：][ \t]*(?P<value>.*)$")
# an Outlook-style header block inside the body starts a quoted/forwarded message
_HEADER_BLOCK = re.compile(
    r"^[ \t]*\*?(?:From|보낸\s*사람|발신)\*?[ \t]*[:：][^\n]*\n(?:[^\n]*\n){0,3}?"
    r"[ \t]*\*?(?:Sent|Date|보낸\s*날짜|날짜|발신일|보낸\s*시간)\*?[ \t]*[:：]",
    re.MULTILINE,
)
_FWD_SUBJECT = re.compile(r"^\s*(?:fwd?|전달)\s*:", re.IGNORECASE)
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|sv|회신|답장|전달)\s*(?:\[\d+\])?\s*:\s*)+", re.I
)

_DISCLAIMER_LEAD = re.compile(
    r"confidentiality notice|disclaimer|this (?:e-?mail|message|communication|transmission)|"
    r"the information (?:contained )?in this|본\s*(?:전자\s*)?(?:메일|우편|이메일)|"
    r"이\s*(?:전자\s*)?(?:메일|우편|이메일)|본\s*메일에|(?:기밀|비밀)\s*유지|법적\s*고지",
    re.IGNORECASE,
)
_DISCLAIMER_WORD = re.compile(
    r"confidential|privileged|intended (?:only )?(?:for|recipient)|unauthori[sz]ed|"
    r"기밀|비밀|법적|무단|수신인|수신자|수신하신|오\s*발송|잘못\s*(?:전달|수신|발송)",
    re.IGNORECASE,
)
_DEVICE_LINE = re.compile(
    r"^[ \t]*(?:Sent from my [^\n]{1,40}|Sent from (?:Outlook|Mail|Gmail|Yahoo)[^\n]{0,40}|"
    r"Get Outlook for [^\n]{1,30}|[^\n]{0,30}(?:iPhone|iPad|Galaxy|갤럭시|스마트폰|휴대폰|모바일|"
    r"Android)[^\n]{0,20}에서\s*(?:보냄|보냈습니다|발송)[^\n]{0,5})[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_SIGNOFF = re.compile(
    r"^[ \t]*(?:감사합니다|고맙습니다|감사드립니다|수고하세요|Best regards|Kind regards|"
    r"Warm regards|Regards|Best|Thanks|Thank you|Many thanks|Sincerely|Cheers|BR)"
    r"[ \t]*[.,!~]*[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_GREETING = re.compile(
    r"^[ \t]*(?:안녕하세요|안녕하십니까|Hi|Hello|Dear|Hey|FYI|fyi|참고|공유|전달)[^\n]{0,40}$",
    re.MULTILINE | re.IGNORECASE,
)
SIGNATURE_KEEP_LINES = 6


@dataclass(frozen=True)
class CleanBody:
    """A cleaned body plus what a forwarded/quoted message said about itself."""

    text: str
    date: dt.date | None = None
    subject: str | None = None
    from_quoted: bool = False
    # the header lines ("from", "to", "cc", ...) of the forwarded/quoted message that is the
    # content (``from_quoted``): who wrote it to whom; the offline extractor reads roles from it
    headers: tuple[tuple[str, str], ...] = ()


def strip_subject_prefix(subject: str) -> str:
    """ "RE: FW: 본봄 x 한빛유통" -> "본봄 x 한빛유통"."""
    return re.sub(r"\s+", " ", _SUBJECT_PREFIX.sub("", subject)).strip()


def parse_header_block(text: str) -> tuple[dict[str, str], str]:
    """Leading "Key: value" lines of a quoted/forwarded message -> (headers, rest)."""
    lines = text.split("\n")
    headers: dict[str, str] = {}
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    while i < len(lines):
        m = _HEADER_LINE.match(lines[i])
        if not m:
            break
        key = lines[i].split(":", 1)[0].split("：", 1)[0].strip(" *\t").lower()
        key = re.sub(r"\s+", " ", key)
        headers.setdefault(key, m.group("value").strip())
        i += 1
    return headers, "\n".join(lines[i:])


def header_date(headers: dict[str, str]) -> dt.date | None:
    for key in ("date", "sent", "보낸 날짜", "날짜", "발신일", "보낸 시간"):
        if headers.get(key):
            found = parse_date_value(headers[key])
            if found is not None:
                return found
    return None


def header_subject(headers: dict[str, str]) -> str | None:
    value = headers.get("subject") or headers.get("제목")
    return strip_subject_prefix(value) if value else None


def _remove_disclaimers(text: str) -> str:
    """Drop legal-notice paragraphs (or a paragraph's tail from the notice's first line).

    A notice must start a line with a lead phrase ("CONFIDENTIALITY NOTICE", "This
    e-mail", "본 메일은") *and* use legal vocabulary; the email's first paragraph is
    never treated as one, so "이 메일로 ... 공유드립니다" stays.
    """
    out: list[str] = []
    for index, paragraph in enumerate(re.split(r"\n[ \t]*\n", text)):
        lines = paragraph.split("\n")
        cut = None
        for j, line in enumerate(lines):
            lead = _DISCLAIMER_LEAD.match(line.strip().lstrip("*[(-=_ \t"))
            if (index or j) and lead and _DISCLAIMER_WORD.search("\n".join(lines[j:])):
                cut = j
                break
        kept = lines if cut is None else lines[:cut]
        if any(ln.strip() for ln in kept):
            out.append("\n".join(kept))
    return "\n\n".join(out)


def _trim_signature(text: str) -> str:
    """Keep at most a few short lines after a "-- " delimiter or a final sign-off line."""
    lines = text.split("\n")
    cut = None
    for i, line in enumerate(lines):
        if line.rstrip() in ("--", "-- ", "—"):
            cut = i
    if cut is not None:
        tail = [ln for ln in lines[cut + 1 :] if ln.strip()][:SIGNATURE_KEEP_LINES]
        return "\n".join(lines[:cut] + tail)
    signoffs = [i for i, line in enumerate(lines) if _SIGNOFF.match(line)]
    if signoffs:
        i = signoffs[-1]
        tail = [ln for ln in lines[i + 1 :] if ln.strip()]
        if len(tail) > SIGNATURE_KEEP_LINES and all(len(ln) <= 100 for ln in tail):
            return "\n".join(lines[: i + 1] + tail[:SIGNATURE_KEEP_LINES])
    return text


def is_trivial(text: str) -> bool:
    """The sender wrote nothing of substance ("FYI", "아래 메일 참고 부탁드립니다")."""
    body = _GREETING.sub("", _SIGNOFF.sub("", text))
    body = "\n".join(ln for ln in body.split("\n") if not ln.lstrip().startswith(">"))
    size = len(re.sub(r"\s+", "", body))
    return size < 25 or (size < 150 and not COLLAB_WORDS.search(body))


def _unquote(text: str) -> str:
    return "\n".join(re.sub(r"^[ \t]*(?:>[ \t]?)+", "", line) for line in text.split("\n"))


def _finish(text: str) -> str:
    text = _DEVICE_LINE.sub("", text)
    text = _remove_disclaimers(_tidy(text))
    text = _trim_signature(text)
    return re.sub(r"(?:\n[ \t]*[_\-=*]{5,}[ \t]*)+$", "", _tidy(text)).strip()


def clean_body(body: str, subject: str | None = None, _depth: int = 0) -> CleanBody:
    """Trim quotes, disclaimers and signatures; follow a forward when the top is trivial."""
    body = _tidy(body)
    markers = [m for m in (_FORWARD.search(body), _REPLY.search(body)) if m]
    block = _HEADER_BLOCK.search(body)
    if block and block.start() > 0:
        markers.append(block)
    if not markers:
        top = "\n".join(ln for ln in body.split("\n") if not ln.lstrip().startswith(">"))
        if not top.strip() and body.strip():  # the whole body is a quote
            return CleanBody(_finish(_unquote(body)), from_quoted=True)
        return CleanBody(_finish(top))
    first = min(markers, key=lambda m: m.start())
    forward = first.re is _FORWARD or bool(subject and _FWD_SUBJECT.match(subject))
    top = "\n".join(
        ln for ln in body[: first.start()].split("\n") if not ln.lstrip().startswith(">")
    )
    lower = _unquote(body[first.end() if first.re is not _HEADER_BLOCK else first.start() :])
    headers, rest = parse_header_block(lower)
    inner = (
        clean_body(rest, headers.get("subject"), _depth + 1)
        if _depth < 5
        else CleanBody(_finish(rest))
    )
    marker_date = parse_date_value(first.group(0)) if first.re is _REPLY else None
    inner_date = header_date(headers) or marker_date or inner.date
    inner_subject = header_subject(headers) or inner.subject
    if is_trivial(top) and inner.text.strip():
        return CleanBody(
            inner.text,
            inner_date,
            inner_subject,
            from_quoted=True,
            headers=(inner.headers if inner.from_quoted else ()) or tuple(headers.items()),
        )
    if forward and inner.text.strip():
        marker = "---------- Forwarded message ----------"
        head = f"Subject: {inner_subject}\n" if inner_subject else ""
        return CleanBody(_finish(top) + f"\n\n{marker}\n{head}\n{inner.text}")
    return CleanBody(_finish(top))
