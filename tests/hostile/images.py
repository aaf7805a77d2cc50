"""Hostile images, made byte by byte: bombs (small files, huge pictures), malformed containers
and seeded mutations of valid files. Shared by the imaging tests and the hostile suite."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, depth: int, colour: int, rows: bytes, *extra: bytes) -> bytes:
    """A PNG from its parts: IHDR, the `extra` chunks, the IDAT of `rows`, IEND."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + b"".join(extra)
        + png_chunk(b"IDAT", zlib.compress(rows, 9))
        + png_chunk(b"IEND", b"")
    )


def palette_png_with_long_trns(side: int = 4) -> bytes:
    """A palette PNG with 2 colours and 257 transparency entries: Pillow's RGBA conversion
    raises 'palette index out of range' (355 bytes at side 4)."""
    rows = b"".join(b"\x00" + bytes(side) for _ in range(side))
    palette = png_chunk(b"PLTE", bytes([0, 0, 0, 255, 255, 255]))
    return png(side, side, 8, 3, rows, palette, png_chunk(b"tRNS", bytes(257)))


def flat_png(width: int, height: int, mode: str = "RGBA") -> bytes:
    """A one-colour PNG: tiny to send, width * height pixels to decode (the 6324x6324 RGBA
    one is 155 KB and 160 MB of pixels)."""
    colour = (200, 30, 40, 255)[: len(mode)] if mode in ("RGB", "RGBA") else 200
    buffer = io.BytesIO()
    Image.new(mode, (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def ztxt_bomb_png(expanded: int = 100 * 1024 * 1024) -> bytes:
    """An 8x8 PNG with a zTXt chunk that inflates to `expanded` bytes (about 100 KB sent)."""
    text = b"comment\x00\x00" + zlib.compress(bytes(expanded), 9)
    return png(8, 8, 8, 0, b"\x00" * 72, png_chunk(b"zTXt", text))


def declared_bomb_png(side: int = 100_000) -> bytes:
    """A PNG whose header declares side x side pixels, with one row of data."""
    return png(side, side, 8, 0, b"\x00" * (side + 1))


def rle8_bmp(width: int, height: int) -> bytes:
    """An 8-bit run-length BMP: 50 bytes a row whatever the width."""
    row = bytes([255, 7]) * (width // 255) + bytes([width % 255, 7]) + b"\x00\x00"
    pixels = row * height + b"\x00\x01"
    palette = b"".join(bytes([i, i, i, 0]) for i in range(256))
    offset = 14 + 40 + len(palette)
    header = b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(pixels), 2835, 2835, 256, 0)
    return header + info + palette + pixels


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def sample_images() -> dict[str, bytes]:
    """A small valid picture in every allowed format (and a few modes)."""
    pixels = np.random.default_rng(1).integers(0, 255, (40, 48, 3), dtype=np.uint8)
    rgb = Image.fromarray(pixels)
    return {
        "png_rgb": encoded(rgb, "PNG"),
        "png_rgba": encoded(rgb.convert("RGBA"), "PNG"),
        "png_palette": encoded(rgb.convert("P"), "PNG", transparency=3),
        "png_16bit": encoded(Image.fromarray(pixels[..., 0].astype(np.uint16) * 257), "PNG"),
        "jpeg": encoded(rgb, "JPEG"),
        "jpeg_progressive": encoded(rgb, "JPEG", progressive=True),
        "gif": encoded(rgb.convert("P"), "GIF"),
        "webp": encoded(rgb, "WEBP"),
        "bmp": encoded(rgb, "BMP"),
    }


def mutations(data: bytes, count: int, seed: int) -> list[bytes]:
    """Seeded damage to a valid file: flipped bytes, cuts, repeated and dropped spans; the
    first bytes are kept, so the format is still recognised and its decoder runs."""
    rng = np.random.default_rng(seed)
    keep = 8
    damaged = []
    for _ in range(count):
        body = bytearray(data)
        kind = rng.integers(4)
        if kind == 0:  # flip a few bytes
            for position in rng.integers(keep, len(body), size=rng.integers(1, 8)):
                body[position] ^= int(rng.integers(1, 256))
        elif kind == 1:  # cut
            body = body[: int(rng.integers(keep, len(body)))]
        elif kind == 2:  # repeat a span
            start = int(rng.integers(keep, len(body)))
            body[start:start] = body[start : start + int(rng.integers(1, 64))] * 8
        else:  # drop a span
            start = int(rng.integers(keep, len(body)))
            del body[start : start + int(rng.integers(1, 64))]
        damaged.append(bytes(body))
    return damaged
