"""SpeechRecognizer: streams chunk by chunk exactly as it reads whole utterances, bounds its
streaming state, trains in mixed precision, labels and batches (`tiny_recognizer` in
tests/conftest.py)."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from test_case import run_task_test


def test_recogniser_config_and_keras_file_round_trip(tiny_recognizer, tmp_path):
    from deepedge.apps.speech.speech_recognizer import SpeechRecognizer

    audio = (np.random.default_rng(2).standard_normal((2, 3 * tiny_recognizer.chunk_samples)) * 0.1).astype(np.float32)
    loaded = run_task_test(tiny_recognizer, audio, (2, 3 * tiny_recognizer.chunk_frames, 29), tmp_path)
    assert isinstance(loaded, SpeechRecognizer) and loaded.get_config() == tiny_recognizer.get_config()


def test_recogniser_streams_chunk_by_chunk_exactly_as_it_reads_whole_utterances(tiny_recognizer):
    audio = (np.random.default_rng(0).standard_normal(9000) * 0.1).astype(np.float32)
    offline, streamed = tiny_recognizer.logits(audio), tiny_recognizer.stream_logits(audio)
    assert offline.shape == (32, 29) and np.abs(offline - streamed).max() < 1e-4  # 9000 samples: 8 chunks


def test_strided_recogniser_streams_exactly_as_it_reads_whole_utterances():
    """A stride-2 convolution (two frames per LSTM step) streams with the same outputs."""
    from deepedge.apps.speech.speech_recognizer import SpeechRecognizer
    from deepedge.data.speech import CHARACTERS

    model = SpeechRecognizer(CHARACTERS, frontend={"frame_length": 512, "frame_step": 256}, conv_filters=16,
                             lstm_units=[24, 24, 24], chunk_frames=8, time_stride=2)
    audio = (np.random.default_rng(1).standard_normal(7000) * 0.1).astype(np.float32)
    offline, streamed = model.logits(audio), model.stream_logits(audio)
    assert offline.shape == (16, 29) and np.abs(offline - streamed).max() < 1e-4  # 7000 samples: 4 chunks of 2048


def test_streaming_step_bounds_the_lstm_cell_state(tiny_recognizer):
    from deepedge.apps.speech.speech_recognizer import SpeechRecognizer

    assert tiny_recognizer.cell_clip == 10.0
    state = tiny_recognizer.initial_state()
    state["c0"] = np.full_like(state["c0"], 50.0)  # a drifted cell, as trained LSTMs produce
    chunk = np.zeros((1, tiny_recognizer.chunk_samples), np.float32)
    names = [name for name, *_ in tiny_recognizer.state_spec()]
    outputs = tiny_recognizer.step_model()([chunk] + [state[n] for n in names])
    new = dict(zip(names, [np.asarray(o) for o in outputs[1:]]))
    assert new["c0"].max() <= 10.0 and new["c0"].max() > 9.0  # forget gates keep most of it, the bound caps it
    config = tiny_recognizer.get_config()
    unbounded = SpeechRecognizer.from_config({**config, "cell_clip": None})
    unbounded.set_weights(tiny_recognizer.get_weights())
    outputs = unbounded.step_model()([chunk] + [state[n] for n in names])
    assert np.asarray(outputs[1 + names.index("c0")]).max() > 20.0
    with pytest.raises(ValueError, match="cell_clip"):
        SpeechRecognizer.from_config({**config, "cell_clip": 0})


def test_quantization_aware_recogniser_streams_through_its_fake_quantizing_cells(tiny_recognizer):
    """After `quantize_aware`, the streaming step (what the export converts) runs the same
    fake-quantizing cells as whole utterances, and their trained cell-state range bounds the
    state in place of `cell_clip`."""
    from deepedge.apps.speech.speech_recognizer import SpeechRecognizer
    from deepedge.training.fake_quant import LSTMCell
    from deepedge.training.qat import quantize_aware

    model = SpeechRecognizer.from_config(tiny_recognizer.get_config())  # a copy: QAT changes it in place
    model.set_weights(tiny_recognizer.get_weights())
    rng = np.random.default_rng(0)
    calibration = (rng.standard_normal((16, 8 * model.chunk_samples)) * 0.1).astype(np.float32)
    quantize_aware(model, calibration, float_layers=model._qat_float_layers(()))
    assert all(isinstance(lstm.cell, LSTMCell) for lstm in model.lstms)
    audio = (rng.standard_normal(9000) * 0.1).astype(np.float32)
    offline, streamed = model.logits(audio), model.stream_logits(audio)
    assert offline.shape == (32, 29) and np.abs(offline - streamed).max() < 1e-5
    state = model.initial_state()
    state["c0"] = np.full_like(state["c0"], 50.0)
    names = [name for name, *_ in model.state_spec()]
    outputs = model.step_model()([np.zeros((1, model.chunk_samples), np.float32)] + [state[n] for n in names])
    _, top = (float(w) for w in model.lstms[0].cell.carry_quantizer.weights)
    assert top < 10.0 and np.asarray(outputs[1 + names.index("c0")]).max() <= top + 1e-6


def test_recogniser_trains_in_mixed_bfloat16_with_a_float32_front_end_and_logits():
    from deepedge.apps.speech.speech_recognizer import SpeechRecognizer
    from deepedge.backend import keras
    from deepedge.data.speech import CHARACTERS
    from deepedge.training.compact import shipping_copy

    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = SpeechRecognizer(CHARACTERS, conv_filters=8, lstm_units=[16], chunk_frames=4,
                                 spec_augment={"band_warp": 0.1, "tilt": 0.5})
        assert model.lstms[0].compute_dtype == "bfloat16"
        assert model.log_mel.compute_dtype == model.head.compute_dtype == "float32"
        model.compile()
        audio = (np.random.default_rng(0).standard_normal((4, 2 * model.chunk_samples)) * 0.1).astype(np.float32)
        loss = model.train_on_batch(audio, model.labels(["ab", "c", "a b", "ba"]))
        assert np.isfinite(loss)
    finally:
        keras.config.set_dtype_policy("float32")
    copy = shipping_copy(model, (1, 2 * model.chunk_samples))
    assert copy.lstms[0].compute_dtype == "float32"
    np.testing.assert_allclose(copy.logits(audio[0]), model.logits(audio[0]), atol=0.1)


def test_recogniser_labels_and_loss(tiny_recognizer):
    from deepedge.apps.speech.speech_recognizer import CTCLoss

    labels = tiny_recognizer.labels(["ab", "b a"])
    assert labels.tolist() == [[3, 4, 0], [4, 1, 3]]
    with pytest.raises(InvalidInputError, match="alphabet"):
        tiny_recognizer.labels(["Hello!"])
    logits = np.zeros((2, 10, 29), np.float32)
    loss = np.asarray(CTCLoss()(labels, logits))
    assert np.isfinite(loss) and loss > 0


def test_batched_recognition_matches_one_utterance_at_a_time(tiny_recognizer):
    rng = np.random.default_rng(1)
    utterances = [(rng.standard_normal(n) * 0.1).astype(np.float32) for n in (3000, 17000, 9000)]
    batched = tiny_recognizer.batch_logits(utterances)
    for audio, logits in zip(utterances, batched):
        np.testing.assert_allclose(logits, tiny_recognizer.logits(audio), atol=1e-4)
