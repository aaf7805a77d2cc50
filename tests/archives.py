"""Zip and tar archives built in memory for the tests."""

from __future__ import annotations

import io
import tarfile
import zipfile


def zipped(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tarred(members: dict[str, bytes], mode: str = "w:gz", link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if link is not None:
            info = tarfile.TarInfo("class_0/link.png")
            info.type, info.linkname = tarfile.SYMTYPE, link
            archive.addfile(info)
    return buffer.getvalue()


def damaged_zip() -> bytes:
    """A deflated member whose compressed bytes are overwritten (a bad stream or CRC)."""
    data = bytearray(zipped({"c/a.png": bytes(range(256)) * 64}))
    start = 30 + len("c/a.png")  # the local header, then the compressed data
    data[start : start + 16] = b"\xff" * 16
    return bytes(data)


def encrypted_zip() -> bytes:
    """A member flagged as encrypted (general purpose bit 0), which needs a password."""
    data = bytearray(zipped({"c/a.png": b"x" * 100}))
    data[6] |= 1  # the local header's flags
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 1  # the central directory's flags
    return bytes(data)
