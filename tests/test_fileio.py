import json

import pytest

from deepedge.fileio import atomic_path, atomic_write_json


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "model.json"
    atomic_write_json(target, {"v": 1})

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with atomic_path(target) as tmp:
            tmp.write_text("half a fi")
            raise Boom
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


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
