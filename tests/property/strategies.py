"""Generators of hostile input: JSONL lines, MIME trees, header blocks, dates, state files."""

from __future__ import annotations

import base64
import datetime as dt
import json
import quopri

from hypothesis import strategies as st

EMAIL_WORDS = (
    "본봄", "한빛유통", "신세계인터내셔널", "파일럿", "킥오프", "미팅", "담당자: 김민수", "어제",
    "내일", "지난주 화요일", "다음주 월요일", "3일 전", "2주 후", "yesterday", "next week",
    "last Friday", "PoC", "MOU", "11월 1일", "2025-11-03", "12/31", "Date: Nov 5", "\n",
    "> quoted", "-- \n", "Subject: hi\n", "제목: 협업\n", "Regards,\nKim",
)  # fmt: skip

# texts that read like an email: words the extractors react to, glued by arbitrary text
email_text = st.lists(
    st.one_of(st.sampled_from(EMAIL_WORDS), st.text(max_size=20)), min_size=1, max_size=25
).map(" ".join)

extreme_dates = st.one_of(
    st.dates(),
    st.sampled_from([dt.date.min, dt.date.max, dt.date(1, 1, 2), dt.date(9999, 12, 30)]),
)

rfc_date = st.one_of(
    st.builds(
        lambda d, h, tz: f"{d.strftime('%a, %d %b')} {d.year} {h:02d}:00:00 {tz}",
        extreme_dates,
        st.integers(0, 23),
        st.sampled_from(["+0000", "-1200", "+1400", "+0900", "GMT", "-9999", "+2400"]),
    ),
    st.sampled_from(["", "garbage", "31 Dec 99999 23:59", "Mon, 1 Jan 0 00:00 +0000"]),
    st.text(max_size=40),
)

iso_dateish = st.one_of(
    extreme_dates.map(lambda d: d.isoformat()),
    st.sampled_from(["0000-01-01", "9999-12-31T23:59:59+14:00", "2025-02-30", "Z", "", " "]),
    st.text(max_size=15),
    st.integers(),
    st.none(),
)

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _lone_surrogate_line(text: str, where: str, code: int) -> str:
    surrogate = f"\\u{code:04x}"
    body = json.dumps(text)[1:-1]
    if where == "text":
        return '{"text": "' + body + surrogate + '"}'
    return '{"text": "' + body + '", "email_id": "id' + surrogate + '"}'


def _nested(kind: str, depth: int) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return '{"text": ' + "[" * depth + "]" * depth + "}"


header_name = st.one_of(
    st.sampled_from(["From", "To", "Subject", "Date", "Received", "X-Mailer", "Content-Type",
                     "MIME-Version", "Message-ID", "Cc", "Reply-To", "X-Spam"]),
    st.from_regex(r"[!-9;-~]{1,20}", fullmatch=True),
)  # fmt: skip
header_value = st.one_of(
    st.text(max_size=60),
    rfc_date,
    st.sampled_from(
        ["=?utf-8?b?67O467SE?=", "=?euc-kr?q?=C7=D1?=", "=?bogus?x?zz?=", "=?utf-8?b?"]
    ),
).map(lambda v: v.replace("\n", " ").replace("\r", " "))  # one physical line each


def header_block(min_lines: int = 0, max_lines: int = 300) -> st.SearchStrategy[str]:
    line = st.builds(lambda n, v: f"{n}: {v}", header_name, header_value)
    return st.lists(line, min_size=min_lines, max_size=max_lines).map("\n".join)


CHARSETS = ["utf-8", "euc-kr", "ks_c_5601-1987", "iso-8859-1", "bogus-charset", "utf-16", ""]
CTES = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "bogus"]


def _encode(text: str, charset: str, cte: str) -> str:
    try:
        raw = text.encode(charset or "utf-8")
    except (LookupError, UnicodeEncodeError):
        raw = text.encode("utf-8")
    if cte == "base64":
        return base64.b64encode(raw).decode("ascii")
    if cte == "quoted-printable":
        return quopri.encodestring(raw).decode("ascii")
    return raw.decode("utf-8", errors="replace")


