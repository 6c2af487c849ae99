"""`Task.fit(..., quantization_aware=True)`: QAT from a task's own `fit`, exported to the int8 model it trained for."""

import inspect

import numpy as np
import pytest

from deepedge.backend import keras, tf
from deepedge.errors import InvalidInputError, QuantizationAwareError
from deepedge.training import fake_quant
from deepedge.training.qat import (first_training_inputs, is_quantization_aware, quantization_ranges,
                                   quantize_aware)
from helpers import build_tiny_classifier

COVERED_LAYERS = 6  # the tiny classifier's stem, two depthwise and two pointwise convolutions, and its head


class RangesAtStart(keras.callbacks.Callback):
    """The ranges `fit` starts training from: those `quantize_aware` calibrated."""

    def on_train_begin(self, logs=None):
        self.ranges = _range_values(self.model)


class CountBatches(keras.callbacks.Callback):
    count = 0

    def on_train_batch_end(self, batch, logs=None):
        self.count += 1


def _digits(digits, n=256):
    train = digits["train"].take(n)
    return train.images.astype(np.float32), train.labels


def _compiled_classifier(digits, learning_rate=3e-3):
    task = build_tiny_classifier(digits["train"].class_names)
    task.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return task


def _range_values(model):
    """The `[min, max]` of every range, in layer order (each new backbone gets a new name)."""
    return np.array(list(quantization_ranges(model).values()))


def _numpy(outputs):
    return keras.ops.convert_to_numpy(outputs)


# === Training ===

def test_the_flag_makes_a_trained_task_quantization_aware_once_and_fine_tunes_it(digits):
    x, y = _digits(digits)
    task = _compiled_classifier(digits)
    task.fit(x, y, epochs=1, batch_size=32, verbose=0)  # builds the optimizer for the float model
    assert not is_quantization_aware(task)
    optimizer, slots = task.optimizer, [v.path for v in task.optimizer.variables]
    before = [w.numpy().copy() for w in task.trainable_weights]
    history = task.fit(x, y, epochs=3, batch_size=32, verbose=0, quantization_aware=True)
    assert isinstance(task.get_layer("predictions"), fake_quant.Dense)
    assert len(quantization_ranges(task)) == COVERED_LAYERS
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses
    # The compiled optimizer trains on: same object, same slots, every trainable weight moved.
    assert task.optimizer is optimizer and [v.path for v in optimizer.variables] == slots
    assert int(optimizer.iterations.numpy()) == 4 * 8
    for old, weight in zip(before, task.trainable_weights):
        assert not np.array_equal(old, weight.numpy()), weight.path
    weights = len(task.weights)
    task.fit(x, y, epochs=1, batch_size=32, verbose=0, quantization_aware=True)  # already aware: not wrapped again
    assert len(task.weights) == weights and len(quantization_ranges(task)) == COVERED_LAYERS


def test_fit_calibrates_on_x_or_on_qat_calibration(digits):
    x, y = _digits(digits, 96)
    expected = _range_values(quantize_aware(build_tiny_classifier(digits["train"].class_names), x))
    start = RangesAtStart()
    _compiled_classifier(digits).fit(x, y, epochs=1, verbose=0, quantization_aware=True, callbacks=[start])
    np.testing.assert_allclose(start.ranges, expected, rtol=1e-6)
    few = _range_values(quantize_aware(build_tiny_classifier(digits["train"].class_names), x[:8]))
    _compiled_classifier(digits).fit(x, y, epochs=1, verbose=0, quantization_aware=True, qat_calibration=x[:8],
                                     callbacks=[start])
    np.testing.assert_allclose(start.ranges, few, rtol=1e-6)
    assert not np.allclose(few, expected)


@pytest.mark.filterwarnings("ignore:Your input ran out of data")  # Keras's, for any finite generator
def test_fit_on_a_generator_calibrates_on_its_first_batches_and_still_trains_on_every_batch(digits):
    x, y = _digits(digits, 96)
    expected = _range_values(quantize_aware(build_tiny_classifier(digits["train"].class_names), x))
    start, batches = RangesAtStart(), CountBatches()
    generator = ((x[i:i + 16], y[i:i + 16]) for i in range(0, 96, 16))
    _compiled_classifier(digits).fit(generator, epochs=1, verbose=0, shuffle=False, quantization_aware=True,
                                     callbacks=[start, batches])
    np.testing.assert_allclose(start.ranges, expected, rtol=1e-6)
    assert batches.count == 6


