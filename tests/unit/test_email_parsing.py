"""parse_email: raw text / RFC 822 in, the text providers see (and its date) out."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest

from collabiq_llm.email.cleanup import html_to_text
from collabiq_llm.email.input import MAX_EMAIL_CHARS
from collabiq_llm.email.parsing import looks_like_rfc822, parse_email
from collabiq_llm.entities import make_email_id
from collabiq_llm.errors import InputError

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def _message(body: str, *, subtype: str = "plain", cte: str | None = None, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = headers.get("sender", "김철수 <cheolsu@bonbom.example>")
    msg["To"] = "invest@vc.example"
    msg["Subject"] = headers.get("subject", "본봄 x 한빛유통 미팅")
    msg["Date"] = headers.get("date", "Sun, 02 Nov 2025 15:00:00 +0900")
    msg.set_content(body, subtype=subtype, cte=cte) if cte else msg.set_content(
        body, subtype=subtype
    )
    return msg.as_bytes()


# ---- MIME ------------------------------------------------------------------------
def test_html_only_base64_korean_body() -> None:
    html = (
        "<html><head><style>p {color: red}</style><script>track()</script></head><body>"
        "<p>안녕하세요.</p><p><b>본봄</b>과 한빛유통의 파일럿 미팅을 진행했습니다 &amp; "
        "공유드립니다.</p>"
        "<div>담당자: 김철수<br>010-0000-0000</div></body></html>"
    )
    raw = _message(html, subtype="html", cte="base64")
    assert b"base64" in raw and "파일럿".encode() not in raw  # really encoded
    email = parse_email(raw)
    assert email.received_at == dt.date(2025, 11, 2)
    assert email.subject == "본봄 x 한빛유통 미팅"
    assert "본봄과 한빛유통의 파일럿 미팅을 진행했습니다 & 공유드립니다." in email.text
    assert "담당자: 김철수\n010-0000-0000" in email.text
    assert "track()" not in email.text and "color" not in email.text


def test_quoted_printable_plain_preferred_over_html() -> None:
    msg = EmailMessage()
    msg["From"] = "a@b.example"
    msg["Subject"] = "Pilot"
    msg["Date"] = "Wed, 12 Nov 2025 09:30:00 +0000"
    msg.set_content("Plain body: 파일럿 킥오프 완료.", cte="quoted-printable")
    msg.add_alternative("<p>HTML body</p>", subtype="html")
    email = parse_email(msg.as_bytes())
    assert "Plain body: 파일럿 킥오프 완료." in email.text
    assert "HTML body" not in email.text


def test_declared_legacy_korean_charset() -> None:
    raw = (
        b"From: a@b.example\nDate: Mon, 10 Nov 2025 10:00:00 +0900\nSubject: test\n"
        b"MIME-Version: 1.0\nContent-Type: text/plain; charset=ks_c_5601-1987\n"
        b"Content-Transfer-Encoding: 8bit\n\n"
    ) + "테이블매니저와 한울은행 미팅을 진행했습니다.".encode("cp949")
    email = parse_email(raw)
    assert "테이블매니저와 한울은행 미팅을 진행했습니다." in email.text


def test_date_header_gives_senders_local_date_and_argument_wins() -> None:
    raw = _message("어제 미팅했습니다.", date="Sun, 02 Nov 2025 00:30:00 +0900")
    assert parse_email(raw).received_at == dt.date(2025, 11, 2)  # not the UTC date (Nov 1)
    explicit = parse_email(raw, received_at=dt.date(2025, 12, 24))
    assert explicit.received_at == dt.date(2025, 12, 24)


def test_subject_kept_on_first_line_and_prefixes_dropped() -> None:
    email = parse_email(
        _message("본문입니다. 미팅 진행했습니다.", subject="RE: Fwd: 본봄 x 한빛유통")
    )
    assert email.subject == "본봄 x 한빛유통"
    assert email.text.startswith("Subject: 본봄 x 한빛유통\n\n본문입니다.")


def test_sample_files_parse() -> None:
    kickoff = parse_email((SAMPLES / "ko_pilot_kickoff.eml").read_bytes())
    assert kickoff.received_at == dt.date(2025, 11, 2)
    assert "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다." in kickoff.text
    assert "담당자: 김철수" in kickoff.text
    assert "기밀" not in kickoff.text  # the disclaimer is gone
    for sample in SAMPLES.iterdir():
        if sample.suffix in (".eml", ".txt"):
            assert parse_email(sample.read_bytes()).text.startswith("Subject: ")


# ---- plain text ----------------------------------------------------------------
def test_plain_text_with_pasted_korean_headers() -> None:
    text = (
        "제목: 본봄 x 한빛유통\n보낸 사람: 김철수\n날짜: 2025년 11월 2일 (일) 오후 3:00\n\n"
        "어제 미팅했습니다."
    )
    email = parse_email(text)
    assert email.subject == "본봄 x 한빛유통"
    assert email.received_at == dt.date(2025, 11, 2)
    assert email.text == "Subject: 본봄 x 한빛유통\n\n어제 미팅했습니다."


def test_plain_text_is_kept_and_id_is_stable() -> None:
    text = "Contact: Jane\nDate: Nov 5\n\nWe held the kickoff."
    email = parse_email(text)
    assert email.text == text  # label lines are content, not headers
    assert email.received_at is None and email.subject is None
    assert email.email_id == make_email_id(text) == parse_email(text.encode()).email_id
    assert parse_email(text, email_id="given-1").email_id == "given-1"


def test_email_id_hashes_the_input_as_delivered() -> None:
    raw = "네, 본봄 파일럿 미팅 진행하겠습니다. 일정 공유드립니다.\n\nOn Mon Kim wrote:\n> old"
    email = parse_email(raw)
    assert "old" not in email.text
    assert email.email_id == make_email_id(raw) == parse_email(raw.encode()).email_id
    eml = (SAMPLES / "ko_pilot_kickoff.eml").read_bytes()
    assert parse_email(eml).email_id == make_email_id(eml.decode())


def test_rfc822_detection() -> None:
    assert looks_like_rfc822("From: a@b.example\nSubject: x\n\nbody")
    assert looks_like_rfc822("MIME-Version: 1.0\nContent-Type: text/plain\n\nbody")
    assert not looks_like_rfc822("Subject: x\n\nbody")  # handled as plain text instead
    assert not looks_like_rfc822("From the team: we met\nyesterday.\n\nbody")
    assert not looks_like_rfc822("담당자: 김철수\n\n본문")


# ---- trimming --------------------------------------------------------------------
def test_quoted_reply_trimmed_english() -> None:
    body = (
        "Great, the pilot with Hanbit starts Monday.\n\nJane\n\n"
        "On Tue, Nov 11, 2025 at 6:02 PM Minsu Lee <minsu@vc.example>\nwrote:\n"
        "> Any news about the OLD DEAL with someone else?\n> Thanks"
    )
    email = parse_email(body)
    assert "pilot with Hanbit" in email.text and "OLD DEAL" not in email.text


@pytest.mark.parametrize(
    "separator",
    [
        "2025년 11월 2일 (일) 오후 3:00, 김철수 <kim@bonbom.example>님이 작성:",
        "-----Original Message-----\nFrom: 김철수\nSent: Sunday, November 2, 2025 3:00 PM",
        "-----원본 메시지-----\n보낸 사람: 김철수\n보낸 날짜: 2025-11-02 15:00",
        "________________________________\nFrom: 김철수 <kim@bonbom.example>\n"
        "Sent: Sunday, November 2, 2025 3:00 PM\nTo: 박지훈",
        "보낸 사람: 김철수 <kim@bonbom.example>\n보낸 날짜: 2025년 11월 2일 일요일 오후 3:00",
    ],
)
def test_quoted_reply_trimmed_korean_and_outlook_forms(separator: str) -> None:
    top = "네, 다음주 화요일 한빛유통 미팅 참석하겠습니다. 파일럿 일정도 그때 논의드리겠습니다."
    email = parse_email(
        f"{top}\n\n{separator}\n\n예전 메시지: 그린웨이브 계약 건 검토 부탁드립니다."
    )
    assert top in email.text
    assert "그린웨이브" not in email.text


def test_whole_body_quoted_falls_back_to_the_quote() -> None:
    email = parse_email("> 본봄과 한빛유통 미팅을 진행했습니다.\n> 담당자: 김철수")
    assert email.text == "본봄과 한빛유통 미팅을 진행했습니다.\n담당자: 김철수"


def test_trivial_reply_uses_the_quoted_message_and_its_date() -> None:
    raw = _message(
        "확인했습니다.\n\n"
        "2025년 10월 30일 (목) 오전 9:00, 김철수 <kim@bonbom.example>님이 작성:\n"
        "> 어제 한빛유통과 본봄 파일럿 미팅을 진행했습니다.\n> 담당자: 김철수",
        date="Mon, 03 Nov 2025 10:00:00 +0900",
    )
    email = parse_email(raw)
    assert "어제 한빛유통과 본봄 파일럿 미팅을 진행했습니다." in email.text
    assert "확인했습니다" not in email.text
    assert email.received_at == dt.date(2025, 10, 30)  # 어제 is relative to the quoted mail


@pytest.mark.parametrize(
    "disclaimer",
    [
        "CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and intended "
        "solely for the addressee.",
        "This email may contain privileged information. If you are not the intended recipient, "
        "please delete it.",
        "본 메일은 지정된 수신인만을 위한 것이며 기밀 정보를 포함하고 있습니다. "
        "무단 배포를 금합니다.",
        "이 전자우편은 법적으로 보호되는 비밀 정보를 담고 있을 수 있습니다.",
    ],
)
def test_disclaimer_trimmed(disclaimer: str) -> None:
    body = (
        "본봄과 한빛유통의 파일럿 계약을 체결했습니다.\n\n감사합니다.\n김철수 드림\n" + disclaimer
    )
    email = parse_email(body)
    assert "김철수 드림" in email.text  # the short signature stays
    assert disclaimer[:20] not in email.text


def test_first_paragraph_with_legal_words_is_not_a_disclaimer() -> None:
    text = "이 메일로 본봄 미팅 결과를 공유드립니다. 기밀 유지 부탁드립니다."
    assert parse_email(text).text == text


def test_signature_kept_short_and_device_lines_dropped() -> None:
    signature = "\n".join(f"line {i}" for i in range(10))
    email = parse_email(
        f"파일럿 킥오프 진행했습니다.\n\nBest regards,\nJane Doe\n{signature}\nSent from my iPhone"
    )
    assert "Jane Doe" in email.text and "line 4" in email.text
    assert "line 5" not in email.text and "iPhone" not in email.text
    dashed = parse_email("미팅 진행했습니다.\n-- \n김철수\n본봄 | 매니저")
    assert dashed.text == "미팅 진행했습니다.\n김철수\n본봄 | 매니저"


# ---- forwards --------------------------------------------------------------------
def test_forwarded_thread_with_fyi_top_uses_forwarded_message() -> None:
    email = parse_email((SAMPLES / "forwarded_thread.eml").read_bytes())
    assert email.received_at == dt.date(2025, 11, 5)  # the forwarded message's own date
    assert email.subject == "코드브릭 x 대한물산 PoC 계약 체결 안내"
    assert "오늘 대한물산과 물류 자동화 PoC 계약을 체결했습니다." in email.text
    assert "FYI" not in email.text and "Forwarded" not in email.text


def test_forward_with_own_content_keeps_both() -> None:
    body = (
        "본봄이 한빛유통과 진행한 파일럿 결과 공유드립니다. 다음 단계로 본계약을 검토 중입니다.\n\n"
        "---------- Forwarded message ---------\nFrom: Kim <kim@bonbom.example>\n"
        "Date: Wed, Nov 5, 2025 at 6:12 PM\nSubject: 파일럿 결과\nTo: Park\n\n"
        "파일럿 매출이 20% 증가했습니다."
    )
    email = parse_email(body, received_at=dt.date(2025, 11, 6))
    assert email.text.startswith("본봄이 한빛유통과 진행한 파일럿 결과 공유드립니다.")
    assert "Subject: 파일럿 결과\n\n파일럿 매출이 20% 증가했습니다." in email.text
    assert "From: Kim" not in email.text
    assert email.received_at == dt.date(2025, 11, 6)


def test_forward_as_attachment() -> None:
    inner = EmailMessage()
    inner["From"] = "kim@bonbom.example"
    inner["Subject"] = "본봄 파일럿 결과"
    inner["Date"] = "Tue, 04 Nov 2025 11:00:00 +0900"
    inner.set_content("어제 한빛유통과 파일럿 미팅을 진행했습니다.")
    outer = EmailMessage()
    outer["From"] = "park@vc.example"
    outer["Subject"] = "FW: 본봄 파일럿 결과"
    outer["Date"] = "Thu, 06 Nov 2025 08:00:00 +0900"
    outer.set_content("FYI")
    outer.add_attachment(inner)
    email = parse_email(outer.as_bytes())
    assert "어제 한빛유통과 파일럿 미팅을 진행했습니다." in email.text
    assert email.received_at == dt.date(2025, 11, 4)


def test_html_to_text_blockquote_and_entities() -> None:
    text = html_to_text(
        "<div>Top&nbsp;line</div><blockquote><p>older</p><p>message</p></blockquote>"
        "<table><tr><td>담당자</td><td>김철수</td></tr></table>"
    )
    assert text == "Top line\n\n> older\n>\n> message\n\n담당자 김철수"


# ---- bad input -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "email text is empty"),
        (b"", "email text is empty"),
        ("   \n\t  ", "email text is only whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "input looks binary"),
        ("text with \x00 NUL", "input looks binary"),
        ("\x01\x02\x03\x04\x05\x06 binary-ish", "input looks binary"),
        (b"caf\xe9 latin-1 text", "input is not valid UTF-8 text (byte 0xe9 at offset 3)"),
    ],
)
def test_bad_input_raises_clear_input_error(raw: str | bytes, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_email(raw)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_too_long_after_extraction() -> None:
    long_body = "파일럿 미팅 내용입니다. " * 1000
    with pytest.raises(
        InputError,
        match=r"email text is 1[0-9],[0-9]{3} characters; the limit is "
        r"10,000",
    ):
        parse_email(long_body)


def test_long_quote_does_not_count_against_the_limit() -> None:
    quoted = "\n".join("> " + "예전 메시지 " * 20 for _ in range(200))
    body = (
        "본봄 파일럿 미팅을 진행했습니다. 자세한 내용은 아래를 참고하세요.\n\n"
        "On Mon, Nov 3, 2025 Kim wrote:\n"
    )
    email = parse_email(body + quoted)
    assert len(email.text) < MAX_EMAIL_CHARS


def test_mime_message_without_text_body() -> None:
    msg = EmailMessage()
    msg["From"] = "a@b.example"
    msg["Date"] = "Mon, 10 Nov 2025 10:00:00 +0900"
    msg.set_content(b"\x00\x01", maintype="application", subtype="octet-stream")
    with pytest.raises(InputError, match="no text content"):
        parse_email(msg.as_bytes())


def test_wrong_type() -> None:
    with pytest.raises(InputError, match="must be text or bytes"):
        parse_email(123)  # type: ignore[arg-type]
