"""deepedge.training.compact: half-precision `.keras` files and shipping copies without the optimizer."""

import pytest


def test_half_precision_keras_file_is_smaller_and_loads_safely(tmp_path):
    import numpy as np

    from deepedge.backend import keras
    from deepedge.training.compact import save_half_precision

    inputs = keras.Input((64,))
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Dense(1024, activation="tanh")(inputs)))
    model.save(tmp_path / "full.keras")
    save_half_precision(model, tmp_path / "half.keras")
    assert (tmp_path / "half.keras").stat().st_size < 0.6 * (tmp_path / "full.keras").stat().st_size
    again = keras.saving.load_model(tmp_path / "half.keras", safe_mode=True)
    assert all(w.dtype == "float32" for w in again.weights)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-6)
    x = np.random.default_rng(0).normal(size=(4, 64)).astype("float32")
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(model(x)), atol=1e-2)


@pytest.mark.parametrize("half_precision", [False, True])
def test_shipping_save_drops_the_optimizer_and_keeps_the_model(tmp_path, half_precision):
    import io
    import zipfile

    import h5py
    import numpy as np

    from deepedge.apps.speech import KeywordSpotter
    from deepedge.data.speech import KEYWORD_CLASSES
    from deepedge.training.compact import save_for_shipping

    model = KeywordSpotter.from_preset("dscnn_xs", class_names=KEYWORD_CLASSES)
    model.threshold = 0.8
    model.compile()
    audio = np.random.default_rng(0).normal(0, 0.1, (8, 16000)).astype("float32")
    model.fit(audio, np.arange(8) % len(KEYWORD_CLASSES), epochs=1, verbose=0)
    model.save(tmp_path / "trained.keras")
    save_for_shipping(model, tmp_path / "shipped.keras", (1, 16000), half_precision=half_precision)

    def weight_groups(path):
        with zipfile.ZipFile(path) as z, h5py.File(io.BytesIO(z.read("model.weights.h5"))) as f:
            return set(f.keys())

    assert "optimizer" in weight_groups(tmp_path / "trained.keras")
    assert "optimizer" not in weight_groups(tmp_path / "shipped.keras")
    assert (tmp_path / "shipped.keras").stat().st_size < 0.7 * (tmp_path / "trained.keras").stat().st_size
    again = KeywordSpotter.load(tmp_path / "shipped.keras")
    assert again.threshold == 0.8 and again.class_names == model.class_names
    np.testing.assert_allclose(np.asarray(again(audio)), np.asarray(model(audio)), atol=1e-2 if half_precision else 1e-6)
    again.compile()  # an uncompiled shipped model trains on after compile
    again.fit(audio, np.zeros(8), epochs=1, verbose=0)