def test_the_tasks_float_layers_stay_float(digits, monkeypatch):
    from deepedge.apps import ImageClassifier

    # "head_state" stands for a layer that only a step-wise export builds: it is not in the model.
    monkeypatch.setattr(ImageClassifier, "edge_float_layers", ("predictions", "head_state"))
    x, y = _digits(digits, 64)
    task = _compiled_classifier(digits)
    task.fit(x, y, epochs=1, verbose=0, quantization_aware=True)
    assert type(task.get_layer("predictions")) is keras.layers.Dense
    assert len(quantization_ranges(task)) == COVERED_LAYERS - 1


def test_a_subclassed_language_model_trains_quantization_aware_with_its_embedding_in_float():
    from deepedge.apps.language_modelling import LSTMLanguageModel
    from deepedge.layers import ReversibleEmbedding
    from deepedge.tokenizers import WordTokenizer

    text = "the cat sat on the mat and the dog sat on the log and the cat saw the dog " * 8
    tokenizer = WordTokenizer.from_texts([text])
    ids = np.asarray(tokenizer.encode(text), np.int32)
    x, y = ids[:-1][:96].reshape(12, 8), ids[1:][:96].reshape(12, 8)
    keras.utils.set_random_seed(0)
    model = LSTMLanguageModel(tokenizer, embedding_dim=8, lstm_units=[8], dropout=0.0)  # not built yet
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    with pytest.raises(QuantizationAwareError, match=r"'embedding' \(ReversibleEmbedding\).*`qat_float_layers=`"):
        model.fit(x, y, verbose=0, quantization_aware=True)
    assert not is_quantization_aware(model)
    history = model.fit(x, y, epochs=3, verbose=0, quantization_aware=True, qat_float_layers=["embedding"])
    assert isinstance(model.lstms[0].cell, fake_quant.LSTMCell) and type(model.embedding) is ReversibleEmbedding
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses


def test_default_fit_is_keras_fit_unchanged(digits, monkeypatch):
    calls = []
    monkeypatch.setattr(keras.Model, "fit", lambda self, *args, **kwargs: calls.append((args, kwargs)) or "history")
    task = _compiled_classifier(digits)
    assert task.fit("x", "y", 32, epochs=2, verbose=0) == "history"
    assert calls == [(("x", "y", 32), {"epochs": 2, "verbose": 0})]
    assert not is_quantization_aware(task)


# === Calibration inputs ===

def test_first_training_inputs_reads_arrays_datasets_and_generators_without_losing_batches():
    x, y = np.arange(40, dtype=np.float32).reshape(20, 2), np.arange(20)
    inputs, same = first_training_inputs(x, 7)
    np.testing.assert_array_equal(inputs, x[:7])
    assert same is x
    inputs, _ = first_training_inputs({"a": x, "b": 2 * x}, 7)
    np.testing.assert_array_equal(inputs["b"], 2 * x[:7])
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    inputs, same = first_training_inputs(dataset, 7)
    np.testing.assert_array_equal(inputs, x[:7])
    assert same is dataset
    inputs, replay = first_training_inputs(((x[i:i + 4], y[i:i + 4]) for i in range(0, 20, 4)), 7)
    np.testing.assert_array_equal(inputs, x[:7])
    assert inspect.isgenerator(replay)  # what Keras's `fit` takes
    np.testing.assert_array_equal(np.concatenate([batch[0] for batch in replay]), x)  # every batch, in order


def test_unusable_calibration_input_raises_a_clear_error_and_changes_nothing(digits):
    x, y = _digits(digits, 16)
    task = _compiled_classifier(digits)
    with pytest.raises(InvalidInputError, match=r"Received: x of type list_iterator.*as `qat_calibration=`"):
        task.fit(iter([(x, y)]), quantization_aware=True)
    with pytest.raises(InvalidInputError, match=r"Received: x of type NoneType"):
        task.fit(quantization_aware=True)
    with pytest.raises(InvalidInputError, match="found no batch in `x`"):
        task.fit((batch for batch in []), quantization_aware=True)
    with pytest.raises(InvalidInputError, match="`calibration_inputs` is empty"):
        task.fit(x, y, quantization_aware=True, qat_calibration=x[:0])
    with pytest.raises(InvalidInputError, match=r"list of layer names. Received: qat_float_layers='predictions'"):
        task.fit(x, y, quantization_aware=True, qat_float_layers="predictions")
    with pytest.raises(InvalidInputError, match="apply only to quantization-aware training"):
        task.fit(x, y, qat_calibration=x)
    assert not is_quantization_aware(task)


