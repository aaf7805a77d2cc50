"""The whole-body multipart reader, against Starlette's streaming parser on the same bodies."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.requests import Request

import app.api.intake as intake
from app.api.errors import APIError
from app.api.intake import Upload, read_upload
from app.api.multipart import Part, UnusualFormError, boundary_of, parse_form

B = "lantern-test-boundary"
TYPE = f"multipart/form-data; boundary={B}"


def encoded(files: list[tuple[str, tuple[str, bytes, str]]], data: dict | None = None) -> bytes:
    """A body as httpx, a real client, encodes it."""
    request = httpx.Request(
        "POST", "http://x/", files=files, data=data, headers={"content-type": TYPE}
    )
    return request.read()


def hand_made(*parts: bytes, preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    body = preamble + b"".join(b"--" + B.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return body + b"--" + B.encode() + b"--" + epilogue


FILE = (
    b'Content-Disposition: form-data; name="file"; filename="a.png"\r\n'
    b"Content-Type: image/png\r\n\r\n"
)
BODIES = {
    "one file": encoded([("file", ("a.png", b"\x89PNG one", "image/png"))]),
    "two files and a baseline": encoded(
        [
            ("file", ("a.png", b"first", "image/png")),
            ("file", ("b.png", b"second\r\n--not-the-boundary", "image/png")),
            ("baseline", ("c.png", b"base", "image/png")),
        ]
    ),
    "a field beside the file": encoded([("file", ("a.png", b"x", "image/png"))], {"note": "hi"}),
    "a unicode file name": encoded([("file", ("été.png", b"x", "image/png"))]),
    "an empty file": encoded([("file", ("a.png", b"", "image/png"))]),
    "no file field": encoded([("other", ("a.png", b"x", "image/png"))]),
    "a baseline that is a plain field": hand_made(
        FILE + b"img", b'Content-Disposition: form-data; name="baseline"\r\n\r\nnot a file'
    ),
    "an epilogue": hand_made(FILE + b"img", epilogue=b"\r\nbye"),
    "a preamble": hand_made(FILE + b"img", preamble=b"hello\r\n"),
    "too many files": encoded([("file", (f"{i}.png", b"x", "image/png")) for i in range(5)]),
    # odd bodies: the whole-body reader refuses them and Starlette's parser answers
    "LF line ends": hand_made(FILE + b"img").replace(b"\r\n", b"\n"),
    "no closing boundary": hand_made(FILE + b"img").rsplit(b"--" + B.encode() + b"--", 1)[0],
    "a part without Content-Disposition": hand_made(b"Content-Type: image/png\r\n\r\nimg"),
    "a part without a name": hand_made(b'Content-Disposition: form-data; filename="a"\r\n\r\nx'),
    "not multipart at all": b"just some bytes",
}


def read(body: bytes) -> Upload | str:
    """What read_upload makes of `body` (three images allowed): the upload or the error code."""
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-type", TYPE.encode()), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "method": "POST", "headers": headers, "app": None}  # as served
    request = Request(scope, receive)
    try:
        return asyncio.run(read_upload(request, 3))
    except APIError as error:
        return error.code


# Starlette's parser leaves the file of an unfinished part unclosed (it closes when collected)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("case", sorted(BODIES))
def test_the_whole_body_reader_answers_as_starlettes_parser_does(case, monkeypatch):
    fast = read(BODIES[case])
    monkeypatch.setattr(intake, "WHOLE_BODY_BYTES", -1)  # every body streamed to Starlette
    assert fast == read(BODIES[case])


def test_a_well_formed_body_is_read_whole_without_starlettes_parser(monkeypatch):
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Starlette's parser was asked")

    monkeypatch.setattr(intake, "_from_streamed_form", refuse)
    upload = read(BODIES["two files and a baseline"])
    assert upload == Upload([b"first", b"second\r\n--not-the-boundary"], b"base")


def test_parts_keep_their_names_file_names_and_bytes():
    parts = parse_form(BODIES["a field beside the file"], B.encode())
    assert parts == [Part("note", None, b"hi"), Part("file", "a.png", b"x")]
    assert parse_form(BODIES["a unicode file name"], B.encode())[0].filename == "été.png"


@pytest.mark.parametrize(
    "case",
    [
        "LF line ends",
        "no closing boundary",
        "a part without Content-Disposition",
        "a part without a name",
        "not multipart at all",
        "a preamble",
    ],
)
def test_an_odd_body_is_left_to_starlettes_parser(case):
    with pytest.raises(UnusualFormError):
        parse_form(BODIES[case], B.encode())


def test_the_boundary_comes_from_the_content_type():
    assert boundary_of(TYPE) == B.encode()
    assert boundary_of('multipart/form-data; boundary="a b"') == b"a b"
    with pytest.raises(UnusualFormError):
        boundary_of("multipart/form-data")
    with pytest.raises(UnusualFormError):
        boundary_of(f"multipart/mixed; boundary={B}")
