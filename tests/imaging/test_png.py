"""PNG files written from pixel arrays: what any decoder reads back is the picture given."""

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from app.imaging.png import SIGNATURE, png_bytes

RNG = np.random.default_rng(0)


def photo_like(height: int, width: int) -> np.ndarray:
    """Smooth gradients plus noise (H, W, 3) uint8, with values that wrap under the Up filter."""
    rows, columns = np.mgrid[0:height, 0:width]
    smooth = np.stack([rows * 3, columns * 5, rows + columns], axis=-1)
    return ((smooth + RNG.integers(0, 40, (height, width, 3))) % 256).astype(np.uint8)


def palette_picture(height: int, width: int, entries: int) -> Image.Image:
    picture = Image.fromarray(RNG.integers(0, entries, (height, width), np.uint8), mode="P")
    picture.putpalette(RNG.integers(0, 256, 3 * entries, np.uint8).tobytes())
    return picture


def read_back(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


@pytest.mark.parametrize("size", [(1, 1), (1, 7), (9, 1), (224, 224), (31, 57)])
def test_an_rgb_picture_reads_back_pixel_for_pixel(size):
    pixels = photo_like(*size)
    back = read_back(png_bytes(Image.fromarray(pixels)))
    assert back.mode == "RGB" and back.size == size[::-1]
    np.testing.assert_array_equal(np.asarray(back), pixels)


def test_a_grey_picture_stays_grey():
    pixels = photo_like(20, 30)[..., 0]
    back = read_back(png_bytes(Image.fromarray(pixels)))
    assert back.mode == "L"
    np.testing.assert_array_equal(np.asarray(back), pixels)


@pytest.mark.parametrize("entries", [2, 20, 256])
def test_a_palette_picture_keeps_its_indices_and_colours(entries):
    picture = palette_picture(12, 17, entries)
    back = read_back(png_bytes(picture))
    assert back.mode == "P"
    np.testing.assert_array_equal(np.asarray(back), np.asarray(picture))
    np.testing.assert_array_equal(
        np.asarray(back.convert("RGB")), np.asarray(picture.convert("RGB"))
    )


def test_other_modes_are_written_as_rgb():
    picture = Image.fromarray(photo_like(8, 8)).convert("RGBA")
    back = read_back(png_bytes(picture))
    assert back.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(back), np.asarray(picture.convert("RGB")))


def test_the_file_is_well_formed_with_each_chunks_crc():
    data = png_bytes(Image.fromarray(photo_like(5, 6)))
    assert data.startswith(SIGNATURE)
    at, kinds = len(SIGNATURE), []
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        assert int.from_bytes(data[at + 8 + length : at + 12 + length], "big") == zlib.crc32(
            kind + body
        )
        kinds.append(kind)
        at += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]


def test_a_photo_compresses_to_within_a_fifth_of_pillows_own_file():
    picture = Image.fromarray(photo_like(224, 224))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    assert len(png_bytes(picture)) <= 1.2 * len(buffer.getvalue())


def test_a_palette_shorter_than_the_indices_is_padded_with_black_for_strict_decoders():
    """PNG forbids indices past the PLTE chunk's entries (libpng, browsers may refuse them);
    Pillow shows them black."""
    picture = Image.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4) * 20, mode="P")
    picture.putpalette(bytes(range(12)))  # 4 entries, indices up to 220
    data = png_bytes(picture)
    at = data.index(b"PLTE")
    assert int.from_bytes(data[at - 4 : at], "big") == 3 * 221
    back = read_back(data)
    np.testing.assert_array_equal(np.asarray(back), np.asarray(picture))
    np.testing.assert_array_equal(
        np.asarray(back.convert("RGB")), np.asarray(picture.convert("RGB"))
    )
