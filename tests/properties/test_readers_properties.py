"""Property tests of the readers (issue 23): `read_wav` and `load_audio` on random bytes and on
WAV files with random header fields; `read_image` and `open_image` on random bytes, PNGs built
by hand, pictures Pillow saved in any format and mode and then damaged, and `.npy` files with
any header; `prepare_image` on all of those and on arrays. Each returns a valid result or raises
a `DeepEdgeError` (targets in `fuzz_io_targets.py`). Files that are right come back right."""

import io

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from deepedge.ops.audio import read_wav, write_wav
from deepedge.ops.preprocess import read_image
from fuzz_core import check_target, targets_of


@pytest.mark.parametrize("target", targets_of("readers"), ids=lambda target: target.name)
def test_a_valid_result_or_a_deepedge_error(target, resources, properties_settings):
    check_target(target, resources, properties_settings)


def test_a_written_wav_reads_back_as_its_samples(resources, properties_settings):
    samples = hnp.arrays(np.float32, st.integers(1, 3000), elements=st.floats(-1, 1, width=32))
    path = resources.workdir / "round_trip.wav"

    @properties_settings(30)
    @given(samples, st.sampled_from((8000, 16000, 44100)))
    def round_trip(audio, rate):
        write_wav(path, audio, rate)
        read, read_rate = read_wav(path)
        assert read_rate == rate and read.shape == (len(audio), 1)
        np.testing.assert_allclose(read[:, 0], audio, atol=2 / 32767)  # written * 32767 cut to int16, read / 32768

    round_trip()


def test_a_lossless_picture_reads_back_pixel_for_pixel(resources, properties_settings):
    pictures = hnp.arrays(np.uint8, st.tuples(st.integers(1, 20), st.integers(1, 20), st.just(3)))

    @properties_settings(30)
    @given(pictures, st.sampled_from(("PNG", "BMP", "TIFF")))
    def same_pixels(picture, fmt):
        path = resources.workdir / f"picture.{fmt.lower()}"
        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, fmt)
        path.write_bytes(buffer.getvalue())
        np.testing.assert_array_equal(read_image(path, 3), picture)
        grey = np.asarray(Image.fromarray(picture).convert("L"))[..., None]
        np.testing.assert_array_equal(read_image(path, 1), grey)

    same_pixels()
