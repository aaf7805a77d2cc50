"""multipart/form-data (RFC 7578) read from a whole body: the fast path for the usual upload.

Starlette's form parser streams any body through a state machine written in Python and
spools its files; for a body of at most `WHOLE_BODY_BYTES` this reads the parts with a few
`bytes.find` calls instead. It takes only well-formed bodies: the first boundary first, CRLF
line ends, every part with a Content-Disposition of `form-data` and a name. Anything else
raises `UnusualFormError`, and the caller hands the body to Starlette's parser, whose answer
(a part, or its error) stands.
"""

from __future__ import annotations

from dataclasses import dataclass

from python_multipart.multipart import parse_options_header

WHOLE_BODY_BYTES = 1024 * 1024  # Starlette keeps a file this small in memory too
CRLF = b"\r\n"


class UnusualFormError(ValueError):
    """The body is not one this reader takes (Starlette's parser decides what it is)."""


@dataclass(frozen=True)
class Part:
    """One part: its field name, its file name (None for a plain field) and its bytes."""

    name: str
    filename: str | None
    data: bytes


def boundary_of(content_type: str) -> bytes:
    """The boundary of a multipart/form-data Content-Type header."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary", b"")
    if kind != b"multipart/form-data" or not boundary:
        raise UnusualFormError("no boundary")
    return boundary


def parse_form(body: bytes, boundary: bytes) -> list[Part]:
    """Every part of a multipart/form-data `body`, in order. The body starts with its first
    boundary (Starlette's parser refuses a preamble); an epilogue after the last is ignored."""
    delimiter = b"--" + boundary
    if not body.startswith(delimiter):
        raise UnusualFormError("no boundary first")
    position = len(delimiter)
    parts = []
    while not body.startswith(b"--", position):  # "--" after a boundary closes the body
        line_end = body.find(CRLF, position)
        if line_end < 0 or body[position:line_end].strip(b" \t"):
            raise UnusualFormError("a boundary line with more on it")
        headers_end = body.find(CRLF + CRLF, line_end)
        if headers_end < 0:
            raise UnusualFormError("a part without the blank line after its headers")
        data_end = body.find(CRLF + delimiter, headers_end + 4)
        if data_end < 0:
            raise UnusualFormError("a part without the boundary after it")
        headers = body[line_end + 2 : headers_end]
        parts.append(_part(headers, body[headers_end + 4 : data_end]))
        position = data_end + 2 + len(delimiter)
    return parts


def _part(headers: bytes, data: bytes) -> Part:
    disposition = None
    for line in headers.split(CRLF):
        header, colon, value = line.partition(b":")
        if not colon or not header.strip():
            raise UnusualFormError("a header line without a name")
        if header.strip().lower() == b"content-disposition":
            disposition = value.strip()
    if disposition is None:
        raise UnusualFormError("a part without Content-Disposition")
    kind, options = parse_options_header(disposition)
    if kind != b"form-data" or b"name" not in options:
        raise UnusualFormError("a part that is not a named form-data field")
    try:
        name = options[b"name"].decode()
        filename = options[b"filename"].decode() if b"filename" in options else None
    except UnicodeDecodeError as error:
        raise UnusualFormError("a name that is not UTF-8") from error
    return Part(name, filename, data)
