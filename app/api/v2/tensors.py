"""KServe v2 tensors in and out: JSON `data`, the binary tensor data extension (raw
little-endian bytes after the JSON header; BYTES elements as 4-byte length + bytes), and the
classification extension."""

from __future__ import annotations

import base64
import binascii
import json
import struct
from typing import Any

import numpy as np
from pydantic import ValidationError

from app.api.errors import APIError
from app.api.v2.schemas import BYTES, FP32, InferRequest, RequestInput, RequestOutput
from app.errors import validation_message

HEADER_LENGTH = "inference-header-content-length"
FP32_MAX = float(np.finfo(np.float32).max)


def bad_request(message: str) -> APIError:
    return APIError(400, "bad_request", message)


def parse_request(body: bytes, header_length: str | None) -> tuple[InferRequest, BinaryReader]:
    """The JSON header of an infer request and a reader over the binary part that follows."""
    split = len(body)
    if header_length is not None:
        digits = header_length.strip()
        if not (digits.isascii() and digits.isdecimal() and len(digits) <= 18):
            raise bad_request(
                f"Inference-Header-Content-Length {header_length[:20]!r} is not valid."
            )
        split = int(digits)
        if split > len(body):
            raise bad_request(f"Inference-Header-Content-Length {split} is over the body's length.")
    try:
        request = InferRequest.model_validate_json(body[:split])
    except ValidationError as error:
        problems = validation_message(error.errors())
        raise bad_request(f"The inference request is not valid: {problems}") from error
    return request, BinaryReader(memoryview(body)[split:])


class BinaryReader:
    """Hands out consecutive slices of the binary part of a request body."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.offset = 0

    def take(self, size: object, name: str) -> bytes:
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise bad_request(f"Input '{name}': binary_data_size must be a whole number.")
        if self.offset + size > len(self.data):
            raise bad_request(f"Input '{name}': the body holds fewer bytes than binary_data_size.")
        chunk = bytes(self.data[self.offset : self.offset + size])
        self.offset += size
        return chunk

    def check_consumed(self) -> None:
        if self.offset != len(self.data):
            raise bad_request("The body has binary data that no input claims.")


def fp32_tensor(tensor: RequestInput, binary: BinaryReader) -> np.ndarray:
    """An FP32 input as an array of its declared shape."""
    count = int(np.prod(tensor.shape))
    if "binary_data_size" in tensor.parameters:
        raw = binary.take(tensor.parameters["binary_data_size"], tensor.name)
        if len(raw) != 4 * count:
            raise bad_request(f"Input '{tensor.name}': {len(raw)} bytes for {count} FP32 values.")
        values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        return finite_fp32(values, tensor.name).reshape(tensor.shape)
    try:
        values = np.asarray(tensor.data if isinstance(tensor.data, list) else None)
    except (TypeError, ValueError):  # ragged nesting
        values = np.asarray(None)
    if values.dtype.kind not in "iuf":
        raise bad_request(
            f"Input '{tensor.name}': data must be a list of numbers (flat or nested)."
        )
    if values.size != count:
        raise bad_request(f"Input '{tensor.name}': {values.size} values for shape {tensor.shape}.")
    return finite_fp32(values.astype(np.float64), tensor.name).reshape(tensor.shape)


def finite_fp32(values: np.ndarray, name: str) -> np.ndarray:
    """FP32 values that are finite numbers (no NaN, no infinity, none beyond FP32's range)."""
    if not np.isfinite(values).all() or np.abs(values).max(initial=0.0) > FP32_MAX:
        raise bad_request(f"Input '{name}': every value must be a finite FP32 number.")
    return values.astype(np.float32)


def bytes_elements(tensor: RequestInput, binary: BinaryReader) -> list[bytes]:
    """A BYTES input's elements: length-prefixed binary data, or base64 strings in JSON."""
    count = int(np.prod(tensor.shape))
    if "binary_data_size" in tensor.parameters:
        elements = split_bytes(binary.take(tensor.parameters["binary_data_size"], tensor.name))
    else:
        data = tensor.data if isinstance(tensor.data, list) else [tensor.data]
        elements = [
            _from_base64(item, tensor.name) for item in np.ravel(np.array(data, dtype=object))
        ]
    if len(elements) != count:
        raise bad_request(
            f"Input '{tensor.name}': {len(elements)} elements for shape {tensor.shape}."
        )
    return elements


def split_bytes(raw: bytes) -> list[bytes]:
    elements, offset = [], 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise bad_request("BYTES data is truncated.")
        (size,) = struct.unpack_from("<I", raw, offset)
        if offset + 4 + size > len(raw):
            raise bad_request("BYTES data is truncated.")
        elements.append(raw[offset + 4 : offset + 4 + size])
        offset += 4 + size
    return elements


def _from_base64(item: object, name: str) -> bytes:
    if not isinstance(item, str):
        raise bad_request(f"Input '{name}': BYTES data in JSON must be base64 strings.")
    try:
        return base64.b64decode(item, validate=True)
    except (binascii.Error, ValueError) as error:
        raise bad_request(f"Input '{name}': an element is not valid base64.") from error


def classification(values: np.ndarray, labels: tuple[str, ...], k: int) -> np.ndarray:
    """Triton's classification extension: (N, k) strings "score:index:label", best first."""
    k = min(k, values.shape[1])
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]  # (N, k)
    return np.array(
        [
            [f"{row[i]:f}:{i}:{labels[i] if i < len(labels) else i}".encode() for i in ranked]
            for row, ranked in zip(values, order, strict=True)
        ],
        dtype=object,
    ).reshape(len(values), k)


def output_tensor(
    name: str,
    values: np.ndarray,
    wanted: RequestOutput | None,
    binary: bool,
    labels: tuple[str, ...],
) -> tuple[dict[str, Any], bytes | None]:
    """One output's JSON entry, and its raw bytes when it goes in the binary part."""
    parameters = wanted.parameters if wanted else {}
    binary = _flag(parameters.get("binary_data", binary), "binary_data")
    k = parameters.get("classification", 0)
    if not isinstance(k, int) or isinstance(k, bool) or k < 0:
        raise bad_request("The classification parameter must be a whole number of classes.")
    tensor = classification(values, labels, k) if k else values
    entry: dict[str, Any] = {
        "name": name,
        "datatype": BYTES if k else FP32,
        "shape": list(tensor.shape),
    }
    if not binary:
        if not k and not np.isfinite(tensor).all():
            raise bad_request(
                "The model's output for this input is not finite (NaN or infinity), which "
                "JSON cannot carry; ask for binary_data output to get it as it is."
            )
        flat = tensor.ravel().tolist()
        entry["data"] = [item.decode() for item in flat] if k else flat
        return entry, None
    raw = join_bytes(tensor.ravel().tolist()) if k else tensor.astype("<f4").tobytes()
    entry["parameters"] = {"binary_data_size": len(raw)}
    return entry, raw


def join_bytes(elements: list[bytes]) -> bytes:
    return b"".join(struct.pack("<I", len(item)) + item for item in elements)


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"The {name} parameter must be true or false.")
    return value


def encode_response(header: dict[str, Any], chunks: list[bytes]) -> tuple[bytes, int | None]:
    """The response body, and the JSON header's length when binary chunks follow it."""
    text = json.dumps(header, separators=(",", ":")).encode()
    if not chunks:
        return text, None
    return text + b"".join(chunks), len(text)
