"""Images from a request: multipart field `file` (one or more), a raw image body, or JSON base64."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.errors import APIError
from app.api.multipart import WHOLE_BODY_BYTES, Part, UnusualFormError, boundary_of, parse_form
from app.api.offload import for_body
from app.errors import validation_message

Document = TypeVar("Document", bound=BaseModel)

RAW_TYPES = ("image/", "application/octet-stream")


@dataclass(frozen=True)
class Upload:
    """The encoded images of a request, in order, and an optional `baseline` image."""

    images: list[bytes]
    baseline: bytes | None = None


async def read_upload(request: Request, max_images: int) -> Upload:
    """The images of a request; the body's shape is checked here, not the pixels."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        upload = await _from_multipart(request, max_images)
    elif content_type == "application/json":
        body = await request.body()
        upload = await for_body(body, _from_json, body)
    elif content_type.startswith(RAW_TYPES):
        upload = Upload([await request.body()])
    else:
        raise APIError(
            415,
            "unsupported_media_type",
            "Send the image as multipart field 'file', a raw image body, "
            'or JSON {"image": "<base64>"}.',
        )
    if not upload.images:
        raise APIError(400, "missing_file", "The request holds no image.")
    if len(upload.images) > max_images:
        raise too_many_images(max_images)
    return upload


async def read_images(request: Request, max_images: int) -> list[bytes]:
    """The encoded images of a request, in order."""
    return (await read_upload(request, max_images)).images


def malformed(reason: str) -> APIError:
    return APIError(400, "malformed_body", f"The multipart body could not be parsed ({reason}).")


def too_many_images(max_images: int) -> APIError:
    noun = "image" if max_images == 1 else "images"
    return APIError(422, "too_many_images", f"At most {max_images} {noun} per request.")


async def _from_multipart(request: Request, max_images: int) -> Upload:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) <= WHOLE_BODY_BYTES:
        body = await request.body()
        try:
            boundary = boundary_of(request.headers.get("content-type", ""))
            return _from_parts(parse_form(body, boundary), max_images)
        except UnusualFormError:
            pass  # Starlette's parser reads the same body and says what it holds
    return await _from_streamed_form(request, max_images)


def _from_parts(parts: list[Part], max_images: int) -> Upload:
    """The upload of a whole body's parts, as `_from_streamed_form` reads the same body."""
    files = [part for part in parts if part.filename is not None]
    if len(files) > max_images + 1:
        raise too_many_images(max_images)
    if len(parts) - len(files) > max_images + 16:
        raise UnusualFormError("more fields than Starlette's parser takes")  # its error says so
    images = [part.data for part in files if part.name == "file"]
    if not images:
        raise APIError(400, "missing_file", "The multipart body has no 'file' field with an image.")
    baselines = [part for part in parts if part.name == "baseline"]
    last = baselines[-1] if baselines else None  # a form's value is its field's last
    return Upload(images, last.data if last is not None and last.filename is not None else None)


async def _from_streamed_form(request: Request, max_images: int) -> Upload:
    try:  # one file part more than the images: the baseline
        form = await request.form(max_files=max_images + 1, max_fields=max_images + 16)
    except APIError:
        raise
    except StarletteHTTPException as error:  # malformed multipart, too many parts
        if str(error.detail).startswith("Too many files"):
            raise too_many_images(max_images) from error
        raise malformed(str(error.detail)) from error
    except Exception as error:  # anything else the multipart parser meets
        raise malformed(str(error)) from error
    try:
        files = [item for item in form.getlist("file") if isinstance(item, UploadFile)]
        if not files:
            raise APIError(
                400, "missing_file", "The multipart body has no 'file' field with an image."
            )
        baseline = form.get("baseline")
        return Upload(
            [await upload.read() for upload in files],
            await baseline.read() if isinstance(baseline, UploadFile) else None,
        )
    finally:
        await form.close()


def _from_json(body: bytes) -> Upload:
    document = parse_json(body)
    if isinstance(document, dict) and "image" in document and "images" in document:
        raise APIError(400, "malformed_body", 'Send "image" or "images", not both.')
    if isinstance(document, dict) and isinstance(document.get("image"), str):
        encoded = [document["image"]]
    elif isinstance(document, dict) and isinstance(document.get("images"), list):
        encoded = document["images"]
    else:
        raise APIError(
            400, "malformed_body", 'Expected {"image": "<base64>"} or {"images": [...]}.'
        )
    baseline = document.get("baseline")
    return Upload(
        [_decode_base64(item) for item in encoded],
        _decode_base64(baseline) if baseline is not None else None,
    )


def parse_json(body: bytes) -> Any:
    """The JSON document of a body; 400 `malformed_body` if it is not one."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, too deep, huge ints
        raise APIError(400, "malformed_body", "The body is not valid JSON.") from error


def json_request_body(kind: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads `kind` with `read_json`."""
    return {"required": True, "content": {"application/json": {"schema": json_schema(kind)}}}


def json_schema(kind: type[BaseModel]) -> dict[str, Any]:
    """`kind`'s JSON schema with its definitions written in place (an OpenAPI document has
    no `$defs` at its root for them to point at)."""
    schema = kind.model_json_schema(by_alias=True)
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref", "")
            if reference.startswith("#/$defs/"):
                return inline(definitions[reference.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        return [inline(item) for item in node] if isinstance(node, list) else node

    return inline(schema)


async def read_json(request: Request, kind: type[Document]) -> Document:
    """The body as `kind`: 415 unless it is JSON, 400 `malformed_body` unless it parses
    (off the event loop unless small), 422 `invalid_parameter` unless it fits `kind`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise APIError(415, "unsupported_media_type", "Send the body as application/json.")
    body = await request.body()
    document = await for_body(body, parse_json, body)
    try:
        return kind.model_validate(document)
    except ValidationError as error:
        raise APIError(422, "invalid_parameter", validation_message(error.errors())) from error


def _decode_base64(text: object) -> bytes:
    if not isinstance(text, str):
        raise APIError(400, "invalid_base64", "Each image must be a base64 string.")
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise APIError(400, "invalid_base64", "The image is not valid base64.") from error
