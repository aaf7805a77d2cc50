"""The images of a folder on disk (`<folder>/<class>/<image>`, or images at its top with no
label) or of an archive file, for the command line; bounded as uploads are."""

from __future__ import annotations

from pathlib import Path

from app.errors import ArchiveError, ImagesTooLargeError
from app.imaging.archive import (
    IMAGE_SUFFIXES,
    ArchiveLimits,
    NamedImage,
    check_images,
    read_archive,
)


def read_folder(source: Path, limits: ArchiveLimits) -> list[NamedImage]:
    """Every image under `source` in path order, labelled by the folder it sits in (none at
    the top), or the images of `source` when it is a zip or tar file."""
    if source.is_file():
        if source.stat().st_size > limits.max_bytes:
            raise ImagesTooLargeError(f"{source} is larger than {limits.max_bytes:,} bytes.")
        return read_archive(source.read_bytes(), limits)
    if not source.is_dir():
        raise ArchiveError(f"{source} is neither a folder nor an archive.")
    paths = sorted(
        path
        for path in source.rglob("*")
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()
    )
    if not paths:
        raise ArchiveError(f"{source} holds no image.")
    images = [
        NamedImage(
            path.relative_to(source).as_posix(),
            path.parent.name if path.parent != source else None,
            path.read_bytes(),
        )
        for path in paths[: limits.max_images + 1]
    ]
    check_images(images, limits)
    return images