# === Export and files ===

@pytest.mark.slow
def test_a_task_fine_tuned_by_the_flag_exports_the_int8_model_it_trained_for(trained_digits_classifier, digits,
                                                                             tmp_path):
    from deepedge.apps import ImageClassifier
    from deepedge.runtime import load

    train, test = digits["train"], digits["test"]
    task = ImageClassifier.from_config(trained_digits_classifier.get_config())
    task.set_weights(trained_digits_classifier.get_weights())
    task.compile(optimizer=keras.optimizers.Adam(3e-4))
    task.fit(train.images.astype(np.float32), train.labels, batch_size=32, epochs=1, verbose=0,
             quantization_aware=True)
    meta = task.export(tmp_path / "qat", calibration_data=train, evaluation_data=test, max_drop=0.5, latency_runs=5)
    assert meta["metrics"]["passed"] and meta["metrics"]["litert_int8"] > 85.0, meta["metrics"]
    assert meta["inputs"][0]["dtype"] == "int8"
    # int8 throughout but the softmax rewritten so that XNNPACK takes it (deepedge.export.rewrite)
    assert [op["op"] for op in meta["float_ops"]] == ["SOFTMAX"]
    int8 = load(tmp_path / "qat").predict(test.images)
    images = test.images.astype(np.float32)
    fake_quant_outputs = _numpy(task(images, training=False))
    difference = np.abs(int8 - fake_quant_outputs)  # probabilities; int8 output steps are 1/256
    assert difference.max() < 0.03 and difference.mean() < 0.003, (difference.max(), difference.mean())
    assert np.mean(int8.argmax(-1) == fake_quant_outputs.argmax(-1)) >= 0.98
    # Saved during QAT, the task loads in safe mode as its float self; its ranges make it the same model again.
    task.save(tmp_path / "task.keras")
    loaded = ImageClassifier.load(tmp_path / "task.keras")
    assert not is_quantization_aware(loaded)
    quantize_aware(loaded, ranges=quantization_ranges(task))
    np.testing.assert_allclose(_numpy(loaded(images, training=False)), fake_quant_outputs, atol=1e-6)


# === Files: qat_ranges.json beside the .keras file ===

def test_a_saved_quantization_aware_task_loads_with_its_ranges_and_only_for_its_own_file(digits, tmp_path):
    from deepedge.apps import ImageClassifier
    from deepedge.errors import ModelFileError
    from deepedge.training.qat import strip_quantize_aware
    from deepedge.training.qat_files import RANGES_NAME, save_ranges

    x, y = _digits(digits)
    task = _compiled_classifier(digits)
    task.fit(x, y, epochs=1, batch_size=32, verbose=0, quantization_aware=True)
    expected = _numpy(task(x[:16], training=False))
    path = tmp_path / "model.keras"
    ranges = strip_quantize_aware(task)
    task.save(path)
    ImageClassifier.load(path)  # no ranges yet: a float model
    assert not is_quantization_aware(ImageClassifier.load(path))
    save_ranges(path, ranges)
    loaded = ImageClassifier.load(path)
    assert is_quantization_aware(loaded) and quantization_ranges(loaded).keys() == ranges.keys()
    np.testing.assert_allclose(_numpy(loaded(x[:16], training=False)), expected, atol=1e-5)

    task.fit(x, y, epochs=1, batch_size=32, verbose=0)  # retrained in float: the ranges are not its own
    task.save(path)
    with pytest.warns(UserWarning, match="another version"):
        assert not is_quantization_aware(ImageClassifier.load(path))
    (tmp_path / RANGES_NAME).write_text("{not json")
    with pytest.raises(ModelFileError, match="ranges"):
        ImageClassifier.load(path)
