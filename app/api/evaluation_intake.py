"""The images of POST /models/{name}/evaluate: the model's own samples, image files (multipart
`file`, repeated), a zip or tar archive of an image folder (multipart `archive`, or the raw
body), or JSON {"images": [base64, ...]}. Archives are read in memory (app/imaging/archive.py);
the images in all are bounded by LANTERN_MAX_EVALUATION_IMAGES and _BYTES.

Starlette's multipart parser keeps a part in memory up to 1 MiB and spools a larger one to
the system's temporary folder until the request ends; a raw archive body is never written."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from fastapi import Request
from starlette.datastructures import UploadFile

from app.api.errors import APIError
from app.api.intake import read_upload
from app.imaging.archive import (
    IMAGE_SUFFIXES,
    ArchiveLimits,
    NamedImage,
    check_images,
    is_archive,
    read_archive,
)

Source = Literal["upload", "samples"]
ARCHIVE_TYPES = (
    "application/zip", "application/x-zip-compressed", "application/x-tar", "application/gzip",
    "application/x-gzip", "application/x-bzip2", "application/x-xz", "application/octet-stream",
)  # fmt: skip

EVALUATION_REQUEST_BODY: dict[str, Any] = {
    "required": False,
    "description": "No body with source=samples; else images or an archive of class folders.",
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    "archive": {
                        "type": "string",
                        "format": "binary",
                        "description": "a .zip or .tar(.gz) of <class>/<image> files",
                    },
                },  # fmt: skip
            }
        },
        "application/zip": {"schema": {"type": "string", "format": "binary"}},
        "application/x-tar": {"schema": {"type": "string", "format": "binary"}},
        "application/gzip": {"schema": {"type": "string", "format": "binary"}},
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"images": {"type": "array", "items": {"type": "string"}}},
            }
        },
    },
}


async def read_evaluation_images(
    request: Request, source: Source, model: str, samples: Path, limits: ArchiveLimits
) -> list[NamedImage]:
    """The images to evaluate on, bounded by `limits` (see the module docstring)."""
    if source == "samples":
        images = sample_images(samples, model)
        if not images:
            raise APIError(422, "no_samples", f"The model {model} has no sample images.")
    else:
        images = await _uploaded(request, limits)
    check_images(images, limits)
    return images


def sample_images(root: Path, model: str) -> list[NamedImage]:
    """The model's samples, <root>/<model>/<label>_*.png (or .jpg ...), labelled by the file
    name's first part, as the UI labels them. The folder is found among those that exist
    (the model's name is never joined into a path)."""
    folders = [f for f in root.iterdir() if f.is_dir() and f.name == model] if root.is_dir() else []
    return [
        NamedImage(path.name, path.stem.split("_")[0], path.read_bytes())
        for folder in folders
        for path in sorted(folder.iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()
    ]


async def _uploaded(request: Request, limits: ArchiveLimits) -> list[NamedImage]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        return await _from_multipart(request, limits)
    if content_type in ARCHIVE_TYPES:
        body = await request.body()
        if content_type == "application/octet-stream" and not is_archive(body):
            return [NamedImage("image", None, body)]
        return read_archive(body, limits)
    upload = await read_upload(request, limits.max_images)
    return [NamedImage(f"image {i}", None, data) for i, data in enumerate(upload.images)]


async def _from_multipart(request: Request, limits: ArchiveLimits) -> list[NamedImage]:
    try:
        form = await request.form(max_files=limits.max_images + 1, max_fields=32)
    except Exception as error:  # malformed multipart, too many parts
        raise APIError(
            400, "malformed_body", f"The multipart body could not be parsed ({error})."
        ) from error
    try:
        images = []
        for index, item in enumerate(form.getlist("file")):
            if isinstance(item, UploadFile):
                images.append(NamedImage(item.filename or f"file {index}", None, await item.read()))
        archive = form.get("archive")
        if isinstance(archive, UploadFile):
            images += read_archive(await archive.read(), limits)
    finally:
        await form.close()
    if not images:
        raise APIError(
            400, "missing_file", "Send images as multipart 'file' fields or an 'archive'."
        )
    return images
