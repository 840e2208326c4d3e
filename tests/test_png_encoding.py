"""The fast PNG encoder that prepares TFDS's fashion_mnist: libpng's filters, valid files, a fallback.

Byte identity with ``tf.io.encode_png`` also depends on the deflate of the machine's zlib (a
zlib-ng deflates differently), so the tests hold it to what is the same everywhere: the rows and
the filter chosen for each (the decompressed IDAT, which any zlib reads alike) and the decoded
pixels. ``tfds_data.png_images`` checks the bytes on a sample at every build and falls back.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from kerascourse import png_encoding, tfds_data
from kerascourse.datasets import DEBIAN_FASHION_MNIST


def _images() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    ramp = np.add.outer(np.arange(28), np.arange(28)).astype(np.uint8) * 4
    sets = {
        "noise": rng.integers(0, 256, size=(16, 28, 28), dtype=np.uint8),
        "flat": np.stack([np.zeros((28, 28), np.uint8), np.full((28, 28), 255, np.uint8)]),
        "ramps": np.stack([ramp, ramp.T.copy(), 255 - ramp, np.tile(ramp[:1], (28, 1))]),
        "sparse": (rng.random((16, 28, 28)) < 0.05).astype(np.uint8) * 200,
    }
    source = DEBIAN_FASHION_MNIST / "t10k-images-idx3-ubyte.gz"
    if source.is_file():
        sets["fashion"] = tfds_data.read_idx(source)[:500, :, :, 0]
    return sets


def _idat_rows(png: bytes) -> bytes:
    """The decompressed image data of a PNG with one IDAT chunk (libpng's, or ours)."""
    assert png[:8] == png_encoding.SIGNATURE
    offset, chunks = 8, {}
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset:offset + 4])
        kind = png[offset + 4:offset + 8]
        chunks[kind] = png[offset + 8:offset + 8 + length]
        offset += 12 + length
    assert list(chunks) == [b"IHDR", b"IDAT", b"IEND"], list(chunks)
    return zlib.decompress(chunks[b"IDAT"])


@pytest.mark.parametrize("name", list(_images()))
def test_rows_and_filters_are_libpngs(name):
    import tensorflow as tf

    images = _images()[name]
    ours = png_encoding.encode_grayscale_pngs(images)
    for image, png in zip(images, ours, strict=True):
        theirs = tf.io.encode_png(image[..., None]).numpy()
        assert _idat_rows(png) == _idat_rows(theirs), "a row's filter or bytes differ from libpng's"
        assert png[:33] == theirs[:33], "the signature or the IHDR chunk differs"


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (28, 28), (60, 200), (130, 130)])
def test_every_file_decodes_to_its_pixels(shape):
    import tensorflow as tf

    images = np.random.default_rng(3).integers(0, 256, size=(3, *shape), dtype=np.uint8)
    images[1] //= 16  # runs of small values: long matches, the window matters
    for image, png in zip(images, png_encoding.encode_grayscale_pngs(images[..., None]), strict=True):
        assert np.array_equal(tf.io.decode_png(png).numpy()[..., 0], image)


def test_only_grayscale_bytes_are_accepted():
    with pytest.raises(ValueError, match="uint8"):
        png_encoding.encode_grayscale_pngs(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ValueError, match="expected"):
        png_encoding.encode_grayscale_pngs(np.zeros((2, 28, 28, 3), np.uint8))


def test_tfds_gets_the_arrays_where_the_bytes_would_differ(monkeypatch, capsys):
    images = _images()["noise"][..., None]
    monkeypatch.setattr(tfds_data, "matches_tensorflow", lambda *_: False)
    assert tfds_data.png_images(images) is images
    assert "TFDS encodes the images itself" in capsys.readouterr().err
    monkeypatch.setattr(tfds_data, "matches_tensorflow", lambda *_: True)
    encoded = tfds_data.png_images(images)
    assert encoded == png_encoding.encode_grayscale_pngs(images)