@st.composite
def mime_tree(draw: st.DrawFn, depth: int = 0) -> str:
    """A MIME entity (headers + body) as text: leaves, multiparts, attached messages."""
    kinds = ["leaf", "html"] + (["multipart", "multipart", "message"] if depth < 4 else [])
    kind = draw(st.sampled_from(kinds))
    extra = draw(header_block(0, 3))
    extra = (extra + "\n") if extra else ""
    if kind in ("leaf", "html"):
        charset, cte = draw(st.sampled_from(CHARSETS)), draw(st.sampled_from(CTES))
        sub = "plain" if kind == "leaf" else "html"
        body = draw(email_text)
        if kind == "html":
            body = f"<html><body><p>{body}</p><script>x</script></body></html>"
        params = f"; charset={charset}" if charset else ""
        return (
            f"Content-Type: text/{sub}{params}\nContent-Transfer-Encoding: {cte}\n{extra}\n"
            + _encode(body, charset, cte)
        )
    if kind == "message":
        inner = draw(mime_tree(depth + 1))
        return f"Content-Type: message/rfc822\n{extra}\nSubject: inner\nFrom: x@y\n{inner}"
    boundary = draw(st.sampled_from(["b1", "b2", "==x==", "", '"q uoted"']))
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", "bogus"]))
    parts = draw(st.lists(mime_tree(depth + 1), min_size=0, max_size=3))
    b = boundary.strip('"')
    closing = draw(st.booleans())
    body = "".join(f"--{b}\n{p}\n" for p in parts) + (f"--{b}--\n" if closing else "")
    return f"Content-Type: multipart/{subtype}; boundary={boundary}\n{extra}\n{body}"


@st.composite
def raw_message(draw: st.DrawFn) -> bytes:
    """A whole RFC 822 message: top headers (any number of them), a MIME tree."""
    top = [f"From: {draw(header_value)}", "MIME-Version: 1.0"]
    if draw(st.booleans()):
        top.append(f"Date: {draw(rfc_date)}")
    if draw(st.booleans()):
        top.append(f"Subject: {draw(header_value)}")
    many = draw(header_block(0, 250))
    tree = draw(mime_tree())
    text = "\n".join(top) + ("\n" + many if many else "") + "\n" + tree
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text.encode("utf-8", errors="surrogatepass")


def _deep_mime(depth: int) -> str:
    msg = "Content-Type: text/plain\n\nhi"
    for d in range(depth):
        msg = f"Content-Type: multipart/mixed; boundary=b{d}\n\n--b{d}\n{msg}\n--b{d}--\n"
    return "From: a@example.com\nMIME-Version: 1.0\n" + msg


def _obj(text: object, email_id: object, received: object, extra: dict) -> str:
    obj: dict[str, object] = {"text": text, **extra}
    if email_id is not None:
        obj["email_id"] = email_id
    if received is not None:
        obj["received_at"] = received
    return json.dumps(obj, ensure_ascii=False, allow_nan=True)


jsonl_line = st.one_of(
    # well-formed emails with odd companions
    st.builds(_obj, email_text, st.one_of(st.none(), st.text(max_size=30)), iso_dateish,
              st.dictionaries(st.text(max_size=6), json_value, max_size=2)),
    # a wrong type anywhere
    st.builds(_obj, json_value, st.one_of(st.none(), json_value), st.one_of(st.none(), json_value),
              st.just({})),
    # lone surrogates in text or id
    st.builds(_lone_surrogate_line, email_text, st.sampled_from(["text", "id"]),
              st.integers(0xD800, 0xDFFF)),
    # nesting beyond any recursion limit
    st.builds(_nested, st.sampled_from(["array", "object", "text"]), st.integers(1_100, 3_000)),
    st.integers(200, 1_600).map(lambda d: json.dumps({"text": _deep_mime(d)})),
    # whole messages inside the text
    raw_message().map(lambda b: json.dumps({"text": b.decode("utf-8", "replace")})),
    # not JSON objects at all
    st.sampled_from(["[]", "1", "null", '"text"', "{}", '{"text": 1e999}', "\ufeff{}",
                     '{"text": "a", "text": 2}', "NaN", '{"text":"x"', "\x00", "\x1b[2J"]),
    json_value.map(lambda v: json.dumps(v, allow_nan=True)),
    st.text(max_size=80),
).map(lambda line: line.replace("\n", " ").replace("\r", " "))  # fmt: skip

jsonl_raw_line = st.one_of(
    jsonl_line.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=80).map(lambda b: b.replace(b"\n", b" ")),
)
