"""EdgeKeywordSpotter: agrees with Keras, streams long recordings, refuses bad input, and runs
without TensorFlow (`exported_spotter` in tests/conftest.py)."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from deepedge.ops.audio import SAMPLE_RATE
from test_case import check_runtime_without_tensorflow


@pytest.mark.slow
def test_edge_spotter_agrees_with_keras_and_refuses_bad_input(exported_spotter, tiny_spotter, tiny_keywords):
    from deepedge.edge import load

    runtime = load(exported_spotter[0])
    clips = tiny_keywords["validation"].audio[:8]
    edge, float_scores = runtime.predict(clips), tiny_spotter.scores(clips)
    assert edge.shape == float_scores.shape and np.abs(edge - float_scores).max() < 0.1
    assert len(runtime.label(clips)) == 8 and runtime.threshold == 0.3
    for bad, message in [(np.zeros(15999, np.float32), "16000-sample clips"),
                         (np.zeros((2, 16000), np.int32), "int16 PCM or float"),
                         (np.full(16000, np.nan, np.float32), "NaN"),
                         (np.zeros((1, 2, 16000), np.float32), "16000-sample clips")]:
        with pytest.raises(InvalidInputError, match=message):
            runtime.predict(bad)
    with pytest.raises(InvalidInputError, match="mono"):
        next(runtime.window_scores(np.zeros((32000, 2), np.float32)))


@pytest.mark.slow
def test_edge_spotter_streams_a_long_recording_window_by_window(exported_spotter):
    from deepedge.edge import load

    runtime = load(exported_spotter[0])
    audio = (np.random.default_rng(0).standard_normal(3 * SAMPLE_RATE) * 0.01).astype(np.float32)
    windows = list(runtime.window_scores(audio, hop_seconds=0.5))
    assert len(windows) == 5 and all(w.shape == (22,) for w in windows)
    assert all(0.0 <= t <= 3.0 for t, _, _ in runtime.detect(audio))


@pytest.mark.slow
def test_speech_runtime_imports_no_tensorflow(exported_spotter):
    # Both entry points, a clip and a stream, load nothing heavy.
    shape, _ = check_runtime_without_tensorflow(
        exported_spotter[0], "[runtime.predict(x).shape, len(list(runtime.detect(np.zeros(40000, np.float32))))]",
        np.zeros(16000, np.int16))
    assert shape == [1, 22]
