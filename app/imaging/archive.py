"""Images out of a zip or tar archive (optionally gzip, bzip2 or xz compressed), read in
memory: nothing is written anywhere. An image's label is the name of the folder it sits in
(`<class>/<image>`, under any wrapping folders), as the training loader reads image folders.

What is refused, before anything is unpacked where sizes allow it: a member whose path
leaves the archive's folder (absolute, `..`, a drive or backslashes) or that is a link or a
device (UnsafeArchiveError); members whose sizes add up to more than `max_bytes` unpacked, or
a zip member packed more than `max_ratio` times (ArchiveTooLargeError: a zip bomb); more
than `max_members` entries or `max_images` images; and an archive that holds no image.
Members that are not images by their suffix (and macOS's `__MACOSX/` and `._*` files) are
skipped."""

from __future__ import annotations

import io
import lzma
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from app.errors import (
    ArchiveError,
    ArchiveTooLargeError,
    ImagesTooLargeError,
    TooManyImagesError,
    UnsafeArchiveError,
)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"})
SYMLINK = 0o120000  # a zip member's Unix mode bits for a symbolic link
# What a damaged or encrypted member raises on the way: the decompressors' own errors, a
# truncated stream, a password-protected zip member (RuntimeError), a bad header value.
UNREADABLE = (zlib.error, lzma.LZMAError, EOFError, OSError, RuntimeError, ValueError,
              NotImplementedError)  # fmt: skip


@dataclass(frozen=True)
class ArchiveLimits:
    max_images: int = 64
    max_bytes: int = 8 * 1024 * 1024  # unpacked, all members together
    max_members: int = 4096
    max_ratio: float = 200.0  # unpacked / packed size of one zip member


@dataclass(frozen=True)
class NamedImage:
    """An image of an archive or folder: its path there, its label and its bytes."""

    path: str
    label: str | None
    data: bytes


def is_archive(data: bytes) -> bool:
    """Whether `data` looks like a zip or a (compressed) tar archive."""
    return data.startswith((b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"BZh", b"\xfd7zXZ")) or (
        len(data) > 262 and data[257:262] == b"ustar"
    )


def read_archive(data: bytes, limits: ArchiveLimits) -> list[NamedImage]:
    """The images of a zip or tar archive, in path order (see the module docstring)."""
    members = _zip_members(data, limits) if zipfile.is_zipfile(io.BytesIO(data)) else None
    images = list(members if members is not None else _tar_members(data, limits))
    if not images:
        raise ArchiveError(
            "The archive holds no image (.png, .jpg, .jpeg, .webp, .bmp or .gif files)."
        )
    return sorted(images, key=lambda image: image.path)


def check_images(images: list[NamedImage], limits: ArchiveLimits) -> None:
    """Refuse more images, or more bytes of them, than `limits` allow."""
    if len(images) > limits.max_images:
        raise TooManyImagesError(f"At most {limits.max_images} images per evaluation.")
    total = sum(len(image.data) for image in images)
    if total > limits.max_bytes:
        raise ImagesTooLargeError(
            f"The images take {total:,} bytes; the limit is {limits.max_bytes:,} "
            "(LANTERN_MAX_EVALUATION_BYTES)."
        )


def image_label(path: PurePosixPath) -> str | None:
    """The folder an image sits in, as its label (None at the archive's top)."""
    return path.parent.name or None


def checked_path(name: str) -> PurePosixPath | None:
    """The member's path, or None when it is not an image to read; UnsafeArchiveError
    when it would leave the archive's folder."""
    if "\\" in name or "\x00" in name or name.startswith("/") or ":" in name.split("/")[0]:
        raise UnsafeArchiveError(f"{name!r}: a path outside the archive's folder.")
    path = PurePosixPath(name)
    if ".." in path.parts:
        raise UnsafeArchiveError(f"{name!r}: a path outside the archive's folder.")
    hidden = "__MACOSX" in path.parts or path.name.startswith("._")
    return None if hidden or path.suffix.lower() not in IMAGE_SUFFIXES else path


class _Counter:
    """Members, images and unpacked bytes seen so far, against the limits."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.members = self.images = self.bytes = 0

    def member(self, size: int) -> None:
        self.members += 1
        self.bytes += size
        if self.members > self.limits.max_members:
            raise ArchiveError(f"The archive has more than {self.limits.max_members} entries.")
        if self.bytes > self.limits.max_bytes:
            raise ArchiveTooLargeError(
                f"The archive unpacks to more than {self.limits.max_bytes:,} bytes."
            )

    def image(self) -> None:
        self.images += 1
        if self.images > self.limits.max_images:
            raise TooManyImagesError(
                f"The archive holds more than {self.limits.max_images} images."
            )


def _zip_members(data: bytes, limits: ArchiveLimits) -> Iterator[NamedImage]:
    counter = _Counter(limits)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                yield from _zip_member(archive, info, counter)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, *UNREADABLE) as error:
        raise ArchiveError(f"The zip archive cannot be read ({error}).") from error


def _zip_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, counter: _Counter
) -> Iterator[NamedImage]:
    path = checked_path(info.filename)
    if (info.external_attr >> 16) & 0o170000 == SYMLINK:
        raise UnsafeArchiveError(f"{info.filename!r}: a link.")
    counter.member(info.file_size)
    if info.is_dir() or path is None:
        return
    if info.file_size > counter.limits.max_ratio * max(info.compress_size, 1):
        raise ArchiveTooLargeError(
            f"{info.filename!r} unpacks to {info.file_size:,} bytes from "
            f"{info.compress_size:,}: more than {counter.limits.max_ratio:g} times (a zip bomb?)."
        )
    counter.image()
    with archive.open(info) as stream:
        content = stream.read(info.file_size + 1)
    if len(content) != info.file_size:
        raise ArchiveError(f"{info.filename!r} is not the size the archive says.")
    yield NamedImage(str(path), image_label(path), content)


def _tar_members(data: bytes, limits: ArchiveLimits) -> Iterator[NamedImage]:
    counter = _Counter(limits)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            while (member := archive.next()) is not None:
                yield from _tar_member(archive, member, counter)
    except (tarfile.TarError, *UNREADABLE) as error:
        raise ArchiveError(
            f"The body is neither a zip nor a tar archive that can be read ({error})."
        ) from error


def _tar_member(
    archive: tarfile.TarFile, member: tarfile.TarInfo, counter: _Counter
) -> Iterator[NamedImage]:
    path = checked_path(member.name)
    if member.issym() or member.islnk() or member.isdev() or member.isfifo():
        raise UnsafeArchiveError(f"{member.name!r}: a link or a device.")
    counter.member(member.size)
    if not member.isfile() or path is None:
        return
    counter.image()
    stream = archive.extractfile(member)
    content = stream.read(member.size + 1) if stream is not None else b""
    if len(content) != member.size:
        raise ArchiveError(f"{member.name!r} is not the size the archive says.")
    yield NamedImage(str(path), image_label(path), content)
