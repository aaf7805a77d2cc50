"""app/imaging/decode.py: format sniffing, limits checked on the header, EXIF, animations."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from PIL import Image

from app.errors import AspectRatioError, ImageError, TooManyPixelsError, UndecodableImageError
from app.imaging.decode import ImageLimits, decode_image, sniff_format, stated_pixels
from app.imaging.decode_gate import DecodeGate
from app.imaging.prepare import prepare_images
from app.store.manifest import Manifest
from tests.conftest import encode, png_bytes
from tests.hostile.images import mutations, palette_png_with_long_trns, sample_images
from tests.tiny_models import manifest_fields

LIMITS = ImageLimits(max_pixels=1_000_000, max_side=2000, max_aspect_ratio=10)
RGB = np.random.default_rng(0).integers(0, 255, (24, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "GIF"])
def test_every_allowed_format_is_recognised_by_its_content(fmt):
    data = encode(Image.fromarray(RGB), fmt)
    assert sniff_format(data) == fmt
    assert decode_image(data, LIMITS).size == (32, 24)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF8",
        b"<svg/>",
        b"%PDF-1.4",
        b"II*\x00tiff",
        b"RIFF\0\0\0\0WAVE",
        b"\x00\x00\x01\x00ico",
    ],
)
def test_anything_else_is_not_an_allowed_format(data):
    assert sniff_format(data) is None


def test_the_declared_format_is_the_one_decoded():
    png_named_jpeg = png_bytes(Image.fromarray(RGB))
    assert sniff_format(png_named_jpeg) == "PNG"


@pytest.mark.parametrize(
    ("size", "error"),
    [
        ((2001, 300), TooManyPixelsError),
        ((1500, 1000), TooManyPixelsError),
        ((11, 1), AspectRatioError),
    ],
)
def test_size_limits_are_checked_before_decoding(size, error):
    with pytest.raises(error):
        decode_image(png_bytes(Image.new("L", size)), LIMITS)


def test_exif_orientation_is_applied():
    upright = Image.fromarray(RGB)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display after rotating 90 degrees clockwise
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    decoded = decode_image(encode(stored, "PNG", exif=exif), LIMITS)
    np.testing.assert_array_equal(np.asarray(decoded), RGB)


def test_a_corrupt_exif_block_never_escapes_as_a_server_error():
    exif = Image.Exif()
    exif[0x0112] = 6
    jpeg = bytearray(encode(Image.fromarray(RGB), "JPEG", exif=exif))
    start = jpeg.index(b"Exif\0\0")
    rng = np.random.default_rng(0)
    for _ in range(400):
        variant = bytearray(jpeg)
        for offset in rng.integers(start + 6, start + 40, 3):
            variant[offset] = int(rng.integers(0, 256))
        with contextlib.suppress(ImageError):  # anything else would be a 500
            decode_image(bytes(variant), LIMITS)


def test_only_the_first_frame_of_an_animation_is_used():
    first, second = Image.new("L", (8, 8), 0), Image.new("L", (8, 8), 255)
    data = encode(first, "GIF", save_all=True, append_images=[second])
    assert np.asarray(decode_image(data, LIMITS).convert("L")).max() == 0


def rgb_manifest(size: int = 16) -> Manifest:
    """A 3-channel model of `size` x `size` inputs (pictures over 4 x size get reduced)."""
    return Manifest.model_validate({**manifest_fields("x", 3, size, 4), "sha256": "0" * 64})


def test_a_palette_png_with_a_transparency_chunk_longer_than_its_palette_is_undecodable():
    for side in (4, 900):  # converted after decoding, or while reducing in bands
        with pytest.raises(UndecodableImageError):
            prepare_images([palette_png_with_long_trns(side)], rgb_manifest(), LIMITS)


@pytest.mark.parametrize("name", sorted(sample_images()))
def test_damaged_files_of_every_format_are_image_errors_never_anything_else(name):
    for damaged in mutations(sample_images()[name], 40, seed=len(name)):
        with contextlib.suppress(ImageError):
            prepare_images([damaged], rgb_manifest(), LIMITS)


def test_a_large_jpeg_is_decoded_at_a_reduced_scale():
    photo = encode(Image.new("RGB", (1000, 800), (90, 120, 30)), "JPEG")
    full = decode_image(photo, LIMITS)
    drafted = decode_image(photo, LIMITS, longest=200)
    assert full.size == (1000, 800) and drafted.size == (250, 200)  # libjpeg's 1/4 scale


def test_an_image_whose_decoding_needs_more_than_the_whole_gate_is_refused():
    gate = DecodeGate(64 * 2**20, max_waiting=0, timeout=1, retry_after=1)
    limits = ImageLimits(max_pixels=20_000_000, max_side=5000, max_aspect_ratio=10, gate=gate)
    webp = encode(Image.new("RGB", (3000, 3000)), "WEBP")  # about 16 bytes a pixel at peak
    with pytest.raises(TooManyPixelsError, match="LANTERN_MAX_DECODE_BYTES"):
        decode_image(webp, limits)
    assert decode_image(png_bytes(Image.new("RGB", (3000, 3000))), limits).size == (3000, 3000)
    assert gate.in_use() == 0


@pytest.mark.parametrize("size", [(1, 1), (28, 28), (32, 24), (3, 700)])
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "1"])
def test_the_pixels_a_png_header_states_are_those_pillow_reads(size, mode):
    data = encode(Image.new(mode, size), "PNG")
    with Image.open(io.BytesIO(data)) as image:
        assert stated_pixels(data) == image.width * image.height


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "BMP", "GIF"])
def test_the_pixels_other_headers_state_are_those_pillow_reads(fmt):
    assert stated_pixels(encode(Image.fromarray(RGB), fmt)) == 32 * 24


def test_a_header_that_states_no_size_states_no_pixels():
    assert stated_pixels(b"\x89PNG\r\n\x1a\n" + b"\0" * 8) is None
