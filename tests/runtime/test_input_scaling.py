"""Input scaling (issue 23, item 4): image files are converted by their real bit depth, and arrays
whose range does not match the model's input (0..1 images, int16-scale float audio) are refused
with a message that says how to rescale them, never silently saturated or clipped."""

import numpy as np
import pytest
from PIL import Image

from deepedge.edge import load
from deepedge.errors import InvalidInputError
from deepedge.ops.audio import SAMPLE_RATE, as_pcm, load_audio, read_wav
from deepedge.ops.preprocess import read_image
from deepedge.presets import saved_models_dir
from helpers import tone, wav_bytes

ZERO_TO_ONE = r"look scaled to 0\.\.1.*multiply them by 255"
INT16_SCALE = r"int16 scale.*[Dd]ivide (it |them )?by 32768"


@pytest.fixture(scope="module")
def nuclei_strip():
    from deepedge.data.scenes import load_nuclei

    return load_nuclei("test").images[0, ..., 0]  # uint8 (128, 512)


def test_a_16_bit_png_is_labelled_like_the_8_bit_one(nuclei_strip, tmp_path):
    Image.fromarray(nuclei_strip).save(tmp_path / "8.png")
    Image.fromarray(nuclei_strip.astype(np.uint16) * 257).save(tmp_path / "16.png")  # the same picture, 16-bit
    assert Image.open(tmp_path / "16.png").mode == "I;16"
    eight, sixteen = read_image(tmp_path / "8.png", 1), read_image(tmp_path / "16.png", 1)
    np.testing.assert_array_equal(sixteen, eight)  # scaled by 255/65535, not saturated at 255
    labeller = load(saved_models_dir() / "nuclei_labeller")
    labels = labeller.label(eight)
    assert 0.05 < labels.mean() < 0.6  # the strip is part nucleus, part background
    np.testing.assert_array_equal(labeller.label(sixteen), labels)


def test_deep_image_files_convert_by_their_bit_depth(tmp_path):
    from deepedge.runtime.captioner import prepare_image

    grey = np.arange(256, dtype=np.uint8).reshape(16, 16)
    Image.fromarray(grey.astype(np.int32) * 257).save(tmp_path / "int32.tif")  # mode "I", 16-bit values
    Image.fromarray(grey.astype(np.float32) / 255.0).save(tmp_path / "float01.tif")  # mode "F", 0..1
    Image.fromarray(grey.astype(np.float32)).save(tmp_path / "float255.tif")  # mode "F", 0..255
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "16.png")
    for name in ("int32.tif", "float01.tif", "float255.tif", "16.png"):
        np.testing.assert_array_equal(read_image(tmp_path / name, 1)[..., 0], grey, err_msg=name)
        np.testing.assert_array_equal(read_image(tmp_path / name, 3), np.repeat(grey[..., None], 3, -1), name)
        np.testing.assert_array_equal(prepare_image(tmp_path / name, 16), np.repeat(grey[..., None], 3, -1), name)
    Image.fromarray(np.full((4, 4), 4000.0, np.float32)).save(tmp_path / "raw.tif")
    with pytest.raises(InvalidInputError, match=r"float pixels from 4000 to 4000.*0\.\.1 or 0\.\.255"):
        read_image(tmp_path / "raw.tif", 1)
    Image.fromarray(np.full((4, 4), 100_000, np.int32)).save(tmp_path / "wide.tif")
    with pytest.raises(InvalidInputError, match="16 bits"):
        read_image(tmp_path / "wide.tif", 1)


def test_images_scaled_to_0_1_are_refused_with_the_fix(nuclei_strip):
    from deepedge.data import load_fashion_mnist

    classifier = load(saved_models_dir() / "fashion_edgenet")
    images = load_fashion_mnist("test").take(8).images
    assert classifier.predict(images.astype(np.float32)).shape == (8, 10)  # floats 0..255 are fine
    with pytest.raises(InvalidInputError, match=ZERO_TO_ONE):
        classifier.predict(images.astype(np.float32) / 255.0)
    assert classifier.predict(np.zeros((28, 28), np.float32)).shape == (1, 10)  # a black image is no mistake
    with pytest.raises(InvalidInputError, match=ZERO_TO_ONE):
        load(saved_models_dir() / "nuclei_labeller").label(nuclei_strip / 255.0)
    captioner = load(saved_models_dir() / "scenes_captioner")
    with pytest.raises(InvalidInputError, match=ZERO_TO_ONE):
        captioner.caption(np.full((64, 64, 3), 0.5, np.float32))
    with pytest.raises(InvalidInputError, match="0..255"):
        captioner.caption(np.full((64, 64, 3), 300.0, np.float32))
    glimpses = load(saved_models_dir() / "glimpse_cluttered")
    with pytest.raises(InvalidInputError, match=ZERO_TO_ONE):
        glimpses.predict(np.full((60, 60), 0.5, np.float32))
    with pytest.raises(InvalidInputError, match="0..255"):
        glimpses.predict(np.full((60, 60), -1.0, np.float32))


def test_float_audio_at_int16_scale_is_refused_not_clipped():
    pcm = (tone(440, 1.0, SAMPLE_RATE, 0.5) * 32767).astype(np.int16)
    np.testing.assert_allclose(as_pcm(pcm), pcm / 32768.0)  # int16 arrays convert exactly
    with pytest.raises(InvalidInputError, match=INT16_SCALE):
        as_pcm(pcm.astype(np.float32))
    assert np.abs(as_pcm(np.array([1.3, -1.2, 0.5], np.float32))).max() == 1.0  # ringing past full scale: clipped
    spotter = load(saved_models_dir() / "kws_dscnn")
    assert spotter.predict(pcm).shape[0] == 1
    with pytest.raises(InvalidInputError, match=INT16_SCALE):
        spotter.predict(pcm.astype(np.float32))
    with pytest.raises(InvalidInputError, match=INT16_SCALE):
        next(spotter.detect(pcm.astype(np.float64)))
    with pytest.raises(InvalidInputError, match=INT16_SCALE):
        load(saved_models_dir() / "asr_ctc").transcribe(pcm.astype(np.float32))


def test_a_float_wav_at_int16_scale_is_refused(tmp_path):
    samples = tone(440, 0.2, SAMPLE_RATE, 0.5)
    audio, _ = read_wav(wav_bytes(samples, SAMPLE_RATE, float_format=True))
    np.testing.assert_allclose(audio[:, 0], samples, atol=1e-6)
    path = tmp_path / "loud.wav"
    path.write_bytes(wav_bytes(samples * 32767, SAMPLE_RATE, float_format=True))
    with pytest.raises(InvalidInputError, match=INT16_SCALE):
        load_audio(path)
